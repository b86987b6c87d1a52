"""Marks a finished pyiron job as finished in its HDF5 file, on the cluster.

pyiron_base (0.15.20 and later, up to the time of writing) keeps the status of a python
function job in memory only when the cluster's pyiron runs without a database, as it
must for remote jobs: the job's file says "running" for ever, and the user's
`pr.update_from_remote()` never sees it finish. The SLURM template runs this after the
job's command succeeded: when the file holds a result and says "running", it writes
"finished", with the same HDF5 calls pyiron uses.

Usage (the last word of pyiron's command is <file>.h5/<job name>):
    python pyiron_finalize_status.py /path/project/job.h5/job
"""
import sys

import h5py
from h5io_browser.base import _read_hdf, _write_hdf


def main(target):
    if ".h5/" not in target:
        return
    h5, job = target.rsplit(".h5/", 1)
    h5 += ".h5"
    with h5py.File(h5, "r") as f:
        storage = f.get(f"{job}/storage")
        outputs = [storage[k] for k in storage if k.startswith("output__index_")] if storage is not None else []
        has_result = any(name.startswith("result__index_") for group in outputs for name in group)
    if has_result and _read_hdf(hdf_filehandle=h5, h5_path=f"{job}/status") == "running":
        _write_hdf(hdf_filehandle=h5, data="finished", h5_path=f"{job}/status", overwrite="update")


if __name__ == "__main__":
    main(sys.argv[1])

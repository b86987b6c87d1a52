# Sourced at every start of a user server (a before-notebook.d hook of the pyiron images):
# writes this user's pysqa settings for the hub's SLURM clusters and makes pyiron find
# them. A user's own ~/.pyiron is left alone; it can add the same resource path.
if [ -n "${PYIRON_HUB_HPC:-}" ]; then
    python3 /usr/local/lib/pyiron-hub/pyiron_hub_hpc.py || echo "WARNING: pyiron-jupyterhub could not write the HPC settings (see above)" >&2
    if [ ! -e "${HOME}/.pyiron" ] && [ -z "${PYIRONRESOURCEPATHS:-}" ]; then
        export PYIRONRESOURCEPATHS="${HOME}/.pyiron-hub/hpc/resources"
    fi
    # One tunnel per cluster behind a jump host, for the life of the server.
    for pyiron_hub_cluster in $(python3 /usr/local/lib/pyiron-hub/pyiron_hub_hpc.py jumps 2>/dev/null); do
        nohup python3 /usr/local/lib/pyiron-hub/pyiron_hub_hpc.py tunnel "$pyiron_hub_cluster" \
            >>"${HOME}/.pyiron-hub/hpc/tunnel-${pyiron_hub_cluster}.log" 2>&1 </dev/null &
    done
    unset pyiron_hub_cluster
fi

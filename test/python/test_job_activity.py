"""What pyiron_hub_activity.py counts as a running job, from Docker's `top` of a user server."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "components"))
from pyiron_hub_activity import MIN_AGE, job_processes, parse_top  # noqa: E402

OLD = MIN_AGE + 100
# A pyiron-image server: docker's init, tini, the Jupyter server, an idle kernel, a terminal.
BASE = [
    (100, 90, "Ss", OLD, "/sbin/docker-init -- tini -g -- start-notebook.py"),
    (101, 100, "S", OLD, "tini -g -- start-notebook.py"),
    (102, 101, "Sl", OLD, "/opt/conda/bin/python3.12 /opt/conda/bin/jupyterhub-singleuser"),
    (103, 102, "Ssl", OLD, "/opt/conda/bin/python -m ipykernel_launcher -f /home/jovyan/.local/share/jupyter/runtime/kernel-1.json"),
    (104, 102, "Ss+", OLD, "/bin/bash -l"),
]


class JobProcesses(unittest.TestCase):
    def test_an_idle_server_with_kernels_and_terminals_runs_no_job(self):
        self.assertEqual(job_processes(BASE), [])

    def test_a_job_started_from_a_notebook_counts(self):
        job = (110, 103, "R", OLD, "python -m pyiron_base.cli wrapper -p /home/jovyan/p -j 1")
        self.assertEqual(job_processes(BASE + [job]), [job])

    def test_a_script_in_a_terminal_and_a_detached_process_count(self):
        script = (111, 104, "S+", OLD, "python long.py")
        detached = (112, 100, "S", OLD, "python -m pyiron_base.cli wrapper -j 2")
        self.assertEqual(job_processes(BASE + [script, detached]), [script, detached])

    def test_short_lived_and_dead_processes_do_not(self):
        healthcheck = (120, 0, "S", 1, "/etc/jupyter/docker_healthcheck.py")
        zombie = (121, 103, "Z", OLD, "[python] <defunct>")
        self.assertEqual(job_processes(BASE + [healthcheck, zombie]), [])

    def test_no_jupyter_server_found_reports_nothing(self):
        self.assertEqual(job_processes([(1, 0, "S", OLD, "sleep infinity"), (2, 1, "S", OLD, "sleep 100")]), [])

    def test_a_second_jupyter_server_started_by_the_user_is_a_job(self):
        lab = (130, 104, "Sl", OLD - 50, "/opt/conda/bin/python /opt/conda/bin/jupyter-lab --port 9999")
        self.assertEqual(job_processes(BASE + [lab]), [lab])


class ParseTop(unittest.TestCase):
    def test_reads_dockers_top_answer_with_the_command_in_the_last_column(self):
        top = {
            "Titles": ["PID", "PPID", "STAT", "ELAPSED", "COMMAND"],
            "Processes": [["102", "101", "Sl", "4000", "/opt/conda/bin/jupyterhub-singleuser --ip=0.0.0.0"], ["x", "1", "S", "1", "bad"]],
        }
        self.assertEqual(parse_top(top), [(102, 101, "Sl", 4000, "/opt/conda/bin/jupyterhub-singleuser --ip=0.0.0.0")])


if __name__ == "__main__":
    unittest.main(verbosity=2)

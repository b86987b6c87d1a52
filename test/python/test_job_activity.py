"""What pyiron_hub_activity.py counts as a running job, from Docker's `top` of a user server."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "components"))
from pyiron_hub_activity import MIN_CPU, cpu_used, job_processes, parse_top  # noqa: E402

# A pyiron-image server (host pids; 90 is the shim outside the container): docker's init,
# tini, the Jupyter server, an idle kernel, a terminal's shell.
BASE = [
    (100, 90, "Ss", 0, "/sbin/docker-init -- tini -g -- start-notebook.py"),
    (101, 100, "S", 0, "tini -g -- start-notebook.py"),
    (102, 101, "Sl", 40, "/opt/conda/bin/python3.12 /opt/conda/bin/jupyterhub-singleuser"),
    (103, 102, "Ssl", 12, "/opt/conda/bin/python -m ipykernel_launcher -f /home/jovyan/.local/share/jupyter/runtime/kernel-1.json"),
    (104, 102, "Ss+", 0, "/bin/bash -l"),
]


def busy(before_rows, after_rows):
    """Whether a round that follows `before_rows` with `after_rows` reports the server as active."""
    before = {pid: cpu for pid, _, _, cpu, _ in job_processes(before_rows)}
    return cpu_used(job_processes(after_rows), before) >= MIN_CPU


class JobProcesses(unittest.TestCase):
    def test_an_idle_server_with_kernels_and_terminals_has_nothing_outside_the_server(self):
        self.assertEqual(job_processes(BASE), [])

    def test_a_computing_job_started_from_a_notebook_counts(self):
        job = lambda cpu: (110, 103, "R", cpu, "python -m pyiron_base.cli wrapper -p /home/jovyan/p -j 1")
        self.assertTrue(busy(BASE + [job(100)], BASE + [job(130)]))

    def test_a_script_in_a_terminal_and_a_detached_process_count_while_they_compute(self):
        script = lambda cpu: (111, 104, "R+", cpu, "python long.py")
        detached = lambda cpu: (112, 100, "R", cpu, "python -m pyiron_base.cli wrapper -j 2")
        self.assertTrue(busy(BASE + [script(5)], BASE + [script(5 + MIN_CPU)]))
        self.assertTrue(busy(BASE + [detached(5)], BASE + [detached(5 + MIN_CPU)]))

    def test_a_job_that_started_and_computed_since_the_last_round_counts(self):
        self.assertTrue(busy(BASE, BASE + [(113, 103, "R", MIN_CPU + 1, "python -m pyiron_base.cli wrapper -j 3")]))

    def test_helpers_that_wait_and_an_idle_sleep_do_not(self):
        tracker = (120, 103, "S", 0, "/opt/conda/bin/python -c from multiprocessing.resource_tracker import main;main(8)")
        sleeper = (121, 104, "S+", 0, "sleep infinity")
        stopped = (122, 104, "T", 7, "python paused.py")
        rows = BASE + [tracker, sleeper, stopped]
        self.assertFalse(busy(rows, rows))

    def test_docker_exec_sessions_and_health_checks_do_not_count_even_when_they_compute(self):
        # Their parent is the shim (outside the container), as is the init's.
        shell = (130, 91, "Ss", 0, "/bin/bash")
        heavy = (131, 130, "R", 50, "python -c while True: pass")
        check = (132, 92, "R", 1, "/etc/jupyter/docker_healthcheck.py")
        self.assertEqual(job_processes(BASE + [shell, heavy, check]), [])

    def test_zombies_do_not_count(self):
        self.assertEqual(job_processes(BASE + [(140, 103, "Z", 30, "[python] <defunct>")]), [])

    def test_no_jupyter_server_found_reports_nothing(self):
        self.assertEqual(job_processes([(1, 0, "S", 0, "sleep infinity"), (2, 1, "R", 100, "python busy.py")]), [])

    def test_a_second_jupyter_server_started_by_the_user_is_a_job(self):
        lab = (150, 104, "Sl", 9, "/opt/conda/bin/python /opt/conda/bin/jupyter-lab --port 9999")
        self.assertEqual(job_processes(BASE + [lab]), [lab])


class ParseTop(unittest.TestCase):
    def test_reads_dockers_top_answer_with_the_command_in_the_last_column(self):
        top = {
            "Titles": ["PID", "PPID", "STAT", "TIME", "COMMAND"],
            "Processes": [["102", "101", "Sl", "4000", "/opt/conda/bin/jupyterhub-singleuser --ip=0.0.0.0"], ["x", "1", "S", "1", "bad"]],
        }
        self.assertEqual(parse_top(top), [(102, 101, "Sl", 4000, "/opt/conda/bin/jupyterhub-singleuser --ip=0.0.0.0")])


if __name__ == "__main__":
    unittest.main(verbosity=2)

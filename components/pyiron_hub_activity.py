"""A hub service that keeps user servers with running jobs from being culled.

pyiron runs a job in a process of its own while the notebook's kernel sits idle; the idle
culler only sees JupyterHub's activity (browser traffic, kernels busy), so it would stop
the server, and the job with it. Every INTERVAL seconds this service lists the processes
of each running user server (Docker's `top`, from outside: the image is not changed) and
reports activity for that server to the hub while its jobs compute.

A server runs a job when the processes outside the Jupyter server used MIN_CPU seconds of
CPU or more since the previous round. Outside the Jupyter server means none of: the
Jupyter server itself, the processes it runs in (the image's init and start scripts), its
direct children (kernels, terminal shells, language servers), zombies, and what Docker
runs beside the container's init (health checks, `docker exec`). So a pyiron job started
from a notebook (a child of the kernel), a script run in a terminal (a child of its shell)
and a process that detached itself all count while they compute; an idle kernel, helpers
that wait (multiprocessing's resource tracker, an idle worker pool), an idle `sleep` and
Docker's health checks do not.
"""

import datetime
import json
import logging
import os
import re
import time
import urllib.parse
import urllib.request

INTERVAL = int(os.environ.get("PYIRON_ACTIVITY_INTERVAL", "60"))
MIN_CPU = float(os.environ.get("PYIRON_ACTIVITY_MIN_CPU", "3"))
PS_ARGS = "-eo pid,ppid,stat,cputimes,args"
# The Jupyter server of the pyiron images (and of Jupyter's docker-stacks).
SERVER = re.compile(r"(?:^|[/\s])(?:jupyterhub-singleuser|jupyter-labhub|jupyter-lab|jupyter-server|jupyter-notebook)(?:\s|$)|-m jupyterhub\.singleuser(?:\s|$)")

log = logging.getLogger("pyiron-activity")


def job_processes(rows):
    """The rows (pid, ppid, stat, cpu seconds, args) outside the Jupyter server; none when no server is found."""
    procs = {r[0]: r for r in rows}

    def top(pid):
        while procs[pid][1] in procs:
            pid = procs[pid][1]
        return pid

    # The container's init is the oldest process whose parent is outside the container;
    # others like it are Docker's exec sessions (health checks, docker exec).
    tops = sorted({top(pid) for pid in procs})
    if not tops:
        return []
    init = tops[0]
    servers = [r for r in rows if SERVER.search(r[4]) and top(r[0]) == init]
    if not servers:
        return []
    server = min(servers, key=lambda r: r[0])[0]  # the first: a Jupyter server the user started later is a job
    excluded = {server}
    parent = procs[server][1]
    while parent in procs:
        excluded.add(parent)
        parent = procs[parent][1]
    excluded.update(pid for pid, ppid, *_ in rows if ppid == server)
    return [r for r in rows if r[0] not in excluded and "Z" not in r[2] and top(r[0]) == init]


def cpu_used(jobs, before):
    """CPU seconds the jobs used since `before` ({pid: cpu seconds} of the previous round)."""
    return sum(cpu - before.get(pid, 0) for pid, _, _, cpu, _ in jobs if cpu >= before.get(pid, 0))


def parse_top(top):
    """Docker's top answer as (pid, ppid, stat, cpu seconds, args) rows."""
    titles = [t.upper() for t in top["Titles"]]
    i = {name: titles.index(name) for name in ("PID", "PPID", "STAT", "TIME")}
    rows = []
    for p in top.get("Processes") or []:
        try:
            rows.append((int(p[i["PID"]]), int(p[i["PPID"]]), p[i["STAT"]], int(p[i["TIME"]]), " ".join(p[i["TIME"] + 1:])))
        except (ValueError, IndexError):
            continue
    return rows


def hub(method, path, body=None):
    url = os.environ["JUPYTERHUB_API_URL"].rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}",
        "Content-Type": "application/json",
    })
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def running_servers():
    """(user, server name, container id) of every running server."""
    offset = 0
    while True:
        users = hub("GET", f"/users?state=active&limit=200&offset={offset}")
        for user in users:
            for name, server in (user.get("servers") or {}).items():
                cid = (server.get("state") or {}).get("object_id")
                if cid and server.get("ready"):
                    yield user["name"], name, cid
        if len(users) < 200:
            return
        offset += 200


def main():
    import docker

    logging.basicConfig(level=logging.INFO, format="[%(levelname).1s %(asctime)s %(name)s] %(message)s")
    client = docker.from_env(timeout=30)
    cpu = {}  # (user, server) -> {pid: cpu seconds} of the previous round
    busy = set()
    warned = set()
    while True:
        try:
            seen, now_busy = {}, set()
            for user, name, cid in running_servers():
                try:
                    jobs = job_processes(parse_top(client.api.top(cid, ps_args=PS_ARGS)))
                except docker.errors.APIError as e:
                    # E.g. no `ps` on the Docker host (Docker's top runs it): say so once.
                    if str(e) not in warned:
                        warned.add(str(e))
                        log.warning("cannot list the processes of %s's server (%s); its jobs do not count as activity", user, e)
                    continue
                key = (user, name)
                seen[key] = {pid: c for pid, _, _, c, _ in jobs}
                # The first round of a server only takes its measure.
                if key not in cpu or cpu_used(jobs, cpu[key]) < MIN_CPU:
                    continue
                now_busy.add(key)
                stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
                path = f"/users/{urllib.parse.quote(user, safe='')}/activity"
                hub("POST", path, {"last_activity": stamp, "servers": {name: {"last_activity": stamp}}})
                if key not in busy:
                    top_job = max(jobs, key=lambda r: r[3])
                    log.info("%s's server %r runs a job (%d processes, e.g. pid %d: %s): reported as active", user, name, len(jobs), top_job[0], top_job[4][:120])
            for key in busy - now_busy:
                log.info("%s's server %r runs no job any more: the idle culler may stop it after the idle timeout", *key)
            cpu, busy = seen, now_busy
        except Exception as e:  # the hub restarting, Docker busy: try again next round
            log.warning("activity round failed: %s", e)
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()

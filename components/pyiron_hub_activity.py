"""A hub service that keeps user servers with running jobs from being culled.

pyiron runs a job in a process of its own while the notebook's kernel sits idle; the idle
culler only sees JupyterHub's activity (browser traffic, kernels busy), so it would stop
the server, and the job with it. Every INTERVAL seconds this service lists the processes
of each running user server (Docker's `top`, from outside: the image is not changed) and,
when one of them counts as a job, reports activity for that server to the hub.

A process counts when it has run for MIN_AGE seconds or more, is not a zombie, and is
none of: the Jupyter server, the processes it runs in (the image's init and start
scripts), and its direct children (kernels, terminal shells, language servers). So a
pyiron job started from a notebook (a child of the kernel), a script run in a terminal (a
child of its shell), and a process that detached itself all count; an idle kernel, an
idle terminal, Docker's health checks and `docker exec` do not.
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
MIN_AGE = int(os.environ.get("PYIRON_ACTIVITY_MIN_AGE", "30"))
PS_ARGS = "-eo pid,ppid,stat,etimes,args"
# The Jupyter server of the pyiron images (and of Jupyter's docker-stacks).
SERVER = re.compile(r"(?:^|[/\s])(?:jupyterhub-singleuser|jupyter-labhub|jupyter-lab|jupyter-server|jupyter-notebook)(?:\s|$)|-m jupyterhub\.singleuser(?:\s|$)")

log = logging.getLogger("pyiron-activity")


def job_processes(rows):
    """The rows (pid, ppid, stat, etimes, args) that count as jobs; none when no Jupyter server is found."""
    procs = {r[0]: r for r in rows}
    servers = sorted((r for r in rows if SERVER.search(r[4])), key=lambda r: -r[3])
    if not servers:
        return []
    server = servers[0][0]  # the oldest: a Jupyter server the user started later is a job
    excluded = {server}
    parent = procs[server][1]
    while parent in procs and parent not in excluded:
        excluded.add(parent)
        parent = procs[parent][1]
    excluded.update(pid for pid, ppid, *_ in rows if ppid == server)
    return [r for r in rows if r[0] not in excluded and "Z" not in r[2] and r[3] >= MIN_AGE]


def parse_top(top):
    """Docker's top answer as (pid, ppid, stat, etimes, args) rows."""
    titles = [t.upper() for t in top["Titles"]]
    i = {name: titles.index(name) for name in ("PID", "PPID", "STAT")}
    elapsed = titles.index("ELAPSED")
    rows = []
    for p in top.get("Processes") or []:
        try:
            rows.append((int(p[i["PID"]]), int(p[i["PPID"]]), p[i["STAT"]], int(p[elapsed]), " ".join(p[elapsed + 1:])))
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
    busy = {}
    warned = set()
    while True:
        try:
            seen = {}
            for user, name, cid in running_servers():
                try:
                    jobs = job_processes(parse_top(client.api.top(cid, ps_args=PS_ARGS)))
                except docker.errors.APIError as e:
                    # E.g. no `ps` on the Docker host (Docker's top runs it): say so once.
                    if str(e) not in warned:
                        warned.add(str(e))
                        log.warning("cannot list the processes of %s's server (%s); its jobs do not count as activity", user, e)
                    continue
                if not jobs:
                    continue
                seen[(user, name)] = jobs[0][4][:120]
                now = datetime.datetime.now(datetime.timezone.utc).isoformat()
                path = f"/users/{urllib.parse.quote(user, safe='')}/activity"
                hub("POST", path, {"last_activity": now, "servers": {name: {"last_activity": now}}})
                if busy.get((user, name)) is None:
                    log.info("%s's server %r runs a job (%d processes, e.g. %s): reported as active", user, name, len(jobs), seen[(user, name)])
            for key in set(busy) - set(seen):
                log.info("%s's server %r runs no job any more: the idle culler may stop it after the idle timeout", *key)
            busy = seen
        except Exception as e:  # the hub restarting, Docker busy: try again next round
            log.warning("activity round failed: %s", e)
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()

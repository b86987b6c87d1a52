"""This user's settings for the hub's SLURM clusters, written at every server start.

The hub hands the clusters over in PYIRON_HUB_HPC (JSON, no secret). This writes
~/.pyiron-hub/hpc/resources/queues/ (pysqa's REMOTE queue files), a known_hosts file with
the pinned host keys, and, once, the user's own SSH key: ~/.ssh/pyiron_hub_ed25519. A
user who brings a key puts it at that path; it is never replaced. Run with `key` to print
the public key to hand to the cluster's admins.

A cluster behind a jump host: pysqa's own proxy setting trusts the login host's key on
first use, so instead `tunnel NAME` (started by the shell hook) listens on 127.0.0.1 inside
the user's server and forwards each connection through the jump host, whose key is checked
against the pinned ones; pysqa then connects to that local port and checks the login
host's pinned key itself.
"""
import json
import os
import pathlib
import sys

HOME = pathlib.Path(os.environ.get("HOME", "/home/jovyan"))
KEY = HOME / ".ssh" / "pyiron_hub_ed25519"
ROOT = HOME / ".pyiron-hub" / "hpc"
QUEUES = ROOT / "resources" / "queues"
KNOWN_HOSTS = ROOT / "known_hosts"


def ensure_key(user):
    """Makes the user's key pair once; an existing key (generated or brought) stays."""
    KEY.parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(KEY.parent, 0o700)
    if KEY.exists():
        return
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    fd = os.open(KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, ser.NoEncryption()))
    public = key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode()
    KEY.with_name(KEY.name + ".pub").write_text(f"{public} {user}@pyiron-hub\n")


def yaml_value(v):
    """A YAML scalar that reads back as exactly v (JSON is YAML)."""
    return json.dumps(v)


# The local ports of the jump-host tunnels, one per cluster in the order of the config.
TUNNEL_PORT_BASE = 10022


def known_host(host, port):
    """The name paramiko looks a host's key up by in known_hosts."""
    return host if port == 22 else f"[{host}]:{port}"


def cluster_user(cluster, user):
    return cluster["username"].replace("{username}", user)


def endpoint(index, cluster):
    """Where pysqa connects: the login host, or the local end of its jump-host tunnel."""
    if cluster.get("jumpHost"):
        return "127.0.0.1", TUNNEL_PORT_BASE + index
    return cluster["host"], cluster["port"]


def queue_file(index, cluster, user):
    account = cluster_user(cluster, user)
    remote = lambda t: t.replace("{clusterUser}", account)
    host, port = endpoint(index, cluster)
    lines = [
        "# Written by pyiron-jupyterhub at server start from the hub's stack config; edits are replaced.",
        "queue_type: REMOTE",
        f"queue_primary: {yaml_value(cluster['partitions'][0]['name'])}",
        f"ssh_host: {yaml_value(host)}",
        f"ssh_port: {port}",
        f"ssh_username: {yaml_value(account)}",
        f"ssh_key: {yaml_value(str(KEY))}",
        f"known_hosts: {yaml_value(str(KNOWN_HOSTS))}",
        f"ssh_remote_config_dir: {yaml_value(remote(cluster['configDir']))}",
        f"ssh_remote_path: {yaml_value(remote(cluster['remotePath']).rstrip('/') + '/')}",
        f"ssh_local_path: {yaml_value(str(HOME) + '/')}",
        "ssh_continous_connection: false",
        "ssh_delete_file_on_remote: false",
        "queues:",
    ]
    for p in cluster["partitions"]:
        lines.append(f"  {yaml_value(p['name'])}:")
        lines.append("    cores_min: 1")
        lines.append(f"    cores_max: {p['cores']}")
        lines.append(f"    run_time_max: {p['runTime']}")
        if p.get("memoryGB") is not None:
            lines.append(f"    memory_max: {p['memoryGB']}")
    known = [f"{known_host(host, port)} {k}" for k in cluster["hostKeys"]]
    jump = cluster.get("jumpHost")
    if jump:
        known += [f"{known_host(jump['host'], jump['port'])} {k}" for k in jump["hostKeys"]]
    return "\n".join(lines) + "\n", known


def write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def pump(a, b):
    """Copies bytes both ways between a socket and a channel until either side closes."""
    import select

    try:
        while True:
            ready, _, _ = select.select([a, b], [], [])
            for src, dst in ((a, b), (b, a)):
                if src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    dst.sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def refuse(conn, reason):
    """Tells pysqa why the jump failed. paramiko reads up to 100 lines looking for the SSH
    banner and then quotes the last one in its error, so the reason reaches the notebook."""
    message = f"pyiron-jupyterhub: {reason}".replace("\r", " ").replace("\n", " ")
    print(message, file=sys.stderr, flush=True)
    try:
        conn.sendall((message + "\r\n").encode() * 100)
    except OSError:
        pass
    conn.close()


def tunnel(name, user):
    """Serves 127.0.0.1:<port> of cluster `name`, one jump-host connection per client."""
    import socket
    import threading

    import paramiko

    clusters = json.loads(os.environ["PYIRON_HUB_HPC"])["clusters"]
    index, cluster = next((i, c) for i, c in enumerate(clusters) if c["name"] == name)
    jump = cluster["jumpHost"]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(endpoint(index, cluster))
    listener.listen(16)

    def serve(conn):
        via = f"jump host {jump['host']}:{jump['port']}"
        client = paramiko.SSHClient()
        try:
            # Only the pinned keys: an unknown or changed key is refused, never learned.
            client.load_host_keys(str(KNOWN_HOSTS))
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect(jump["host"], port=jump["port"], username=cluster_user(cluster, user), key_filename=str(KEY),
                           look_for_keys=False, allow_agent=False, timeout=20, banner_timeout=20, auth_timeout=20)
            channel = client.get_transport().open_channel("direct-tcpip", (cluster["host"], cluster["port"]), conn.getpeername(), timeout=20)
        except paramiko.BadHostKeyException:
            refuse(conn, f"the host key of {via} does not match the pinned hostKeys; no connection made")
        except paramiko.SSHException as e:
            refuse(conn, f"{via}: {e}")
        except OSError as e:
            refuse(conn, f"{via} is unreachable: {e}")
        else:
            pump(conn, channel)
        finally:
            client.close()

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    user = os.environ.get("JUPYTERHUB_USER") or os.environ.get("NB_USER") or "jovyan"
    if sys.argv[1:] == ["key"]:
        print(KEY.with_name(KEY.name + ".pub").read_text().strip())
        return
    if sys.argv[1:2] == ["tunnel"] and len(sys.argv) == 3:
        tunnel(sys.argv[2], user)
        return
    clusters = json.loads(os.environ["PYIRON_HUB_HPC"])["clusters"]
    if sys.argv[1:] == ["jumps"]:
        print(" ".join(c["name"] for c in clusters if c.get("jumpHost")))
        return
    ensure_key(user)
    known = []
    files = {}
    for i, c in enumerate(clusters):
        text, lines = queue_file(i, c, user)
        files[c["name"]] = text
        known += lines
    write(KNOWN_HOSTS, "\n".join(known) + "\n")
    for old in QUEUES.glob("*.yaml") if QUEUES.exists() else []:
        old.unlink()
    if len(clusters) == 1:
        write(QUEUES / "queue.yaml", files[clusters[0]["name"]])
    else:
        for name, text in files.items():
            write(QUEUES / f"{name}.yaml", text)
        index = {"cluster_primary": clusters[0]["name"], "cluster": {c["name"]: f"{c['name']}.yaml" for c in clusters}}
        write(QUEUES / "clusters.yaml", json.dumps(index, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

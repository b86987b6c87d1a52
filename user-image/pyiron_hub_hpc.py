"""This user's settings for the hub's SLURM clusters, written at every server start.

The hub hands the clusters over in PYIRON_HUB_HPC (JSON, no secret). This writes
~/.pyiron-hub/hpc/resources/queues/ (pysqa's REMOTE queue files), a known_hosts file with
the pinned host keys, and, once, the user's own SSH key: ~/.ssh/pyiron_hub_ed25519. A
user who brings a key puts it at that path; it is never replaced. Run with `key` to print
the public key to hand to the cluster's admins.
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


def queue_file(cluster, user):
    cluster_user = cluster["username"].replace("{username}", user)
    remote = lambda t: t.replace("{clusterUser}", cluster_user)
    host = cluster["host"] if cluster["port"] == 22 else f"[{cluster['host']}]:{cluster['port']}"
    lines = [
        "# Written by pyiron-jupyterhub at server start from the hub's stack config; edits are replaced.",
        "queue_type: REMOTE",
        f"queue_primary: {yaml_value(cluster['partitions'][0]['name'])}",
        f"ssh_host: {yaml_value(cluster['host'])}",
        f"ssh_port: {cluster['port']}",
        f"ssh_username: {yaml_value(cluster_user)}",
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
    known = [f"{host} {k}" for k in cluster["hostKeys"]]
    return "\n".join(lines) + "\n", known


def write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main():
    user = os.environ.get("JUPYTERHUB_USER") or os.environ.get("NB_USER") or "jovyan"
    if sys.argv[1:] == ["key"]:
        print(KEY.with_name(KEY.name + ".pub").read_text().strip())
        return
    clusters = json.loads(os.environ["PYIRON_HUB_HPC"])["clusters"]
    ensure_key(user)
    known = []
    files = {}
    for c in clusters:
        text, lines = queue_file(c, user)
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

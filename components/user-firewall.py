"""Keeps user servers apart from each other and from the Docker host.

Runs in its own container in the host's network namespace, with NET_ADMIN and the Docker
socket, from the hub image. Every second it reads the users network from the engine and,
when anything changed (and every few seconds regardless), rewrites two chains of its own
in one iptables-restore:

- forwarded traffic from the users bridge: cloud metadata addresses are refused, and so
  are ports the host forwards elsewhere (DNAT); on the bridge itself a new connection is
  allowed only from the hub or the proxy, to the hub, or to a container on the network
  that is not a user server (one an admin connected, such as a cluster's login node);
  everything else on the bridge (one user server to another on any port, or to the
  proxy's API) is refused. Traffic
  leaving the host is untouched.
- traffic from the users bridge to the host itself: only replies, the hub, and the TCP
  ports in the settings (those the admin named).
Only replies count as established, so a connection opened while the rules were away dies.

New user servers are refused by default, before this loop has seen them. On SIGTERM the
chains and every jump into them are removed again; at the start, jumps that a killed
predecessor left for another bridge go too.

Settings come as JSON in PYIRON_USER_FIREWALL: network, hub and proxy (container names),
userLabels (["key=value", ...] of user servers), hostPorts (list of ints), chain (name prefix).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import docker

SETTINGS = json.loads(os.environ["PYIRON_USER_FIREWALL"])
FORWARD = SETTINGS["chain"] + "-FWD"
INPUT = SETTINGS["chain"] + "-IN"
# Cloud metadata services: link-local (169.254.169.254 and the rest) and Alibaba Cloud's.
METADATA = ["169.254.0.0/16", "100.100.100.200/32"]
TICK = "/tmp/user-firewall.tick"
# Without it, traffic between two containers on one bridge never meets iptables.
BRIDGE_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables"
# The chains are written again this often even when nothing changed (an `iptables -F`
# by hand, or a host firewall reload, would otherwise go unnoticed).
REAPPLY_SECONDS = 5


def log(message):
    print(f"user-firewall: {message}", flush=True)


def iptables(*args, check=True):
    return subprocess.run(["iptables", "-w", *args], capture_output=True, text=True, check=check)


def rules(bridge, hub, proxy, peers, host_ports):
    """The two chains as iptables-restore input (declaring a chain flushes it)."""
    reject = ["-j", "REJECT", "--reject-with", "icmp-admin-prohibited"]
    # Only replies pass as "established": a connection a user server opened while the rules
    # were away (an engine restart) dies at its next packet instead of living on.
    replies = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "--ctdir", "REPLY", "-j", "RETURN"]
    fwd = [["-d", net, *reject] for net in METADATA] + [replies]
    inp = [replies]
    if hub:
        fwd += [["-s", hub, "-j", "RETURN"], ["-o", bridge, "-d", hub, "-j", "RETURN"]]
        inp += [["-s", hub, "-j", "RETURN"]]
    # The proxy opens connections to user servers; they only answer it.
    if proxy:
        fwd += [["-s", proxy, "-j", "RETURN"]]
    fwd += [["-o", bridge, "-d", peer, "-j", "RETURN"] for peer in sorted(peers)]
    # Ports the host forwards elsewhere (other containers' published ports, NodePorts).
    fwd += [["-m", "conntrack", "--ctstate", "DNAT", *reject]]
    fwd += [["-o", bridge, *reject]]
    if host_ports:
        ports = ",".join(str(p) for p in sorted(set(host_ports)))
        inp += [["-p", "tcp", "-m", "multiport", "--dports", ports, "-j", "RETURN"]]
    inp += [reject]
    lines = ["*filter", f":{FORWARD} - [0:0]", f":{INPUT} - [0:0]"]
    lines += [" ".join(["-A", FORWARD, *r]) for r in fwd]
    lines += [" ".join(["-A", INPUT, *r]) for r in inp]
    return "\n".join(lines + ["COMMIT", ""])


def jumps(bridge):
    return [("DOCKER-USER", ["-i", bridge, "-j", FORWARD]), ("INPUT", ["-i", bridge, "-j", INPUT])]


def ensure_jumps(bridge):
    for chain, spec in jumps(bridge):
        if iptables("-C", chain, *spec, check=False).returncode != 0:
            iptables("-I", chain, "1", *spec)


def remove_jumps(keep=None):
    """Every jump into this deployment's chains but those of bridge `keep`, whichever bridge
    it names: a firewall stopped without its cleanup (killed, or the host went down) leaves
    its jumps behind, and they would keep the chains from ever being deleted."""
    for chain, target in (("DOCKER-USER", FORWARD), ("INPUT", INPUT)):
        for line in iptables("-S", chain, check=False).stdout.splitlines():
            parts = line.split()
            if parts[:2] == ["-A", chain] and parts[-2:] == ["-j", target] and parts[2:4] != ["-i", keep]:
                iptables("-D", chain, *parts[2:], check=False)


def observe(client):
    """The users bridge, the hub's and the proxy's addresses on it, and those of other non-user containers."""
    net = client.networks.get(SETTINGS["network"])
    bridge = net.attrs.get("Options", {}).get("com.docker.network.bridge.name") or "br-" + net.id[:12]
    users = {c.id for c in client.containers.list(filters={"label": SETTINGS["userLabels"], "network": SETTINGS["network"]})}
    hub, proxy, peers = None, None, set()
    for cid, endpoint in (net.attrs.get("Containers") or {}).items():
        address = (endpoint.get("IPv4Address") or "").split("/")[0]
        if not address:
            continue
        if endpoint.get("Name") == SETTINGS["hub"]:
            hub = address
        elif endpoint.get("Name") == SETTINGS.get("proxy"):
            proxy = address
        elif cid not in users:
            peers.add(address)
    return bridge, hub, proxy, peers


def main():
    if not shutil.which("iptables-restore"):
        log("this image has no iptables: build the hub from the project's recipe, add the "
            "iptables package to your hubImage, or set userFirewall to false")
        sys.exit(2)
    if iptables("-S", "DOCKER-USER", check=False).returncode != 0:
        log("the host has no DOCKER-USER chain (is Docker's iptables integration off?); "
            "set userFirewall to false to run without this firewall")
        sys.exit(2)
    client = docker.from_env()
    state = {"bridge": None}

    def stop(*_):
        remove_jumps()
        for chain in (FORWARD, INPUT):
            iptables("-F", chain, check=False)
            iptables("-X", chain, check=False)
        log("removed")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    applied, last_apply = None, 0.0
    while True:
        try:
            bridge, hub, proxy, peers = observe(client)
        except docker.errors.NotFound:
            log(f"network {SETTINGS['network']} not found")
            time.sleep(2)
            continue
        except Exception as err:  # the engine restarting, a timeout: try again
            log(f"cannot read the users network: {err}")
            time.sleep(2)
            continue
        try:
            bridged = open(BRIDGE_NF).read().strip() == "1"
        except OSError:
            bridged = False
        wanted = rules(bridge, hub, proxy, peers, SETTINGS["hostPorts"])
        try:
            if wanted != applied or bridge != state["bridge"] or time.monotonic() - last_apply > REAPPLY_SECONDS:
                subprocess.run(["iptables-restore", "-w", "--noflush"], input=wanted, text=True, check=True, capture_output=True)
                if state["bridge"] != bridge:
                    remove_jumps(keep=bridge)
                # An engine restart rebuilds Docker's chains: the jumps go back in.
                ensure_jumps(bridge)
                if wanted != applied:
                    log(f"{bridge}: hub {hub or 'not running'}, proxy {proxy or 'not running'}, {len(peers)} other container(s) reachable")
                state["bridge"], applied, last_apply = bridge, wanted, time.monotonic()
        except subprocess.CalledProcessError as err:
            log(f"iptables failed: {err.stderr or err}")
            time.sleep(2)
            continue
        if not bridged:
            # Healthy only when the rules can work: the health check reads the tick file.
            log(f"{BRIDGE_NF} is not 1: traffic between containers on one bridge bypasses iptables; "
                "load br_netfilter and set it to 1 (Docker does so for its own needs on most hosts)")
            time.sleep(5)
            continue
        with open(TICK, "w"):
            pass
        time.sleep(1)


if __name__ == "__main__":
    main()

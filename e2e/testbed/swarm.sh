#!/usr/bin/env bash
# A three-node Docker Swarm on this one machine: the host's engine is the manager, two
# extra dockerd instances (w1, w2), each in a network namespace of its own, are workers.
# The nodes meet on a bridge that lives in a namespace of its own, because on the host
# the FORWARD policy is DROP and bridged traffic passes iptables. No privileged
# containers are needed (this engine refuses them).
#   swarm.sh up [IMAGE...]   bring it up (idempotent) and load IMAGEs into the workers
#   swarm.sh down            tear it down; the workers' data roots keep their images
#   swarm.sh status          node list and whether each worker's dockerd runs
set -euo pipefail
source "$(dirname "$0")/../env.sh"

SW="$TESTBED_DIR/swarm"            # data roots, logs, the shared storage
RUN=/run/pyiron-swarm              # sockets, pid files, exec roots
BR_NS=pyiron-swarm-br
HOST_IF=pyswarm0
MANAGER_ADDR=10.213.0.1
SWARM_POOL=10.215.0.0/16           # overlay networks; away from 10.213 and the host's 172.x/192.168.x
WORKERS=(w1 w2)
declare -A WORKER_ADDR=([w1]=10.213.0.11 [w2]=10.213.0.12)
# Each worker's local networks (docker0, docker_gwbridge): a /20 of 10.214 per node.
declare -A WORKER_POOL=([w1]=10.214.16.0/20 [w2]=10.214.32.0/20)

ns_of() { echo "pyiron-swarm-$1"; }
sock_of() { echo "unix://$RUN/$1.sock"; }
wdocker() { local n=$1; shift; docker -H "$(sock_of "$n")" "$@"; }
ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
host_swarm() { docker info --format "{{.Swarm.$1}}" 2>/dev/null; }

# The pid of worker N's dockerd if it runs (checked against the pid file being ours).
worker_pid() {
    local pid
    pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] \
        && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$RUN/$1.sock" && echo "$pid"
}
containerd_of() { ps -o pid=,comm= --ppid "$1" 2>/dev/null | awk '$2 == "containerd" {print $1}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Waits up to $2 seconds for pid $1 to exit; 1 if it is still there.
wait_gone() {
    local i
    for ((i = 0; i < $2 * 5; i++)); do [ -d "/proc/$1" ] || return 0; sleep 0.2; done
    [ ! -d "/proc/$1" ]
}
stop_pids() { # WHAT PID...: TERM to all, up to 20 s, then KILL
    local what=$1 pid
    shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    for pid in "$@"; do
        wait_gone "$pid" 20 && continue
        log "$what (pid $pid) ignored TERM for 20 s: KILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || die "$what (pid $pid) survived KILL"
    done
}

healthy() {
    local n ready
    ns_exists "$BR_NS" && ip -br addr show "$HOST_IF" 2>/dev/null | grep -q "$MANAGER_ADDR/24" || return 1
    [ "$(host_swarm LocalNodeState) $(host_swarm ControlAvailable) $(host_swarm NodeAddr)" = "active true $MANAGER_ADDR" ] || return 1
    ready=$(docker node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null)
    [ "$(wc -l <<<"$ready")" = $((${#WORKERS[@]} + 1)) ] || return 1    # no stale entries
    for n in "${WORKERS[@]}"; do
        ns_exists "$(ns_of "$n")" && worker_pid "$n" >/dev/null && wdocker "$n" info >/dev/null 2>&1 || return 1
        grep -qx "$n Ready" <<<"$ready" || return 1
    done
}

# --- network ---------------------------------------------------------------------
net_up() {
    local n ns
    ns_exists "$BR_NS" || ip netns add "$BR_NS"
    ip -n "$BR_NS" link set lo up
    ip -n "$BR_NS" link show br0 >/dev/null 2>&1 || ip -n "$BR_NS" link add br0 type bridge
    ip -n "$BR_NS" link set br0 up
    # A fresh namespace filters nothing; make sure, since a bridge that passes iptables
    # with a DROP policy (as on the host) silently loses node-to-node traffic.
    if ip netns exec "$BR_NS" sysctl -n net.bridge.bridge-nf-call-iptables >/dev/null 2>&1; then
        ip netns exec "$BR_NS" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0
    fi
    [ "$(ip netns exec "$BR_NS" iptables -S FORWARD)" = "-P FORWARD ACCEPT" ] \
        || die "the bridge namespace $BR_NS filters forwarded traffic: $(ip netns exec "$BR_NS" iptables -S FORWARD | tr '\n' ' ')"
    ! ip netns exec "$BR_NS" nft list ruleset 2>/dev/null | grep -qwE 'drop|reject' \
        || die "the bridge namespace $BR_NS has nftables rules that drop"

    # The host's end: the manager advertises this address.
    if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
        ip link add "$HOST_IF" type veth peer name host netns "$BR_NS"
    fi
    ip -n "$BR_NS" link set host master br0 up
    ip addr replace "$MANAGER_ADDR/24" dev "$HOST_IF"
    ip link set "$HOST_IF" up

    for n in "${WORKERS[@]}"; do
        ns=$(ns_of "$n")
        ns_exists "$ns" || ip netns add "$ns"
        # Only the bridge's range and no default route: nothing leaves the test bed, and
        # a resolver that answers nothing keeps names from leaking to the host's.
        mkdir -p "/etc/netns/$ns"
        echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
        ip -n "$ns" link set lo up
        ip -n "$ns" link show eth0 >/dev/null 2>&1 || ip -n "$ns" link add eth0 type veth peer name "$n" netns "$BR_NS"
        ip -n "$BR_NS" link set "$n" master br0 up
        ip -n "$ns" addr replace "${WORKER_ADDR[$n]}/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

# --- worker engines ----------------------------------------------------------------
# Run inside `ip netns exec NS unshare --uts`: ip netns exec gives a private mount
# namespace (rslave) with a fresh /sys of the node's netns, whose /sys/fs/cgroup is
# empty; dockerd needs the cgroup hierarchies there ("Devices cgroup isn't mounted").
# Mounting the same hierarchies again shows the host's; nothing leaks out of the mount
# namespace, and it goes with the node's last process.
NODE_INIT='
set -e
echo "$1" >/proc/sys/kernel/hostname
shift
printf "%s\n" "$CGROUP_MOUNTS" | while read -r type dir opts; do
    [ -n "$type" ] || continue
    mkdir -p "$dir"
    case "$type" in tmpfs) opts=mode=755 ;; esac    # writable, whatever the host has
    mount -t "$type" -o "$opts" "$type" "$dir"
done
exec dockerd "$@"
'

start_worker() {
    local n=$1 dir="$SW/$1"
    mkdir -p "$dir/data" "$RUN/$n"
    # No stale swarm state: a node that starts afresh joins afresh.
    rm -rf "$dir/data/swarm"
    # Its own key (or all nodes share one engine id), its own cgroup parent (the host's
    # engine uses /docker), and no system daemon.json.
    cat >"$dir/daemon.json" <<EOF
{
    "deprecated-key-path": "$dir/key.json",
    "cgroup-parent": "/pyiron-swarm-$n",
    "log-opts": {"max-size": "10m", "max-file": "2"}
}
EOF
    echo "=== $(date -Is) start" >>"$dir/dockerd.log"
    # The host's cgroup mounts, replayed inside (tmpfs + v1 hierarchies, or one cgroup2).
    CGROUP_MOUNTS=$(awk '$2 ~ "^/sys/fs/cgroup(/|$)" {print $3, $2, $4}' /proc/self/mounts) \
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 \
        setsid -f ip netns exec "$(ns_of "$n")" unshare --uts sh -c "$NODE_INIT" node-init "$n" \
        --config-file "$dir/daemon.json" \
        --data-root "$dir/data" \
        --exec-root "$RUN/$n/exec" \
        --pidfile "$RUN/$n.pid" \
        -H "$(sock_of "$n")" \
        --default-address-pool "base=${WORKER_POOL[$n]},size=24" \
        </dev/null >>"$dir/dockerd.log" 2>&1 9>&-
}

workers_up() {
    local n pending=() ok stale
    for n in "${WORKERS[@]}"; do
        if worker_pid "$n" >/dev/null && wdocker "$n" info >/dev/null 2>&1; then continue; fi
        stop_workers "$n"    # a half-dead one from before
        start_worker "$n"
        pending+=("$n")
    done
    for n in "${pending[@]}"; do
        ok=
        for _ in $(seq 150); do
            wdocker "$n" info >/dev/null 2>&1 && { ok=1; break; }
            sleep 0.2
        done
        [ -n "$ok" ] || { tail -20 "$SW/$n/dockerd.log" >&2; die "worker $n's dockerd did not answer; see $SW/$n/dockerd.log"; }
        # Containers left by an engine that was killed belong to tasks of a former swarm.
        stale=$(wdocker "$n" ps -aq)
        [ -z "$stale" ] || wdocker "$n" rm -f $stale >/dev/null
        log "worker $n: dockerd $(worker_pid "$n") answers on $(sock_of "$n")"
    done
}

# Stops workers N... and everything they started, all at once; keeps their data roots
# but not their swarm state.
stop_workers() {
    local n pid pids=() ctds=() procs cg
    for n in "$@"; do
        pid=$(worker_pid "$n") || continue
        pids+=("$pid")
        ctds+=($(containerd_of "$pid"))
        wdocker "$n" info >/dev/null 2>&1 || continue
        # Its containers are the swarm's tasks or probes: throw-away. Removing them now
        # spares dockerd's 10 s stop timeout per container at shutdown.
        {
            procs=$(wdocker "$n" ps -aq)
            [ -z "$procs" ] || wdocker "$n" rm -f $procs >/dev/null 2>&1 || true
            [ "$(wdocker "$n" info --format '{{.Swarm.LocalNodeState}}')" = inactive ] \
                || wdocker "$n" swarm leave --force >/dev/null 2>&1 || true
        } &
    done
    wait
    stop_pids "a worker's dockerd" "${pids[@]}"
    # It stops its containerd itself, unless it was killed.
    stop_pids "a worker's containerd" "${ctds[@]}"
    for n in "$@"; do
        # Shims (and their containers) outlive a killed dockerd: find them by the node's
        # exec root and its cgroup parent.
        for pid in $(grep -lsF -- "$RUN/$n/exec/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
            case "$(cat "/proc/$pid/comm" 2>/dev/null)" in containerd*) kill -KILL "$pid" 2>/dev/null || true ;; esac
        done
        for cg in /sys/fs/cgroup/pyiron-swarm-"$n" /sys/fs/cgroup/*/pyiron-swarm-"$n"; do
            [ -d "$cg" ] || continue
            procs=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
            [ -z "$procs" ] || { kill -KILL $procs 2>/dev/null || true; sleep 0.5; }
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
        rm -f "$RUN/$n.pid" "$RUN/$n.sock"
        unmount_under "$RUN/$n"
        rm -rf "$RUN/$n" "$SW/$n/data/swarm"
    done
}

# Anything mounted in the host's mount namespace under $1 (normally nothing: the nodes'
# mounts stay in their own namespaces).
unmount_under() {
    local m
    for m in $(findmnt -rn -o TARGET | grep -E "^$1(/|$)" | sort -r); do umount -l "$m" || true; done
}

# --- swarm -------------------------------------------------------------------------
all_ready() { # NODE_LS_LINES: the manager and every worker Ready
    local n
    awk -v id="$(host_swarm NodeID)" '$1 == id && $3 == "Ready"' <<<"$1" | grep -q . || return 1
    for n in "${WORKERS[@]}"; do awk '{print $2, $3}' <<<"$1" | grep -qx "$n Ready" || return 1; done
}
swarm_up() {
    local state n id token ready stale
    state="$(host_swarm LocalNodeState) $(host_swarm NodeAddr)"
    case "$state" in
        "inactive "*)
            docker swarm init --advertise-addr "$MANAGER_ADDR" --listen-addr "$MANAGER_ADDR:2377" \
                --default-addr-pool "$SWARM_POOL" >/dev/null
            log "the host's engine is the swarm's manager at $MANAGER_ADDR" ;;
        "active $MANAGER_ADDR")
            [ "$(host_swarm ControlAvailable)" = true ] || die "the host's engine is in the test swarm but not a manager" ;;
        *) die "the host's engine is in another swarm ($state): leave it first (docker swarm leave --force)" ;;
    esac
    token=$(docker swarm join-token -q worker)
    for n in "${WORKERS[@]}"; do
        id=$(wdocker "$n" info --format '{{.Swarm.NodeID}}')
        if [ -n "$id" ] && docker node inspect "$id" >/dev/null 2>&1; then continue; fi
        # Not a member of this swarm: forget any other one, then join.
        [ "$(wdocker "$n" info --format '{{.Swarm.LocalNodeState}}')" = inactive ] \
            || wdocker "$n" swarm leave --force >/dev/null
        wdocker "$n" swarm join --token "$token" --advertise-addr "${WORKER_ADDR[$n]}" \
            --listen-addr "${WORKER_ADDR[$n]}:2377" "$MANAGER_ADDR:2377" >/dev/null
        log "worker $n joined"
    done
    for _ in $(seq 120); do
        ready=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}')
        all_ready "$ready" && break
        sleep 0.5
    done
    all_ready "$ready" || { docker node ls >&2; die "the workers are not all Ready"; }
    # Entries of earlier joins: a worker that started afresh is a new node, and the old
    # one may still look Ready for a few heartbeats (its tasks then move on).
    stale=$(awk '$3 == "Down" {print $1}' <<<"$ready")
    for n in "${WORKERS[@]}"; do
        id=$(wdocker "$n" info --format '{{.Swarm.NodeID}}')
        stale+=" $(awk -v n="$n" -v id="$id" '$2 == n && $1 != id {print $1}' <<<"$ready")"
    done
    stale=$(tr ' ' '\n' <<<"$stale" | sort -u | xargs)
    [ -z "$stale" ] || { docker node rm --force $stale >/dev/null; log "removed stale node entries: $stale"; }
}

# --- images --------------------------------------------------------------------------
# Loads each IMAGE into the workers that lack it (by image id); one `docker save` per
# set of missing images, fanned out to every worker that needs that set.
load_images() {
    [ $# -gt 0 ] || return 0
    local img imgs n want have start tmp pids fifos i
    declare -A missing=()
    for img in "$@"; do
        want=$(docker image inspect --format '{{.Id}}' "$img" 2>/dev/null) || die "no image $img on the host"
        for n in "${WORKERS[@]}"; do
            have=$(wdocker "$n" image inspect --format '{{.Id}}' "$img" 2>/dev/null || true)
            [ "$have" = "$want" ] || missing[$n]+="$img "
        done
    done
    [ ${#missing[@]} -gt 0 ] || { log "images already on every worker: $*"; return 0; }
    start=$(date +%s%N)
    tmp=$(mktemp -d)
    declare -A groups=()
    for n in "${!missing[@]}"; do groups[${missing[$n]}]+="$n "; done
    for imgs in "${!groups[@]}"; do
        pids=() fifos=()
        for n in ${groups[$imgs]}; do
            mkfifo "$tmp/$n"
            wdocker "$n" load -q <"$tmp/$n" >/dev/null &
            pids+=($!) fifos+=("$tmp/$n")
        done
        log "loading ${imgs% } into ${groups[$imgs]% }"
        docker save $imgs | tee "${fifos[@]}" >/dev/null
        for i in "${pids[@]}"; do wait "$i" || die "docker load failed"; done
    done
    rm -rf "$tmp"
    for img in "$@"; do
        want=$(docker image inspect --format '{{.Id}}' "$img")
        for n in "${WORKERS[@]}"; do
            [ "$(wdocker "$n" image inspect --format '{{.Id}}' "$img" 2>/dev/null)" = "$want" ] || die "$img did not arrive on $n"
        done
    done
    log "images loaded in $((($(date +%s%N) - start) / 1000000)) ms"
}

# --- commands -------------------------------------------------------------------------
status() {
    local n pid ctd rss
    if [ "$(host_swarm LocalNodeState)" = active ] && [ "$(host_swarm ControlAvailable)" = true ]; then
        docker node ls --format '{{.Hostname}}	{{.Status}}	{{.Availability}}	{{if .ManagerStatus}}manager{{else}}worker{{end}}	{{.EngineVersion}}' >&2
    else
        log "the host's engine is not a swarm manager ($(host_swarm LocalNodeState))"
    fi
    for n in "${WORKERS[@]}"; do
        if pid=$(worker_pid "$n"); then
            rss=$(rss_kb "$pid") ctd=$(containerd_of "$pid")
            [ -z "$ctd" ] || rss="$rss + containerd $(rss_kb "$ctd")"
            log "worker $n: dockerd pid $pid runs; RSS $rss kB; ${WORKER_ADDR[$n]} in $(ns_of "$n")"
        else
            log "worker $n: dockerd is not running"
        fi
    done
}

up() {
    local start=$SECONDS
    mkdir -p "$SW" "$RUN"
    if healthy; then
        log "the swarm is already up"
    else
        net_up
        workers_up
        swarm_up
        log "swarm up in $((SECONDS - start)) s"
    fi
    load_images "$@"
    # Stands in for NFS: every node shares this file system, so the same path everywhere.
    install -d -m 0755 -o root -g root "$SW/storage"
    status
    log "up took $((SECONDS - start)) s; shared storage: $SW/storage"
}

down() {
    local n ns gw state left=""
    # Workers first: leaving is quick while their manager still answers.
    stop_workers "${WORKERS[@]}"
    state="$(host_swarm LocalNodeState) $(host_swarm NodeAddr)"
    case "$state" in
        "inactive "*) ;;
        *" $MANAGER_ADDR")
            docker swarm leave --force >/dev/null
            log "the host's engine left the swarm"
            left=1
            ;;
        *) log "the host's engine is in a swarm this script did not make ($state): left alone" ;;
    esac
    # Swarm mode made it; with no swarm, nothing uses it.
    if [ "$(host_swarm LocalNodeState)" = inactive ] \
        && gw=$(docker network inspect --format '{{len .Containers}}' docker_gwbridge 2>/dev/null) && [ "$gw" = 0 ]; then
        docker network rm docker_gwbridge >/dev/null
    fi
    # An encrypted overlay (its IPsec fails here: no ESP in this kernel) leaves the host's
    # VXLAN rules for its VNI behind; they would drop a later plain overlay's traffic.
    if [ "$(host_swarm LocalNodeState)" = inactive ]; then
        local table rule
        for table in filter mangle; do
            iptables -t "$table" -S 2>/dev/null | { grep -- '--dport 4789 -m u32' || true; } | sed 's/^-A /-D /' \
                | while read -r rule; do eval "iptables -t $table $rule"; done
        done
    fi
    for n in "${WORKERS[@]}"; do
        ns=$(ns_of "$n")
        ! ns_exists "$ns" || ip netns delete "$ns"
        rm -rf "/etc/netns/$ns"
    done
    ! ns_exists "$BR_NS" || ip netns delete "$BR_NS"
    ! ip link show "$HOST_IF" >/dev/null 2>&1 || ip link delete "$HOST_IF"
    rmdir /etc/netns 2>/dev/null || true
    # `ip netns add` bind-mounts /run/netns onto itself; undo it when no namespace is left.
    if [ -z "$(ls -A /run/netns 2>/dev/null)" ] && mountpoint -q /run/netns; then umount /run/netns || true; fi
    rmdir "$RUN" 2>/dev/null || true
    [ -z "$left" ] || restart_host_engine
}

# Leaving a swarm breaks Docker 20.10's name resolution on bridge networks until the
# engine restarts (moby/moby#45144): every later container would resolve no other by
# name. So the engine restarts; its containers' restart policies bring the test bed's
# back, and Keycloak is waited for.
restart_host_engine() {
    local pid
    log "restarting the host's engine (leaving a swarm broke its DNS on bridge networks)"
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker 2>/dev/null; then
        systemctl restart docker
    else
        pid=$(cat /var/run/docker.pid 2>/dev/null || true)
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
            kill -TERM "$pid"
            wait_gone "$pid" 90 || die "the host's dockerd (pid $pid) did not stop in 90 s"
        fi
    fi
    # Without this script's lock: the engine lives on, and would hold it.
    bash "$E2E_DIR/testbed/docker.sh" 9>&-
    bash "$E2E_DIR/testbed/keycloak.sh" 9>&-
}

mkdir -p "$SW"
# One of up/down/status at a time (the lock's fd is closed for the daemons we start).
exec 9>"$SW/.lock"
flock 9
case "${1:-}" in
    up) shift; up "$@" ;;
    down) start=$SECONDS; down; log "swarm down in $((SECONDS - start)) s" ;;
    status) status ;;
    *) echo "usage: $0 up [IMAGE...] | down | status" >&2; exit 2 ;;
esac

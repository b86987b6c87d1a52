#!/usr/bin/env bash
# Step 5: a SLURM cluster on the test bed's own network: a controller, two compute nodes,
# a login node with sshd and a jump host before it, sharing /home and one munge key. Then
# a check that a user reaches the login node over SSH with its pinned host key (and is refused with a wrong
# one), submits a job, and that the controller's accounting shows it ran as that user
# on a compute node.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
tb() { node -p "require('$E2E_DIR/testbed.json').cluster.$1"; }
network=$(tb network) image=$(tb image) ctl=$(tb controller) login=$(tb login) jump=$(tb jumpHost)
home=$(tb homeVolume) munge=$(tb mungeVolume) partition=$(tb partition)
nodes=$(tb "computeNodes.join(' ')")

docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
docker volume create "$munge" >/dev/null
docker volume create "$home" >/dev/null
# One munge key for the whole cluster, made once.
docker run --rm -v "$munge:/m" --entrypoint /bin/sh "$image" -c \
    'test -s /m/munge.key || { dd if=/dev/urandom of=/m/munge.key bs=1024 count=1 2>/dev/null && chmod 400 /m/munge.key; }'

# node NAME ROLE [docker run options]: (re)started when stopped or its image was rebuilt.
node() {
    local name=$1 role=$2
    shift 2
    if [ "$(docker inspect --format '{{.State.Running}} {{.Image}}' "$name" 2>/dev/null)" != "true $(docker image inspect --format '{{.Id}}' "$image")" ]; then
        docker rm -f "$name" >/dev/null 2>&1 || true
        log "starting cluster $role $name"
        docker run -d --name "$name" --hostname "$name" --network "$network" --restart unless-stopped \
            -v "$munge:/etc/munge-shared:ro" "$@" "$image" "$role" >/dev/null
    fi
}
node "$ctl" controller
for n in $nodes; do node "$n" compute -v "$home:/home"; done
node "$login" login -v "$home:/home"
# A jump host before the login node: sshd only, the same accounts (and homes) as the cluster.
node "$jump" login -v "$home:/home"

for _ in $(seq 60); do
    idle=$(docker exec "$ctl" sinfo -h -N -o '%N %T' 2>/dev/null | grep -c ' idle$' || true)
    [ "$idle" = "$(wc -w <<<"$nodes")" ] && break
    sleep 1
done
[ "$idle" = "$(wc -w <<<"$nodes")" ] || { docker exec "$ctl" sinfo -N || true; docker logs --tail 30 "$ctl"; die "the cluster's compute nodes are not idle"; }
log "cluster up: $(docker exec "$ctl" sinfo -h -N -o '%N/%T' | tr '\n' ' ')"

# The smoke check, as alice, from a compute node (any host on the cluster network will do).
user=alice
from=${nodes%% *}
docker exec -u "$user" "$from" sh -c 'mkdir -p ~/.ssh && chmod 700 ~/.ssh && { test -s ~/.ssh/testbed_ed25519 || ssh-keygen -q -t ed25519 -N "" -f ~/.ssh/testbed_ed25519; } && cp ~/.ssh/testbed_ed25519.pub ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys'
pinned="$login $(docker exec "$login" cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f1,2)"
wrong="$login $(docker exec "$ctl" sh -c 'ssh-keygen -q -t ed25519 -N "" -f /tmp/other && cut -d" " -f1,2 /tmp/other.pub; rm -f /tmp/other /tmp/other.pub')"
ssh_as() { # KNOWN_HOSTS_LINE COMMAND...
    local known=$1
    shift
    docker exec -u "$user" "$from" sh -c "printf '%s\n' '$known' > ~/.ssh/known_hosts_check && ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=~/.ssh/known_hosts_check -i ~/.ssh/testbed_ed25519 $login $*"
}
if refused=$(ssh_as "$wrong" true 2>&1); then die "ssh accepted a wrong host key"; fi
grep -q "Host key verification failed" <<<"$refused" || die "ssh with a wrong host key failed for another reason: $refused"
job=$(ssh_as "$pinned" sbatch --parsable --partition "$partition" --output 'smoke-%j.out' --wrap whoami)
for _ in $(seq 60); do
    state=$(docker exec "$ctl" scontrol show job "$job" | grep -o 'JobState=[A-Z]*' | cut -d= -f2)
    [ "$state" = COMPLETED ] && break
    case "$state" in FAILED|CANCELLED|TIMEOUT|NODE_FAIL) die "smoke job $job ended $state" ;; esac
    sleep 1
done
[ "$state" = COMPLETED ] || die "smoke job $job did not complete ($state)"
acct=$(docker exec "$ctl" sacct -c -n -j "$job" -o User,NodeList,State -P | tail -1)
case "$acct" in "$user("*")|slurm-c"*"|COMPLETED") ;; *) die "accounting of job $job: $acct" ;; esac
IFS='|' read -r who where how <<<"$acct"
log "cluster smoke: a wrong host key is refused; job $job ran as $who on $where, $how (sacct)"

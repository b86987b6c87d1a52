#!/usr/bin/env bash
# Backup and restore figures on the test bed: the test stack with USERS home volumes of
# MIB MiB each (random, so nothing compresses), backed up while the hub runs, then
# destroyed with every volume, restored onto the emptied engine and deployed again.
# Prints a markdown table. Usage: bash e2e/bench/backup-restore.sh [USERS] [MIB]
set -euo pipefail
source "$(dirname "$0")/../env.sh"
users=${1:-5} mib=${2:-200}
stack=$(node -p "require('$E2E_DIR/testbed.json').stack")
prefix=pyiron-hub
image=$(cd "$PROJECT_DIR" && pulumi config get postgresImage --stack "$stack")
work=$(mktemp -d)
trap 'rm -rf "$work"; (cd "$PROJECT_DIR" && pulumi config rm deleteDataOnDestroy --stack "$stack" >/dev/null 2>&1 || true)' EXIT
cd "$PROJECT_DIR"
seconds() { local s=$SECONDS; "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log"; die "$* failed"; }; echo $((SECONDS - s)); }

pulumi up --yes --skip-preview --stack "$stack" >/dev/null
for i in $(seq "$users"); do
    docker volume create "$prefix-home-bench$i" >/dev/null
    docker run --rm --network none -v "$prefix-home-bench$i:/v" --entrypoint sh "$image" \
        -c "head -c $((mib * 1024 * 1024)) /dev/urandom > /v/data.bin && chown -R 1000:100 /v"
done
backup_s=$(seconds npm run -s backup -- --stack "$stack" --out "$work/hub.tar")
archive_mib=$(( $(stat -c %s "$work/hub.tar") / 1024 / 1024 ))
pulumi config set deleteDataOnDestroy true --stack "$stack"
pulumi destroy --yes --skip-preview --stack "$stack" >/dev/null
docker volume ls -q | grep "^$prefix-" | xargs -r docker volume rm -f >/dev/null
pulumi config rm deleteDataOnDestroy --stack "$stack"
restore_s=$(seconds npm run -s restore -- "$work/hub.tar" --stack "$stack")
up_s=$(seconds pulumi up --yes --skip-preview --stack "$stack")
check=$(docker run --rm --network none -v "$prefix-home-bench1:/v:ro" --entrypoint stat "$image" -c '%s %u:%g' /v/data.bin)
pulumi destroy --yes --skip-preview --stack "$stack" >/dev/null
docker volume ls -q | grep "^$prefix-home-bench" | xargs -r docker volume rm -f >/dev/null

echo
echo "Backup and restore, $(date -u +%F), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $users home volumes of $mib MiB, hub running during the backup"
echo
echo "| figure | value |"
echo "|---|---|"
echo "| data in homes | $((users * mib)) MiB |"
echo "| archive | $archive_mib MiB |"
echo "| npm run backup | $backup_s s |"
echo "| npm run restore (empty engine, checksums first) | $restore_s s |"
echo "| pulumi up after the restore | $up_s s |"
echo "| a restored file (size, owner) | $check |"

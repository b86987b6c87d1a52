#!/usr/bin/env bash
# Step 1: the host's Debian packages the test bed uses, and a running Docker engine
# (Debian's docker.io).
set -euo pipefail
source "$(dirname "$0")/../env.sh"

missing=()
for pair in dockerd:docker.io debootstrap:debootstrap chromium:chromium curl:curl openssl:openssl ip:iproute2; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    mkdir -p "$TESTBED_DIR"
    nohup dockerd >"$TESTBED_DIR/dockerd.log" 2>&1 &
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
fi
docker info >/dev/null 2>&1 || die "dockerd did not come up; see $TESTBED_DIR/dockerd.log"
log "docker engine $(docker version --format '{{.Server.Version}}') is ready"

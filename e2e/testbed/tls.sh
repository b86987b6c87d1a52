#!/usr/bin/env bash
# Step 5: a self-signed test key and certificate for the hub's test host name.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
host=$(node -p "require('$E2E_DIR/testbed.json').hub.host")
dir="$TESTBED_DIR/tls"
if [ ! -s "$dir/hub.crt" ] || ! openssl x509 -in "$dir/hub.crt" -noout -checkend 86400 >/dev/null; then
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$host" \
        -addext "subjectAltName=DNS:$host,IP:127.0.0.1" \
        -keyout "$dir/hub.key" -out "$dir/hub.crt" 2>/dev/null
    chmod 600 "$dir/hub.key"
    log "made $dir/hub.crt for $host"
fi

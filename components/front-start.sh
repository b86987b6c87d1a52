#!/bin/sh
# The TLS front's entry point. Caddy reads certificate files only when it loads its
# config, so with certificate files from the host this loop reloads it when they change.
# A reload is graceful: open connections and websockets stay; a file pair that does not
# load yet (a key written before its certificate) leaves the running config in place
# and is tried again. Arguments: the files to watch (none with ACME).
set -u
CONFIG=/etc/caddy/Caddyfile
caddy run --config "$CONFIG" --adapter caddyfile &
caddy=$!
trap 'kill -TERM "$caddy" 2>/dev/null; wait "$caddy"; exit 0' TERM INT
if [ $# -eq 0 ]; then
    wait "$caddy"
    exit $?
fi
fingerprint() { cat "$@" 2>/dev/null | cksum; }
loaded=$(fingerprint "$@")
while kill -0 "$caddy" 2>/dev/null; do
    sleep 2 &
    wait $!
    now=$(fingerprint "$@")
    # Bounded: a reload that hangs must not keep later certificates out.
    if [ "$now" != "$loaded" ] && timeout 60 caddy reload --config "$CONFIG" --adapter caddyfile --force; then
        loaded=$now
        echo "front: certificate files changed, reloaded" >&2
    fi
done
wait "$caddy"

#!/usr/bin/env bash
# Step 7, the smoke check: from an empty engine, `pulumi up` of the test stack, the hub
# answers /hub/health over TLS on 127.0.0.1, and `pulumi destroy` leaves no project
# container behind.
set -euo pipefail
source "$(dirname "$0")/env.sh"
tb() { node -p "require('$E2E_DIR/testbed.json').$1"; }
stack=$(tb stack)
args=(--stack "$stack" --non-interactive --skip-preview)
project_containers() { docker ps -aq --filter label=org.pyiron-jupyterhub.deployment; }
cd "$PROJECT_DIR"

# An earlier run may have left a deployment behind: take it down first.
pulumi destroy --yes "${args[@]}" >/dev/null
leftovers=$(project_containers)
[ -z "$leftovers" ] || docker rm -f $leftovers >/dev/null
[ -z "$(project_containers)" ] || die "the engine still runs project containers: $(project_containers | tr '\n' ' ')"
log "pulumi up"
pulumi up --yes "${args[@]}"
url="https://$(tb hub.host):$(tb hub.port)/hub/health"
if ! curl -sf --cacert "$TESTBED_DIR/tls/hub.crt" --resolve "$(tb hub.host):$(tb hub.port):127.0.0.1" "$url" >/dev/null; then
    docker logs --tail 80 pyiron-hub-hub || true
    die "the hub does not answer $url"
fi
log "the hub answers $url over TLS"
log "pulumi destroy"
pulumi destroy --yes "${args[@]}"
left=$(project_containers)
[ -z "$left" ] || die "destroy left project containers: $(docker ps -a --filter label=org.pyiron-jupyterhub.deployment --format '{{.Names}}' | tr '\n' ' ')"
log "destroy left no project container; volumes kept: $(docker volume ls -q --filter label=org.pyiron-jupyterhub.deployment | tr '\n' ' ')"
echo "smoke: 3 passed, 0 failed"

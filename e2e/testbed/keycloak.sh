#!/usr/bin/env bash
# Step 4: Keycloak on the test bed's own network, published on 127.0.0.1 only, with
# the realm, client, groups and users of e2e/testbed.json.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
tb() { node -p "require('$E2E_DIR/testbed.json').$1"; }
network=$(tb network) name=$(tb keycloak.container) host=$(tb keycloak.host) port=$(tb keycloak.port)

docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
image="pyiron-testbed/keycloak:$KEYCLOAK_VERSION"
# Recreate it when it stopped or when its image was rebuilt.
if [ "$(docker inspect --format '{{.State.Running}} {{.Image}}' "$name" 2>/dev/null)" != "true $(docker image inspect --format '{{.Id}}' "$image")" ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    log "starting keycloak $KEYCLOAK_VERSION"
    docker run -d --name "$name" --network "$network" --network-alias "$host" \
        -p "127.0.0.1:$port:8080" --restart unless-stopped \
        -e KC_BOOTSTRAP_ADMIN_USERNAME="$(tb keycloak.admin.username)" \
        -e KC_BOOTSTRAP_ADMIN_PASSWORD="$(tb keycloak.admin.password)" \
        -e KC_HEALTH_ENABLED=true \
        "$image" start-dev --http-port=8080 >/dev/null
fi
for _ in $(seq 180); do
    curl -sf "http://127.0.0.1:$port/realms/master" >/dev/null && break
    sleep 1
done
curl -sf "http://127.0.0.1:$port/realms/master" >/dev/null || { docker logs --tail 50 "$name"; die "keycloak did not start"; }
(cd "$PROJECT_DIR" && npx tsx e2e/testbed/keycloak-realm.ts)

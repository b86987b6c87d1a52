#!/usr/bin/env bash
# Step 3: the images the test stack runs, built without any container registry: a
# Debian root file system from debootstrap, packages from Debian, wheels and npm
# packages fetched on the host. Each image is rebuilt only when its inputs change.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
images="$E2E_DIR/testbed/images"
cache="$TESTBED_DIR/images"
mkdir -p "$cache"

# The bases: Debian minbase, imported as an image (the test bed's release, and the next
# one for the second Postgres major of the upgrade test).
debian_base() { # SUITE
    local suite=$1 root="$cache/rootfs-$1"
    [ "$suite" = "$DEBIAN_SUITE" ] && root="$cache/rootfs"
    docker image inspect "pyiron-testbed/debian:$suite" >/dev/null 2>&1 && return
    if [ ! -x "$root/bin/sh" ]; then
        command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
        log "debootstrap $suite"
        rm -rf "$root"
        debootstrap --variant=minbase "$suite" "$root" "$DEBIAN_MIRROR" >"$cache/debootstrap-$suite.log"
    fi
    tar -C "$root" -c . | docker import - "pyiron-testbed/debian:$suite" >/dev/null
}
debian_base "$DEBIAN_SUITE"
debian_base "$DEBIAN_NEXT_SUITE"

# Wheelhouses, made on the host (containers cannot reach PyPI here) for the
# containers' Python, which is older than the host's.
wheels() { # dir requirement...
    local dir=$1
    shift
    local stamp="$CONTAINER_PYTHON $*"
    if [ "$(cat "$dir/.requirements" 2>/dev/null)" != "$stamp" ]; then
        log "wheels for $*"
        rm -rf "$dir"
        mkdir -p "$dir"
        local platforms=()
        for p in 2_36 2_35 2_34 2_31 2_28 2_27 2_24 2_17 2_12 2_5; do platforms+=(--platform "manylinux_${p}_x86_64"); done
        python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
            --python-version "$CONTAINER_PYTHON" --implementation cp --abi cp311 --abi abi3 --abi none \
            "${platforms[@]}" --platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64 \
            --dest "$dir" "$@"
        echo "$stamp" >"$dir/.requirements"
    fi
}
# One wheelhouse per JupyterHub release of the hub recipe (hub-image/requirements-*.txt).
hub_versions=$(cd "$PROJECT_DIR/hub-image" && ls requirements-*.txt | sed 's/^requirements-\(.*\)\.txt$/\1/')
for v in $hub_versions; do
    wheels "$cache/wheels-hub-$v" -r "$PROJECT_DIR/hub-image/requirements-$v.txt"
done
# shellcheck disable=SC2086
wheels "$cache/wheels-singleuser" $SINGLEUSER_PACKAGES $PYIRON_BASE_PACKAGE
# A single-user server of the newer JupyterHub release, for the hub upgrade test.
# shellcheck disable=SC2086
wheels "$cache/wheels-singleuser-next" $SINGLEUSER_NEXT_PACKAGES

# The HPC layer on the user images (user-image/) installs pysqa's remote extra from
# user-image/wheels/ with hpc.pipArgs=--no-index.
wheels "$cache/wheels-hpc" "$PYSQA_REMOTE_PACKAGE"
rm -f "$PROJECT_DIR"/user-image/wheels/*.whl
cp "$cache"/wheels-hpc/*.whl "$PROJECT_DIR/user-image/wheels/"

# The hub recipe of the project installs from hub-image/wheels/ with PIP_ARGS=--no-index.
rm -f "$PROJECT_DIR"/hub-image/wheels/*.whl
for v in $hub_versions; do cp "$cache/wheels-hub-$v"/*.whl "$PROJECT_DIR/hub-image/wheels/"; done

# configurable-http-proxy with its dependencies, for the hub's base image.
if [ ! -x "$cache/chp/node_modules/.bin/configurable-http-proxy" ] ||
    [ "$(cat "$cache/chp/.version" 2>/dev/null)" != "$CONFIGURABLE_HTTP_PROXY_VERSION" ]; then
    log "configurable-http-proxy $CONFIGURABLE_HTTP_PROXY_VERSION"
    rm -rf "$cache/chp"
    mkdir -p "$cache/chp"
    npm install --prefix "$cache/chp" --no-audit --no-fund --omit=dev --silent "configurable-http-proxy@$CONFIGURABLE_HTTP_PROXY_VERSION"
    echo "$CONFIGURABLE_HTTP_PROXY_VERSION" >"$cache/chp/.version"
fi

# The proxy container's configurable-http-proxy (a newer Node.js than the hub base's).
if [ ! -x "$cache/chp-$PROXY_CHP_VERSION/node_modules/.bin/configurable-http-proxy" ]; then
    log "configurable-http-proxy $PROXY_CHP_VERSION"
    rm -rf "$cache/chp-$PROXY_CHP_VERSION"
    mkdir -p "$cache/chp-$PROXY_CHP_VERSION"
    npm install --prefix "$cache/chp-$PROXY_CHP_VERSION" --no-audit --no-fund --omit=dev --silent "configurable-http-proxy@$PROXY_CHP_VERSION"
fi

# Caddy from its Go module (the Go build cache makes a rebuild quick).
if [ ! -x "$cache/caddy-$CADDY_VERSION/caddy" ]; then
    log "caddy $CADDY_VERSION from the Go module proxy"
    rm -rf "$cache/caddy-$CADDY_VERSION"
    GOBIN="$cache/caddy-$CADDY_VERSION" go install "github.com/caddyserver/caddy/v2/cmd/caddy@v$CADDY_VERSION"
fi

# Keycloak's distribution from Maven Central.
kc="$cache/keycloak-$KEYCLOAK_VERSION.tar.gz"
if [ ! -s "$kc" ]; then
    log "keycloak $KEYCLOAK_VERSION from Maven Central"
    mvn -q dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" "-DoutputDirectory=$cache/mvn"
    mv "$cache/mvn/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz" "$kc"
fi

# build TAG RECIPE_DIR [--build-arg ...] [-- FILE_OR_DIR_TO_ADD AS ...]: skipped when an
# image with the same inputs exists.
build() {
    local tag=$1 recipe=$2
    shift 2
    local args=() extra=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift && extra=("$@")
    local ctx="$cache/context-${tag//[:\/]/_}"
    rm -rf "$ctx"
    mkdir -p "$ctx"
    cp -r "$recipe"/. "$ctx"/
    while [ ${#extra[@]} -gt 0 ]; do
        cp -r "${extra[0]}" "$ctx/${extra[1]}"
        extra=("${extra[@]:2}")
    done
    local digest
    digest="$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "${args[*]:-}") | sha256sum | cut -c1-16)"
    if [ "$(docker image inspect --format '{{ index .Config.Labels "org.pyiron-testbed.inputs" }}' "$tag" 2>/dev/null)" = "$digest" ]; then
        log "$tag is up to date"
    else
        log "building $tag"
        docker build -q --force-rm --label "org.pyiron-testbed.inputs=$digest" -t "$tag" "${args[@]}" "$ctx" >/dev/null
    fi
    rm -rf "$ctx"
}

build "postgres:15" "$images/postgres" --build-arg "SUITE=$DEBIAN_SUITE" --build-arg PG_MAJOR=15
build "postgres:17" "$images/postgres" --build-arg "SUITE=$DEBIAN_NEXT_SUITE" --build-arg PG_MAJOR=17
# The official hub image of each release, as the hub recipe's JUPYTERHUB_IMAGE names it.
for v in $hub_versions; do
    jh=$(sed -n 's/^jupyterhub==//p' "$PROJECT_DIR/hub-image/requirements-$v.txt")
    build "quay.io/jupyterhub/jupyterhub:$jh" "$images/hub-base" --build-arg "JUPYTERHUB_VERSION=$jh" -- "$cache/wheels-hub-$v" wheels "$cache/chp" chp
done
build "quay.io/jupyterhub/configurable-http-proxy:$PROXY_CHP_VERSION" "$images/proxy" --build-arg "SUITE=$DEBIAN_NEXT_SUITE" -- "$cache/chp-$PROXY_CHP_VERSION" chp
build "caddy:$CADDY_VERSION" "$images/caddy" --build-arg "SUITE=$DEBIAN_SUITE" -- "$cache/caddy-$CADDY_VERSION/caddy" caddy
build "pyiron-testbed/singleuser:lab" "$images/singleuser" --build-arg "PACKAGES=$SINGLEUSER_PACKAGES" -- "$cache/wheels-singleuser" wheels
build "pyiron-testbed/singleuser:lab-next" "$images/singleuser" --build-arg "PACKAGES=$SINGLEUSER_NEXT_PACKAGES" -- "$cache/wheels-singleuser-next" wheels
build "pyiron-testbed/singleuser:pyiron-base" "$images/singleuser" --build-arg "PACKAGES=$SINGLEUSER_PACKAGES $PYIRON_BASE_PACKAGE" -- "$cache/wheels-singleuser" wheels
# The test bed's SLURM cluster: one image for every node, with its users and pyiron_base.
cluster_users=$(node -p "Object.entries(require('$E2E_DIR/testbed.json').cluster.users).map(([n, u]) => n + ':' + u).join(' ')")
build "$(node -p "require('$E2E_DIR/testbed.json').cluster.image")" "$images/slurm" --build-arg "PACKAGES=$PYIRON_BASE_PACKAGE" --build-arg "USERS=$cluster_users" -- "$cache/wheels-singleuser" wheels
build "pyiron-testbed/keycloak:$KEYCLOAK_VERSION" "$images/keycloak" --build-arg "KEYCLOAK_VERSION=$KEYCLOAK_VERSION" -- "$kc" keycloak.tar.gz

# The test stack's pyiron images are these stand-ins under the names it uses.
# pyiron images need a date tag: the stand-ins carry one no real pyiron image has.
pyiron_tag=$(node -p "require('$E2E_DIR/testbed.json').pyironTag")
docker tag pyiron-testbed/singleuser:pyiron-base "pyiron/base:$pyiron_tag"
docker tag pyiron-testbed/singleuser:lab "pyiron/pyiron:$pyiron_tag"
docker tag pyiron-testbed/singleuser:lab "pyiron/md:$pyiron_tag"
docker tag pyiron-testbed/singleuser:lab "pyiron/potentialworkshop:$pyiron_tag"
# The trial stack's bundled Keycloak.
docker tag "pyiron-testbed/keycloak:$KEYCLOAK_VERSION" "quay.io/keycloak/keycloak:$KEYCLOAK_VERSION"
# Replaced builds of these recipes leave untagged images behind.
docker image prune -f --filter label=org.pyiron-testbed.inputs >/dev/null
log "images ready"

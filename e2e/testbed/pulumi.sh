#!/usr/bin/env bash
# Step 2: the Pulumi CLI and the docker and random provider plugins, built from Go
# modules at the versions of package.json, plus the Node.js language host stand-in.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$E2E_DIR/pulumi"
mkdir -p "$TESTBED_DIR/bin" "$PULUMI_HOME/plugins"

# The CLI: pkg's own go.mod replaces are ignored in a dependency, so repeat them here.
cli="$TESTBED_DIR/bin/pulumi"
if [ "$("$cli" version 2>/dev/null)" != "v$PULUMI_VERSION" ]; then
    log "building the Pulumi CLI v$PULUMI_VERSION"
    work="$TESTBED_DIR/build/cli-$PULUMI_VERSION"
    mkdir -p "$work"
    cat >"$work/go.mod" <<MOD
module pyiron-testbed/pulumi-cli

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
    printf '//go:build tools\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >"$work/tools.go"
    (cd "$work" && go mod tidy && go build -trimpath -tags osusergo,grpcnotrace \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        -o "$cli" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
fi

# A provider plugin goes into the plugin cache under the version its SDK asks for.
build_provider() { # name version resource...
    local name=$1 version=$2
    shift 2
    local dir="$PULUMI_HOME/plugins/resource-$name-v$version"
    local stamp
    stamp="$(cat "provider-$name/go.mod" "provider-$name/go.sum" "provider-$name/main.go" | sha256sum | cut -c1-16)"
    if [ "$(cat "$dir/.source" 2>/dev/null)" != "$stamp" ]; then
        log "building the $name provider v$version"
        rm -rf "$dir"
        mkdir -p "$dir"
        (cd "provider-$name" && go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$dir/pulumi-resource-$name" .)
        (cd "$dir" && ./pulumi-resource-$name tfgen schema --out "$dir" >"$dir/tfgen.log" 2>&1) ||
            die "schema generation of $name failed: $dir/tfgen.log"
        echo "$stamp" >"$dir/.source"
    fi
    # The program only works if the provider knows every input its SDK sends.
    (cd "$PROJECT_DIR" && npx tsx e2e/pulumi/check-schema.ts "$name" "$dir/schema.json" "$@")
}
build_provider docker "$PULUMI_DOCKER_VERSION" Container RemoteImage Network Volume
build_provider random "$PULUMI_RANDOM_VERSION" RandomPassword RandomBytes

ln -sf "$E2E_DIR/pulumi/pulumi-language-nodejs" "$TESTBED_DIR/bin/pulumi-language-nodejs"
ln -sf "$PROJECT_DIR/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$TESTBED_DIR/bin/pulumi-resource-pulumi-nodejs"
pulumi version
pulumi plugin ls

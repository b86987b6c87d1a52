# Sourced by every test-bed script: where things live and which versions they have.
# The Pulumi versions are those of the @pulumi/* packages in package.json, so a
# version bump there is the one edit; everything else pinned is listed here.
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(cd "$E2E_DIR/.." && pwd)"
# Caches survive between runs on one machine; a fresh machine builds them again.
TESTBED_DIR="${TESTBED_DIR:-$HOME/.cache/pyiron-jupyterhub/testbed}"

sdk_version() { node -p "require('$PROJECT_DIR/package.json').dependencies['@pulumi/$1']"; }
PULUMI_VERSION="$(sdk_version pulumi)"
PULUMI_DOCKER_VERSION="$(sdk_version docker)"
PULUMI_RANDOM_VERSION="$(sdk_version random)"

KEYCLOAK_VERSION=26.4.5
DEBIAN_SUITE=bookworm
# The release after it, for a second Postgres major (postgresql-17).
DEBIAN_NEXT_SUITE=trixie
DEBIAN_MIRROR=http://deb.debian.org/debian
# Debian bookworm's Python, for which the wheelhouses are made.
CONTAINER_PYTHON=3.11.2
CONFIGURABLE_HTTP_PROXY_VERSION=4.6.3
# The proxy container's and the TLS front's stand-ins (the program's proxyImage and
# frontImage defaults); Caddy is built from its Go module.
PROXY_CHP_VERSION=5.3.0
CADDY_VERSION=2.11.9
# The single-user stand-ins: JupyterHub's major version matches the hub's.
SINGLEUSER_PACKAGES="jupyterhub==5.5.4 jupyterlab==4.6.6"
# The single-user server of the newer hub release (hubVersion 6.1), for the upgrade test.
SINGLEUSER_NEXT_PACKAGES="jupyterhub==6.1.1 jupyterlab==4.6.6"
PYIRON_BASE_PACKAGE="pyiron_base==0.15.20"
# What the HPC layer adds to the stand-ins: pysqa's remote extra at pyiron_base's pysqa.
PYSQA_REMOTE_PACKAGE="pysqa[remote]==1.0.1"

# Modules fetched from the Go proxy without a checksum database entry; their go.sum
# lines, committed beside each go.mod, pin them instead.
export GONOSUMDB=github.com/pulumi/terraform-plugin-sdk,github.com/terraform-providers/terraform-provider-random
export GOFLAGS=-mod=mod

# Pulumi runs offline: a local state backend, passphrase secrets, no downloads.
export PULUMI_HOME="$TESTBED_DIR/pulumi-home"
export PULUMI_BACKEND_URL="file://$TESTBED_DIR/state"
mkdir -p "$TESTBED_DIR/state"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-pyiron-testbed}"
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=1
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=1
export PATH="$TESTBED_DIR/bin:$PATH"
export DOCKER_BUILDKIT=0

# Go and Python where a non-login shell may not have them on PATH.
for dir in /usr/local/go/bin "$HOME/go/bin"; do
    [ -d "$dir" ] && case ":$PATH:" in *":$dir:"*) ;; *) PATH="$PATH:$dir" ;; esac
done
command -v go >/dev/null || { echo "the test bed needs Go (go.dev toolchain on PATH)" >&2; exit 1; }

log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

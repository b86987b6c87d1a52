#!/usr/bin/env bash
# Creates (once, cached) a virtualenv per JupyterHub release of the hub recipe, with that
# release's exact Python packages (hub-image/requirements-<release>.txt), for the tests
# that load the generated jupyterhub_config.py and run the hub's entry point with the
# real classes.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
base="${PYIRON_HUB_VENVS:-$HOME/.cache/pyiron-jupyterhub}"
command -v python3 >/dev/null || { echo "setup-python: python3 is needed" >&2; exit 1; }
for requirements in "$here"/hub-image/requirements-*.txt; do
    release=$(basename "$requirements" .txt)
    release=${release#requirements-}
    venv="$base/venv-$release"
    stamp="$venv/.requirements.sha256"
    want="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        continue
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
    echo "setup-python: $venv ready"
done

#!/usr/bin/env bash
# Creates (once, cached) a virtualenv with the hub image's exact Python packages, for
# the test that loads the generated jupyterhub_config.py with the real classes.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="${PYIRON_HUB_VENV:-$HOME/.cache/pyiron-jupyterhub/venv}"
requirements="$here/hub-image/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi
command -v python3 >/dev/null || { echo "setup-python: python3 is needed" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
echo "$want" > "$stamp"
echo "setup-python: $venv ready"

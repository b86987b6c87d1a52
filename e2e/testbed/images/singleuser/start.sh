#!/bin/bash
# The start contract of the pyiron images: source or run the hooks, then the server.
set -e
for hook in /usr/local/bin/before-notebook.d/*; do
    case "$hook" in
        *.sh) source "$hook" ;;
        *) [ -x "$hook" ] && "$hook" ;;
    esac
done
exec "$@"

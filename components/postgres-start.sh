#!/bin/sh
# Entry point of the hub database: starts Postgres through the image's own entry point,
# then sets the hub role's password to POSTGRES_PASSWORD. The image applies that
# variable only when it creates a database, so without this step a database volume
# kept across `pulumi destroy` would refuse the password of the next `pulumi up`.
set -eu
marker=/tmp/pyiron-hub-password-synced
rm -f "$marker"
# Data of another Postgres major: say what happened and how out, instead of a server
# that fails to start for a reason only its log tells. The data stays untouched.
data="${PGDATA:-/var/lib/postgresql/data}"
if [ -s "$data/PG_VERSION" ]; then
    have=$(cat "$data/PG_VERSION")
    want=$(postgres -V | sed -n 's/^postgres (PostgreSQL) \([0-9]*\).*/\1/p')
    if [ -n "$want" ] && [ "$have" != "$want" ]; then
        echo "pyiron-jupyterhub: the hub database volume holds Postgres $have data, and postgresImage runs Postgres $want, which cannot read it. Nothing was changed. Set postgresImage back to a Postgres $have image and run pulumi up; to move the data to another major, see the README, Upgrading Postgres." >&2
        exit 1
    fi
fi
docker-entrypoint.sh "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit $?' TERM INT
# TCP answers only once the final server runs (initdb's temporary one is socket-only).
until pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        exit $?
    fi
    sleep 1
done
# The password goes through stdin, never through psql's arguments, which any user of
# the host could read with ps. It is letters and digits only (components/database.ts).
psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<SQL
\\set password '$POSTGRES_PASSWORD'
ALTER ROLE CURRENT_USER PASSWORD :'password';
SQL
touch "$marker"
wait "$pid"

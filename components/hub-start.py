"""Entry point of the hub container, run before JupyterHub itself.

1. The image must hold the JupyterHub release the stack's `hubVersion` names.
2. A hub database written by an older release is migrated to this one, after a copy of
   it is taken inside Postgres (CREATE DATABASE ... TEMPLATE): JupyterHub backs up only
   SQLite files itself, and its migrations commit one by one, so a failure half-way
   leaves a schema no release runs. `npm run hub-rollback` brings the copy back.
3. A database written by a newer release, left half-migrated, or without a schema
   revision is not touched, and no copy is taken of it.

A fault that a restart cannot fix is reported, and the process then waits instead of
exiting: a restart loop would copy the database again and again. Docker's health check
marks the hub unhealthy, so `pulumi up` fails and points at the container's log.
"""

import datetime
import json
import os
import signal
import stat
import sys
import tempfile
import time

import jupyterhub
import sqlalchemy as sa

def say(message):
    print(f"pyiron-jupyterhub: {message}", file=sys.stderr, flush=True)


def hold(message):
    say(message)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    while True:
        time.sleep(3600)


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def release(version):
    return ".".join(version.split(".")[:2])


# Tables that any JupyterHub database has.
HUB_TABLES = {"users", "spawners", "api_tokens"}


def schema_revision(url):
    """The database's alembic revision; None for a database no hub has written yet."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            revision = None
            if "alembic_version" in tables:
                revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.OperationalError as e:
        # Not reachable yet: the restart policy tries again, and nothing was changed.
        say(f"cannot reach the hub database: {e.orig}")
        sys.exit(1)
    finally:
        engine.dispose()
    if revision is None and tables & HUB_TABLES:
        # JupyterHub would guess a revision and stamp it without migrating anything.
        hold("the hub database has JupyterHub's tables but no schema revision, so no release of this project wrote it. Nothing was changed.")
    return revision


def copy_database(url, copy, comment):
    """CREATE DATABASE copy TEMPLATE db, from the maintenance database."""
    db = sa.engine.make_url(url)
    engine = sa.create_engine(db.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(30):
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql(f"CREATE DATABASE {quoted(copy)} TEMPLATE {quoted(db.database)}")
                    conn.exec_driver_sql(f"COMMENT ON DATABASE {quoted(copy)} IS %s", (comment,))
                return
            except sa.exc.DBAPIError as e:
                # 55006: another session uses the database (a backup, say). Nothing was
                # changed: wait, and after a minute leave it to the restart policy.
                if getattr(e.orig, "pgcode", None) == "55006":
                    if attempt < 29:
                        time.sleep(2)
                        continue
                    say(f"the hub database is in use by another session, so it cannot be copied yet; nothing was changed, trying again: {e.orig}")
                    sys.exit(1)
                hold(f"could not copy the hub database before migrating it, so it was not migrated: {e.orig}")
    finally:
        engine.dispose()


def migrate(url, start):
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from jupyterhub import dbutil

    want = start["version"]
    current = schema_revision(url)
    scripts = ScriptDirectory(dbutil.ALEMBIC_DIR)
    head = scripts.get_current_head()
    if current is None or current == head:
        return
    by_head = {rev: version for version, rev in start["heads"].items()}
    if current not in by_head:
        # Only a release's own schema is copied and migrated: a restart after a failed
        # migration must not copy the half-way state nor migrate it again.
        hold(
            f"the hub database is at schema {current}, which is not the schema of a release this project runs: a "
            f"migration stopped half-way, or another JupyterHub wrote it. Nothing was changed. The copy taken before "
            f"the migration brings the database back:\n  {start['rollback']}"
        )
    if current not in {r.revision for r in scripts.walk_revisions()}:
        newer = by_head[current]
        hold(
            f"the hub database was written by JupyterHub {newer} (schema {current}), newer than this hub's "
            f"{jupyterhub.__version__}. Nothing was changed. Run the release that wrote it:\n  {start['setVersion'][newer]}\n"
            f"or, to go back to a copy taken before an upgrade (what changed since is not in it), see the copies with:\n"
            f"  {start['rollback']}"
        )
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dt%H%M%S")
    copy = f"{sa.engine.make_url(url).database}_before_{want.replace('.', '_')}_{stamp}"
    say(f"upgrading the hub database from JupyterHub {by_head[current]} to {want}: first a copy, {copy}")
    copy_database(url, copy, f"pyiron-jupyterhub: the hub database at schema {current} (JupyterHub {by_head[current]}), before the upgrade to JupyterHub {want}")
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "alembic.ini")
        dbutil.write_alembic_ini(ini, url)
        try:
            command.upgrade(Config(ini), "head")
        except Exception as e:
            hold(
                f"the migration of the hub database to JupyterHub {want} failed: {e}. The copy {copy} holds it as it "
                f"was before. To go back to the release that ran before:\n  {start['rollback']}"
            )
    say(f"the hub database is migrated to JupyterHub {want} (schema {head}); {copy} keeps it as it was before, until you drop it")


# The pyiron images' user: what every user server runs as.
JOVYAN_UID, USERS_GID = 1000, 100


def give_shared_folders(paths):
    """A new shared folder (Docker or the hub creates it root-owned) is given to jovyan: writable by
    every user server, group users kept on what is created in it. A folder an admin has
    given another owner is left alone."""
    for path in paths:
        # A volume is there already; a swarm's folder is a new directory of its storage.
        os.makedirs(path, exist_ok=True)
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            say(f"shared folder {path} is a symbolic link: left alone")
            continue
        if st.st_uid == 0 and st.st_gid == 0:
            os.chown(path, JOVYAN_UID, USERS_GID)
            os.chmod(path, 0o2775)
            say(f"shared folder {path} given to uid {JOVYAN_UID}, gid {USERS_GID} (mode 2775)")


def main():
    # What the program tells the hub: its release, each release's schema head, and the
    # commands (for this stack) that the messages print.
    start = json.loads(os.environ["PYIRON_HUB_START"])
    want = start["version"]
    if release(jupyterhub.__version__) != want:
        hold(
            f"the hub image holds JupyterHub {jupyterhub.__version__}, and the stack's hubVersion is {want}. Nothing "
            f"was changed. Leave hubImage unset to build the recipe, or name an image with JupyterHub {want}."
        )
    migrate(os.environ["JUPYTERHUB_DB_URL"], start)
    give_shared_folders(start.get("shared", []))
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()

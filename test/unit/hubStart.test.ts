// The hub's entry point (components/hub-start.py) with each release's real packages, on
// SQLite databases written by those releases. The migration itself, behind a copy in
// Postgres, is proven on the test bed (e2e/tests/upgrade.e2e.test.ts).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { hubStartSettings } from "../../components/hub";
import { HUB_VERSIONS, HubVersion } from "../../config";
import { hubPython } from "../python";

const START = path.join(__dirname, "..", "..", "components", "hub-start.py");

/** A SQLite hub database as `writer` leaves it, optionally stamped at another revision. */
function database(writer: HubVersion, revision?: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hub-db-")), "jupyterhub.sqlite");
    const url = `sqlite:///${file}`;
    const code = [
        "import sys, sqlalchemy as sa",
        "from jupyterhub import orm",
        "orm.new_session_factory(sys.argv[1])",
        "if len(sys.argv) > 2:",
        "    with sa.create_engine(sys.argv[1]).begin() as c: c.execute(sa.text('UPDATE alembic_version SET version_num = :r'), {'r': sys.argv[2]})",
    ].join("\n");
    const r = spawnSync(hubPython(writer), ["-c", code, url, ...(revision ? [revision] : [])], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return url;
}

function revisionOf(url: string): string {
    const r = spawnSync(hubPython("5.5"), ["-c", "import sys, sqlalchemy as sa\nwith sa.create_engine(sys.argv[1]).connect() as c: print(c.execute(sa.text('SELECT version_num FROM alembic_version')).scalar())", url], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
}

/**
 * Runs the entry point as the hub container would, with `print('hub started')` as the
 * hub. Resolves with its output once the hub ran, or once it reported a fault and held
 * (then it is stopped, as docker stop would).
 */
function start(image: HubVersion, stack: HubVersion, url: string): Promise<{ started: boolean; output: string }> {
    const child = spawn(hubPython(image), [START, hubPython(image), "-c", "print('hub started')"], {
        // SQLite takes database names as file names: keep any it makes out of the project.
        cwd: fs.mkdtempSync(path.join(os.tmpdir(), "hub-start-")),
        env: { PATH: process.env.PATH, PYIRON_HUB_START: hubStartSettings(stack, "dev"), JUPYTERHUB_DB_URL: url },
    });
    let output = "";
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`neither started nor held within 60 s: ${output}`)); }, 60_000);
        // A report the process does not follow with anything within 3 s: it holds.
        let quiet: NodeJS.Timeout | undefined;
        const seen = () => {
            clearTimeout(quiet);
            if (/pyiron-jupyterhub: .*\n/.test(output)) quiet = setTimeout(() => child.kill("SIGTERM"), 3000);
        };
        child.stdout.on("data", (b) => { output += b; });
        child.stderr.on("data", (b) => { output += b; seen(); });
        child.on("exit", () => {
            clearTimeout(timer);
            clearTimeout(quiet);
            resolve({ started: output.includes("hub started"), output });
        });
    });
}

describe("the hub's entry point", () => {
    it("starts the hub on a new database and on one its own release wrote", async () => {
        for (const v of ["5.5", "6.1"] as const) {
            const fresh = `sqlite:///${path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hub-db-")), "new.sqlite")}`;
            assert.ok((await start(v, v, fresh)).started, `${v} on a new database`);
            const own = await start(v, v, database(v));
            assert.ok(own.started, own.output);
            assert.doesNotMatch(own.output, /pyiron-jupyterhub:/, "no word about a migration");
        }
    });

    it("refuses an image whose JupyterHub is not the stack's hubVersion", async () => {
        const r = await start("6.1", "5.5", database("5.5"));
        assert.ok(!r.started);
        assert.match(r.output, /the hub image holds JupyterHub 6\.1\.1, and the stack's hubVersion is 5\.5\. Nothing was changed\./);
    });

    it("leaves a database of a newer release alone, and names the way on, each command on a line of its own", async () => {
        const url = database("6.1");
        const r = await start("5.5", "5.5", url);
        assert.ok(!r.started);
        assert.match(r.output, /written by JupyterHub 6\.1 \(schema f460b0348206\), newer than this hub's 5\.5\.4\. Nothing was changed\./);
        assert.match(r.output, /^  pulumi config set --stack dev hubVersion 6\.1 && pulumi up --stack dev$/m);
        assert.match(r.output, /^  npm run hub-rollback -- --stack dev$/m);
        assert.equal(revisionOf(url), HUB_VERSIONS["6.1"].schemaHead);
    });

    it("leaves a half-migrated database alone, with either release, and takes no copy of it", async () => {
        for (const image of ["5.5", "6.1"] as const) {
            const url = database("6.1", "ff1860e38070");
            const r = await start(image, image, url);
            assert.ok(!r.started, r.output);
            assert.match(r.output, /at schema ff1860e38070, which is not the schema of a release this project runs: a migration stopped half-way, or another JupyterHub wrote it\. Nothing was changed\./);
            assert.match(r.output, /^  npm run hub-rollback -- --stack dev$/m);
            assert.doesNotMatch(r.output, /first a copy/, "a restart after a failed migration copies nothing");
            assert.equal(revisionOf(url), "ff1860e38070");
        }
    });

    it("leaves a database with JupyterHub's tables but no schema revision alone", async () => {
        const url = database("5.5");
        const drop = spawnSync(hubPython("5.5"), ["-c", "import sys, sqlalchemy as sa\nwith sa.create_engine(sys.argv[1]).begin() as c: c.execute(sa.text('DROP TABLE alembic_version'))", url], { encoding: "utf8" });
        assert.equal(drop.status, 0, drop.stderr);
        const r = await start("6.1", "6.1", url);
        assert.ok(!r.started);
        assert.match(r.output, /has JupyterHub's tables but no schema revision, so no release of this project wrote it\. Nothing was changed\./);
    });

    it("does not migrate a database it could not copy first", async () => {
        // SQLite has no CREATE DATABASE ... TEMPLATE: the copy fails, so must the migration.
        const url = database("5.5");
        const r = await start("6.1", "6.1", url);
        assert.ok(!r.started);
        assert.match(r.output, /upgrading the hub database from JupyterHub 5\.5 to 6\.1: first a copy, \S+_before_6_1_\d{8}t\d{6}/);
        assert.match(r.output, /could not copy the hub database before migrating it, so it was not migrated/);
        assert.equal(revisionOf(url), HUB_VERSIONS["5.5"].schemaHead);
    });
});

describe("shared folders at the hub's start", () => {
    it("gives a new (root-owned) folder to jovyan with the group bit set, and leaves one an admin gave away alone", () => {
        assert.equal(process.getuid?.(), 0, "this test changes owners: run it as root, as CI does");
        const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "shared-new-"));
        const given = fs.mkdtempSync(path.join(os.tmpdir(), "shared-given-"));
        fs.chownSync(fresh, 0, 0);
        fs.chownSync(given, 1234, 1234);
        fs.chmodSync(given, 0o750);
        const r = spawnSync(hubPython("5.5"), ["-c", [
            "import importlib.util, json, sys",
            "spec = importlib.util.spec_from_file_location('hub_start', sys.argv[1])",
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
            "m.give_shared_folders(json.loads(sys.argv[2]))",
        ].join("\n"), START, JSON.stringify([fresh, given])], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        const f = fs.statSync(fresh);
        assert.deepEqual([f.uid, f.gid, (f.mode & 0o7777).toString(8)], [1000, 100, "2775"]);
        const g = fs.statSync(given);
        assert.deepEqual([g.uid, g.gid, (g.mode & 0o7777).toString(8)], [1234, 1234, "750"]);
        assert.match(r.stderr, /shared folder .*shared-new-.* given to uid 1000, gid 100/);
    });
});

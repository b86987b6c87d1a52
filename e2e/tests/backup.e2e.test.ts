// Backup and restore on the test stack: alice's file, her pyiron job and her hub record
// (a named API token) survive a backup, a destroy that deletes every volume, a restore
// onto the emptied engine and a `pulumi up`. A damaged archive and a restore over live
// data are refused before anything changes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import {
    closeBrowser, docker, hubRequest, PREFIX, PROJECT_DIR, pulumi, runInKernel, serverFor, startServer, step, STACK,
} from "./testbed";

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), "pyiron-hub-backup-e2e-"));
const ARCHIVE = path.join(DIR, "hub.tar");
const state: { token?: string; record?: string; created?: string; postgresImage?: string } = {};

function npm(script: string, args: string[]) {
    const started = Date.now();
    const r = spawnSync("npm", ["run", "-s", script, "--", ...args], { cwd: PROJECT_DIR, encoding: "utf8" });
    console.log(`npm run ${script} ${args.join(" ")}: exit ${r.status} in ${((Date.now() - started) / 1000).toFixed(1)} s\n${r.stdout}${r.stderr}`);
    return r;
}

function projectVolumes(): string[] {
    return docker(["volume", "ls", "-q"]).stdout.split("\n").filter((v) => v.startsWith(`${PREFIX}-`)).sort();
}

const PYIRON_JOB = [
    "from pyiron_base import Project",
    "def add(a, b):",
    "    return a + b",
    "pr = Project('backup_e2e')",
    "job = pr.wrap_python_function(add, a=40, b=2, job_name='kept', automatically_rename=False)",
    "job.run()",
    "print('JOB', pr.load('kept').status, pr.load('kept').output['result'])",
].join("\n");

describe("backup and restore", { concurrency: 1 }, () => {
    before(() => {
        pulumi(["destroy", "--yes", "--skip-preview"]);
        for (const v of projectVolumes()) docker(["volume", "rm", "-f", v]);
        pulumi(["config", "rm", "deleteDataOnDestroy"], { allowFailure: true });
        state.postgresImage = pulumi(["config", "get", "postgresImage"]).stdout.trim();
        pulumi(["up", "--yes", "--skip-preview"]);
    });

    after(async () => {
        await closeBrowser();
        pulumi(["config", "rm", "deleteDataOnDestroy"], { allowFailure: true });
        // Step 6 moves the stack to Postgres 17; the next run starts from the test bed's image.
        if (state.postgresImage) pulumi(["config", "set", "postgresImage", state.postgresImage]);
        pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        // The database volume now holds Postgres 17 data, which the test bed's image refuses.
        for (const v of projectVolumes()) docker(["volume", "rm", "-f", v]);
        fs.rmSync(DIR, { recursive: true, force: true });
    });

    step("1. alice writes a file, runs a pyiron job and makes a named API token", async () => {
        const token = await serverFor("alice");
        const out = await runInKernel("alice", token, `open('/home/jovyan/kept.txt', 'w').write('written before the backup')\n${PYIRON_JOB}`, 240);
        assert.match(out, /JOB finished 42/, out);
        const made = await hubRequest("POST", "/hub/api/users/alice/tokens", { token, body: { note: "backup-e2e", expires_in: 86400 } });
        assert.equal(made.status, 201, made.body);
        state.token = JSON.parse(made.body).token;
        state.created = JSON.parse((await hubRequest("GET", "/hub/api/users/alice", { token })).body).created;
        // A set-uid root file in her home (as only root could put it there), which no restore brings back as such.
        // (User servers run without capabilities, so root inside hers could not write there:
        // a throwaway container with full root puts it on her home volume.)
        docker(["run", "--rm", "--network", "none", "-v", `${PREFIX}-home-alice:/home/jovyan`, "pyiron-testbed/debian:bookworm",
            "sh", "-c", "cp /bin/true /home/jovyan/suid && chmod 4755 /home/jovyan/suid"]);
    });

    step("2. a backup while the hub and alice's server run: the database, the hub data and her home, with checksums", async () => {
        const r = npm("backup", ["--stack", STACK, "--out", ARCHIVE]);
        assert.equal(r.status, 0);
        const manifest = JSON.parse(spawnSync("tar", ["-xOf", ARCHIVE, "manifest.json"], { encoding: "utf8" }).stdout);
        assert.deepEqual(manifest.members.map((m: { path: string }) => m.path), ["database.dump", `volumes/${PREFIX}-hub-data.tar`, `volumes/${PREFIX}-home-alice.tar`]);
        assert.match(manifest.postgres.serverVersion, /^\d+/);
        assert.match(manifest.hub.jupyterhubVersion, /^5\./);
        const again = npm("backup", ["--stack", STACK, "--out", ARCHIVE]);
        assert.equal(again.status, 1);
        assert.match(again.stderr, /exists: choose another --out, or pass --force/);
    });

    step("3. a damaged archive, and a restore over the running deployment, are refused with nothing changed", async () => {
        const damaged = path.join(DIR, "damaged.tar");
        const bytes = fs.readFileSync(ARCHIVE);
        bytes[2048] ^= 0xff; // inside the first member, the database dump
        fs.writeFileSync(damaged, bytes);
        const before = docker(["inspect", "--format", "{{.State.StartedAt}}", `${PREFIX}-hub`]).stdout;
        const r1 = npm("restore", [damaged, "--stack", STACK, "--force"]);
        assert.equal(r1.status, 1);
        assert.match(r1.stderr, /database\.dump in .* does not match its checksum in the manifest \(damaged or altered\); nothing was changed/);
        const r2 = npm("restore", [ARCHIVE, "--stack", STACK]);
        assert.equal(r2.status, 1);
        assert.match(r2.stderr, new RegExp(`volumes with data: .*${PREFIX}-home-alice.*running containers: .*${PREFIX}-hub.*Nothing was changed.*--force`));
        assert.equal(docker(["inspect", "--format", "{{.State.StartedAt}}", `${PREFIX}-hub`]).stdout, before, "the hub was restarted");
    });

    step("4. destroy with deleteDataOnDestroy and every volume removed, restore onto the empty engine, pulumi up: alice finds everything", async () => {
        pulumi(["config", "set", "deleteDataOnDestroy", "true"]);
        pulumi(["destroy", "--yes", "--skip-preview"]);
        for (const v of projectVolumes()) docker(["volume", "rm", "-f", v]);
        assert.deepEqual(projectVolumes(), []);
        pulumi(["config", "rm", "deleteDataOnDestroy"]);
        const r = npm("restore", [ARCHIVE, "--stack", STACK]);
        assert.equal(r.status, 0);
        assert.match(r.stdout, new RegExp(`next: pulumi up --stack ${STACK}\\n`));
        pulumi(["up", "--yes", "--skip-preview"]);
        // A new deployment has a new key for the login state it stores, so alice logs in once
        // through Keycloak (README); then her server, her file and her job.
        const token = await serverFor("alice");
        // The hub record: the token made before the backup still names alice, created when she first came.
        const me = await hubRequest("GET", "/hub/api/user", { token: state.token });
        assert.equal(me.status, 200, me.body);
        assert.equal(JSON.parse(me.body).name, "alice");
        assert.equal(JSON.parse(me.body).created, state.created);
        const out = await runInKernel("alice", token, [
            "print('FILE', open('/home/jovyan/kept.txt').read())",
            "from pyiron_base import Project",
            "job = Project('backup_e2e').load('kept')",
            "print('JOB', job.status, job.output['result'])",
        ].join("\n"));
        assert.match(out, /FILE written before the backup/, out);
        assert.match(out, /JOB finished 42/, out);
        const owner = docker(["exec", `${PREFIX}-user-alice`, "stat", "-c", "%u:%g", "/home/jovyan/kept.txt"]).stdout.trim();
        assert.equal(owner, "1000:100");
        assert.equal(docker(["exec", `${PREFIX}-user-alice`, "stat", "-c", "%a %u", "/home/jovyan/suid"]).stdout.trim(), "755 0");
    });

    step("5. on the same deployment, a restore with --force replaces the data of the running hub and starts it again; logins stay valid", async () => {
        const token = state.token!;
        await runInKernel("alice", token, "open('/home/jovyan/second.txt', 'w').write('in the second backup')");
        const second = path.join(DIR, "second.tar");
        assert.equal(npm("backup", ["--stack", STACK, "--out", second]).status, 0);
        await runInKernel("alice", token, "import os; os.remove('/home/jovyan/second.txt')");
        const r = npm("restore", [second, "--stack", STACK, "--force"]);
        assert.equal(r.status, 0);
        assert.doesNotMatch(r.stdout, /next:/);
        assert.equal(docker(["inspect", "--format", "{{.State.Health.Status}}", `${PREFIX}-hub`]).stdout.trim(), "healthy");
        // Same deployment, same key for the stored login state: the token works with no new login.
        const me = await hubRequest("GET", "/hub/api/user", { token });
        assert.equal(me.status, 200, me.body);
        assert.equal(JSON.parse(me.body).name, "alice");
        await startServer("alice", token);
        const out = await runInKernel("alice", token, "print('FILE', open('/home/jovyan/second.txt').read())");
        assert.match(out, /FILE in the second backup/, out);
    });

    step("6. the hub database moves from Postgres 15 to 17 with one command: user servers keep running, the record, tokens and logins stay", async () => {
        assert.match(state.postgresImage ?? "", /^postgres:15$/);
        const server = docker(["inspect", "--format", "{{.State.StartedAt}}", `${PREFIX}-user-alice`]).stdout.trim();
        // A stack with another change pending is refused: the upgrade's pulumi up must change the database alone.
        const idle = pulumi(["config", "get", "idleTimeout"], { allowFailure: true });
        pulumi(["config", "set", "idleTimeout", "7261"]);
        const pending = npm("upgrade-postgres", ["--stack", STACK, "--image", "postgres:17", "--out", path.join(DIR, "pending.tar")]);
        if (idle.status === 0) pulumi(["config", "set", "idleTimeout", idle.stdout.trim()]);
        else pulumi(["config", "rm", "idleTimeout"]);
        assert.equal(pending.status, 1);
        assert.match(pending.stderr, /has changes that are not applied .*nothing was changed/);
        assert.equal(docker(["inspect", "--format", "{{.State.Running}}", `${PREFIX}-hub`]).stdout.trim(), "true");
        const r = npm("upgrade-postgres", ["--stack", STACK, "--image", "postgres:17", "--out", path.join(DIR, "before-17.tar")]);
        assert.equal(r.status, 0);
        assert.match(r.stdout, /moved from Postgres 15 to 17; the hub was down \d+\.\d s/);
        const version = docker(["exec", `${PREFIX}-postgres`, "psql", "-U", "jupyterhub", "-d", "jupyterhub", "-tAc", "SHOW server_version_num"]).stdout.trim();
        assert.match(version, /^17\d{4}$/);
        assert.equal(pulumi(["config", "get", "postgresImage"]).stdout.trim(), "postgres:17");
        assert.equal(docker(["inspect", "--format", "{{.State.Health.Status}}", `${PREFIX}-hub`]).stdout.trim(), "healthy");
        // alice's server ran through it, and her token still works with no new login.
        assert.equal(docker(["inspect", "--format", "{{.State.StartedAt}}", `${PREFIX}-user-alice`]).stdout.trim(), server);
        const me = await hubRequest("GET", "/hub/api/user", { token: state.token });
        assert.equal(me.status, 200, me.body);
        assert.equal(JSON.parse(me.body).created, state.created);
        const out = await runInKernel("alice", state.token!, "print('FILE', open('/home/jovyan/second.txt').read())");
        assert.match(out, /FILE in the second backup/, out);
        // A second run is refused: the database already is Postgres 17.
        const again = npm("upgrade-postgres", ["--stack", STACK, "--image", "postgres:17", "--out", path.join(DIR, "again.tar")]);
        assert.equal(again.status, 1);
        assert.match(again.stderr, /is Postgres 17, as the database is: no data moves/);
    });
});

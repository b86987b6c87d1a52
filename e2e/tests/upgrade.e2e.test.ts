// JupyterHub 5.5 to 6.1 on the test stack. A migration that fails half-way is undone by
// `npm run hub-rollback`; the real upgrade keeps alice's running server, her token and her
// file, and single-user servers of both releases work against the new hub. Runs last: it
// leaves a 6.1 database behind, so it ends by destroying the stack and its volumes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, describe } from "node:test";
import {
    closeBrowser, docker, hubRequest, inspect, PREFIX, previewSteps, PROJECT_DIR, pulumi, runInKernel, serverFor, startServer, step, STACK, stopServer, waitFor,
} from "./testbed";

const PG = `${PREFIX}-postgres`;
const HUB_CONTAINER = `${PREFIX}-hub`;
// A single-user server of JupyterHub 6.1 (the test bed's stand-in), next to the 5.5 ones.
const NEXT = { label: "lab_hub61", image: "pyiron-testbed/singleuser:lab-next" };
const state: { alice?: string; carol?: string; token?: string; server?: string; imageCount?: number } = {};

function sql(database: string, query: string): string {
    return docker(["exec", PG, "psql", "-U", "jupyterhub", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", query]).stdout.trim();
}

const revision = () => sql("jupyterhub", "SELECT version_num FROM alembic_version");
const copies = () => sql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'jupyterhub\\_before\\_%' ORDER BY datname").split("\n").filter(Boolean);

async function hubVersion(): Promise<string> {
    return JSON.parse((await hubRequest("GET", "/hub/api/")).body).version;
}

/** `pulumi up` without blocking the event loop, so a poller runs beside it. */
function upAsync(): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive"], { cwd: PROJECT_DIR });
        let output = "";
        child.stdout.on("data", (b) => (output += b));
        child.stderr.on("data", (b) => (output += b));
        child.on("exit", (status) => resolve({ status, output }));
    });
}

function npm(script: string, args: string[]) {
    const started = Date.now();
    const r = spawnSync("npm", ["run", "-s", script, "--", ...args], { cwd: PROJECT_DIR, encoding: "utf8" });
    console.log(`npm run ${script} ${args.join(" ")}: exit ${r.status} in ${((Date.now() - started) / 1000).toFixed(1)} s\n${r.stdout}${r.stderr}`);
    return r;
}

describe("JupyterHub 5.5 to 6.1", { concurrency: 1 }, () => {
    before(() => {
        pulumi(["config", "rm", "hubVersion"], { allowFailure: true });
        const images = JSON.parse(pulumi(["config", "get", "images", "--json"]).stdout);
        state.imageCount = JSON.parse(images.value ?? JSON.stringify(images)).length;
        pulumi(["config", "set", "--path", `images[${state.imageCount}].label`, NEXT.label]);
        pulumi(["config", "set", "--path", `images[${state.imageCount}].image`, NEXT.image]);
        pulumi(["up", "--yes", "--skip-preview"]);
    });

    after(async () => {
        await closeBrowser();
        pulumi(["config", "rm", "hubVersion"], { allowFailure: true });
        if (state.imageCount !== undefined) pulumi(["config", "rm", "--path", `images[${state.imageCount}]`], { allowFailure: true });
        // The database now has JupyterHub 6.1's schema, which the stack's default release refuses.
        pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        for (const v of docker(["volume", "ls", "-q"]).stdout.split("\n").filter((n) => n.startsWith(`${PREFIX}-`))) {
            docker(["volume", "rm", "-f", v], { allowFailure: true });
        }
    });

    step("1. on JupyterHub 5.5: alice's server runs with a file in her home, and she holds an API token", async () => {
        assert.equal(await hubVersion(), "5.5.4");
        state.alice = await serverFor("alice");
        const out = await runInKernel("alice", state.alice, "open('/home/jovyan/upgrade.txt', 'w').write('written on 5.5')\nimport jupyterhub; print('SINGLEUSER', jupyterhub.__version__)");
        assert.match(out, /SINGLEUSER 5\.5\.4/);
        const made = await hubRequest("POST", "/hub/api/users/alice/tokens", { token: state.alice, body: { note: "upgrade-e2e", expires_in: 86400 } });
        assert.equal(made.status, 201, made.body);
        state.token = JSON.parse(made.body).token;
        state.server = inspect(`${PREFIX}-user-alice`).Id;
        assert.equal(revision(), "4621fec11365");
    });

    step("2. a migration that fails half-way: the hub holds and says how back; npm run hub-rollback brings 5.5 back on the copy", async () => {
        // The last 6.x migration adds spawners.display_name: a column of that name already
        // there makes it fail after three migrations have committed.
        sql("jupyterhub", "ALTER TABLE spawners ADD COLUMN display_name text");
        pulumi(["config", "set", "hubVersion", "6.1"]);
        const described = previewSteps().filter((s) => s.op !== "same").map((s) => `${s.op} ${s.type} ${s.name}`).sort();
        // The user firewall runs from the hub image, so it is replaced with it (README).
        assert.deepEqual(described, [
            "replace docker:index/container:Container hub-container",
            "replace docker:index/container:Container user-firewall-container",
            "replace docker:index/remoteImage:RemoteImage hub-image-image",
            // The new hub image loads the config before the hub is replaced.
            "update pulumi-nodejs:dynamic:Resource hub-config-check",
        ], described.join("\n"));
        const up = pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        assert.notEqual(up.status, 0, "pulumi up reports the failed hub");
        const logs = docker(["logs", HUB_CONTAINER], { allowFailure: true });
        assert.match(logs.stderr, /the migration of the hub database to JupyterHub 6\.1 failed: .*display_name.*The copy jupyterhub_before_6_1_\d{8}t\d{6} holds it as it was before\. To go back to the release that ran before:\n  npm run hub-rollback -- --stack testbed\n/s);
        assert.equal(revision(), "ff1860e38070", "stopped half-way, after the migrations before the failing one");
        assert.equal(copies().length, 1);

        const r = npm("hub-rollback", ["--stack", STACK]);
        assert.equal(r.status, 0);
        assert.match(r.stdout, /the hub runs JupyterHub 5\.5 on jupyterhub_before_6_1_\d{8}t\d{6}, the database as it was before the upgrade; the hub was down [\d.]+ s\. The replaced database is kept as jupyterhub_replaced_\d{8}t\d{6}; drop it once you no longer need it: docker exec pyiron-hub-postgres dropdb -U jupyterhub jupyterhub_replaced_\d{8}t\d{6}/);
        assert.equal(pulumi(["config", "get", "hubVersion"]).stdout.trim(), "5.5");
        assert.equal(await hubVersion(), "5.5.4");
        assert.equal(revision(), "4621fec11365");
        assert.deepEqual(copies(), [], "the copy is the hub database again");
        const me = await hubRequest("GET", "/hub/api/user", { token: state.token });
        assert.equal(me.status, 200, "alice's token works on the rolled-back hub");
        // Cleared for the real upgrade; the replaced database goes as the printed command says.
        sql("jupyterhub", "ALTER TABLE spawners DROP COLUMN display_name");
        const kept = /kept as (jupyterhub_replaced_\d{8}t\d{6})/.exec(r.stdout)![1];
        docker(["exec", PG, "dropdb", "-U", "jupyterhub", kept]);
    });

    step("3. the upgrade: pulumi up copies and migrates the database; alice's server never stops, her token and file survive", async () => {
        pulumi(["config", "set", "hubVersion", "6.1"]);
        // alice's notebook polls her server through the proxy during the upgrade.
        let polling = true;
        let longestGap = 0;
        let failedSince: number | undefined;
        let polls = 0;
        const poller = (async () => {
            while (polling) {
                const t = Date.now();
                const ok = await hubRequest("GET", "/user/alice/api/status", { token: state.alice }).then((r) => r.status === 200, () => false);
                polls++;
                if (!ok) failedSince ??= t;
                else if (failedSince !== undefined) {
                    longestGap = Math.max(longestGap, Date.now() - failedSince);
                    failedSince = undefined;
                }
                await new Promise((res) => setTimeout(res, 250));
            }
        })();
        const started = Date.now();
        const up = await upAsync();
        const upSeconds = (Date.now() - started) / 1000;
        await waitFor("alice's server through the new hub's proxy", async () =>
            (await hubRequest("GET", "/user/alice/api/status", { token: state.alice }).catch(() => undefined))?.status === 200 ? true : undefined, 120);
        polling = false;
        await poller;
        assert.equal(up.status, 0, up.output.slice(-3000));
        console.log(`hub upgrade: pulumi up ${upSeconds.toFixed(1)} s; alice's server unreachable through the proxy for ${(longestGap / 1000).toFixed(1)} s at most (${polls} polls)`);

        assert.equal(await hubVersion(), "6.1.1");
        assert.equal(revision(), "f460b0348206");
        const [copy] = copies();
        assert.match(copy, /^jupyterhub_before_6_1_\d{8}t\d{6}$/);
        assert.equal(sql(copy, "SELECT version_num FROM alembic_version"), "4621fec11365", "the copy holds the 5.5 schema");
        assert.match(docker(["logs", HUB_CONTAINER]).stderr, new RegExp(`the hub database is migrated to JupyterHub 6\\.1 \\(schema f460b0348206\\); ${copy} keeps it as it was before`));
        assert.equal(inspect(`${PREFIX}-user-alice`).Id, state.server, "alice's server kept running through the upgrade");
        const me = await hubRequest("GET", "/hub/api/user", { token: state.token });
        assert.equal(me.status, 200, me.body);
        assert.equal(JSON.parse(me.body).name, "alice");
        const out = await runInKernel("alice", state.alice!, "print('FILE', open('/home/jovyan/upgrade.txt').read())");
        assert.match(out, /FILE written on 5\.5/);

        // The migration went through: a rollback would lose what changed since, so it takes
        // a copy only when named.
        const refused = npm("hub-rollback", ["--stack", STACK]);
        assert.equal(refused.status, 1);
        assert.match(refused.stderr, new RegExp(`at the schema of JupyterHub 6\\.1, so no migration stopped half-way.*Nothing was changed\\. To go back to a copy anyway, name it: npm run hub-rollback -- --stack testbed --copy ${copy}`, "s"));
        assert.equal(revision(), "f460b0348206");
        // Nor does a restore bring a 6.1 database into a stack that runs 5.5.
        const archive = `/tmp/pyiron-hub-upgrade-e2e-${process.pid}.tar`;
        assert.equal(npm("backup", ["--stack", STACK, "--out", archive]).status, 0);
        pulumi(["config", "set", "hubVersion", "5.5"]);
        const restore = npm("restore", [archive, "--stack", STACK, "--only", "database", "--force"]);
        pulumi(["config", "set", "hubVersion", "6.1"]);
        spawnSync("rm", ["-f", archive]);
        assert.equal(restore.status, 1);
        assert.match(restore.stderr, /written by JupyterHub 6\.1, newer than the stack's hubVersion 5\.5, which cannot run it: set that release first \(pulumi config set --stack testbed hubVersion 6\.1\); nothing was changed/);
        assert.equal(revision(), "f460b0348206");
    });

    step("4. against the 6.1 hub: a fresh 5.5 single-user server for alice, a 6.1 one for carol", async () => {
        await stopServer("alice", state.alice!);
        await startServer("alice", state.alice!);
        const five = await runInKernel("alice", state.alice!, "import jupyterhub; print('SINGLEUSER', jupyterhub.__version__, open('/home/jovyan/upgrade.txt').read())");
        assert.match(five, /SINGLEUSER 5\.5\.4 written on 5\.5/);
        state.carol = await serverFor("carol");
        await stopServer("carol", state.carol);
        const spawn = await hubRequest("POST", "/hub/api/users/carol/server", { token: state.carol, body: { image: NEXT.label } });
        assert.ok([201, 202].includes(spawn.status), `${spawn.status} ${spawn.body}`);
        await startServer("carol", state.carol);
        assert.equal(inspect(`${PREFIX}-user-carol`).Config.Image, NEXT.image);
        const six = await runInKernel("carol", state.carol, "import jupyterhub; print('SINGLEUSER', jupyterhub.__version__)");
        assert.match(six, /SINGLEUSER 6\.1\.1/);
    });
});

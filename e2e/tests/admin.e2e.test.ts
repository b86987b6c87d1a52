// What hub admins ask for most, on the test bed: profiles by Keycloak group, shared
// folders, an idle culler that spares servers with running pyiron jobs, and extraConfig.
// The culler's clock runs from step 1 on, while the other steps use other users.
import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import {
    closeBrowser, docker, HUB, hubRequest, inspect, login, newSession, pageToken, PREFIX, pulumi, runInKernel,
    Session, startServer, step, stopServer, tokenWithoutServer, waitFor,
} from "./testbed";

const IDLE_TIMEOUT = 300;
// Longer than the idle timeout, the culler's round (60 s) and the hub's activity poll (60 s)
// together: without the job-activity service, carol's server would be culled before it ends.
// At a fifth of a CPU it uses about 12 s of CPU a minute, above the service's 3 s.
const JOB_SECONDS = 450;
const SHARED = { potentials: `${PREFIX}-shared-e2e-potentials`, dft: `${PREFIX}-shared-e2e-dft` };

const CONFIG: Array<[string, string]> = [
    ["allowedUsers[1]", "bob"],
    ["idleTimeout", String(IDLE_TIMEOUT)],
    // dft (alice, dave) get the atomistics and md images with more memory and a whole CPU;
    // everyone gets pyiron_base with the global limits (memLimit 1G, cpuLimit 0.5).
    ["profiles[0].name", "dft"],
    ["profiles[0].groups[0]", "dft"],
    ["profiles[0].images[0]", "pyiron_atomistics"],
    ["profiles[0].images[1]", "pyiron_md"],
    ["profiles[0].memLimit", "1536M"],
    ["profiles[0].cpuLimit", "1"],
    ["profiles[1].name", "everyone"],
    ["profiles[1].images[0]", "pyiron_base"],
    ["sharedFolders[0].name", "e2e-potentials"],
    ["sharedFolders[0].mountPath", "/home/jovyan/shared/potentials"],
    ["sharedFolders[0].readOnly", "true"],
    ["sharedFolders[1].name", "e2e-dft"],
    ["sharedFolders[1].mountPath", "/home/jovyan/shared/dft"],
    ["sharedFolders[1].groups[0]", "dft"],
];
const EXTRA = 'c.JupyterHub.template_vars = {"announcement": "extraConfig reached the hub"}';

const state: { carolToken?: string; carolSince?: number; carolContainer?: string; bobReadyAt?: number; alice?: Session } = {};

const JOB = [
    "from pyiron_base import Project",
    // It computes, a fifth of the time: what counts as a job is CPU used outside the server.
    "def slow_add(a, b, seconds):",
    "    import time",
    "    end = time.time() + seconds",
    "    while time.time() < end:",
    "        busy = time.time() + 0.2",
    "        while time.time() < busy:",
    "            pass",
    "        time.sleep(0.8)",
    "    return a + b",
    "pr = Project('culler_e2e')",
    // A job of an earlier run under the same name would be loaded, not run.
    "pr.remove_jobs(recursive=True, silently=True)",
    `job = pr.wrap_python_function(slow_add, a=40, b=2, seconds=${JOB_SECONDS}, job_name='long_job', automatically_rename=False)`,
    // Non-modal: the job runs in a process of its own, the kernel goes idle at once.
    "job.server.run_mode.non_modal = True",
    "job.run()",
    "print('STATUS', job.status)",
].join("\n");

const RESULT = [
    "from pyiron_base import Project",
    "job = Project('culler_e2e').load('long_job')",
    "print('RESULT', job.status, job.output['result'] if job.status == 'finished' else None)",
].join("\n");

function inUserServer(user: string, script: string): { status: number | null; out: string } {
    const r = docker(["exec", "-u", "1000", `${PREFIX}-user-${user}`, "sh", "-c", script], { allowFailure: true });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function serverOf(user: string, token: string): Promise<any> {
    return JSON.parse((await hubRequest("GET", `/hub/api/users/${user}`, { token })).body).servers?.[""];
}

describe("admin asks: profiles, shared folders, culler and running jobs, extraConfig", { concurrency: 1 }, () => {
    before(() => {
        for (const [key, value] of CONFIG) pulumi(["config", "set", "--path", key, value]);
        pulumi(["config", "set", "extraConfig", EXTRA]);
        pulumi(["up", "--yes", "--skip-preview"]);
    });

    after(async () => {
        await closeBrowser();
        for (const key of ["allowedUsers[1]", "idleTimeout", "profiles", "sharedFolders", "extraConfig"]) {
            pulumi(["config", "rm", ...(key.includes("[") ? ["--path"] : []), key], { allowFailure: true });
        }
        pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        docker(["volume", "rm", SHARED.potentials, SHARED.dft], { allowFailure: true });
    });

    step("1. carol starts a pyiron job that outlasts the idle timeout, and leaves her notebook idle", async () => {
        state.carolToken = await tokenWithoutServer("carol");
        const spawn = await hubRequest("POST", "/hub/api/users/carol/server", { token: state.carolToken, body: { image: "pyiron_base" } });
        assert.ok([201, 202].includes(spawn.status), `${spawn.status} ${spawn.body}`);
        await startServer("carol", state.carolToken);
        const out = await runInKernel("carol", state.carolToken, JOB, 180, { keepKernel: true });
        assert.match(out, /STATUS (running|submitted)/, out);
        state.carolSince = Date.now();
        state.carolContainer = inspect(`${PREFIX}-user-carol`).Id;
        console.log(docker(["top", `${PREFIX}-user-carol`, "-eo", "pid,ppid,stat,etimes,args"]).stdout);
    });

    step("2. bob (no group) has no choice to make, gets the global limits, and a forged request for another image is refused", async () => {
        const s = await newSession();
        await login(s.page, "bob");
        // One image for him: no form; logging in starts it.
        await s.page.waitForURL(/\/user\/bob\/lab|\/hub\/spawn-pending\/bob/, { timeout: 120000 });
        assert.equal(await s.page.locator('select[name="image"]').count(), 0);
        const token = await pageToken(s.page, "bob");
        await s.context.close();
        await waitFor("bob's server", async () => ((await serverOf("bob", token))?.ready ? true : undefined), 300);
        // A spawn request naming an image of the dft profile: the hub refuses it, starts nothing.
        await stopServer("bob", token);
        const forged = await hubRequest("POST", "/hub/api/users/bob/server", { token, body: { image: "pyiron_atomistics" } });
        assert.equal(forged.status, 403, forged.body);
        assert.match(forged.body, /not offered to bob/);
        assert.equal(docker(["inspect", `${PREFIX}-user-bob`], { allowFailure: true }).status, 1, "a server was started");
        // A start that names no image: the hub reuses the refused request's options, and the
        // spawn rules fall back to the image he is offered.
        await startServer("bob", token);
        state.bobReadyAt = Date.now();
        const c = inspect(`${PREFIX}-user-bob`);
        assert.match(c.Config.Image, /^pyiron\/base:/);
        assert.equal(c.HostConfig.Memory, 1024 ** 3);
        assert.equal(c.HostConfig.CpuQuota / c.HostConfig.CpuPeriod, 0.5);
        // Shared folders, seen from his server (docker exec: no activity the hub counts).
        const ro = inUserServer("bob", "ls -ld /home/jovyan/shared/potentials && touch /home/jovyan/shared/potentials/x");
        assert.notEqual(ro.status, 0);
        assert.match(ro.out, /Read-only file system/, ro.out);
        const dft = inUserServer("bob", "ls /home/jovyan/shared/dft");
        assert.notEqual(dft.status, 0, "bob is not in dft: the group folder is not there");
        assert.ok(!c.Mounts.some((m: any) => m.Name === SHARED.dft));
    });

    step("3. alice (dft) chooses among her profiles' images in the form, and her server gets the dft limits", async () => {
        const s = await newSession();
        state.alice = s;
        await login(s.page, "alice");
        await s.page.waitForURL(/\/hub\/spawn/, { timeout: 60000 });
        const labels = (await s.page.locator('select[name="image"] option').allTextContents()).map((l) => l.trim());
        assert.deepEqual(labels, [
            "pyiron_atomistics (dft: 1536M memory, 1 CPU)",
            "pyiron_md (dft: 1536M memory, 1 CPU)",
            "pyiron_base (everyone: 1G memory, 0.5 CPUs)",
        ]);
        await s.page.selectOption('select[name="image"]', "pyiron_atomistics");
        await s.page.click('form [type="submit"]');
        await s.page.waitForURL(/\/user\/alice\/lab/, { timeout: 300000 });
        const c = inspect(`${PREFIX}-user-alice`);
        assert.match(c.Config.Image, /^pyiron\/pyiron:/);
        assert.equal(c.HostConfig.Memory, 1536 * 1024 ** 2);
        assert.equal(c.HostConfig.MemorySwap, 1536 * 1024 ** 2);
        assert.equal(c.HostConfig.CpuQuota / c.HostConfig.CpuPeriod, 1);
        assert.ok(c.Config.Env.includes("OMP_NUM_THREADS=1"));
    });

    step("4. a file alice writes into the dft folder is read by dave, and by no one outside dft", async () => {
        const s = state.alice!;
        const token = await pageToken(s.page, "alice");
        const wrote = await runInKernel("alice", token, [
            "import os",
            "st = os.stat('/home/jovyan/shared/dft')",
            "print('OWNER', st.st_uid, st.st_gid, oct(st.st_mode & 0o7777))",
            "open('/home/jovyan/shared/dft/results.txt', 'w').write('E = -3.74 eV')",
        ].join("\n"));
        // A new volume was given to jovyan, no manual chown.
        assert.match(wrote, /OWNER 1000 100 0o2775/, wrote);
        const daveToken = await tokenWithoutServer("dave");
        const spawn = await hubRequest("POST", "/hub/api/users/dave/server", { token: daveToken, body: { image: "pyiron_md" } });
        assert.ok([201, 202].includes(spawn.status), `${spawn.status} ${spawn.body}`);
        await startServer("dave", daveToken);
        const read = await runInKernel("dave", daveToken, "print('READ', open('/home/jovyan/shared/dft/results.txt').read())");
        assert.match(read, /READ E = -3\.74 eV/, read);
        assert.notEqual(inUserServer("bob", "cat /home/jovyan/shared/dft/results.txt").status, 0);
    });

    step("5. extraConfig reaches the hub; one that does not load is refused before the hub is touched", async () => {
        const s = state.alice!;
        await s.page.goto(`${HUB}/hub/home`);
        assert.match(await s.page.content(), /extraConfig reached the hub/);
        const hubBefore = inspect(`${PREFIX}-hub`).Id;
        pulumi(["config", "set", "extraConfig", `${EXTRA}\nc.Spawner.mem_limt = "4G"`]);
        // The hub image is on the host: preview runs the same check.
        const preview = pulumi(["preview"], { allowFailure: true });
        const r = pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        pulumi(["config", "set", "extraConfig", EXTRA]);
        assert.notEqual(preview.status, 0, "preview passed");
        assert.match(`${preview.stdout}${preview.stderr}`, /extraConfig line 2|c\.Spawner\.mem_limt: Spawner has no such configurable trait/);
        assert.notEqual(r.status, 0, "the update went through");
        assert.match(`${r.stdout}${r.stderr}`, /c\.Spawner\.mem_limt: Spawner has no such configurable trait/);
        assert.equal(inspect(`${PREFIX}-hub`).Id, hubBefore, "the hub was replaced");
    });

    step("6. bob's idle server is culled on time; carol's, with her job running, is not, and the job's result is there", async () => {
        const token = state.carolToken!;
        const bobGone = await waitFor("bob's server to be culled", async () =>
            docker(["inspect", `${PREFIX}-user-bob`], { allowFailure: true }).status !== 0 ? Date.now() : undefined, IDLE_TIMEOUT + 240);
        const bobIdle = (bobGone - state.bobReadyAt!) / 1000;
        console.log(`bob's idle server culled ${bobIdle.toFixed(0)} s after it was ready (idleTimeout ${IDLE_TIMEOUT} s)`);
        assert.ok(bobIdle >= IDLE_TIMEOUT - 5, `culled after ${bobIdle} s`);
        const activity = docker(["logs", `${PREFIX}-hub`]);
        console.log(`${activity.stdout}${activity.stderr}`.split("\n").filter((l) => l.includes("pyiron-activity")).join("\n"));
        console.log(docker(["top", `${PREFIX}-user-carol`, "-eo", "pid,ppid,stat,etimes,args"]).stdout);
        // The job ends JOB_SECONDS after it started; carol's server must live through it.
        while (Date.now() - state.carolSince! < JOB_SECONDS * 1000 + 5000) {
            assert.equal(inspect(`${PREFIX}-user-carol`).Id, state.carolContainer, "carol's server was stopped while her job ran");
            await new Promise((r) => setTimeout(r, 10000));
        }
        const idle = (Date.now() - state.carolSince!) / 1000;
        const result = await waitFor("the job's result", async () => {
            const out = await runInKernel("carol", token, RESULT);
            return /RESULT finished 42/.test(out) ? out : undefined;
        }, 120);
        assert.match(result, /RESULT finished 42/);
        assert.equal(inspect(`${PREFIX}-user-carol`).Id, state.carolContainer);
        const hubLog = docker(["logs", `${PREFIX}-hub`]);
        const logs = `${hubLog.stdout}${hubLog.stderr}`;
        assert.match(logs, /carol's server '' runs a job/);
        // The job over, her server counts as idle again: the culler may take it after the timeout.
        await waitFor("the job-activity service to let carol's server go", async () => {
            const l = docker(["logs", `${PREFIX}-hub`]);
            return /carol's server '' runs no job any more/.test(`${l.stdout}${l.stderr}`) ? true : undefined;
        }, 120);
        console.log(`carol's server kept for ${idle.toFixed(0)} s without a user's activity while her job ran; result read back`);
    });

    step("7. destroy keeps the shared folders, like homes", async () => {
        pulumi(["destroy", "--yes", "--skip-preview"]);
        for (const v of [SHARED.potentials, SHARED.dft, `${PREFIX}-home-alice`]) {
            assert.equal(docker(["volume", "inspect", v], { allowFailure: true }).status, 0, `${v} was deleted`);
        }
        const kept = docker(["run", "--rm", "-v", `${SHARED.dft}:/d:ro`, "pyiron-testbed/debian:bookworm", "cat", "/d/results.txt"]);
        assert.equal(kept.stdout, "E = -3.74 eV");
    });
});

// End to end on the test bed: the real Pulumi CLI deploys the test stack on the real
// Docker engine; users log in through Keycloak in Chromium; DockerSpawner starts their
// servers. The scenarios build on each other and run in order.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import { userFirewallSettings } from "../../components/firewall";
import { memoryBytes } from "../../config";
import {
    apiToken, closeBrowser, docker, HUB, hubRequest, inspect, login, newSession, PREFIX, previewSteps,
    pulumi, runInKernel, Session, step, TESTBED_DIR, testbed, upChanges, waitFor,
} from "./testbed";

const SHOTS = path.join(TESTBED_DIR, "screenshots", new Date().toISOString().replace(/[:.]/g, "-"));
const MEM_BEFORE = "1G";
const MEM_AFTER = "1536M";
const USER_FILE = "e2e-note.txt";
const USER_TEXT = `written by the e2e suite at ${new Date().toISOString()}`;

const state: { alice?: Session; aliceToken?: string; aliceCreated?: string; postgresId?: string; volumes?: string[] } = {};

function projectVolumes(): string[] {
    return docker(["volume", "ls", "-q"]).stdout.split("\n").filter((v) => v.startsWith(`${PREFIX}-`)).sort();
}

async function userServer(user: string, token: string): Promise<{ ready: boolean; url?: string } | undefined> {
    const r = await hubRequest("GET", `/hub/api/users/${user}`, { token });
    if (r.status !== 200) return undefined;
    return JSON.parse(r.body).servers?.[""];
}

describe("pyiron hub on the test bed", { concurrency: 1 }, () => {
    before(() => {
        fs.mkdirSync(SHOTS, { recursive: true });
        console.log(`screenshots: ${SHOTS}`);
        // Start from nothing: no stack resources, no volumes of an earlier run.
        pulumi(["destroy", "--yes", "--skip-preview"]);
        for (const v of projectVolumes()) docker(["volume", "rm", "-f", v]);
        pulumi(["config", "set", "memLimit", MEM_BEFORE]);
        pulumi(["config", "rm", "--path", "images[3]"], { allowFailure: true });
        const up = pulumi(["up", "--yes", "--skip-preview"]);
        assert.match(up.stdout, /Resources:/);
    });

    after(async () => {
        await closeBrowser();
        // Leave the engine as the suite found it: no deployment (the volumes stay).
        pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
    });

    step("a. logs in through Keycloak, offers the images by label, spawns one, and JupyterLab loads", async () => {
        const s = await newSession();
        state.alice = s;
        await login(s.page, "alice", SHOTS);
        await s.page.waitForURL(/\/hub\/spawn/, { timeout: 60000 });
        const labels = await s.page.locator('select[name="image"] option').allTextContents();
        assert.deepEqual(labels.map((l) => l.trim()), ["pyiron_base", "pyiron_atomistics", "pyiron_md"]);
        await s.page.screenshot({ path: path.join(SHOTS, "2-spawn-form.png") });
        await s.page.selectOption('select[name="image"]', "pyiron_base");
        await s.page.click('form [type="submit"]');
        await s.page.waitForURL(/\/user\/alice\/lab/, { timeout: 300000 });
        await s.page.locator(".jp-LabShell").waitFor({ timeout: 120000 });
        await s.page.locator("#jupyterlab-splash").waitFor({ state: "detached", timeout: 120000 });
        await s.page.locator(".jp-Launcher").first().waitFor({ timeout: 60000 });
        await s.page.screenshot({ path: path.join(SHOTS, "3-jupyterlab.png") });
        state.aliceToken = await waitFor("an API token", async () => {
            await s.page.goto(`${HUB}/hub/home`);
            return apiToken(s.page, "alice");
        }, 30);
    });

    step("b. runs a pyiron job in the user's server and reads back its result", async () => {
        const token = state.aliceToken!;
        const out = await runInKernel("alice", token, [
            "from pyiron_base import Project",
            "def add(a, b):",
            "    return a + b",
            "pr = Project('e2e')",
            "job = pr.wrap_python_function(add, a=20, b=22)",
            "job.run()",
            "print('RESULT', job.output['result'], job.status)",
            `open('/home/jovyan/${USER_FILE}', 'w').write(${JSON.stringify(USER_TEXT)})`,
        ].join("\n"));
        assert.match(out, /RESULT 42 finished/, out);
    });

    step("c. the user container has the configured limits, only the user network, and the home volume", async () => {
        const c = inspect(`${PREFIX}-user-alice`);
        assert.equal(c.HostConfig.Memory, memoryBytes(MEM_BEFORE));
        assert.equal(c.HostConfig.CpuQuota / c.HostConfig.CpuPeriod, 0.5);
        assert.deepEqual(Object.keys(c.NetworkSettings.Networks), [`${PREFIX}-users`]);
        const home = c.Mounts.find((m: any) => m.Destination === "/home/jovyan");
        assert.equal(home?.Name, `${PREFIX}-home-alice`);
        // No path to the database: its name does not even resolve on the user network.
        const probe = docker(["exec", `${PREFIX}-user-alice`, "python3", "-c",
            "import socket; socket.create_connection(('pyiron-hub-postgres', 5432), timeout=5)"], { allowFailure: true });
        assert.notEqual(probe.status, 0, "a user container reached Postgres");
        assert.match(probe.stderr, /gaierror|Name or service not known|timed out/);
        // The idle culler runs as a hub service.
        assert.match(docker(["top", `${PREFIX}-hub`]).stdout, /jupyterhub_idle_culler --timeout=3600/);
    });

    step("d. refuses a user outside the rules, lets only admins into the admin page, admits by group", async () => {
        const mallory = await newSession();
        await login(mallory.page, "mallory");
        const refusal = await mallory.page.locator("body").innerText();
        assert.match(refusal, /403 : Forbidden/);
        assert.match(refusal, /not currently authorized to use this hub/);
        await mallory.page.screenshot({ path: path.join(SHOTS, "4-refused.png") });
        await mallory.context.close();

        const admin = await newSession();
        await login(admin.page, "admin");
        const adminPage = await admin.page.goto(`${HUB}/hub/admin`);
        assert.equal(adminPage?.status(), 200);
        await admin.page.locator("text=alice").first().waitFor({ timeout: 30000 });
        await admin.page.screenshot({ path: path.join(SHOTS, "5-admin.png") });
        await admin.context.close();

        const denied = await state.alice!.page.goto(`${HUB}/hub/admin`);
        assert.equal(denied?.status(), 403);

        const carol = await newSession();
        await login(carol.page, "carol");
        await carol.page.waitForURL(/\/hub\/spawn/, { timeout: 60000 });
        await carol.context.close();
    });

    step("e. converges: a second up changes nothing and preview --expect-no-changes passes", async () => {
        const changes = upChanges();
        assert.deepEqual(Object.keys(changes).filter((k) => k !== "same"), [], JSON.stringify(changes));
        assert.ok(changes.same > 0);
        const preview = pulumi(["preview", "--expect-no-changes"], { allowFailure: true });
        assert.equal(preview.status, 0, `${preview.stdout}\n${preview.stderr}`);
    });

    step("f. an update restarts only the hub; running servers, data and the database survive", async () => {
        state.postgresId = inspect(`${PREFIX}-postgres`).Id;
        state.volumes = projectVolumes();
        const created = JSON.parse((await hubRequest("GET", "/hub/api/users/alice", { token: state.aliceToken })).body).created;
        state.aliceCreated = created;
        pulumi(["config", "set", "memLimit", MEM_AFTER]);
        pulumi(["config", "set", "--path", "images[3].label", "pyiron_potentialworkshop"]);
        pulumi(["config", "set", "--path", "images[3].image", `pyiron/potentialworkshop:${testbed.pyironTag}`]);

        const changes = previewSteps().filter((s) => s.op !== "same");
        const described = changes.map((s) => `${s.op} ${s.type} ${s.name}`).sort();
        assert.deepEqual(described, [
            // The new image is pulled; of what exists, only the hub container changes.
            "create docker:index/remoteImage:RemoteImage user-images-pyiron_potentialworkshop",
            "replace docker:index/container:Container hub-container",
            // The hub image loads the new config before the hub is replaced.
            "update pulumi-nodejs:dynamic:Resource hub-config-check",
        ], described.join("\n"));

        pulumi(["up", "--yes", "--skip-preview"]);
        assert.equal(inspect(`${PREFIX}-postgres`).Id, state.postgresId, "Postgres was replaced");
        assert.deepEqual(projectVolumes(), state.volumes);
        // The running server kept running through the hub's restart and still answers.
        const status = await waitFor("alice's server through the new hub", async () => {
            const r = await hubRequest("GET", "/user/alice/api/status", { token: state.aliceToken });
            return r.status === 200 ? r : undefined;
        }, 120);
        assert.equal(status.status, 200);
        const file = await hubRequest("GET", `/user/alice/api/contents/${USER_FILE}?content=1`, { token: state.aliceToken });
        assert.equal(JSON.parse(file.body).content, USER_TEXT);
        // A new spawn gets the new limit and is offered the new image.
        // 204: stopped at once; 202: stopping (the wait below covers both).
        const stop = await hubRequest("DELETE", "/hub/api/users/alice/server", { token: state.aliceToken });
        assert.ok([202, 204].includes(stop.status), `stopping alice's server answered ${stop.status}: ${stop.body}`);
        await waitFor("alice's server to stop", async () => ((await userServer("alice", state.aliceToken!)) ? undefined : true), 120);
        const page = state.alice!.page;
        await page.goto(`${HUB}/hub/spawn`);
        const labels = await page.locator('select[name="image"] option').allTextContents();
        assert.ok(labels.map((l) => l.trim()).includes("pyiron_potentialworkshop"), labels.join(", "));
        await page.selectOption('select[name="image"]', "pyiron_potentialworkshop");
        await page.click('form [type="submit"]');
        await page.waitForURL(/\/user\/alice\/lab/, { timeout: 300000 });
        const c = inspect(`${PREFIX}-user-alice`);
        assert.equal(c.HostConfig.Memory, memoryBytes(MEM_AFTER));
        assert.equal(c.Config.Image, `pyiron/potentialworkshop:${testbed.pyironTag}`);
    });

    step("g. destroy and redeploy: the user logs in again and finds their file; the hub still knows them", async () => {
        // A jump into the firewall's chain that a killed firewall of an earlier users network
        // left behind: the firewall removes it too on its way out, or its chains would stay.
        const { chain } = JSON.parse(userFirewallSettings(PREFIX, []));
        const stale = ["DOCKER-USER", "-i", "br-0ld00000e2e", "-j", `${chain}-FWD`];
        assert.equal(spawnSync("iptables", ["-w", "-I", ...stale], { encoding: "utf8" }).status, 0, "planting a stale jump");
        pulumi(["destroy", "--yes", "--skip-preview"]);
        assert.equal(docker(["ps", "-aq", "--filter", "label=org.pyiron-jupyterhub.deployment"]).stdout.trim(), "");
        // The user firewall took its iptables chains with it.
        const rules = spawnSync("iptables", ["-w", "-S"], { encoding: "utf8" }).stdout;
        assert.ok(rules.includes("DOCKER-USER") && !rules.includes(chain), `${chain} left in:\n${rules}`);
        assert.ok(projectVolumes().includes(`${PREFIX}-postgres-data`));
        assert.ok(projectVolumes().includes(`${PREFIX}-home-alice`));
        pulumi(["up", "--yes", "--skip-preview"]);
        await state.alice!.context.close();
        const s = await newSession();
        state.alice = s;
        await login(s.page, "alice");
        await s.page.waitForURL(/\/hub\/spawn/, { timeout: 60000 });
        await s.page.selectOption('select[name="image"]', "pyiron_base");
        await s.page.click('form [type="submit"]');
        await s.page.waitForURL(/\/user\/alice\/lab/, { timeout: 300000 });
        await s.page.goto(`${HUB}/hub/home`);
        const token = await apiToken(s.page, "alice");
        state.aliceToken = token;
        const file = await hubRequest("GET", `/user/alice/api/contents/${USER_FILE}?content=1`, { token });
        assert.equal(JSON.parse(file.body).content, USER_TEXT);
        const user = JSON.parse((await hubRequest("GET", "/hub/api/users/alice", { token })).body);
        assert.equal(user.created, state.aliceCreated, "the hub database forgot alice");
    });

    step("h. logging out of the hub ends the Keycloak session: the next login asks for the password", async () => {
        const page = state.alice!.page;
        await page.goto(`${HUB}/hub/logout`);
        // Keycloak asks to confirm the logout that the hub started.
        await page.waitForURL((u) => u.host === `${testbed.keycloak.host}:${testbed.keycloak.port}`, { timeout: 60000 });
        const confirm = page.locator("#kc-logout");
        if (await confirm.count()) await confirm.click();
        await page.waitForLoadState();
        await page.goto(`${HUB}/hub/`);
        await page.waitForURL((u) => u.host === `${testbed.keycloak.host}:${testbed.keycloak.port}`, { timeout: 60000 });
        await page.locator("#password").waitFor({ timeout: 30000 });
        await page.screenshot({ path: path.join(SHOTS, "6-after-logout.png") });
    });
});

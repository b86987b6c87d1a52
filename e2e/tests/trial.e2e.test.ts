// The trial stack on the test bed: nothing but Docker, a bundled Keycloak with a
// generated realm, plain HTTP on 127.0.0.1. The scenarios run in order.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import { closeBrowser, docker, inspect, newSession, pulumi, step as testbedStep, TESTBED_DIR, testbed, upChanges, waitFor } from "./testbed";

const STACK = testbed.trial.stack;
const PREFIX = testbed.trial.namePrefix;
const HUB = `http://localhost:${testbed.trial.hubPort}`;
const KEYCLOAK_HOST = `localhost:${testbed.trial.keycloakPort}`;
const SHOTS = path.join(TESTBED_DIR, "screenshots", `trial-${new Date().toISOString().replace(/[:.]/g, "-")}`);

const step = (name: string, fn: () => Promise<void>) => testbedStep(name, fn, [`${PREFIX}-hub`, `${PREFIX}-keycloak`]);
const projectVolumes = () => docker(["volume", "ls", "-q"]).stdout.split("\n").filter((v) => v.startsWith(`${PREFIX}-`)).sort();

describe("trial stack on the test bed", { concurrency: 1 }, () => {
    before(() => {
        fs.mkdirSync(SHOTS, { recursive: true });
        console.log(`screenshots: ${SHOTS}`);
        pulumi(["destroy", "--yes", "--skip-preview"], { stack: STACK });
        for (const v of projectVolumes()) docker(["volume", "rm", "-f", v]);
        pulumi(["up", "--yes", "--skip-preview"], { stack: STACK });
    });

    after(async () => {
        await closeBrowser();
        pulumi(["destroy", "--yes", "--skip-preview"], { stack: STACK, allowFailure: true });
    });

    step("publishes the hub (through its proxy) and its Keycloak on 127.0.0.1 only, and a second up changes nothing", async () => {
        // No front in a trial stack: the proxy itself is published; the hub is not.
        assert.deepEqual(inspect(`${PREFIX}-hub`).HostConfig.PortBindings ?? {}, {});
        for (const [name, port] of [[`${PREFIX}-proxy`, "8000/tcp"], [`${PREFIX}-keycloak`, "8080/tcp"]]) {
            const bindings = inspect(name).HostConfig.PortBindings[port];
            assert.deepEqual(bindings.map((b: any) => b.HostIp), ["127.0.0.1"], name);
        }
        const changes = upChanges(STACK);
        assert.deepEqual(Object.keys(changes).filter((k) => k !== "same"), [], JSON.stringify(changes));
    });

    step("logs a generated user in through the bundled Keycloak, spawns, and JupyterLab loads", async () => {
        const login = JSON.parse(pulumi(["stack", "output", "trialLogin", "--show-secrets", "--json"], { stack: STACK }).stdout);
        assert.deepEqual(login.users, ["admin", "alice"]);
        assert.match(login.passwords.alice, /^[A-Za-z0-9]{16}$/);
        const plain = pulumi(["stack", "output", "--json"], { stack: STACK }).stdout;
        assert.ok(!plain.includes(login.passwords.alice), "a password shows without --show-secrets");

        const { page } = await newSession();
        // Keycloak imports its realm at its first start; wait until it answers.
        await waitFor("the trial Keycloak's login page", async () => {
            await page.goto(`${HUB}/`);
            await page.waitForURL((u) => u.host === KEYCLOAK_HOST, { timeout: 10000 });
            return (await page.locator("#username").count()) > 0;
        }, 180);
        await page.screenshot({ path: path.join(SHOTS, "1-keycloak-login.png") });
        await page.fill("#username", "alice");
        await page.fill("#password", login.passwords.alice);
        await page.click("#kc-login");
        await page.waitForURL(/localhost:8000\/hub\/spawn/, { timeout: 60000 });
        await page.selectOption('select[name="image"]', "pyiron_base");
        await page.screenshot({ path: path.join(SHOTS, "2-spawn-form.png") });
        await page.click('form [type="submit"]');
        await page.waitForURL(/\/user\/alice\/lab/, { timeout: 300000 });
        await page.locator(".jp-LabShell").waitFor({ timeout: 120000 });
        await page.locator("#jupyterlab-splash").waitFor({ state: "detached", timeout: 120000 });
        await page.screenshot({ path: path.join(SHOTS, "3-jupyterlab.png") });
        const c = inspect(`${PREFIX}-user-alice`);
        assert.deepEqual(Object.keys(c.NetworkSettings.Networks), [`${PREFIX}-users`]);
    });

    step("destroy removes the trial Keycloak with the rest and keeps the data volumes", async () => {
        pulumi(["destroy", "--yes", "--skip-preview"], { stack: STACK });
        const left = docker(["ps", "-a", "--filter", `label=org.pyiron-jupyterhub.deployment=${PREFIX}`, "--format", "{{.Names}}"]).stdout.trim();
        assert.equal(left, "");
        assert.deepEqual(projectVolumes().filter((v) => !v.startsWith(`${PREFIX}-home-`)), [`${PREFIX}-hub-data`, `${PREFIX}-postgres-data`]);
    });
});

// Helpers of the end-to-end suite: the test stack through the real Pulumi CLI, Docker,
// the hub's HTTP and kernel APIs, and Chromium. Every connection goes to 127.0.0.1.
import assert from "node:assert/strict";
import { spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { it } from "node:test";
import { chromium, Browser, BrowserContext, Page } from "playwright-core";
import WebSocket from "ws";
import testbed from "../testbed.json";

export { testbed };
export const PROJECT_DIR = path.join(__dirname, "..", "..");
export const TESTBED_DIR = process.env.TESTBED_DIR ?? path.join(process.env.HOME ?? "/root", ".cache", "pyiron-jupyterhub", "testbed");
export const HUB = `https://${testbed.hub.host}:${testbed.hub.port}`;
export const STACK = testbed.stack;
export const PREFIX = "pyiron-hub";
const CA = fs.existsSync(path.join(TESTBED_DIR, "tls", "hub.crt")) ? fs.readFileSync(path.join(TESTBED_DIR, "tls", "hub.crt")) : undefined;

// The test host names resolve to loopback for this process, as for the browser.
const loopback = (_host: string, opts: any, cb: any) =>
    opts && opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);

function run(cmd: string, args: string[], opts: { input?: string; allowFailure?: boolean } = {}): SpawnSyncReturns<string> {
    const r = spawnSync(cmd, args, { cwd: PROJECT_DIR, encoding: "utf8", input: opts.input, maxBuffer: 64 * 1024 * 1024 });
    if (!opts.allowFailure && r.status !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    }
    return r;
}

/** The real Pulumi CLI on the test stack (or another stack of the test bed). */
export function pulumi(args: string[], opts: { allowFailure?: boolean; stack?: string } = {}): SpawnSyncReturns<string> {
    return run("pulumi", [...args, "--stack", opts.stack ?? STACK, "--non-interactive"], opts);
}

/** A command that leaves the event loop free, so the polls below go on while it runs. */
export function exec(cmd: string, args: string[], opts: { quiet?: boolean } = {}): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(cmd, args, { cwd: PROJECT_DIR });
        let output = "";
        child.stdout.on("data", (b) => (output += b));
        child.stderr.on("data", (b) => (output += b));
        child.on("error", (e) => resolve({ status: null, output: String(e) }));
        child.on("close", (status) => {
            if (!opts.quiet) console.log(`$ ${cmd} ${args.join(" ")}: exit ${status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
            resolve({ status, output });
        });
    });
}

/** The Pulumi CLI on the test stack, as the `pulumi()` helper runs it, without blocking. */
export const pulumiAsync = (args: string[]) => exec("pulumi", [...args, "--stack", STACK, "--non-interactive"]);

/** The resource changes of `pulumi up --json` (a stream of engine events), e.g. { same: 22 }. */
export function upChanges(stack = STACK): Record<string, number> {
    const text = pulumi(["up", "--yes", "--skip-preview", "--json"], { stack }).stdout;
    for (const line of text.split("\n").reverse()) {
        if (line.startsWith("{") && line.includes('"summaryEvent"')) {
            return JSON.parse(line).summaryEvent.resourceChanges;
        }
    }
    throw new Error(`no summary in the output of pulumi up --json:\n${text.slice(-2000)}`);
}

/** `pulumi preview --json`: the steps it plans, as [op, type, name]. */
export function previewSteps(): Array<{ op: string; type: string; name: string; diffs: string[] }> {
    const out = JSON.parse(pulumi(["preview", "--json", "--diff"]).stdout);
    return (out.steps ?? []).map((s: any) => ({
        op: s.op,
        type: s.urn.split("::")[2].split("$").pop(),
        name: s.urn.split("::")[3],
        diffs: s.diffs ?? [],
    }));
}

export function docker(args: string[], opts: { allowFailure?: boolean; input?: string } = {}): SpawnSyncReturns<string> {
    return run("docker", args, opts);
}

export function inspect(name: string): any {
    return JSON.parse(docker(["inspect", name]).stdout)[0];
}

/** The last lines of the hub's and Keycloak's logs, for a failing step. */
export function serviceLogs(containers = [`${PREFIX}-hub`, testbed.keycloak.container]): string {
    return containers
        .map((c) => {
            const r = docker(["logs", "--tail", "60", c], { allowFailure: true });
            // Keycloak's warning about plain HTTP repeats at every login and hides the rest.
            const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => !l.includes("Non-secure context detected"));
            return `----- docker logs ${c} -----\n${lines.join("\n")}`;
        })
        .join("\n");
}

/** A test step: on failure, prints the services' logs before failing. */
export function step(name: string, fn: () => Promise<void>, containers?: string[], timeout = 600_000): void {
    it(name, { timeout }, async () => {
        try {
            await fn();
        } catch (e) {
            console.error(`\n===== ${name} failed; service logs follow =====\n${serviceLogs(containers)}`);
            throw e;
        }
    });
}

/** An HTTPS request to the hub, verified against the test certificate. */
export function hubRequest(
    method: string,
    urlPath: string,
    opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: string; headers: Record<string, any> }> {
    return new Promise((resolve, reject) => {
        const req = https.request(
            `${HUB}${urlPath}`,
            {
                method,
                ca: CA,
                lookup: loopback as any,
                // A fresh connection each time: a pooled one may have been closed by the proxy.
                agent: false,
                headers: {
                    ...(opts.token ? { Authorization: `token ${opts.token}` } : {}),
                    ...(opts.body !== undefined ? { "Content-Type": "application/json" } : {}),
                },
                timeout: 30000,
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
        req.on("error", reject);
        if (opts.body !== undefined) req.write(JSON.stringify(opts.body));
        req.end();
    });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, seconds = 120): Promise<T> {
    const end = Date.now() + seconds * 1000;
    let last: unknown;
    while (Date.now() < end) {
        try {
            const v = await fn();
            if (v !== undefined && v !== false) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`timed out after ${seconds} s waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** Runs Python code in a fresh kernel of a user's server; returns what it printed. */
export async function runInKernel(user: string, token: string, code: string, seconds = 180, opts: { keepKernel?: boolean } = {}): Promise<string> {
    const created = await hubRequest("POST", `/user/${user}/api/kernels`, { token, body: { name: "python3" } });
    if (created.status !== 201) throw new Error(`starting a kernel: ${created.status} ${created.body}`);
    const kernel = JSON.parse(created.body).id;
    const ws = new WebSocket(`wss://${testbed.hub.host}:${testbed.hub.port}/user/${user}/api/kernels/${kernel}/channels`, {
        headers: { Authorization: `token ${token}` },
        ca: CA,
        lookup: loopback as any,
    });
    const msgId = `e2e-${Date.now()}`;
    try {
        return await new Promise<string>((resolve, reject) => {
            let output = "";
            const timer = setTimeout(() => reject(new Error(`kernel did not finish in ${seconds} s; output so far:\n${output}`)), seconds * 1000);
            ws.on("error", reject);
            ws.on("open", () => {
                ws.send(JSON.stringify({
                    header: { msg_id: msgId, msg_type: "execute_request", username: user, session: msgId, version: "5.3", date: new Date().toISOString() },
                    parent_header: {},
                    metadata: {},
                    content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
                    channel: "shell",
                    buffers: [],
                }));
            });
            ws.on("message", (data) => {
                const msg = JSON.parse(data.toString());
                if (msg.parent_header?.msg_id !== msgId) return;
                const t = msg.header.msg_type;
                if (t === "stream") output += msg.content.text;
                if (t === "error") output += `${msg.content.ename}: ${msg.content.evalue}\n`;
                if (t === "status" && msg.content.execution_state === "idle" && msg.channel === "iopub") {
                    clearTimeout(timer);
                    resolve(output);
                }
            });
        });
    } finally {
        ws.close();
        // A kept kernel sits idle, as a notebook left open does (a job it started lives on).
        if (!opts.keepKernel) await hubRequest("DELETE", `/user/${user}/api/kernels/${kernel}`, { token });
    }
}

export interface Session {
    context: BrowserContext;
    page: Page;
}

let browser: Browser | undefined;

/** A fresh browser session (own cookies) in headless Chromium. */
export async function newSession(): Promise<Session> {
    browser ??= await chromium.launch({
        executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
        args: [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            `--host-resolver-rules=MAP ${testbed.hub.host} 127.0.0.1, MAP ${testbed.keycloak.host} 127.0.0.1`,
        ],
    });
    // The hub's certificate is self-signed for the test host.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    return { context, page };
}

export async function closeBrowser(): Promise<void> {
    await browser?.close();
    browser = undefined;
}

/** Opens the hub and logs in through Keycloak's own login form. */
export async function login(page: Page, user: string, shots?: string): Promise<void> {
    await page.goto(`${HUB}/`);
    await page.waitForURL((u) => u.host === `${testbed.keycloak.host}:${testbed.keycloak.port}`, { timeout: 60000 });
    await page.locator("#username").waitFor();
    if (shots) await page.screenshot({ path: path.join(shots, "1-keycloak-login.png") });
    await page.fill("#username", user);
    await page.fill("#password", (testbed.keycloak.users as Record<string, { password: string }>)[user].password);
    await page.click("#kc-login");
    await page.waitForURL((u) => u.host === `${testbed.hub.host}:${testbed.hub.port}`, { timeout: 60000 });
}

/** A hub API token of the logged-in user, requested as the hub's own pages do. */
export async function apiToken(page: Page, user: string): Promise<string> {
    return page.evaluate(async (u) => {
        const fromPage = (window as any).jhdata?.xsrf_token as string | undefined;
        const xsrf = fromPage ?? decodeURIComponent(document.cookie.split("; ").find((c) => c.startsWith("_xsrf="))?.slice(6) ?? "");
        const res = await fetch(`/hub/api/users/${u}/tokens`, {
            method: "POST",
            headers: { "X-XSRFToken": xsrf, "Content-Type": "application/json" },
            body: JSON.stringify({ note: "e2e", expires_in: 3600 }),
        });
        if (res.status !== 201) throw new Error(`token request: ${res.status} ${await res.text()}`);
        return (await res.json()).token as string;
    }, user);
}

/** An API token of the user logged in on this page, once the hub's home page gives one. */
export function pageToken(page: Page, user: string): Promise<string> {
    return waitFor(`${user}'s API token`, async () => {
        await page.goto(`${HUB}/hub/home`);
        return apiToken(page, user);
    }, 30);
}

/** Logs a user in through Keycloak in a session of its own and returns an API token; starts no server. */
export async function tokenWithoutServer(user: string): Promise<string> {
    const s = await newSession();
    try {
        await login(s.page, user);
        return await pageToken(s.page, user);
    } finally {
        await s.context.close();
    }
}

/**
 * Logs a user in through Keycloak, starts their server and returns an API token. Without
 * `options`, the hub reuses the user's last ones (JupyterHub's rule), which an earlier
 * suite may have chosen.
 */
export async function serverFor(user: string, options?: Record<string, string>): Promise<string> {
    const s = await newSession();
    await login(s.page, user);
    const token = await pageToken(s.page, user);
    await s.context.close();
    await startServer(user, token, options);
    return token;
}

export async function startServer(user: string, token: string, options?: Record<string, string>): Promise<void> {
    const r = await hubRequest("POST", `/hub/api/users/${user}/server`, { token, body: options });
    assert.ok([201, 202, 400].includes(r.status), `spawn: ${r.status} ${r.body}`);
    // A spawn that failed leaves no server behind: say why at once, from the hub's log,
    // instead of waiting out the timeout.
    let gone = 0;
    await waitFor(`${user}'s server`, async () => {
        const u = JSON.parse((await hubRequest("GET", `/hub/api/users/${user}`, { token })).body);
        const server = u.servers?.[""];
        gone = server ? 0 : gone + 1;
        if (gone >= 5) return { failed: true };
        return server?.ready ? { failed: false } : undefined;
    }, 300).then(({ failed }) => {
        if (!failed) return;
        const log = docker(["logs", "--tail", "400", `${PREFIX}-hub`], { allowFailure: true });
        const lines = `${log.stdout}${log.stderr}`.split("\n").filter((l) => l.includes(user) || /Error|Traceback|^\s/.test(l));
        throw new Error(`${user}'s spawn failed; the hub's log says:\n${lines.slice(-40).join("\n")}`);
    });
}

/** Stops a user's server through the hub's API and waits until the hub says it is gone. */
export async function stopServer(user: string, token: string): Promise<void> {
    const stop = await hubRequest("DELETE", `/hub/api/users/${user}/server`, { token });
    assert.ok([202, 204].includes(stop.status), `stop: ${stop.status} ${stop.body}`);
    await waitFor(`${user}'s server to stop`, async () => {
        const u = JSON.parse((await hubRequest("GET", `/hub/api/users/${user}`, { token })).body);
        return u.servers?.[""] ? undefined : true;
    }, 120);
}

/** The test certificate and the loopback resolver, for HTTP clients of their own (e2e/bench/load.ts). */
export const hubTls = { ca: CA, lookup: loopback };

/** The test bed's swarm (e2e/testbed/swarm.sh): the host's engine as manager, workers w1 and w2. */
export const SWARM = {
    script: path.join(PROJECT_DIR, "e2e", "testbed", "swarm.sh"),
    // Stands in for the storage every node mounts (one file system here).
    storage: path.join(TESTBED_DIR, "swarm", "storage"),
    // pyiron/pyiron and pyiron/md are one image in the test bed: one load per worker.
    images: [["pyiron_atomistics", `pyiron/pyiron:${testbed.pyironTag}`], ["pyiron_md", `pyiron/md:${testbed.pyironTag}`]] as const,
};

/** swarm.sh up|down|status; its log. */
export function swarmScript(args: string[]): string {
    const r = run("bash", [SWARM.script, ...args]);
    return `${r.stdout}${r.stderr}`;
}

/** The test stack with the swarm's images, and with `swarm` set when asked (the caller keeps the stack file to restore). */
export function configureSwarmStack(swarm: boolean): void {
    pulumi(["config", "rm", "images"]);
    SWARM.images.forEach(([label, image], i) => {
        pulumi(["config", "set", "--path", `images[${i}].label`, label]);
        pulumi(["config", "set", "--path", `images[${i}].image`, image]);
    });
    if (swarm) {
        pulumi(["config", "set", "--path", "swarm.storagePath", SWARM.storage]);
        // The manager runs the hub; user servers go to the workers.
        pulumi(["config", "set", "--path", "swarm.placement[0]", "node.role==worker"]);
    } else {
        pulumi(["config", "rm", "swarm"], { allowFailure: true });
    }
}

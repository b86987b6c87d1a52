// Load on the test stack: N users of the test bed's Keycloak log in without a browser (an
// HTTP client with a cookie jar per user, through Keycloak's own login form), then all of
// them ask for a server at the same moment and wait for it, retrying a refusal as a
// patient user would. Meanwhile the memory of the hub, of its proxy and of the host is
// sampled every second. Prints a markdown table, one row per N; afterwards the users'
// servers, hub users and home volumes are removed (their Keycloak accounts stay).
//
// Usage: node --import tsx e2e/bench/load.ts [--users 50 | --users 10,50,80] [--json FILE]
//          [--timeout 600] [--poll 2] [--login-concurrency 10] [--max-active N] [--max-spawns N]
// --max-active / --max-spawns set maxActiveServers / maxConcurrentSpawns on the test stack
// (pulumi up) for the run and restore them after; they need `source e2e/env.sh` first.
// Without them the stack's own limits apply, which is the point: what do the defaults do?
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs, promisify } from "node:util";
import { HUB_PATHS } from "../../components/jupyterhubConfig";
import { dockerNames } from "../../components/names";
import { docker, HUB, hubTls, PREFIX, pulumi, TESTBED_DIR, testbed, waitFor } from "../tests/testbed";
import { hub, KeycloakAdmin, logIn, messageOf, Reply, Session } from "./hubClient";

const USAGE = "usage: node --import tsx e2e/bench/load.ts [--users N[,N...]] [--json FILE] [--timeout SECONDS] [--poll SECONDS] [--login-concurrency N] [--max-active N] [--max-spawns N]";
const MAX_USERS = 500;
const kc = testbed.keycloak;
const GROUP = kc.groups[0];
const NAMES = dockerNames(PREFIX);

const loadUser = (i: number) => `load-${String(i).padStart(3, "0")}`;
// Test-only passwords, like those of e2e/testbed.json.
const passwordOf = (user: string) => `${user}-pw`;
const log = (msg: string) => console.error(`[load ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

let aborted = false;
process.on("SIGINT", () => {
    if (aborted) process.exit(130);
    aborted = true;
    log("interrupted: stopping the run and cleaning up (Ctrl-C again leaves everything as it is)");
});

// ---------------------------------------------------------------- the deployed hub

interface HubSettings {
    maxActiveServers: number;
    maxConcurrentSpawns: number;
    allowAll: boolean;
    allowedGroups: string[];
}

/** The limits and who may log in, as the running hub has them: read from its generated config file. */
function deployedSettings(): HubSettings {
    const text = docker(["exec", NAMES.hubContainer, "cat", HUB_PATHS.config]).stdout;
    const value = (trait: string) => new RegExp(`^c\\.${trait.replace(/\./g, "\\.")} = (.*)$`, "m").exec(text)?.[1];
    const strings = (v: string | undefined) => [...(v ?? "").matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    return {
        // JupyterHub's own defaults (0: no bound) when a trait is not in the file.
        maxActiveServers: Number(value("JupyterHub.active_server_limit") ?? 0),
        maxConcurrentSpawns: Number(value("JupyterHub.concurrent_spawn_limit") ?? 0),
        allowAll: value("GenericOAuthenticator.allow_all") === "True",
        allowedGroups: strings(value("GenericOAuthenticator.allowed_groups")),
    };
}

async function hubHealthy(): Promise<boolean> {
    return (await hub("GET", "/hub/health", { timeoutMs: 10_000 }).catch(() => undefined))?.status === 200;
}

const LIMIT_KEYS = { maxActiveServers: "--max-active", maxConcurrentSpawns: "--max-spawns" } as const;
type LimitKey = keyof typeof LIMIT_KEYS;

/** Sets the limits on the test stack and deploys; returns how to put the earlier values back. */
async function setLimits(limits: Partial<Record<LimitKey, number>>): Promise<() => Promise<void>> {
    if (!process.env.PULUMI_BACKEND_URL) {
        throw new Error(`${Object.values(LIMIT_KEYS).join(" and ")} change the test stack with pulumi: run \`source e2e/env.sh\` first, so pulumi finds the test bed's state`);
    }
    const before: Partial<Record<LimitKey, string>> = {};
    for (const [key, value] of Object.entries(limits) as Array<[LimitKey, number]>) {
        const r = pulumi(["config", "get", key], { allowFailure: true });
        before[key] = r.status === 0 ? r.stdout.trim() : undefined;
        pulumi(["config", "set", key, String(value)]);
    }
    log(`pulumi up with ${Object.entries(limits).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    pulumi(["up", "--yes", "--skip-preview"]);
    await waitFor("the hub after pulumi up", async () => ((await hubHealthy()) ? true : undefined), 180);
    return async () => {
        for (const key of Object.keys(limits) as LimitKey[]) {
            const old = before[key];
            if (old === undefined) pulumi(["config", "rm", key], { allowFailure: true });
            else pulumi(["config", "set", key, old], { allowFailure: true });
        }
        log("pulumi up with the stack's own limits again");
        const up = pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        if (up.status !== 0) log(`pulumi up failed, the stack still has the benchmark's limits:\n${up.stderr.slice(-2000)}`);
    };
}

// ---------------------------------------------------------------- memory, sampled every second

const execFileAsync = promisify(execFile);
async function dockerAsync(args: string[]): Promise<string> {
    return (await execFileAsync("docker", args, { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
}

interface Sample {
    /** Seconds since the run started (logins included). */
    t: number;
    /** The hub container's memory as `docker stats` counts it: usage minus inactive page cache. */
    hubContainer?: number;
    /** Resident memory of the JupyterHub process, of configurable-http-proxy, of the rest (idle culler). */
    hubRss?: number;
    proxyRss?: number;
    otherRss?: number;
    /** MemTotal - MemAvailable of the host. */
    hostUsed: number;
}

/** How long /hub/health took, probed each second on its own (a slow answer does not hold up the memory samples). */
interface HealthSample {
    t: number;
    ms?: number;
    error?: string;
}

interface Proc {
    pid: number;
    rss: number;
    cmd: string;
}

function hostMemory(): { total: number; used: number } {
    const info = fs.readFileSync("/proc/meminfo", "utf8");
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(info)?.[1] ?? 0) * 1024;
    return { total: kib("MemTotal"), used: kib("MemTotal") - kib("MemAvailable") };
}

/** The container's cgroup directory on this host (cgroup v2 or v1, systemd or cgroupfs driver). */
function cgroupDir(id: string): string | undefined {
    return [
        `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
        `/sys/fs/cgroup/docker/${id}`,
        `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`,
        `/sys/fs/cgroup/memory/docker/${id}`,
    ].find((dir) => fs.existsSync(`${dir}/memory.current`) || fs.existsSync(`${dir}/memory.usage_in_bytes`));
}

function cgroupMemory(dir: string): number {
    const v2 = fs.existsSync(`${dir}/memory.current`);
    const usage = Number(fs.readFileSync(`${dir}/${v2 ? "memory.current" : "memory.usage_in_bytes"}`, "utf8").trim());
    const stat = fs.readFileSync(`${dir}/memory.stat`, "utf8");
    const inactive = Number(new RegExp(`^${v2 ? "inactive_file" : "total_inactive_file"} (\\d+)$`, "m").exec(stat)?.[1] ?? 0);
    return usage - inactive;
}

/** The processes of the cgroup with their RSS, from this host's /proc. */
function cgroupProcesses(dir: string): Proc[] {
    const procs: Proc[] = [];
    for (const pid of fs.readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").map(Number).filter((p) => p > 0)) {
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
            const rss = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
            if (rss) procs.push({ pid, rss: Number(rss) * 1024, cmd });
        } catch {
            // the process ended meanwhile
        }
    }
    return procs;
}

/** The hub's processes from this host's /proc; undefined when it cannot see them. */
function procfsProcesses(dir: string): Proc[] | undefined {
    const procs = cgroupProcesses(dir);
    return procs.some((p) => /jupyterhub/.test(p.cmd)) ? procs : undefined;
}

/** The same through the Docker engine, which runs ps on the host for the container's pids. */
async function dockerTopProcesses(container: string): Promise<Proc[]> {
    const out = await dockerAsync(["top", container, "-eo", "pid,rss,args"]);
    return out
        .split("\n")
        .slice(1)
        .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ pid: Number(m[1]), rss: Number(m[2]) * 1024, cmd: m[3] }));
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };
function parseSize(s: string): number | undefined {
    const m = /^([\d.]+)\s*([A-Za-z]+)$/.exec(s.trim());
    const unit = m && UNITS[m[2].toUpperCase()];
    return m && unit ? Number(m[1]) * unit : undefined;
}

function classify(procs: Proc[]): { hubRss: number; proxyRss: number; otherRss: number } {
    const sums = { hubRss: 0, proxyRss: 0, otherRss: 0 };
    for (const p of procs) {
        if (/configurable-http-proxy/.test(p.cmd)) sums.proxyRss += p.rss;
        else if (/jupyterhub_idle_culler/.test(p.cmd)) sums.otherRss += p.rss;
        else if (/jupyterhub/.test(p.cmd)) sums.hubRss += p.rss;
        else sums.otherRss += p.rss;
    }
    return sums;
}

class Sampler {
    readonly samples: Sample[] = [];
    readonly health: HealthSample[] = [];
    readonly method: string;
    private timers: NodeJS.Timeout[] = [];
    private busy = { memory: false, health: false };
    private readonly dir: string | undefined;
    private readonly procfs: boolean;

    private readonly proxyDir: string | undefined;

    constructor(private readonly container: { name: string; id: string }, private readonly proxy: { name: string; id: string }, private readonly t0: number) {
        this.dir = cgroupDir(container.id);
        this.proxyDir = cgroupDir(proxy.id);
        this.procfs = !!this.dir && !!procfsProcesses(this.dir);
        this.method = [
            this.dir ? `hub container: cgroup ${this.dir} (usage minus inactive_file)` : "hub container: docker stats",
            this.procfs ? "processes: cgroup.procs + /proc/<pid>/status VmRSS" : "processes: docker top (ps rss)",
            "host: /proc/meminfo MemTotal - MemAvailable",
        ].join("; ");
    }

    start(): void {
        for (const [kind, fn] of [["memory", () => this.memory()], ["health", () => this.probe()]] as const) {
            const tick = async () => {
                // A slow call skips a tick rather than piling up.
                if (this.busy[kind]) return;
                this.busy[kind] = true;
                try {
                    await fn();
                } finally {
                    this.busy[kind] = false;
                }
            };
            void tick();
            this.timers.push(setInterval(() => void tick(), 1000));
        }
    }

    async stop(): Promise<void> {
        for (const t of this.timers) clearInterval(t);
        while (this.busy.memory || this.busy.health) await sleep(100);
    }

    private async memory(): Promise<void> {
        const sample: Sample = { t: (Date.now() - this.t0) / 1000, hostUsed: hostMemory().used };
        try {
            if (this.dir) sample.hubContainer = cgroupMemory(this.dir);
            else sample.hubContainer = parseSize((await dockerAsync(["stats", "--no-stream", "--format", "{{.MemUsage}}", this.container.name])).split("/")[0]);
        } catch {
            // the container is gone or restarting: no value in this sample
        }
        try {
            const procs = (this.procfs && this.dir && procfsProcesses(this.dir)) || (await dockerTopProcesses(this.container.name));
            Object.assign(sample, classify(procs));
            // The proxy runs in a container of its own.
            const proxyProcs = (this.proxyDir && cgroupProcesses(this.proxyDir)) || (await dockerTopProcesses(this.proxy.name));
            sample.proxyRss = (sample.proxyRss ?? 0) + classify(proxyProcs).proxyRss;
        } catch {
            // as above
        }
        this.samples.push(sample);
    }

    private async probe(): Promise<void> {
        const started = Date.now();
        const sample: HealthSample = { t: (started - this.t0) / 1000 };
        try {
            const r = await hub("GET", "/hub/health", { timeoutMs: 10_000 });
            if (r.status === 200) sample.ms = Date.now() - started;
            else sample.error = `${r.status} ${messageOf(r)}`;
        } catch (e) {
            sample.error = errorText(e);
        }
        this.health.push(sample);
    }
}

// ---------------------------------------------------------------- one user's spawn

interface UserResult {
    user: string;
    loginS?: number;
    loginError?: string;
    attempts: number;
    /** The answer to the very first spawn request. */
    firstTry?: { status: number; message: string };
    firstAccepted: boolean;
    acceptedS?: number;
    readyS?: number;
    /** Refused spawn requests (429 and others): the count, and the first few. */
    refusalCount: number;
    refusals: Array<{ s: number; status: number; message: string }>;
    /** Spawns that were accepted and then failed, with the hub's message. */
    spawnFailures: string[];
    state: "login failed" | "waiting" | "refused" | "pending" | "ready" | "failed";
    /** Why the user has no working server at the end. */
    error?: string;
    ok: boolean;
}

const ACCEPTED = (status: number, message: string) => status === 201 || status === 202 || (status === 400 && /already running|pending spawn/.test(message));

/** Why the last spawn failed, from the hub's progress stream (its final event). */
async function spawnFailure(user: string, token: string): Promise<string> {
    try {
        const p = await hub("GET", `/hub/api/users/${user}/server/progress`, { token, timeoutMs: 10_000 });
        const failed = p.body
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => {
                try {
                    return JSON.parse(l.slice(5)) as { failed?: boolean; message?: string };
                } catch {
                    return undefined;
                }
            })
            .reverse()
            .find((e) => e?.failed);
        return failed?.message ?? `the server is gone (progress: ${p.status} ${messageOf(p)})`;
    } catch (e) {
        return `the server is gone (${errorText(e)})`;
    }
}

/** Asks for the server, retries a refusal after Retry-After (or 5 s), polls until ready or the deadline. */
async function spawnUntilReady(s: Session, r: UserResult, t0: number, deadline: number, pollMs: number): Promise<void> {
    const since = () => (Date.now() - t0) / 1000;
    let last = "no answer yet";
    attempts: while (Date.now() < deadline && !aborted) {
        r.attempts++;
        let reply: Reply | undefined;
        let message: string;
        try {
            // The hub answers once the spawn is done or has taken 10 s (slow_spawn_timeout).
            reply = await hub("POST", `/hub/api/users/${s.user}/server`, { token: s.token, timeoutMs: 120_000 });
            message = messageOf(reply);
        } catch (e) {
            message = errorText(e);
        }
        const status = reply?.status ?? 0;
        if (r.attempts === 1) r.firstTry = { status, message };
        if (!ACCEPTED(status, message)) {
            r.refusalCount++;
            if (r.refusals.length < 5) r.refusals.push({ s: since(), status, message });
            r.state = "refused";
            last = `refused: ${status} ${message}`;
            // Beyond maxActiveServers nothing frees up during the run: the user has the
            // hub's answer at once, which is the outcome to report (not a timeout).
            if (status === 429 && /Active user limit exceeded/.test(message)) {
                r.state = "failed";
                r.error = `refused at once, beyond maxActiveServers: ${status} ${message}`;
                return;
            }
            const retryAfter = Number(reply?.headers["retry-after"]);
            await sleep(Math.min(deadline - Date.now(), (retryAfter > 0 ? retryAfter : 5) * 1000));
            continue;
        }
        if (r.attempts === 1) r.firstAccepted = true;
        r.acceptedS ??= since();
        r.state = "pending";
        if (status !== 201) {
            for (;;) {
                await sleep(pollMs * (0.5 + Math.random()));
                if (Date.now() >= deadline || aborted) break attempts;
                let server: { ready?: boolean; pending?: string | null } | undefined;
                try {
                    const g = await hub("GET", `/hub/api/users/${s.user}`, { token: s.token, timeoutMs: 30_000 });
                    if (g.status !== 200) {
                        last = `GET /hub/api/users/${s.user}: ${g.status} ${messageOf(g)}`;
                        continue;
                    }
                    server = (JSON.parse(g.body) as { servers?: Record<string, typeof server> }).servers?.[""];
                } catch (e) {
                    last = `GET /hub/api/users/${s.user}: ${errorText(e)}`;
                    continue;
                }
                if (server?.ready) break;
                if (!server) {
                    const failure = await spawnFailure(s.user, s.token);
                    r.spawnFailures.push(failure);
                    r.state = "failed";
                    last = failure;
                    await sleep(Math.min(deadline - Date.now(), 5000));
                    continue attempts;
                }
                last = `pending ${server.pending ?? "(none)"}`;
            }
        }
        r.readyS = since();
        r.state = "ready";
        // Ready in the hub's eyes; the user notices only whether the proxy gets them there.
        for (let i = 0; i < 5; i++) {
            const st = await hub("GET", `/user/${s.user}/api/status`, { token: s.token, timeoutMs: 30_000 }).catch((e: unknown) => ({ status: 0, body: errorText(e), headers: {} }) as Reply);
            if (st.status === 200) {
                r.ok = true;
                return;
            }
            last = `ready in the hub, but /user/${s.user}/api/status answered ${st.status} ${messageOf(st)}`;
            await sleep(1000);
        }
        r.state = "failed";
        r.error = last;
        return;
    }
    r.state = "failed";
    r.error = aborted ? `interrupted (${last})` : `not ready after ${Math.round((deadline - t0) / 1000)} s (${last})`;
}

// ---------------------------------------------------------------- cleanup

interface CleanupReport {
    seconds: number;
    /** The users' server containers there when the cleanup began. */
    containersFound: number;
    hubUsersDeleted: number;
    volumesRemoved: number;
    leftContainers: string[];
    leftVolumes: string[];
    errors: string[];
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, items.length) }, async () => {
            while (next < items.length) {
                const i = next++;
                out[i] = await fn(items[i], i);
            }
        }),
    );
    return out;
}

function existing(kind: "containers" | "volumes", wanted: Set<string>, prefix: string): string[] {
    const args = kind === "containers" ? ["ps", "-a", "--format", "{{.Names}}", "--filter", `name=${prefix}`] : ["volume", "ls", "-q", "--filter", `name=${prefix}`];
    return docker(args).stdout.split("\n").map((l) => l.trim()).filter((n) => wanted.has(n));
}

/**
 * Stops the users' servers, waits until their containers are gone, deletes the users from
 * the hub and removes their home volumes. Only these names, each step bounded in time.
 */
async function cleanup(users: readonly string[], adminToken: string): Promise<CleanupReport> {
    const started = Date.now();
    const report: CleanupReport = { seconds: 0, containersFound: 0, hubUsersDeleted: 0, volumesRemoved: 0, leftContainers: [], leftVolumes: [], errors: [] };
    const containers = new Set(users.map((u) => NAMES.userServerOf(u)));
    const volumes = new Set(users.map((u) => NAMES.homeVolumeOf(u)));
    const containerPrefix = NAMES.userServerOf("load-");
    const volumePrefix = NAMES.homeVolumeOf("load-");
    const note = (e: string): void => {
        if (report.errors.length < 20) report.errors.push(e);
    };

    report.containersFound = existing("containers", containers, containerPrefix).length;
    await mapLimit(users, 10, async (u) => {
        // 204 also when there was nothing to stop; 404: no such hub user.
        const r = await hub("DELETE", `/hub/api/users/${u}/server`, { token: adminToken, timeoutMs: 60_000 }).catch((e: unknown) => note(`stop ${u}: ${errorText(e)}`));
        if (r && ![202, 204, 404].includes(r.status)) note(`stop ${u}: ${r.status} ${messageOf(r)}`);
    });
    const end = Date.now() + 300_000;
    while (Date.now() < end && existing("containers", containers, containerPrefix).length > 0) await sleep(2000);
    // What the hub did not remove in time goes by force: only these exact names.
    const stuck = existing("containers", containers, containerPrefix);
    if (stuck.length > 0) {
        note(`${stuck.length} containers still there after 300 s, removed by force: ${stuck.join(" ")}`);
        docker(["rm", "-f", ...stuck], { allowFailure: true });
    }
    report.leftContainers = existing("containers", containers, containerPrefix);

    await mapLimit(users, 10, async (u) => {
        const until = Date.now() + 60_000;
        for (;;) {
            const r = await hub("DELETE", `/hub/api/users/${u}`, { token: adminToken, timeoutMs: 60_000 }).catch((e: unknown) => ({ status: 0, body: errorText(e), headers: {} }) as Reply);
            if (r.status === 204) report.hubUsersDeleted++;
            if (r.status === 204 || r.status === 404) return;
            // 400: the server is still stopping.
            if (r.status !== 400 || Date.now() > until) return void note(`delete ${u}: ${r.status} ${messageOf(r)}`);
            await sleep(2000);
        }
    });

    const present = existing("volumes", volumes, volumePrefix);
    if (present.length > 0) docker(["volume", "rm", ...present], { allowFailure: true });
    report.leftVolumes = existing("volumes", volumes, volumePrefix);
    report.volumesRemoved = present.length - report.leftVolumes.length;
    report.seconds = Math.round((Date.now() - started) / 1000);
    return report;
}

// ---------------------------------------------------------------- one run of N users

interface RunResult {
    users: number;
    loggedIn: number;
    firstTryAccepted: number;
    ready: number;
    ok: number;
    successRate: number;
    loginP50S?: number;
    readyP50S?: number;
    readyP95S?: number;
    readyMaxS?: number;
    maxHubRss?: number;
    maxProxyRss?: number;
    maxHubContainer?: number;
    hostUsedBefore: number;
    hostUsedMax: number;
    maxHealthMs?: number;
    healthFailures: number;
    /** Distinct answers to the first spawn request that were not an acceptance, with counts. */
    firstRefusals: Array<{ message: string; count: number }>;
    /** Distinct reasons why users ended without a working server, with counts. */
    failures: Array<{ message: string; count: number }>;
    memoryMethod: string;
    spawnPhaseS: number;
    cleanup: CleanupReport;
    perUser: UserResult[];
    samples: Sample[];
    health: HealthSample[];
}

function percentile(sorted: number[], p: number): number | undefined {
    return sorted.length === 0 ? undefined : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const maxOf = (xs: Array<number | undefined>) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? Math.max(...v) : undefined;
};

/** Groups messages, with the hub's random retry delay ("Try again in 40 seconds") folded together. */
function tally(messages: string[]): Array<{ message: string; count: number }> {
    const counts = new Map<string, number>();
    for (const m of messages) {
        const key = m.replace(/\d+ (seconds|minutes)/, "N $1");
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count);
}

const ensuredInKeycloak = new Set<string>();

async function runOnce(n: number, ctx: { keycloak: KeycloakAdmin; groupId: string; hubContainer: { name: string; id: string }; proxyContainer: { name: string; id: string }; adminToken: string; timeoutS: number; pollS: number; loginConcurrency: number }): Promise<RunResult> {
    const users = Array.from({ length: n }, (_, i) => loadUser(i + 1));
    const missing = users.filter((u) => !ensuredInKeycloak.has(u));
    if (missing.length > 0) {
        log(`Keycloak: ${missing.length} load users in group ${GROUP}`);
        await mapLimit(missing, 8, async (u) => {
            await ctx.keycloak.ensureUser(u, passwordOf(u), ctx.groupId);
            ensuredInKeycloak.add(u);
        });
    }

    const t0 = Date.now();
    const sampler = new Sampler(ctx.hubContainer, ctx.proxyContainer, t0);
    const hostUsedBefore = hostMemory().used;
    sampler.start();
    const results: UserResult[] = users.map((user) => ({ user, attempts: 0, firstAccepted: false, refusalCount: 0, refusals: [], spawnFailures: [], state: "waiting", ok: false }));
    log(`${n} users: logging in through Keycloak (${ctx.loginConcurrency} at a time)`);
    const sessions = await mapLimit(users, ctx.loginConcurrency, async (u, i) => {
        if (aborted) {
            results[i].error = "interrupted before the login";
            return undefined;
        }
        try {
            const s = await logIn(u, passwordOf(u));
            results[i].loginS = s.loginS;
            return s;
        } catch (e) {
            results[i].loginError = errorText(e);
            results[i].state = "login failed";
            results[i].error = `login: ${errorText(e)}`;
            return undefined;
        }
    });
    const loggedIn = sessions.filter((s): s is Session => !!s).length;
    log(`${loggedIn} of ${n} logged in; all of them ask for a server now`);

    // The barrier: every first spawn request leaves in this same tick.
    const spawnStart = Date.now();
    const deadline = spawnStart + ctx.timeoutS * 1000;
    const progress = setInterval(() => {
        const by = (st: UserResult["state"]) => results.filter((r) => r.state === st).length;
        log(`${Math.round((Date.now() - spawnStart) / 1000)} s: ${by("ready")} ready, ${by("pending")} starting, ${by("refused")} refused and waiting, ${by("failed")} failed`);
    }, 15_000);
    await Promise.all(sessions.map((s, i) => (s ? spawnUntilReady(s, results[i], spawnStart, deadline, ctx.pollS * 1000) : undefined)));
    clearInterval(progress);
    const spawnPhaseS = (Date.now() - spawnStart) / 1000;
    await sampler.stop();

    log(`${n} users: cleaning up`);
    const cleaned = await cleanup(users, ctx.adminToken);
    if (cleaned.leftContainers.length || cleaned.leftVolumes.length || cleaned.errors.length) {
        log(`cleanup left ${cleaned.leftContainers.length} containers, ${cleaned.leftVolumes.length} volumes; ${cleaned.errors.slice(0, 3).join("; ")}`);
    }

    const readyTimes = results.map((r) => r.readyS).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    const loginTimes = results.map((r) => r.loginS).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    const ok = results.filter((r) => r.ok).length;
    const samples = sampler.samples;
    return {
        users: n,
        loggedIn,
        firstTryAccepted: results.filter((r) => r.firstAccepted).length,
        ready: readyTimes.length,
        ok,
        successRate: ok / n,
        loginP50S: percentile(loginTimes, 50),
        readyP50S: percentile(readyTimes, 50),
        readyP95S: percentile(readyTimes, 95),
        readyMaxS: readyTimes[readyTimes.length - 1],
        maxHubRss: maxOf(samples.map((s) => s.hubRss)),
        maxProxyRss: maxOf(samples.map((s) => s.proxyRss)),
        maxHubContainer: maxOf(samples.map((s) => s.hubContainer)),
        hostUsedBefore,
        hostUsedMax: Math.max(hostUsedBefore, ...samples.map((s) => s.hostUsed)),
        maxHealthMs: maxOf(sampler.health.map((h) => h.ms)),
        healthFailures: sampler.health.filter((h) => h.error).length,
        firstRefusals: tally(results.filter((r) => r.firstTry && !r.firstAccepted).map((r) => `${r.firstTry!.status} ${r.firstTry!.message}`)),
        failures: tally(results.filter((r) => !r.ok).map((r) => r.error ?? "unknown")),
        memoryMethod: sampler.method,
        spawnPhaseS,
        cleanup: cleaned,
        perUser: results,
        samples,
        health: sampler.health,
    };
}

// ---------------------------------------------------------------- report

const mib = (b?: number) => (b === undefined ? "–" : `${Math.round(b / 2 ** 20)} MiB`);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const secs = (s?: number) => (s === undefined ? "–" : `${s.toFixed(1)} s`);
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ");
const short = (s: string, max = 90) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function tableRow(r: RunResult): string {
    const failures = [...r.firstRefusals.map((f) => `first try: ${f.count}× ${short(f.message)}`), ...r.failures.map((f) => `${f.count}× ${short(f.message)}`)].slice(0, 3);
    return `| ${[
        r.users,
        r.loggedIn,
        r.firstTryAccepted,
        r.ready,
        `${Math.round(r.successRate * 100)} %`,
        secs(r.readyP50S),
        secs(r.readyP95S),
        mib(r.maxHubRss),
        mib(r.maxProxyRss),
        mib(r.maxHubContainer),
        `${gib(r.hostUsedMax)} (+${gib(r.hostUsedMax - r.hostUsedBefore)})`,
        r.maxHealthMs === undefined ? "–" : `${r.maxHealthMs} ms${r.healthFailures ? `, ${r.healthFailures} failed` : ""}`,
        failures.length ? failures.map(cell).join("; ") : "none",
    ].join(" | ")} |`;
}

function report(runs: RunResult[], settings: HubSettings, othersRunning: number, timeoutS: number): string {
    const lines = [
        "",
        `Load on the test stack, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${gib(os.totalmem())}; hub limits: maxActiveServers ${settings.maxActiveServers}, maxConcurrentSpawns ${settings.maxConcurrentSpawns}; ${othersRunning} other servers running at the start. All users ask for a server at once; a refused one retries after Retry-After or 5 s, for ${timeoutS} s at most. Times to ready count from that common start, retries included, over the users that got ready.`,
        "",
        "| users | logged in | first try accepted | eventually ready | success (ready and answering) | p50 to ready | p95 to ready | max hub RSS | max proxy RSS | max hub container | host memory used (max, rise) | slowest /hub/health | first failures |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ...runs.map(tableRow),
        "",
    ];
    for (const r of runs) {
        lines.push(`N = ${r.users}: spawn phase ${r.spawnPhaseS.toFixed(0)} s, login p50 ${secs(r.loginP50S)}, slowest ready ${secs(r.readyMaxS)}; cleanup ${r.cleanup.seconds} s (${r.cleanup.containersFound} server containers found, ${r.cleanup.hubUsersDeleted} hub users deleted, ${r.cleanup.volumesRemoved} volumes removed${r.cleanup.leftContainers.length || r.cleanup.leftVolumes.length ? `; LEFT: ${[...r.cleanup.leftContainers, ...r.cleanup.leftVolumes].join(" ")}` : ""})`);
        for (const f of r.firstRefusals) lines.push(`  - first try refused, ${f.count}×: ${f.message}`);
        for (const f of r.failures) lines.push(`  - no working server, ${f.count}×: ${f.message}`);
    }
    lines.push("", `Memory: ${runs[0]?.memoryMethod ?? "–"}`);
    return lines.join("\n");
}

// ---------------------------------------------------------------- main

function whole(name: string, value: string | undefined, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}\n${USAGE}`);
    return n;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            users: { type: "string", default: "50" },
            json: { type: "string" },
            timeout: { type: "string", default: "600" },
            poll: { type: "string", default: "2" },
            "login-concurrency": { type: "string", default: "10" },
            "max-active": { type: "string" },
            "max-spawns": { type: "string" },
            help: { type: "boolean" },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const counts = (values.users ?? "50").split(",").map((v) => whole("users", v.trim(), 1, MAX_USERS)!);
    const timeoutS = whole("timeout", values.timeout, 30, 3600)!;
    const pollS = whole("poll", values.poll, 1, 60)!;
    const loginConcurrency = whole("login-concurrency", values["login-concurrency"], 1, 100)!;
    const limits: Partial<Record<LimitKey, number>> = {};
    const maxActive = whole("max-active", values["max-active"], 0, 10000);
    const maxSpawns = whole("max-spawns", values["max-spawns"], 1, 1000);
    if (maxActive !== undefined) limits.maxActiveServers = maxActive;
    if (maxSpawns !== undefined) limits.maxConcurrentSpawns = maxSpawns;

    if (!hubTls.ca) throw new Error(`no test certificate at ${path.join(TESTBED_DIR, "tls", "hub.crt")}: bring the test bed up with e2e/setup.sh`);
    if (!(await hubHealthy())) throw new Error(`the hub does not answer ${HUB}/hub/health: deploy the test stack first`);
    const restore = Object.keys(limits).length > 0 ? await setLimits(limits) : undefined;
    const runs: RunResult[] = [];
    let adminSession: Session | undefined;
    try {
        const settings = deployedSettings();
        if (!settings.allowAll && !settings.allowedGroups.map((g) => g.replace(/^\//, "")).includes(GROUP)) {
            throw new Error(`the hub lets in neither everyone nor group ${GROUP} (allowed groups: ${settings.allowedGroups.join(", ") || "none"}); the test stack's config (e2e/testbed/stack.sh) should have allowedGroups [${GROUP}]`);
        }
        const containerRef = (name: string) => ({ name, id: (JSON.parse(docker(["inspect", name]).stdout)[0] as { Id: string }).Id });
        const hubContainer = containerRef(NAMES.hubContainer);
        const proxyContainer = containerRef(NAMES.proxyContainer);
        const keycloak = new KeycloakAdmin();
        const groupId = await keycloak.groupId(GROUP);
        adminSession = await logIn("admin", kc.users.admin.password);
        const listed = await hub("GET", "/hub/api/users?state=active", { token: adminSession.token });
        if (listed.status !== 200) throw new Error(`listing the hub's active users: ${listed.status} ${messageOf(listed)}`);
        const active = JSON.parse(listed.body) as Array<{ name: string; servers?: Record<string, unknown> }>;
        const othersRunning = active.filter((u) => !u.name.startsWith("load-")).reduce((n, u) => n + Object.keys(u.servers ?? {}).length, 0);
        log(`hub: maxActiveServers ${settings.maxActiveServers}, maxConcurrentSpawns ${settings.maxConcurrentSpawns}, ${othersRunning} other servers running`);

        // Leftovers of an interrupted run would answer "already running" and skew the figures.
        const all = Array.from({ length: Math.max(...counts) }, (_, i) => loadUser(i + 1));
        const before = await cleanup(all, adminSession.token);
        if (before.containersFound || before.hubUsersDeleted || before.volumesRemoved) {
            log(`removed leftovers of an earlier run: ${before.containersFound} server containers, ${before.hubUsersDeleted} hub users, ${before.volumesRemoved} home volumes`);
        }
        if (before.leftContainers.length || before.leftVolumes.length) {
            throw new Error(`leftovers of an earlier run could not be removed: ${[...before.leftContainers, ...before.leftVolumes].join(" ")}; ${before.errors.join("; ")}`);
        }

        for (const n of counts) {
            if (aborted) break;
            const run = await runOnce(n, { keycloak, groupId, hubContainer, proxyContainer, adminToken: adminSession.token, timeoutS, pollS, loginConcurrency });
            runs.push(run);
            log(tableRow(run));
            if (values.json) {
                fs.mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
                fs.writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, memTotal: os.totalmem(), hub: settings, othersRunning, timeoutS, pollS, runs }, null, 2));
            }
        }
        console.log(report(runs, settings, othersRunning, timeoutS));
    } finally {
        if (adminSession) {
            await hub("DELETE", `/hub/api/users/admin/tokens/${adminSession.tokenId}`, { token: adminSession.token }).catch(() => undefined);
        }
        await restore?.();
    }
}

main().catch((e) => {
    console.error(errorText(e));
    process.exit(1);
});

// `npm run bench`: the stack against its peers, side by side in one run on the test bed.
// Peers, generated from the same stack config (e2e/bench/peers.ts): docker compose (the
// old setup's way, Debian's docker-compose) and plain docker commands (the floor). Each
// figure is the median of --repeats runs with its min and max, next to its peer's as a
// ratio, with the issue's target. Prints a markdown table and writes it with an SVG chart
// to --out. Restores the test stack's config and leaves the stack deployed, as found.
//
// Usage: node --import tsx e2e/bench/compare.ts [--repeats 3] [--only noop,spawn,memlimit,cold,memory,eval] [--out DIR]
//        (after bash e2e/setup.sh; npm run bench does both)
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { docker, hubRequest, PREFIX, PROJECT_DIR, pulumi, STACK, testbed, waitFor } from "../tests/testbed";
import { KeycloakAdmin, logIn } from "./hubClient";
import { composeFile, declared, dockerRuns, mockConfig } from "./peers";

const SECTIONS = ["noop", "memory", "spawn", "memlimit", "cold", "eval"] as const;
type Section = (typeof SECTIONS)[number];
const { values } = parseArgs({
    options: {
        repeats: { type: "string", default: "3" },
        only: { type: "string", default: SECTIONS.join(",") },
        out: { type: "string", default: path.join(PROJECT_DIR, "bench-results") },
        users: { type: "string", default: "10" },
    },
});
const repeats = Number(values.repeats);
const crowd = Number(values.users);
const only = new Set(values.only!.split(",").map((s) => s.trim()));
const unknown = [...only].filter((s) => !(SECTIONS as readonly string[]).includes(s));
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20 || !Number.isInteger(crowd) || crowd < 2 || crowd > 20 || unknown.length) {
    console.error(`usage: node --import tsx e2e/bench/compare.ts [--repeats 1..20] [--users 2..20] [--only ${SECTIONS.join(",")}] [--out DIR]`);
    process.exit(2);
}
const wants = (s: Section) => only.has(s);

// ---------------------------------------------------------------- measuring

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const now = () => process.hrtime.bigint();

function must(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** Resident memory of a process and all its descendants, from /proc. */
function treeRss(root: number): number {
    const children = new Map<number, number[]>();
    const rss = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            const pid = Number(entry);
            const ppid = Number(fields[1]);
            rss.set(pid, Number(fields[21]) * 4096);
            children.set(ppid, [...(children.get(ppid) ?? []), pid]);
        } catch {
            // gone meanwhile
        }
    }
    let total = 0;
    const todo = [root];
    while (todo.length) {
        const pid = todo.pop()!;
        total += rss.get(pid) ?? 0;
        todo.push(...(children.get(pid) ?? []));
    }
    return total;
}

/** Runs a command to its end: its wall time, and the peak memory of its process tree. */
function measured(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ s: number; peakMiB: number }> {
    return new Promise((resolve, reject) => {
        const t0 = now();
        const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (c) => (out += c));
        child.stderr.on("data", (c) => (out += c));
        let peak = 0;
        const sample = setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 50);
        child.on("error", reject);
        child.on("close", (code) => {
            clearInterval(sample);
            const s = seconds(t0);
            if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}\n${out.slice(-3000)}`));
            else resolve({ s, peakMiB: peak / 2 ** 20 });
        });
    });
}

interface Stat { median: number; min: number; max: number; n: number }
function stat(xs: number[]): Stat {
    const s = [...xs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

interface Row {
    figure: string; ours: string; oursStat?: Stat; peer: string; peerStat?: Stat; unit: string; note?: string;
    /** The issue's target: a ratio to the peer, or a statement checked here. */
    target?: number; targetText?: string;
}
const rows: Row[] = [];
const show = (x: Stat, unit: string, digits = unit === "MiB" ? 0 : 2) =>
    `${x.median.toFixed(digits)} ${unit} (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})`;
function record(row: Row): void {
    rows.push(row);
    const ratio = row.oursStat && row.peerStat ? ` = ${(row.oursStat.median / row.peerStat.median).toFixed(2)}×` : "";
    console.log(`# ${row.figure}: ${row.ours} ${row.oursStat ? show(row.oursStat, row.unit) : ""} | ${row.peer} ${row.peerStat ? show(row.peerStat, row.unit) : ""}${ratio}${row.note ? ` (${row.note})` : ""}`);
}

// ---------------------------------------------------------------- the deployments

const STACK_FILE = path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "pyiron-bench-"));
fs.chmodSync(work, 0o700);
const COMPOSE_PROJECT = "pyiron-bench";

/** Polls every 100 ms (the tests' helper waits a second between tries, too coarse here). */
async function until(what: string, ok: () => Promise<boolean>, timeoutS = 300): Promise<void> {
    const end = Date.now() + timeoutS * 1000;
    while (Date.now() < end) {
        if (await ok().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutS} s waiting for ${what}`);
}

async function hubHealthy(): Promise<void> {
    await until("/hub/health through the front", async () => (await hubRequest("GET", "/hub/health")).status === 200);
}

/** The compose file and the docker commands for the stack config as it is now. */
async function peerFiles(tag: string): Promise<{ compose: string; runs: Array<{ args: string[]; waitHealthy?: string }> }> {
    const { config, secretKeys } = mockConfig(must("pulumi", ["config", "--json", "--show-secrets", "--stack", STACK]));
    const d = await declared(config, secretKeys);
    // One place for the mounted files of every variant (named by content): an unchanged
    // file keeps its path, so compose recreates only what changed.
    const files = path.join(work, "files");
    const dir = path.join(work, tag);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const compose = path.join(dir, "docker-compose.yml");
    fs.writeFileSync(compose, composeFile(d, files), { mode: 0o600 });
    return { compose, runs: dockerRuns(d, files) };
}
const compose = (file: string, args: string[]) => ["-f", file, "-p", COMPOSE_PROJECT, ...args];

/** Containers of the deployment apart from user servers, by name → id. */
function deploymentContainers(): Map<string, string> {
    const out = docker(["ps", "-a", "--filter", `label=org.pyiron-jupyterhub.deployment=${PREFIX}`, "--format", "{{.Names}} {{.ID}} {{.Label \"org.pyiron-jupyterhub.role\"}}"]).stdout;
    return new Map(out.split("\n").filter((l) => l && !l.endsWith(" user-server")).map((l) => l.split(" ").slice(0, 2) as [string, string]));
}
/** User server containers: name → id and start time. */
function userServers(): Map<string, string> {
    const out = docker(["ps", "--filter", `label=org.pyiron-jupyterhub.deployment=${PREFIX}`, "--filter", "label=org.pyiron-jupyterhub.role=user-server", "--format", "{{.Names}} {{.ID}} {{.RunningFor}}"]).stdout;
    const ids = out.split("\n").filter(Boolean).map((l) => l.split(" ")[1]);
    return new Map(ids.map((id) => [id, docker(["inspect", "--format", "{{.Name}} {{.State.StartedAt}}", id]).stdout.trim()]));
}

function removeByDocker(runs: Array<{ args: string[] }>): void {
    const names = runs.filter((r) => r.args[0] === "create").map((r) => r.args[r.args.indexOf("--name") + 1]);
    // Stopped first, within each one's grace period: the user firewall removes its rules
    // on SIGTERM, and `rm --force` would kill it.
    docker(["stop", ...names], { allowFailure: true });
    docker(["rm", "--force", ...names], { allowFailure: true });
    const networks = runs.filter((r) => r.args[0] === "network" && r.args[1] === "create").map((r) => r.args[r.args.length - 1]);
    docker(["network", "rm", ...networks], { allowFailure: true });
}

async function runByDocker(runs: Array<{ args: string[]; waitHealthy?: string }>): Promise<void> {
    for (const r of runs) {
        must("docker", r.args);
        if (r.waitHealthy) {
            const name = r.waitHealthy;
            await until(`${name} healthy`, async () => docker(["inspect", "--format", "{{.State.Health.Status}}", name]).stdout.trim() === "healthy");
        }
    }
}

// ---------------------------------------------------------------- user servers

const BENCH_USERS = Array.from({ length: crowd }, (_, i) => `bench-${String(i + 1).padStart(2, "0")}`);
const kc = testbed.keycloak;
// Test-only passwords, like those of e2e/testbed.json.
const passwordOf = (user: string) => `${user}-pw`;
/** Each bench user's API token on the hub that runs now (a login of its own, through Keycloak). */
const tokens = new Map<string, string>();
let adminToken = "";

async function hubApi(method: string, urlPath: string, body?: unknown, token = adminToken): Promise<{ status: number; body: string }> {
    return hubRequest(method, urlPath, { token, body });
}

/** The bench users in Keycloak's group that the test stack admits, logged in to the hub that runs now. */
async function ensureUsers(): Promise<void> {
    const keycloak = new KeycloakAdmin();
    const group = await keycloak.groupId(kc.groups[0]);
    for (const u of BENCH_USERS) await keycloak.ensureUser(u, passwordOf(u), group);
    adminToken = (await logIn("admin", kc.users.admin.password)).token;
    for (const u of BENCH_USERS) tokens.set(u, (await logIn(u, passwordOf(u))).token);
}

/** Seconds from the spawn request to the user's JupyterLab answering through the front. */
async function spawnUntilLab(user: string): Promise<number> {
    const token = tokens.get(user)!;
    const t0 = now();
    const r = await hubApi("POST", `/hub/api/users/${user}/server`, undefined, token);
    if (![201, 202].includes(r.status)) throw new Error(`spawn ${user}: ${r.status} ${r.body}`);
    await until(`${user}'s JupyterLab`, async () => (await hubApi("GET", `/user/${user}/api/status`, undefined, token)).status === 200);
    return seconds(t0);
}

async function stopAll(users: string[]): Promise<void> {
    await Promise.all(users.map((u) => hubApi("DELETE", `/hub/api/users/${u}/server`)));
    await waitFor("the bench users' servers stopped", async () => {
        for (const u of users) {
            const s = JSON.parse((await hubApi("GET", `/hub/api/users/${u}`)).body).servers?.[""];
            if (s) return undefined;
        }
        return true;
    }, 300);
}

function localGet(port: number, urlPath: string): Promise<number> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: urlPath, timeout: 5000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(0));
    });
}

/** The floor: the same image started with docker run, to its Jupyter server answering. */
async function dockerRunUntilLab(image: string, memLimit: string, cpuLimit: string, i: number): Promise<number> {
    const name = `pyiron-bench-floor-${i}`;
    const token = `bench${i}`;
    const t0 = now();
    must("docker", [
        "run", "--detach", "--rm", "--name", name, "--memory", memLimit, "--cpus", cpuLimit, "--publish", "127.0.0.1::8888",
        image, "/bin/bash", "/usr/local/bin/start.sh", "jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", `--IdentityProvider.token=${token}`,
    ]);
    const port = Number(must("docker", ["port", name, "8888/tcp"]).trim().split("\n")[0].split(":").pop());
    await until(`${name} answering`, async () => (await localGet(port, `/api/status?token=${token}`)) === 200);
    return seconds(t0);
}

// ---------------------------------------------------------------- the sections

function configValue(key: string): string | undefined {
    const r = pulumi(["config", "get", key], { allowFailure: true });
    return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Previews of a TypeScript program that declares nothing, in a stack of its own. */
async function emptyProgramPreviews(): Promise<number[]> {
    const dir = path.join(work, "empty-program");
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-empty", main: "index.ts" }));
    const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "tsconfig.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["index.ts"] }));
    fs.writeFileSync(path.join(dir, "index.ts"), "import * as pulumi from \"@pulumi/pulumi\";\nexport const stack = pulumi.getStack();\n");
    const stack = "bench-empty";
    const inDir = (args: string[]) => spawnSync("pulumi", [...args, "--non-interactive"], { cwd: dir, encoding: "utf8" });
    inDir(["stack", "init", stack]);
    try {
        const times: number[] = [];
        for (let r = 0; r < repeats; r++) {
            const t0 = now();
            const p = inDir(["preview", "--stack", stack]);
            if (p.status !== 0) throw new Error(`preview of the empty program: ${p.stdout}${p.stderr}`);
            times.push(seconds(t0));
        }
        return times;
    } finally {
        inDir(["stack", "rm", "--yes", "--force", stack]);
    }
}

async function noop(): Promise<void> {
    pulumi(["up", "--yes", "--skip-preview"]);
    const preview: number[] = [];
    const up: number[] = [];
    const peakOurs: number[] = [];
    const stackArgs = ["--stack", STACK, "--non-interactive"];
    for (let r = 0; r < repeats; r++) {
        preview.push((await measured("pulumi", ["preview", "--expect-no-changes", ...stackArgs])).s);
        const u = await measured("pulumi", ["up", "--yes", "--expect-no-changes", ...stackArgs]);
        up.push(u.s);
        peakOurs.push(u.peakMiB);
    }
    // The peer on the same containers' config: compose takes over the deployment.
    const { compose: file } = await peerFiles("noop");
    pulumi(["destroy", "--yes", "--skip-preview"]);
    must("docker-compose", compose(file, ["up", "-d"]));
    await hubHealthy();
    const peer: number[] = [];
    const peakPeer: number[] = [];
    for (let r = 0; r < repeats; r++) {
        const c = await measured("docker-compose", compose(file, ["up", "-d"]));
        peer.push(c.s);
        peakPeer.push(c.peakMiB);
    }
    must("docker-compose", compose(file, ["down"]));
    const floor = await emptyProgramPreviews();
    record({ figure: "no-op preview", ours: "`pulumi preview`", oursStat: stat(preview), peer: "compose no-op `up -d`", peerStat: stat(peer), target: 2, unit: "s" });
    record({ figure: "no-op preview, empty program", ours: "`pulumi preview` of a program with no resource", oursStat: stat(floor), peer: "compose no-op `up -d`", peerStat: stat(peer), unit: "s", note: "Pulumi's own floor on this machine: the engine, the Node.js language host and the SDK, no provider" });
    record({ figure: "no-op up", ours: "`pulumi up --yes`", oursStat: stat(up), peer: "compose no-op `up -d`", peerStat: stat(peer), target: 2, unit: "s" });
    if (wants("memory")) {
        record({ figure: "peak memory, no-op", ours: "pulumi with its plugins", oursStat: stat(peakOurs), peer: "docker-compose", peerStat: stat(peakPeer), unit: "MiB" });
    }
    pulumi(["up", "--yes", "--skip-preview"]);
}

async function spawnLatency(): Promise<void> {
    await ensureUsers();
    const image = JSON.parse(must("pulumi", ["config", "get", "images", "--stack", STACK]))[0].image as string;
    const memLimit = configValue("memLimit") ?? "1G";
    const cpuLimit = configValue("cpuLimit") ?? "1";
    const oursOne: number[] = [];
    const oursCrowd: number[] = [];
    const floorOne: number[] = [];
    const floorCrowd: number[] = [];
    for (let r = 0; r < repeats; r++) {
        oursOne.push(await spawnUntilLab(BENCH_USERS[0]));
        await stopAll([BENCH_USERS[0]]);
        oursCrowd.push(...(await Promise.all(BENCH_USERS.map(spawnUntilLab))));
        await stopAll(BENCH_USERS);
        floorOne.push(await dockerRunUntilLab(image, memLimit, cpuLimit, 0));
        docker(["rm", "--force", "pyiron-bench-floor-0"]);
        floorCrowd.push(...(await Promise.all(BENCH_USERS.map((_, i) => dockerRunUntilLab(image, memLimit, cpuLimit, i)))));
        docker(["rm", "--force", ...BENCH_USERS.map((_, i) => `pyiron-bench-floor-${i}`)]);
    }
    record({ figure: "spawn, 1 user", ours: "spawn request → JupyterLab answers", oursStat: stat(oursOne), peer: "`docker run` → Jupyter answers", peerStat: stat(floorOne), target: 1.2, unit: "s" });
    record({ figure: `spawn, ${crowd} at once`, ours: "each user's spawn → JupyterLab", oursStat: stat(oursCrowd), peer: `${crowd} \`docker run\`s at once`, peerStat: stat(floorCrowd), target: 1.2, unit: "s" });
}

async function memLimitChange(): Promise<void> {
    const users = BENCH_USERS.slice(0, 2);
    await ensureUsers();
    const before = configValue("memLimit");
    // Two limits in turn, each a change from the one before.
    const limits = ["1100M", "1200M"];
    const ours: number[] = [];
    const oursCounts: string[] = [];
    const run = async (apply: () => Promise<number>) => {
        for (const u of users) await spawnUntilLab(u);
        const containers = deploymentContainers();
        const servers = userServers();
        const s = await apply();
        const after = deploymentContainers();
        const recreated = [...containers].filter(([name, id]) => after.get(name) !== id).length;
        const still = userServers();
        const interrupted = [...servers].filter(([id, started]) => still.get(id) !== started).length;
        for (const u of users) await waitFor(`${u}'s JupyterLab after the change`, async () => ((await hubApi("GET", `/user/${u}/api/status`, undefined, tokens.get(u))).status === 200 ? true : undefined), 120);
        await stopAll(users);
        return { s, counts: `${recreated} recreated, ${interrupted} of ${servers.size} servers interrupted` };
    };
    try {
        for (let r = 0; r < repeats; r++) {
            pulumi(["config", "set", "memLimit", limits[r % 2]]);
            const { s, counts } = await run(async () => {
                const t0 = now();
                await measured("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive"]);
                await hubHealthy();
                return seconds(t0);
            });
            ours.push(s);
            oursCounts.push(counts);
        }
        // The same change through compose: a new file from the changed config.
        pulumi(["config", "set", "memLimit", limits[1]]);
        const { compose: first } = await peerFiles("memlimit-0");
        pulumi(["destroy", "--yes", "--skip-preview"]);
        must("docker-compose", compose(first, ["up", "-d"]));
        await hubHealthy();
        await ensureUsers();
        const peer: number[] = [];
        const peerCounts: string[] = [];
        for (let r = 0; r < repeats; r++) {
            pulumi(["config", "set", "memLimit", limits[r % 2]]);
            const { compose: file } = await peerFiles(`memlimit-${r + 1}`);
            const { s, counts } = await run(async () => {
                const t0 = now();
                await measured("docker-compose", compose(file, ["up", "-d"]));
                await hubHealthy();
                return seconds(t0);
            });
            peer.push(s);
            peerCounts.push(counts);
        }
        must("docker-compose", compose(path.join(work, `memlimit-${repeats}`, "docker-compose.yml"), ["down"]));
        const exact = oursCounts.every((c) => c.startsWith("1 recreated, 0 of"));
        record({
            figure: "memory limit changed", ours: "`pulumi up`", oursStat: stat(ours), peer: "compose `up -d`", peerStat: stat(peer), unit: "s",
            note: `ours: ${[...new Set(oursCounts)].join("; ")}; compose: ${[...new Set(peerCounts)].join("; ")}`,
            targetText: `1 recreated, 0 interrupted: ${exact ? "met" : "**missed**"}`,
        });
    } finally {
        if (before) pulumi(["config", "set", "memLimit", before]);
        else pulumi(["config", "rm", "memLimit"]);
        pulumi(["up", "--yes", "--skip-preview"]);
    }
}

async function coldDeploy(): Promise<void> {
    const ours: number[] = [];
    for (let r = 0; r < repeats; r++) {
        pulumi(["destroy", "--yes", "--skip-preview"]);
        const t0 = now();
        pulumi(["up", "--yes", "--skip-preview"]);
        await hubHealthy();
        ours.push(seconds(t0));
    }
    const { compose: file, runs } = await peerFiles("cold");
    pulumi(["destroy", "--yes", "--skip-preview"]);
    const peer: number[] = [];
    const floor: number[] = [];
    for (let r = 0; r < repeats; r++) {
        const t0 = now();
        must("docker-compose", compose(file, ["up", "-d"]));
        await hubHealthy();
        peer.push(seconds(t0));
        must("docker-compose", compose(file, ["down"]));
        const t1 = now();
        await runByDocker(runs);
        await hubHealthy();
        floor.push(seconds(t1));
        removeByDocker(runs);
    }
    record({ figure: "cold deploy, images local", ours: "`pulumi up` → /hub/health", oursStat: stat(ours), peer: "compose `up -d` → /hub/health", peerStat: stat(peer), target: 1, unit: "s" });
    record({ figure: "cold deploy, images local", ours: "`pulumi up` → /hub/health", oursStat: stat(ours), peer: "plain docker commands → /hub/health", peerStat: stat(floor), unit: "s" });
    pulumi(["up", "--yes", "--skip-preview"]);
}

async function evaluation(): Promise<void> {
    const { config, secretKeys } = mockConfig(must("pulumi", ["config", "--json", "--show-secrets", "--stack", STACK]));
    const withImages = (n: number) => ({
        ...config,
        "pyiron-jupyterhub:images": JSON.stringify(Array.from({ length: n }, (_, i) => ({ label: `image_${i}`, image: `registry.example.org/bench/image-${i}:1.0` }))),
    });
    const t0 = now();
    await declared(withImages(3), secretKeys);
    const first = seconds(t0);
    for (const n of [3, 30, 50]) {
        const times: number[] = [];
        for (let r = 0; r < Math.max(repeats, 5); r++) {
            const t = now();
            await declared(withImages(n), secretKeys);
            times.push(seconds(t));
        }
        const st = stat(times);
        record({
            figure: `program evaluation, ${n} images`, ours: "the program under mocks", oursStat: st, peer: "—", unit: "s",
            note: n === 3 ? `the first run, with loading the modules: ${first.toFixed(2)} s` : undefined,
            targetText: n === 30 ? `< 1 s: ${st.median < 1 ? "met" : "**missed**"}` : undefined,
        });
    }
    // Past the config's bound the program is never run: the config is refused first.
    const refused = await declared(withImages(300), secretKeys).then(() => "accepted", (e: Error) => e.message.split("\n").find((l) => l.includes("images")) ?? e.message);
    record({ figure: "program evaluation, 300 images", ours: "the program under mocks", peer: "—", unit: "s", note: `refused: ${refused.trim()}` });
}

// ---------------------------------------------------------------- the report

function table(): string {
    const lines = [
        "| figure | ours | median (min–max) | peer | median (min–max) | ratio | target |",
        "|---|---|---|---|---|---|---|",
    ];
    for (const r of rows) {
        const ratio = r.oursStat && r.peerStat ? r.oursStat.median / r.peerStat.median : undefined;
        const target = r.targetText ?? (r.target === undefined ? "—" : `≤ ${r.target}× ${ratio === undefined ? "" : ratio <= r.target ? "met" : "**missed**"}`);
        lines.push(`| ${r.figure} | ${r.ours} | ${r.oursStat ? show(r.oursStat, r.unit) : "—"} | ${r.peer} | ${r.peerStat ? show(r.peerStat, r.unit) : "—"} | ${ratio === undefined ? "—" : `${ratio.toFixed(2)}×`} | ${target} |`);
        if (r.note) lines.push(`| | ${r.note} | | | | | |`);
    }
    return lines.join("\n");
}

/** Ratios as horizontal bars, each with its target as a tick. */
function chart(): string {
    const bars = rows.filter((r) => r.oursStat && r.peerStat);
    const width = 720;
    const left = 260;
    const rowH = 28;
    const max = Math.max(2.5, ...bars.map((r) => r.oursStat!.median / r.peerStat!.median), ...bars.map((r) => r.target ?? 0)) * 1.1;
    const x = (v: number) => left + ((width - left - 20) * v) / max;
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/`/g, "");
    const parts = bars.map((r, i) => {
        const y = 30 + i * rowH;
        const ratio = r.oursStat!.median / r.peerStat!.median;
        const missed = r.target !== undefined && ratio > r.target;
        const tick = r.target === undefined ? "" : `<line x1="${x(r.target)}" x2="${x(r.target)}" y1="${y - 2}" y2="${y + 20}" stroke="#000" stroke-dasharray="3,2"/>`;
        return `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(r.figure)} vs ${esc(r.peer)}</text>` +
            `<rect x="${left}" y="${y}" width="${x(ratio) - left}" height="18" fill="${missed ? "#c0392b" : "#2e86c1"}"/>` +
            `<text x="${x(ratio) + 4}" y="${y + 14}">${ratio.toFixed(2)}×</text>${tick}`;
    });
    const height = 50 + bars.length * rowH;
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width + 200}" height="${height}" font-family="sans-serif" font-size="12">` +
        `<text x="${left}" y="16">time or memory as a multiple of the peer's (dashed: the target; red: missed)</text>` +
        `<line x1="${x(1)}" x2="${x(1)}" y1="24" y2="${height - 10}" stroke="#888"/>${parts.join("")}</svg>\n`;
}

async function main(): Promise<void> {
    const savedStack = fs.readFileSync(STACK_FILE, "utf8");
    const started = new Date();
    try {
        pulumi(["up", "--yes", "--skip-preview"]);
        if (wants("noop") || wants("memory")) await noop(); // memory is sampled during the no-op up
        if (wants("spawn")) await spawnLatency();
        if (wants("memlimit")) await memLimitChange();
        if (wants("cold")) await coldDeploy();
        if (wants("eval")) await evaluation();
    } finally {
        fs.writeFileSync(STACK_FILE, savedStack);
        spawnSync("docker", ["rm", "--force", ...BENCH_USERS.map((_, i) => `pyiron-bench-floor-${i}`)], { stdio: "ignore" });
        for (const dir of fs.readdirSync(work)) {
            const file = path.join(work, dir, "docker-compose.yml");
            if (fs.existsSync(file)) spawnSync("docker-compose", compose(file, ["down"]), { stdio: "ignore" });
        }
        if (adminToken) {
            for (const u of BENCH_USERS) await hubApi("DELETE", `/hub/api/users/${u}`).catch(() => undefined);
        }
        spawnSync("docker", ["volume", "rm", ...BENCH_USERS.map((u) => `${PREFIX}-home-${u}`)], { stdio: "ignore" });
        pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        fs.rmSync(work, { recursive: true, force: true });
    }
    const machine = `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${started.toISOString().slice(0, 10)}`;
    const report = `Machine: ${machine}; ${repeats} repeats; \`npm run bench\`.\n\n${table()}\n`;
    fs.mkdirSync(values.out!, { recursive: true });
    fs.writeFileSync(path.join(values.out!, "bench.md"), report);
    fs.writeFileSync(path.join(values.out!, "bench.svg"), chart());
    fs.writeFileSync(path.join(values.out!, "bench.json"), `${JSON.stringify({ machine, repeats, rows }, null, 2)}\n`);
    console.log(`\n${report}\nwritten: ${path.join(values.out!, "bench.md")}, ${path.join(values.out!, "bench.svg")}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

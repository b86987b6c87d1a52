// One host against a swarm, on the test bed: the same stack deployed twice (the swarm's
// two images both times), and in each the time from a spawn request through the hub's
// API to the hub calling the server ready, for two users one after the other and both at
// once. Also the swarm's start time and its workers' memory. Prints a markdown table;
// restores the test stack's config and takes the swarm down afterwards.
//
// Usage: node --import tsx e2e/bench/swarm.ts [--repeats 3]   (after bash e2e/setup.sh)
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
    closeBrowser, configureSwarmStack, PROJECT_DIR, pulumi, STACK, startServer, stopServer, SWARM, swarmScript, tokenWithoutServer,
} from "../tests/testbed";

const USERS = ["alice", "carol"];
const { values } = parseArgs({ options: { repeats: { type: "string", default: "3" } } });
const repeats = Number(values.repeats);
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20) {
    console.error("usage: node --import tsx e2e/bench/swarm.ts [--repeats N] (1 to 20)");
    process.exit(2);
}

const seconds = (t0: number) => (Date.now() - t0) / 1000;
const summary = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return `${median.toFixed(1)} (${s[0].toFixed(1)}–${s[s.length - 1].toFixed(1)})`;
};

/** Spawn latencies on the deployed stack: each user alone, then both at once. */
async function measure(): Promise<{ alone: number[]; together: number[] }> {
    const tokens: Record<string, string> = {};
    for (const user of USERS) tokens[user] = await tokenWithoutServer(user);
    const alone: number[] = [];
    const together: number[] = [];
    for (let r = 0; r < repeats; r++) {
        for (const user of USERS) {
            const t0 = Date.now();
            await startServer(user, tokens[user]);
            alone.push(seconds(t0));
            await stopServer(user, tokens[user]);
        }
        const t0 = Date.now();
        await Promise.all(USERS.map(async (user) => {
            await startServer(user, tokens[user]);
            together.push(seconds(t0));
        }));
        for (const user of USERS) await stopServer(user, tokens[user]);
    }
    return { alone, together };
}

async function main() {
    const stackFile = path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`);
    const saved = fs.readFileSync(stackFile, "utf8");
    const rows: string[] = [];
    let swarmUp = "";
    let workerMemory = "";
    try {
        for (const mode of ["one host", "swarm (2 workers)"] as const) {
            const swarm = mode !== "one host";
            if (swarm) {
                const t0 = Date.now();
                const log = swarmScript(["up", ...SWARM.images.map(([, image]) => image)]);
                swarmUp = `${seconds(t0).toFixed(1)} s`;
                const rss = [...log.matchAll(/RSS (\d+) \+ containerd (\d+) kB/g)].map((m) => (Number(m[1]) + Number(m[2])) / 1024);
                workerMemory = rss.map((mb) => `${mb.toFixed(0)} MiB`).join(", ");
            }
            configureSwarmStack(swarm);
            const t0 = Date.now();
            pulumi(["up", "--yes", "--skip-preview"]);
            const deploy = seconds(t0);
            const { alone, together } = await measure();
            rows.push(`| ${mode} | ${deploy.toFixed(0)} | ${summary(alone)} | ${summary(together)} | ${alone.length} + ${together.length} |`);
            pulumi(["destroy", "--yes", "--skip-preview"]);
        }
    } finally {
        await closeBrowser();
        pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        fs.writeFileSync(stackFile, saved);
        swarmScript(["down"]);
    }
    console.log(`\nswarm.sh up: ${swarmUp}; workers' dockerd + containerd: ${workerMemory}\n`);
    console.log("| deployment | pulumi up, s | spawn alone, s: median (min–max) | spawn of two at once, s | spawns |");
    console.log("|---|---|---|---|---|");
    for (const row of rows) console.log(row);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

// User servers spread over a real multi-node Docker Swarm: the host's engine is the
// manager (the hub, its database, the proxy and the front run there), and two workers are
// dockerd instances in network namespaces of their own (e2e/testbed/swarm.sh). Homes live
// in a directory every node mounts at the same path, as an NFS export would be.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import {
    closeBrowser, configureSwarmStack, docker, hubRequest, PREFIX, PROJECT_DIR, pulumi, previewSteps, runInKernel, serverFor,
    STACK, startServer, step, stopServer, SWARM, swarmScript, tokenWithoutServer, upChanges, waitFor,
} from "./testbed";

const STORAGE = SWARM.storage;
const STACK_FILE = path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`);
const USERS = ["alice", "carol"];
const service = (user: string) => `${PREFIX}-user-${user}`;
// An image the swarm's nodes have; without it, the hub would reuse a user's last choice
// from an earlier suite, which may be an image this stack no longer offers.
const IMAGE = { image: SWARM.images[0][0] };

const state: { tokens: Record<string, string>; stackFile?: string; tasks?: Record<string, string>; spawnSeconds: number[] } = { tokens: {}, spawnSeconds: [] };

/** The swarm's view of a user's server: its running task, on which node, in which container. */
function task(user: string): { id: string; node: string; container: string } | undefined {
    const r = docker(["service", "ps", service(user), "--filter", "desired-state=running", "--format", "{{.ID}} {{.Node}} {{.CurrentState}}"], { allowFailure: true });
    const line = r.stdout.split("\n").find((l) => / Running /.test(l));
    if (!line) return undefined;
    const [id, node] = line.split(" ");
    const container = JSON.parse(docker(["inspect", id]).stdout)[0].Status.ContainerStatus.ContainerID as string;
    return { id, node, container };
}

/** The docker CLI on a worker's own engine. */
function onNode(node: string, args: string[]) {
    return docker(["-H", `unix:///run/pyiron-swarm/${node}.sock`, ...args]);
}

async function labAnswers(user: string): Promise<boolean> {
    const r = await hubRequest("GET", `/user/${user}/api/status`, { token: state.tokens[user] });
    return r.status === 200;
}

describe("user servers on a Docker Swarm of three nodes", { concurrency: 1 }, () => {
    before(() => {
        const started = Date.now();
        const up = swarmScript(["up", ...SWARM.images.map(([, image]) => image)]);
        console.log(`${up}\nswarm up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        // The stack's own config comes back as it was when the suite ends.
        state.stackFile = fs.readFileSync(STACK_FILE, "utf8");
        // On one host first (whatever an earlier suite left), with the swarm's images.
        configureSwarmStack(false);
        // The limits step 2 checks and step 4 changes, whatever an earlier suite set.
        pulumi(["config", "set", "memLimit", "1G"]);
        pulumi(["up", "--yes", "--skip-preview"]);
    });

    after(async () => {
        await closeBrowser();
        pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        if (state.stackFile !== undefined) fs.writeFileSync(STACK_FILE, state.stackFile);
        console.log(swarmScript(["down"]));
        fs.rmSync(STORAGE, { recursive: true, force: true });
    });

    step("0. a one-host stack with a running server switches to the swarm", async () => {
        const token = await tokenWithoutServer("carol");
        await startServer("carol", token, IMAGE);
        assert.equal(docker(["inspect", "--format", "{{.State.Running}}", service("carol")]).stdout.trim(), "true");
        configureSwarmStack(true);
        // The users network becomes an overlay: the running server is stopped first (its
        // home stays), or Docker would refuse to remove the old network.
        pulumi(["up", "--yes", "--skip-preview"]);
        assert.notEqual(docker(["inspect", service("carol")], { allowFailure: true }).status, 0, "the one-host server container is gone");
        await waitFor("the hub to see carol's server stopped", async () => {
            const u = JSON.parse((await hubRequest("GET", "/hub/api/users/carol", { token })).body);
            return u.servers?.[""] ? undefined : true;
        }, 120);
    });

    step("1. users logged in through the browser get servers on different nodes", async () => {
        for (const user of USERS) {
            const t0 = Date.now();
            state.tokens[user] = await serverFor(user, IMAGE);
            state.spawnSeconds.push((Date.now() - t0) / 1000);
        }
        const nodes = Object.fromEntries(USERS.map((u) => [u, task(u)?.node]));
        console.log(`servers on nodes: ${JSON.stringify(nodes)}; login and spawn took ${state.spawnSeconds.map((s) => s.toFixed(1)).join(", ")} s`);
        console.log(docker(["service", "ps", service("alice"), service("carol")]).stdout);
        for (const node of Object.values(nodes)) assert.match(String(node), /^w[12]$/, "a worker, not the manager");
        assert.notEqual(nodes.alice, nodes.carol);
    });

    step("2. each server has its limits and reaches the hub over the overlay", async () => {
        for (const user of USERS) {
            const spec = JSON.parse(docker(["service", "inspect", service(user)]).stdout)[0].Spec;
            assert.deepEqual(spec.TaskTemplate.Resources.Limits, { MemoryBytes: 1024 ** 3, NanoCPUs: 500_000_000, Pids: 2048 });
            assert.equal(spec.EndpointSpec.Mode, "dnsrr");
            assert.equal(spec.Labels["org.pyiron-jupyterhub.role"], "user-server");
            const t = task(user)!;
            const host = JSON.parse(onNode(t.node, ["inspect", t.container]).stdout)[0].HostConfig;
            assert.equal(host.Memory, 1024 ** 3);
            assert.equal(host.NanoCpus, 500_000_000);
            assert.equal(host.PidsLimit, 2048);
            assert.deepEqual(host.CapDrop, ["ALL"]);
            assert.equal(host.Init, true);
            // The server registered with the hub (by the hub's name, over the overlay), and
            // the proxy on the manager reaches it.
            assert.ok(await labAnswers(user), `${user}'s JupyterLab answers through the proxy`);
            const hubApi = await runInKernel(user, state.tokens[user], [
                "import os, urllib.request",
                "print('HUB', urllib.request.urlopen(os.environ['JUPYTERHUB_API_URL'], timeout=10).status)",
            ].join("\n"));
            assert.match(hubApi, /HUB 200/);
        }
    });

    step("3. a user's file survives a stop and a respawn, wherever the server lands", async () => {
        const token = state.tokens.alice;
        const wrote = await runInKernel("alice", token, "open('/home/jovyan/kept.txt', 'w').write('swarm-home'); print('WROTE')");
        assert.match(wrote, /WROTE/);
        // The home is a directory of the storage every node mounts, owned by jovyan.
        const home = path.join(STORAGE, `${PREFIX}-home-alice`);
        assert.equal(fs.readFileSync(path.join(home, "kept.txt"), "utf8"), "swarm-home");
        assert.equal(fs.statSync(home).uid, 1000);
        const before = task("alice")!.node;
        await stopServer("alice", token);
        assert.equal(docker(["service", "ls", "-q", "--filter", `name=${service("alice")}`]).stdout.trim(), "", "the service is gone");
        await startServer("alice", token, IMAGE);
        const after = task("alice")!.node;
        const read = await runInKernel("alice", token, "print('READ', open('/home/jovyan/kept.txt').read())");
        assert.match(read, /READ swarm-home/);
        console.log(`alice's server: ${before} before the stop, ${after} after the respawn`);
    });

    step("4. a changed limit replaces only the hub; running user services keep running", async () => {
        state.tasks = Object.fromEntries(USERS.map((u) => [u, task(u)!.container]));
        pulumi(["config", "set", "memLimit", "1536M"]);
        const planned = previewSteps().filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`).sort();
        assert.deepEqual(planned, ["replace hub-container", "update hub-config-check"]);
        const changes = upChanges();
        assert.equal(changes.replace, 1, JSON.stringify(changes));
        for (const user of USERS) {
            assert.equal(task(user)?.container, state.tasks[user], `${user}'s server was not restarted`);
            await waitFor(`${user}'s JupyterLab through the new hub`, async () => ((await labAnswers(user)) ? true : undefined), 120);
        }
    });

    step("5. draining a worker moves its user's server to the other node, with the user's files", async () => {
        const from = task("alice")!;
        docker(["node", "update", "--availability", "drain", from.node]);
        try {
            const moved = await waitFor("alice's server on another node", async () => {
                const t = task("alice");
                return t && t.node !== from.node ? t : undefined;
            }, 180);
            await waitFor("alice's JupyterLab after the move", async () => ((await labAnswers("alice")) ? true : undefined), 180);
            const read = await runInKernel("alice", state.tokens.alice, "print('READ', open('/home/jovyan/kept.txt').read())");
            assert.match(read, /READ swarm-home/);
            // The hub still counts it as running: the move is the swarm's, not a new spawn.
            const server = JSON.parse((await hubRequest("GET", "/hub/api/users/alice", { token: state.tokens.alice })).body).servers[""];
            assert.equal(server.ready, true);
            console.log(`alice's server moved from ${from.node} to ${moved.node}`);
        } finally {
            docker(["node", "update", "--availability", "active", from.node]);
        }
    });

    step("6. destroy removes the hub, the database and every user service, and keeps the users' files", async () => {
        pulumi(["destroy", "--yes", "--skip-preview"]);
        const left = docker(["service", "ls", "--filter", `label=org.pyiron-jupyterhub.deployment=${PREFIX}`, "-q"]).stdout.trim();
        assert.equal(left, "", "no service of the deployment is left");
        for (const name of ["hub", "postgres", "proxy"]) {
            assert.notEqual(docker(["inspect", `${PREFIX}-${name}`], { allowFailure: true }).status, 0, `${name} is gone`);
        }
        for (const volume of [`${PREFIX}-hub-data`, `${PREFIX}-postgres-data`]) {
            assert.equal(docker(["volume", "inspect", volume], { allowFailure: true }).status, 0, `${volume} is kept`);
        }
        assert.equal(fs.readFileSync(path.join(STORAGE, `${PREFIX}-home-alice`, "kept.txt"), "utf8"), "swarm-home");
        assert.ok(fs.existsSync(path.join(STORAGE, `${PREFIX}-home-carol`)));
    });
});

// The destroy-time cleanup against a fake Docker Engine API on a local socket: it must
// remove exactly this deployment's user servers, and never a volume.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { cleanupProvider, UserServerCleanupInputs } from "../../components/userServerCleanup";
import { labelFilters, ROLES } from "../../components/names";

interface FakeContainer { Id: string; Labels: Record<string, string> }
interface FakeService { ID: string; Spec: { Labels: Record<string, string> } }

/**
 * The Engine API calls the cleanup makes, over a unix socket, with a call log. Without
 * services, the engine is in no swarm and answers 503 for them, as Docker does.
 */
function fakeDocker(containers: FakeContainer[], services?: FakeService[]) {
    const calls: string[] = [];
    const matches = (labels: Record<string, string>, url: URL) => {
        const wanted: string[] = JSON.parse(url.searchParams.get("filters") ?? "{}").label ?? [];
        return wanted.every((f) => labels[f.split("=")[0]] === f.split("=")[1]);
    };
    const server = http.createServer((req, res) => {
        calls.push(`${req.method} ${req.url}`);
        const url = new URL(req.url!, "http://docker");
        if (req.method === "GET" && url.pathname === "/containers/json") {
            const hits = containers.filter((c) => matches(c.Labels, url));
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(hits));
        } else if (req.method === "DELETE" && url.pathname.startsWith("/containers/")) {
            const id = url.pathname.split("/")[2];
            const i = containers.findIndex((c) => c.Id === id);
            if (i < 0) return void res.writeHead(404).end("no such container");
            containers.splice(i, 1);
            res.writeHead(204).end();
        } else if (url.pathname.startsWith("/services") && services === undefined) {
            res.writeHead(503).end("This node is not a swarm manager.");
        } else if (req.method === "GET" && url.pathname === "/services") {
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(services!.filter((s) => matches(s.Spec.Labels, url))));
        } else if (req.method === "DELETE" && url.pathname.startsWith("/services/")) {
            const i = services!.findIndex((s) => s.ID === url.pathname.split("/")[2]);
            if (i < 0) return void res.writeHead(404).end("no such service");
            services!.splice(i, 1);
            res.writeHead(200).end();
        } else {
            res.writeHead(500).end(`unexpected call ${req.method} ${req.url}`);
        }
    });
    return { server, calls, containers, services };
}

const labels = (prefix: string, role: string) => Object.fromEntries(labelFilters(prefix, role).map((f) => f.split("=")));
const inputs: UserServerCleanupInputs = { namePrefix: "pyiron-hub", labels: labelFilters("pyiron-hub", ROLES.userServer) };

describe("user server cleanup on destroy", () => {
    const socket = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-")), "docker.sock");
    const docker = fakeDocker([
        { Id: "alice", Labels: labels("pyiron-hub", ROLES.userServer) },
        { Id: "bob", Labels: labels("pyiron-hub", ROLES.userServer) },
        { Id: "hub", Labels: labels("pyiron-hub", ROLES.hub) },
        { Id: "other-deployment-carol", Labels: labels("other", ROLES.userServer) },
        { Id: "unlabelled", Labels: {} },
    ]);
    const saved = process.env.DOCKER_HOST;
    before(() => new Promise<void>((r) => docker.server.listen(socket, r)));
    after(() => {
        process.env.DOCKER_HOST = saved;
        if (saved === undefined) delete process.env.DOCKER_HOST;
        docker.server.close();
    });

    it("removes this deployment's user servers, forced, and keeps their volumes", async () => {
        process.env.DOCKER_HOST = `unix://${socket}`;
        await cleanupProvider.delete!("id", inputs);
        assert.deepEqual(docker.containers.map((c) => c.Id).sort(), ["hub", "other-deployment-carol", "unlabelled"]);
        const deletes = docker.calls.filter((c) => c.startsWith("DELETE"));
        assert.deepEqual(deletes.sort(), ["DELETE /containers/alice?force=1", "DELETE /containers/bob?force=1"]);
        assert.ok(deletes.every((c) => !/[?&]v=/.test(c)), "no volume is removed");
    });

    it("succeeds when nothing is left to remove", async () => {
        process.env.DOCKER_HOST = `unix://${socket}`;
        await cleanupProvider.delete!("id", inputs);
    });

    it("removes this deployment's user services on a swarm, and nothing else", async () => {
        const swarmSocket = path.join(path.dirname(socket), "swarm.sock");
        const swarm = fakeDocker([], [
            { ID: "alice", Spec: { Labels: labels("pyiron-hub", ROLES.userServer) } },
            { ID: "image-holder", Spec: { Labels: labels("pyiron-hub", ROLES.swarmImage) } },
            { ID: "other-deployment-carol", Spec: { Labels: labels("other", ROLES.userServer) } },
        ]);
        await new Promise<void>((r) => swarm.server.listen(swarmSocket, r));
        try {
            process.env.DOCKER_HOST = `unix://${swarmSocket}`;
            await cleanupProvider.delete!("id", inputs);
            assert.deepEqual(swarm.services!.map((s) => s.ID).sort(), ["image-holder", "other-deployment-carol"]);
        } finally {
            swarm.server.close();
        }
    });

    it("is replaced, so it stops the servers first, when a stack switches between one host and a swarm, and only then", async () => {
        const before = { namePrefix: "pyiron-hub", labels: inputs.labels };
        // State written before the swarm input existed: one host, no change.
        assert.deepEqual(await cleanupProvider.diff!("id", before, { ...before, swarm: false }), { changes: false, replaces: [] });
        const toSwarm = await cleanupProvider.diff!("id", before, { ...before, swarm: true });
        assert.equal(toSwarm.changes, true);
        assert.ok((toSwarm.replaces ?? []).length > 0, "replaced: its delete removes the servers before the network goes");
        const back = await cleanupProvider.diff!("id", { ...before, swarm: true }, { ...before, swarm: false });
        assert.ok((back.replaces ?? []).length > 0);
        // A new users network (its id unknown until it exists) replaces it; the same one does not.
        const onNetwork = { ...before, swarm: false, network: "net-1" };
        assert.ok(((await cleanupProvider.diff!("id", onNetwork, { ...onNetwork, network: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).replaces ?? []).length > 0);
        assert.equal((await cleanupProvider.diff!("id", onNetwork, { ...onNetwork })).changes, false);
        // State without the network's id: no change.
        assert.equal((await cleanupProvider.diff!("id", before, onNetwork)).changes, false);
    });

    it("names the command to run by hand when the engine is not on a local socket", async () => {
        process.env.DOCKER_HOST = "tcp://127.0.0.1:2375";
        await assert.rejects(cleanupProvider.delete!("id", inputs), /docker rm -f \$\(docker ps -aq --filter label=org\.pyiron-jupyterhub\.deployment=pyiron-hub --filter label=org\.pyiron-jupyterhub\.role=user-server\)/);
    });
});

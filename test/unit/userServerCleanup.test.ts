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

/** The two Engine API calls the cleanup makes, over a unix socket, with a call log. */
function fakeDocker(containers: FakeContainer[]) {
    const calls: string[] = [];
    const server = http.createServer((req, res) => {
        calls.push(`${req.method} ${req.url}`);
        const url = new URL(req.url!, "http://docker");
        if (req.method === "GET" && url.pathname === "/containers/json") {
            const wanted: string[] = JSON.parse(url.searchParams.get("filters") ?? "{}").label ?? [];
            const hits = containers.filter((c) => wanted.every((f) => c.Labels[f.split("=")[0]] === f.split("=")[1]));
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(hits));
        } else if (req.method === "DELETE" && url.pathname.startsWith("/containers/")) {
            const id = url.pathname.split("/")[2];
            const i = containers.findIndex((c) => c.Id === id);
            if (i < 0) return void res.writeHead(404).end("no such container");
            containers.splice(i, 1);
            res.writeHead(204).end();
        } else {
            res.writeHead(500).end(`unexpected call ${req.method} ${req.url}`);
        }
    });
    return { server, calls, containers };
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

    it("names the command to run by hand when the engine is not on a local socket", async () => {
        process.env.DOCKER_HOST = "tcp://127.0.0.1:2375";
        await assert.rejects(cleanupProvider.delete!("id", inputs), /docker rm -f \$\(docker ps -aq --filter label=org\.pyiron-jupyterhub\.deployment=pyiron-hub --filter label=org\.pyiron-jupyterhub\.role=user-server\)/);
    });
});

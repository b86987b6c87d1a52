// The swarm's image services against a fake Docker Engine API on a local socket: one
// global, bounded service per image on the allowed nodes, `pulumi up` held until every
// node runs each, and a node that cannot get an image named.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { labelMap, ROLES } from "../../components/names";
import { SwarmImagesInputs, swarmImagesProvider } from "../../components/swarmImages";

interface Service { ID: string; Spec: any }

/** A manager with two nodes: each service gets a task per node, running after `polls` task lists. */
function fakeManager(opts: { missingOn?: string; polls?: number } = {}) {
    const services: Service[] = [];
    const seen: Record<string, number> = {};
    const server = http.createServer((req, res) => {
        const url = new URL(req.url!, "http://docker");
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
            if (req.method === "POST" && url.pathname === "/services/create") {
                const spec = JSON.parse(body);
                const ID = `svc-${services.length + 1}`;
                services.push({ ID, Spec: spec });
                return json(201, { ID });
            }
            if (req.method === "GET" && url.pathname === "/services") {
                const wanted: string[] = JSON.parse(url.searchParams.get("filters") ?? "{}").label ?? [];
                return json(200, services.filter((s) => wanted.every((f) => s.Spec.Labels[f.split("=")[0]] === f.split("=")[1])));
            }
            if (req.method === "DELETE" && url.pathname.startsWith("/services/")) {
                const i = services.findIndex((s) => s.ID === url.pathname.split("/")[2]);
                if (i >= 0) services.splice(i, 1);
                return json(i >= 0 ? 200 : 404, {});
            }
            if (req.method === "GET" && url.pathname === "/tasks") {
                const id: string = JSON.parse(url.searchParams.get("filters")!).service[0];
                const service = services.find((s) => s.ID === id)!;
                seen[id] = (seen[id] ?? 0) + 1;
                const ready = seen[id] > (opts.polls ?? 1);
                return json(200, ["n1", "n2"].map((node) => {
                    const missing = opts.missingOn === node && service.Spec.TaskTemplate.ContainerSpec.Image.startsWith("pyiron/md");
                    const state = missing ? "rejected" : ready ? "running" : "preparing";
                    return { NodeID: node, DesiredState: "running", Status: { State: state, ...(missing ? { Err: "No such image: pyiron/md:2025-11-24" } : {}) } };
                }));
            }
            if (req.method === "GET" && url.pathname.startsWith("/nodes/")) {
                return json(200, { Description: { Hostname: { n1: "w1", n2: "w2" }[url.pathname.split("/")[2]] } });
            }
            json(500, { message: `unexpected ${req.method} ${req.url}` });
        });
    });
    return { server, services };
}

const IMAGES = [{ label: "pyiron_base", image: "pyiron/base:2025-11-24" }, { label: "pyiron_md", image: "pyiron/md:2025-11-24" }];

describe("every user image on every allowed swarm node", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-manager-"));
    const servers: http.Server[] = [];
    const start = async (name: string, opts: Parameters<typeof fakeManager>[0] = {}) => {
        const fake = fakeManager(opts);
        const socket = path.join(dir, `${name}.sock`);
        await new Promise<void>((r) => fake.server.listen(socket, r));
        servers.push(fake.server);
        const inputs: SwarmImagesInputs = {
            namePrefix: "pyiron-hub",
            images: IMAGES,
            constraints: ["node.role==worker"],
            labels: labelMap("pyiron-hub", ROLES.swarmImage),
            dockerHost: `unix://${socket}`,
            timeout: 20,
        };
        return { ...fake, inputs };
    };
    after(() => servers.forEach((s) => s.close()));

    it("creates one global, bounded service per image on the allowed nodes, and returns once every node runs each", async () => {
        const m = await start("ok", { polls: 2 });
        await swarmImagesProvider.create!(m.inputs);
        assert.equal(m.services.length, 2);
        for (const [i, s] of m.services.entries()) {
            assert.deepEqual(s.Spec.Mode, { Global: {} });
            assert.equal(s.Spec.TaskTemplate.ContainerSpec.Image, IMAGES[i].image);
            assert.deepEqual(s.Spec.TaskTemplate.ContainerSpec.Command, ["sleep", "infinity"]);
            assert.deepEqual(s.Spec.TaskTemplate.Placement.Constraints, ["node.role==worker"]);
            assert.deepEqual(s.Spec.TaskTemplate.Resources.Limits, { MemoryBytes: 32 * 1024 ** 2, NanoCPUs: 10_000_000, Pids: 16 });
            assert.equal(s.Spec.Labels["org.pyiron-jupyterhub.role"], "swarm-image");
            assert.match(s.Spec.Name, /^pyiron-hub-image-[0-9a-f]{10}$/);
        }
    });

    it("replaces its services on an update, and removes them on destroy", async () => {
        const m = await start("update");
        await swarmImagesProvider.create!(m.inputs);
        await swarmImagesProvider.update!("id", m.inputs, { ...m.inputs, images: [IMAGES[0]] });
        assert.deepEqual(m.services.map((s) => s.Spec.TaskTemplate.ContainerSpec.Image), [IMAGES[0].image]);
        await swarmImagesProvider.delete!("id", m.inputs);
        assert.equal(m.services.length, 0);
    });

    it("names the node that cannot get an image, and leaves no service behind", async () => {
        const m = await start("missing", { missingOn: "n2" });
        await assert.rejects(swarmImagesProvider.create!(m.inputs), /the image pyiron\/md:2025-11-24 \(pyiron_md\) could not run on the swarm node w2 \(not there, and not pulled\?\): No such image/);
        assert.equal(m.services.length, 0);
    });
});

import * as pulumi from "@pulumi/pulumi";
import { labelMap, ROLES } from "./names";

// On a swarm, a user server may land on any node the placement allows, and a first
// spawn there must not wait for a multi-GB pull (or fail on a node that cannot pull).
// So each image gets a global service of one sleeping, bounded container per node: the
// swarm makes every such node pull the image at `pulumi up`, which waits until all of
// them run it, and a node that joins later pulls it at once. While they run, no prune
// removes the images. Created through the Engine API itself: Pulumi's swarm service
// resource asks a registry for the image's digest, which a local image does not have.

/** @internal exported for tests */
export interface SwarmImagesInputs {
    namePrefix: string;
    images: Array<{ label: string; image: string }>;
    /** Placement constraints of user servers: the nodes that need the images. */
    constraints: string[];
    labels: Record<string, string>;
    /** The Docker engine of the stack: the swarm's manager. */
    dockerHost: string;
    /** Seconds to wait for every node to hold every image. */
    timeout: number;
}

/** Creates the image services anew and waits until every allowed node runs each. Uses only Node's own modules. */
async function placeImages(olds: SwarmImagesInputs | undefined, news: SwarmImagesInputs): Promise<void> {
    const http = require("http");
    const crypto = require("crypto");
    const engine = news.dockerHost;
    if (!engine.startsWith("unix://")) {
        throw new Error(`cannot reach the swarm's manager at ${engine} (only a local socket is supported) to put the user images on every node`);
    }
    const socketPath = engine.slice("unix://".length);
    const call = (method: string, p: string, body?: unknown) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
            const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
            const req = http.request({ socketPath, path: p, method, headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {} }, (res: any) => {
                let text = "";
                res.on("data", (c: string) => (text += c));
                res.on("end", () => resolve({ status: res.statusCode, body: text }));
            });
            req.on("error", reject);
            if (data) req.write(data);
            req.end();
        });
    const remove = async (labels: Record<string, string>) => {
        const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }));
        const list = await call("GET", `/services?filters=${filters}`);
        if (list.status !== 200) throw new Error(`listing the image services failed (${list.status}): ${list.body}`);
        for (const s of JSON.parse(list.body) as Array<{ ID: string }>) {
            const rm = await call("DELETE", `/services/${s.ID}`);
            if (rm.status !== 200 && rm.status !== 404) throw new Error(`removing image service ${s.ID} failed (${rm.status}): ${rm.body}`);
        }
    };
    // The old set (and what an interrupted run left) goes first.
    await remove(news.labels);
    if (olds !== undefined && JSON.stringify(olds.labels) !== JSON.stringify(news.labels)) await remove(olds.labels);
    const services = [];
    for (const { label, image } of news.images) {
        const name = `${news.namePrefix}-image-${crypto.createHash("sha256").update(label).digest("hex").slice(0, 10)}`;
        const created = await call("POST", "/services/create", {
            Name: name,
            Labels: { ...news.labels, "org.pyiron-jupyterhub.image-label": label },
            TaskTemplate: {
                ContainerSpec: { Image: image, Command: ["sleep", "infinity"], Init: true, CapabilityDrop: ["ALL"] },
                Resources: { Limits: { MemoryBytes: 32 * 1024 ** 2, NanoCPUs: 10_000_000, Pids: 16 } },
                Placement: { Constraints: news.constraints },
                RestartPolicy: { Condition: "on-failure", Delay: 10_000_000_000 },
            },
            Mode: { Global: {} },
        });
        if (created.status !== 201) throw new Error(`creating the image service for ${image} failed (${created.status}): ${created.body}`);
        services.push({ label, image, id: JSON.parse(created.body).ID as string });
    }
    // Every node the placement allows runs each image, or the first that cannot is named.
    const started = Date.now();
    const deadline = started + news.timeout * 1000;
    const nodeName = async (id: string) => {
        const n = await call("GET", `/nodes/${id}`);
        return n.status === 200 ? JSON.parse(n.body).Description?.Hostname ?? id : id;
    };
    let waiting = services;
    while (waiting.length > 0) {
        const still = [];
        for (const s of waiting) {
            const filters = encodeURIComponent(JSON.stringify({ service: [s.id] }));
            const tasks = await call("GET", `/tasks?filters=${filters}`);
            const list = tasks.status === 200 ? (JSON.parse(tasks.body) as Array<{ NodeID: string; DesiredState: string; Status: { State: string; Err?: string } }>) : [];
            const failed = list.find((t) => ["rejected", "failed"].includes(t.Status.State));
            if (failed) {
                await remove(news.labels);
                throw new Error(
                    `the image ${s.image} (${s.label}) could not run on the swarm node ${await nodeName(failed.NodeID)} (not there, and not pulled?): ${failed.Status.Err ?? failed.Status.State}. ` +
                        "Every node that swarm.placement allows needs each image: push it to a registry the nodes reach, or load it on that node (docker save, then docker load there), then run pulumi up again.",
                );
            }
            if (list.length === 0 && Date.now() - started > 30_000) {
                await remove(news.labels);
                throw new Error(`no swarm node matches swarm.placement (${JSON.stringify(news.constraints)}): no node got a task for ${s.image} in 30 s. Check the nodes' roles and labels (docker node ls), or the constraints`);
            }
            const wanted = list.filter((t) => t.DesiredState === "running");
            if (wanted.length === 0 || wanted.some((t) => t.Status.State !== "running")) still.push(s);
        }
        waiting = still;
        if (waiting.length === 0) break;
        if (Date.now() > deadline) {
            await remove(news.labels);
            throw new Error(
                `the images ${waiting.map((s) => s.image).join(", ")} did not reach every swarm node in ${news.timeout} s ` +
                    "(no node matches swarm.placement, or a pull is slow: see docker service ps on the manager); nothing else was changed",
            );
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/**
 * Serialized into the dynamic provider process: it uses only its inputs and Node's own modules.
 * @internal exported for tests
 */
export const swarmImagesProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: SwarmImagesInputs) {
        await placeImages(undefined, inputs);
        return { id: `${inputs.namePrefix}-images-on-nodes`, outs: inputs };
    },
    async diff(_id: string, olds: SwarmImagesInputs, news: SwarmImagesInputs) {
        const key = (i: SwarmImagesInputs) => JSON.stringify([i.namePrefix, i.images, i.constraints, i.labels, i.dockerHost]);
        return { changes: key(olds) !== key(news) };
    },
    async update(_id: string, olds: SwarmImagesInputs, news: SwarmImagesInputs) {
        await placeImages(olds, news);
        return { outs: news };
    },
    async delete(_id: string, props: SwarmImagesInputs) {
        const http = require("http");
        if (!props.dockerHost.startsWith("unix://")) return;
        const socketPath = props.dockerHost.slice("unix://".length);
        const call = (method: string, p: string) =>
            new Promise<{ status: number; body: string }>((resolve, reject) => {
                const req = http.request({ socketPath, path: p, method }, (res: any) => {
                    let text = "";
                    res.on("data", (c: string) => (text += c));
                    res.on("end", () => resolve({ status: res.statusCode, body: text }));
                });
                req.on("error", reject);
                req.end();
            });
        const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(props.labels).map(([k, v]) => `${k}=${v}`) }));
        const list = await call("GET", `/services?filters=${filters}`);
        // Images stay on the nodes, as on one host: pulling them again costs more than their disk.
        for (const s of list.status === 200 ? (JSON.parse(list.body) as Array<{ ID: string }>) : []) {
            await call("DELETE", `/services/${s.ID}`);
        }
    },
};

export interface SwarmImagesArgs {
    namePrefix: string;
    images: Array<{ label: string; image: string }>;
    constraints: string[];
    dockerHost: string;
    /** Seconds to wait for every node to hold every image (default 1800: first pulls of multi-GB images). */
    timeout?: number;
}

/** Every user image on every node that may run a user server, before anyone spawns. */
export class SwarmImages extends pulumi.dynamic.Resource {
    constructor(name: string, args: SwarmImagesArgs, opts?: pulumi.CustomResourceOptions) {
        super(swarmImagesProvider, name, {
            namePrefix: args.namePrefix,
            images: args.images,
            constraints: args.constraints,
            labels: labelMap(args.namePrefix, ROLES.swarmImage),
            dockerHost: args.dockerHost,
            timeout: args.timeout ?? 1800,
        }, opts);
    }
}

import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

// The generated config, and the admin's extraConfig in it, loaded by the hub's own
// packages before the hub is replaced: a throwaway container of the hub image, without
// network and without secrets, runs hub_config_check.py. The check runs in the provider's
// `check`, so `pulumi preview` runs it too whenever the hub image is already on the host,
// and a failure stops `pulumi up` before the hub is touched.

/** The checker, shipped beside the config in the throwaway container. */
export const CHECKER = fs.readFileSync(path.join(__dirname, "hub_config_check.py"), "utf8");

/** @internal exported for tests */
export interface HubConfigCheckInputs {
    /** The hub image (its id) whose packages load the config. */
    image: string;
    /** Files written into one directory: the config, the modules it imports, the checker. */
    files: Record<string, string>;
    /** Labels of the throwaway container. */
    labels: Record<string, string>;
}

// Pulumi's marker of a value not known during a preview.
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Serialized into the dynamic provider process: it uses only its inputs and Node's own modules.
 * @internal exported for tests
 */
export const checkProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: HubConfigCheckInputs | undefined, news: HubConfigCheckInputs) {
        const same = olds !== undefined && olds.image === news.image && JSON.stringify(olds.files) === JSON.stringify(news.files);
        const known = typeof news.image === "string" && news.image !== UNKNOWN && Object.values(news.files ?? {}).every((f) => typeof f === "string" && f !== UNKNOWN);
        const dockerHost: string = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
        if (same || !known || !dockerHost.startsWith("unix://")) {
            return { inputs: news };
        }
        const http = require("http");
        const socketPath = dockerHost.slice("unix://".length);
        const call = (method: string, p: string, body?: unknown, timeout = 60000) =>
            new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
                const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
                const req = http.request({ socketPath, path: p, method, timeout, headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {} }, (res: any) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
                });
                req.on("timeout", () => req.destroy(new Error(`Docker did not answer ${method} ${p} in ${timeout / 1000} s`)));
                req.on("error", reject);
                if (data) req.write(data);
                req.end();
            });
        // Has the image: without it (a first deploy's preview) there is nothing to load with yet.
        if ((await call("GET", `/images/${encodeURIComponent(news.image)}/json`)).status !== 200) {
            return { inputs: news };
        }
        const names = Object.keys(news.files).sort();
        // Each file in a variable of its own; the bootstrap writes them and runs the checker.
        const bootstrap = [
            "import os, subprocess, sys, tempfile",
            "d = tempfile.mkdtemp()",
            `for i, name in enumerate(${JSON.stringify(names)}):`,
            "    open(os.path.join(d, name), 'w').write(os.environ[f'PYIRON_CHECK_FILE_{i}'])",
            "sys.exit(subprocess.call([sys.executable, os.path.join(d, 'hub_config_check.py'), os.path.join(d, 'jupyterhub_config.py')]))",
        ].join("\n");
        const created = await call("POST", "/containers/create", {
            Image: news.image,
            Entrypoint: ["python3", "-c", bootstrap],
            Cmd: [],
            Env: names.map((name, i) => `PYIRON_CHECK_FILE_${i}=${news.files[name]}`),
            Labels: news.labels,
            NetworkDisabled: true,
            HostConfig: { NetworkMode: "none", Memory: 1024 ** 3, CapDrop: ["ALL"] },
        });
        if (created.status !== 201) {
            throw new Error(`the config check could not create its container (${created.status}): ${created.body.toString()}`);
        }
        const id: string = JSON.parse(created.body.toString()).Id;
        try {
            const started = await call("POST", `/containers/${id}/start`);
            if (started.status !== 204) throw new Error(`the config check could not start (${started.status}): ${started.body.toString()}`);
            const waited = await call("POST", `/containers/${id}/wait`, undefined, 300000);
            const code = JSON.parse(waited.body.toString()).StatusCode;
            if (code === 0) {
                return { inputs: news };
            }
            // Docker's log stream: 8-byte frame headers (stream, 0, 0, 0, size) before each chunk.
            const raw = (await call("GET", `/containers/${id}/logs?stdout=1&stderr=1`)).body;
            let out = "";
            for (let i = 0; i + 8 <= raw.length; ) {
                const size = raw.readUInt32BE(i + 4);
                out += raw.subarray(i + 8, i + 8 + size).toString();
                i += 8 + size;
            }
            const lines = out.split("\n").filter((l) => l.trim() !== "" && !/: \d+ problem\(s\)$/.test(l)).slice(0, 20);
            return {
                inputs: news,
                failures: [{
                    property: "files",
                    reason: `the hub's config does not load with the hub's packages, so the hub was left as it is:\n${lines.join("\n")}\nFix extraConfig (the lines are counted from its first), or remove it: pulumi config rm extraConfig`,
                }],
            };
        } finally {
            await call("DELETE", `/containers/${id}?force=1`);
        }
    },
    async create(inputs: HubConfigCheckInputs) {
        return { id: "hub-config-check", outs: inputs };
    },
    async diff(_id: string, olds: HubConfigCheckInputs, news: HubConfigCheckInputs) {
        return { changes: olds.image !== news.image || JSON.stringify(olds.files) !== JSON.stringify(news.files) || JSON.stringify(olds.labels) !== JSON.stringify(news.labels) };
    },
    async update(_id: string, _olds: HubConfigCheckInputs, news: HubConfigCheckInputs) {
        return { outs: news };
    },
};

export interface HubConfigCheckArgs {
    image: pulumi.Input<string>;
    /** The config and the modules it imports, by file name. */
    files: Record<string, string>;
    labels: Record<string, string>;
}

/** Passes when the hub's own packages load its config; the hub is created after it. */
export class HubConfigCheck extends pulumi.dynamic.Resource {
    constructor(name: string, args: HubConfigCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(checkProvider, name, { image: args.image, files: { ...args.files, "hub_config_check.py": CHECKER }, labels: args.labels }, opts);
    }
}

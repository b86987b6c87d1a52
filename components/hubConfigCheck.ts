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
    /** The Docker engine of the stack (DOCKER_HOST or docker:host). */
    dockerHost: string;
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
        // Only a local engine's socket; another engine is not checked (README, extraConfig).
        const socketPath = typeof news.dockerHost === "string" && news.dockerHost.startsWith("unix://") ? news.dockerHost.slice("unix://".length) : undefined;
        if (same || !known || socketPath === undefined || !require("fs").existsSync(socketPath)) {
            return { inputs: news };
        }
        const http = require("http");
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
        // Checks that an interrupted run left behind go first.
        const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(news.labels).map(([k, v]) => `${k}=${v}`) }));
        const left = await call("GET", `/containers/json?all=1&filters=${filters}`);
        for (const c of left.status === 200 ? JSON.parse(left.body.toString()) as Array<{ Id: string }> : []) {
            await call("DELETE", `/containers/${c.Id}?force=1`);
        }
        const names = Object.keys(news.files).sort();
        // The files travel in environment variables, in pieces: Linux takes at most 128 KiB
        // in one, and 20000 characters are at most 80 KB of UTF-8.
        const PIECE = 20000;
        const env: string[] = [];
        const pieces = names.map((name, i) => {
            const text = news.files[name];
            const n = Math.max(1, Math.ceil(text.length / PIECE));
            for (let j = 0; j < n; j++) env.push(`PYIRON_CHECK_${i}_${j}=${text.slice(j * PIECE, (j + 1) * PIECE)}`);
            return n;
        });
        const bootstrap = [
            "import os, subprocess, sys, tempfile",
            "d = tempfile.mkdtemp()",
            `for i, (name, n) in enumerate(zip(${JSON.stringify(names)}, ${JSON.stringify(pieces)})):`,
            "    open(os.path.join(d, name), 'w').write(''.join(os.environ[f'PYIRON_CHECK_{i}_{j}'] for j in range(n)))",
            "sys.exit(subprocess.call([sys.executable, os.path.join(d, 'hub_config_check.py'), os.path.join(d, 'jupyterhub_config.py')]))",
        ].join("\n");
        const created = await call("POST", "/containers/create", {
            Image: news.image,
            Entrypoint: ["python3", "-c", bootstrap],
            Cmd: [],
            Env: env,
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
            const inExtra = lines.some((l) => l.startsWith("extraConfig line "));
            const fix = inExtra
                ? "Fix extraConfig (its lines are counted from its first), or remove it: pulumi config rm extraConfig"
                : "The generated part fails: does hubImage hold the packages of hubVersion's release? The hub recipe (hubImage unset) does.";
            // No property: Pulumi would print the whole config before the reason.
            return { inputs: news, failures: [{ property: "", reason: `the hub's config does not load with the hub image's packages, so the hub was left as it is:\n${lines.join("\n")}\n${fix}` }] };
        } finally {
            await call("DELETE", `/containers/${id}?force=1`);
        }
    },
    async create(inputs: HubConfigCheckInputs) {
        return { id: "hub-config-check", outs: inputs };
    },
    async diff(_id: string, olds: HubConfigCheckInputs, news: HubConfigCheckInputs) {
        return { changes: JSON.stringify([olds.image, olds.files, olds.labels, olds.dockerHost]) !== JSON.stringify([news.image, news.files, news.labels, news.dockerHost]) };
    },
    async update(_id: string, _olds: HubConfigCheckInputs, news: HubConfigCheckInputs) {
        return { outs: news };
    },
};

export interface HubConfigCheckArgs {
    image: pulumi.Input<string>;
    /** The Docker engine of the stack. */
    dockerHost: string;
    /** The config and the modules it imports, by file name. */
    files: Record<string, string>;
    labels: Record<string, string>;
}

/** Passes when the hub's own packages load its config; the hub is created after it. */
export class HubConfigCheck extends pulumi.dynamic.Resource {
    constructor(name: string, args: HubConfigCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(checkProvider, name, { image: args.image, files: { ...args.files, "hub_config_check.py": CHECKER }, labels: args.labels, dockerHost: args.dockerHost }, opts);
    }
}

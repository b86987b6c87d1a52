// The benchmark's peers, generated from the same stack config as the Pulumi program: the
// program runs under the unit tests' mocks, and the containers, networks and volumes it
// declares become a docker compose file (the old setup's way) and a list of plain
// `docker` commands (the floor). What only Pulumi has (the config check, the cleanup of
// user servers) has no peer; what the containers get is the same.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { installMocks, Recorded, reveal, runProgram } from "../../test/mocks";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const VOLUME = "docker:index/volume:Volume";

/** Container inputs with a peer field, and those that only steer Pulumi's provider. */
const TRANSLATED = new Set([
    "name", "image", "command", "entrypoints", "envs", "labels", "networksAdvanced", "networkMode", "ports", "restart",
    "capabilities", "securityOpts", "healthcheck", "tmpfs", "volumes", "uploads", "destroyGraceSeconds",
]);
const PROVIDER_ONLY = new Set(["wait", "waitTimeout", "mustRun", "start", "rm"]);

export interface Declared {
    containers: Array<{ name: string; inputs: Record<string, any>; dependsOn: string[] }>;
    networks: Array<Record<string, any>>;
    volumes: Array<Record<string, any>>;
}

/** `pulumi config --json --show-secrets` output, as the mocks take it. */
export function mockConfig(configJson: string): { config: Record<string, string>; secretKeys: string[] } {
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, entry] of Object.entries<{ value: string; secret: boolean }>(JSON.parse(configJson))) {
        config[key] = entry.value;
        if (entry.secret) secretKeys.push(key);
    }
    return { config, secretKeys };
}

let recorded: Recorded[] | undefined;

/** What the program declares for this config (under mocks; secrets get mock values). */
export async function declared(config: Record<string, string>, secretKeys: string[]): Promise<Declared> {
    recorded ??= installMocks(config, secretKeys);
    const resources = await runProgram(recorded, config, secretKeys);
    const plain = (r: Recorded) => Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, reveal(v)]));
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const containers = resources.filter((r) => r.type === CONTAINER).map((r) => {
        const inputs = plain(r);
        for (const key of Object.keys(inputs)) {
            if (!TRANSLATED.has(key) && !PROVIDER_ONLY.has(key)) throw new Error(`container ${inputs.name}: no peer for its input ${key}; teach e2e/bench/peers.ts`);
        }
        const dependsOn = r.dependencies.map((urn) => byUrn.get(urn)).filter((d): d is Recorded => d?.type === CONTAINER).map((d) => reveal<string>(d.inputs.name));
        return { name: inputs.name as string, inputs, dependsOn };
    });
    return {
        containers,
        networks: resources.filter((r) => r.type === NETWORK).map(plain),
        volumes: resources.filter((r) => r.type === VOLUME).map(plain),
    };
}

/** The mocks give a pulled or built image the id `sha256:<its name>`. */
const imageName = (image: string) => image.replace(/^sha256:/, "");
const capability = (c: string) => c.replace(/^CAP_/, "");
const labelMap = (labels: Array<{ label: string; value: string }> = []) => Object.fromEntries(labels.map((l) => [l.label, l.value]));

/**
 * Writes each uploaded file under `dir`, named by its content, and returns the bind
 * mounts that put them where the program uploads them. A changed file is a changed mount,
 * so the peer recreates the container as Pulumi replaces it.
 */
function uploadMounts(dir: string, container: string, uploads: Array<{ file: string; content: string; executable?: boolean }> = []): string[] {
    return uploads.map((u) => {
        const digest = crypto.createHash("sha256").update(u.content).digest("hex").slice(0, 12);
        const host = path.join(dir, "files", container, `${digest}-${path.basename(u.file)}`);
        fs.mkdirSync(path.dirname(host), { recursive: true, mode: 0o700 });
        fs.writeFileSync(host, u.content, { mode: u.executable ? 0o755 : 0o644 });
        return `${host}:${u.file}:ro`;
    });
}

const volumeMount = (v: { containerPath: string; hostPath?: string; volumeName?: string; readOnly?: boolean }) =>
    `${v.hostPath ?? v.volumeName}:${v.containerPath}${v.readOnly ? ":ro" : ""}`;
const portMapping = (p: { internal: number; external: number; ip?: string; protocol?: string }) =>
    `${p.ip ? `${p.ip}:` : ""}${p.external}:${p.internal}${p.protocol && p.protocol !== "tcp" ? `/${p.protocol}` : ""}`;
const duration = (d?: string) => d;

/**
 * A compose file (JSON, which is YAML) for the declared containers. `dir` receives the
 * uploaded files; the caller keeps it private, since the environment holds secrets.
 */
export function composeFile(d: Declared, dir: string): string {
    const services: Record<string, any> = {};
    const healthy = new Set(d.containers.filter((c) => c.inputs.healthcheck && c.inputs.wait).map((c) => c.name));
    for (const { name, inputs: c, dependsOn } of d.containers) {
        const s: Record<string, any> = { container_name: name, image: imageName(c.image) };
        if (c.entrypoints) s.entrypoint = c.entrypoints;
        if (c.command) s.command = c.command;
        if (c.envs) s.environment = c.envs;
        if (c.labels) s.labels = labelMap(c.labels);
        if (c.restart) s.restart = c.restart;
        if (c.networkMode) s.network_mode = c.networkMode;
        if (c.networksAdvanced) {
            s.networks = Object.fromEntries(c.networksAdvanced.map((n: any) => [n.name, n.aliases ? { aliases: n.aliases } : {}]));
        }
        if (c.ports?.length) s.ports = c.ports.map(portMapping);
        if (c.capabilities?.adds) s.cap_add = c.capabilities.adds.map(capability);
        if (c.capabilities?.drops) s.cap_drop = c.capabilities.drops.map(capability);
        if (c.securityOpts) s.security_opt = c.securityOpts;
        if (c.tmpfs) s.tmpfs = Object.entries(c.tmpfs).map(([p, o]) => `${p}:${o}`);
        const mounts = [...(c.volumes ?? []).map(volumeMount), ...uploadMounts(dir, name, c.uploads)];
        if (mounts.length) s.volumes = mounts;
        if (c.destroyGraceSeconds) s.stop_grace_period = `${c.destroyGraceSeconds}s`;
        if (c.healthcheck) {
            const h = c.healthcheck;
            s.healthcheck = { test: h.tests, interval: duration(h.interval), timeout: duration(h.timeout), retries: h.retries, start_period: duration(h.startPeriod) };
        }
        if (dependsOn.length) {
            s.depends_on = Object.fromEntries(dependsOn.map((dep) => [dep, { condition: healthy.has(dep) ? "service_healthy" : "service_started" }]));
        }
        services[name] = s;
    }
    const networks = Object.fromEntries(d.networks.map((n) => [n.name, {
        name: n.name, driver: n.driver, ...(n.internal ? { internal: true } : {}), labels: labelMap(n.labels),
    }]));
    // Networks the program only joins (created by someone else) are external for compose too.
    for (const s of Object.values(services)) {
        for (const n of Object.keys(s.networks ?? {})) networks[n] ??= { name: n, external: true };
    }
    const volumes = Object.fromEntries(d.volumes.map((v) => [v.name, { name: v.name, labels: labelMap(v.labels) }]));
    return `${JSON.stringify({ services, networks, volumes }, null, 2)}\n`;
}

/**
 * The same deployment as plain docker commands, in the order Pulumi would create it:
 * networks, volumes, then each container (create, join its further networks, start)
 * after those it depends on. A container that Pulumi waits for is waited for here too
 * (`waitHealthy`).
 */
export function dockerRuns(d: Declared, dir: string): Array<{ args: string[]; waitHealthy?: string }> {
    const runs: Array<{ args: string[]; waitHealthy?: string }> = [];
    for (const n of d.networks) {
        runs.push({ args: ["network", "create", "--driver", n.driver, ...(n.internal ? ["--internal"] : []), ...(n.labels ?? []).flatMap((l: any) => ["--label", `${l.label}=${l.value}`]), n.name] });
    }
    for (const v of d.volumes) {
        runs.push({ args: ["volume", "create", ...(v.labels ?? []).flatMap((l: any) => ["--label", `${l.label}=${l.value}`]), v.name] });
    }
    const done = new Set<string>();
    const pending = [...d.containers];
    while (pending.length) {
        const i = pending.findIndex((c) => c.dependsOn.every((dep) => done.has(dep)));
        if (i < 0) throw new Error(`a dependency cycle among ${pending.map((c) => c.name).join(", ")}`);
        const [{ name, inputs: c }] = pending.splice(i, 1);
        const args = ["create", "--name", name];
        if (c.entrypoints) args.push("--entrypoint", c.entrypoints[0]);
        for (const e of c.envs ?? []) args.push("--env", e);
        for (const l of c.labels ?? []) args.push("--label", `${l.label}=${l.value}`);
        if (c.restart) args.push("--restart", c.restart);
        const [first, ...more] = c.networkMode ? [{ name: c.networkMode }] : (c.networksAdvanced ?? []);
        if (first) args.push("--network", first.name, ...(first.aliases ?? []).flatMap((a: string) => ["--network-alias", a]));
        for (const p of c.ports ?? []) args.push("--publish", portMapping(p));
        for (const a of c.capabilities?.adds ?? []) args.push("--cap-add", capability(a));
        for (const a of c.capabilities?.drops ?? []) args.push("--cap-drop", capability(a));
        for (const o of c.securityOpts ?? []) args.push("--security-opt", o);
        for (const [p, o] of Object.entries(c.tmpfs ?? {})) args.push("--tmpfs", `${p}:${o}`);
        for (const m of [...(c.volumes ?? []).map(volumeMount), ...uploadMounts(dir, name, c.uploads)]) args.push("--volume", m);
        if (c.destroyGraceSeconds) args.push("--stop-timeout", String(c.destroyGraceSeconds));
        if (c.healthcheck) {
            const h = c.healthcheck;
            const [kind, ...test] = h.tests as string[];
            args.push("--health-cmd", kind === "CMD-SHELL" ? test.join(" ") : test.map((t) => `'${t.replace(/'/g, "'\\''")}'`).join(" "));
            args.push("--health-interval", h.interval, "--health-timeout", h.timeout, "--health-retries", String(h.retries), "--health-start-period", h.startPeriod);
        }
        args.push(imageName(c.image), ...(c.entrypoints ?? []).slice(1), ...(c.command ?? []));
        runs.push({ args });
        // Further networks joined before the start, as the provider does.
        for (const n of more) runs.push({ args: ["network", "connect", ...(n.aliases ?? []).flatMap((a: string) => ["--alias", a]), n.name, name] });
        runs.push({ args: ["start", name], waitHealthy: c.wait && c.healthcheck ? name : undefined });
        done.add(name);
    }
    return runs;
}

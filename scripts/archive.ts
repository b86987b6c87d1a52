// What `npm run backup` writes and `npm run restore` reads: one tar file holding a
// manifest, a logical dump of the hub database and a tar of each volume. The shared
// parts: the manifest, the deployment's names, and commands streamed with a checksum
// and progress.
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import { Writable } from "stream";
import { z } from "zod";
import { commandLine, configSchema, show } from "../config";

export { commandLine };
import { POSTGRES } from "../components/database";
import { DEPLOYMENT_LABEL, dockerNames, ROLES } from "../components/names";
import { StackConfigError, stackKeys } from "./stack";

export const FORMAT = "pyiron-jupyterhub-backup/1";
export const MANIFEST = "manifest.json";
export const DUMP = "database.dump";

// A volume's name after the deployment's prefix: its hub data, or a user's home.
const VOLUME_SUFFIX = /^(hub-data|home-[A-Za-z0-9._-]{1,128})$/;
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const bytes = z.number().int().min(0);
const memberSchema = z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("database"), path: z.literal(DUMP), bytes, sha256 }),
    z.strictObject({
        kind: z.literal("volume"),
        path: z.string().regex(/^volumes\/[a-z][a-z0-9-]{0,29}-(?:hub-data|home-[A-Za-z0-9._-]{1,128})\.tar$/),
        volume: z.string(),
        role: z.enum(["hub-data", "home"]),
        bytes,
        sha256,
    }),
]);
/**
 * The manifest, checked before any of it is used: member paths go to tar and volume
 * names to Docker, so an archive made by hand can name nothing else.
 */
const manifestSchema = z
    .strictObject({
        format: z.literal(FORMAT),
        createdAt: z.string(),
        stack: z.string(),
        namePrefix: configSchema.shape.namePrefix.unwrap(),
        tool: z.strictObject({ name: z.string(), version: z.string() }),
        postgres: z.strictObject({ image: z.string(), serverVersion: z.string().regex(/^\d+/) }),
        hub: z.strictObject({ image: z.string().nullable(), jupyterhubVersion: z.string().nullable() }),
        members: z.array(memberSchema).max(100000),
    })
    .refine((m) => new Set(m.members.map((x) => x.path)).size === m.members.length, { error: "lists a member twice" })
    .refine((m) => m.members.filter((x) => x.kind === "database").length <= 1, { error: "lists two databases" })
    .refine((m) => m.members.every((x) => x.kind !== "volume" || (x.path === `volumes/${x.volume}.tar` && x.volume.startsWith(`${m.namePrefix}-`) && VOLUME_SUFFIX.test(x.volume.slice(m.namePrefix.length + 1)) && (x.role === "home") === x.volume.slice(m.namePrefix.length + 1).startsWith("home-"))), {
        error: "names a volume outside its deployment's hub data and homes",
    });
export type Manifest = z.infer<typeof manifestSchema>;
export type Member = Manifest["members"][number];

export class BackupError extends Error {}

/** The deployment a stack's config names: its Docker names and its Postgres image. */
export function deploymentOf(stack: string) {
    const keys = stackKeys(stack);
    const namePrefix = configSchema.shape.namePrefix.parse(keys.namePrefix);
    const postgresImage = configSchema.shape.postgresImage.parse(keys.postgresImage);
    const hubVersion = configSchema.shape.hubVersion.parse(keys.hubVersion);
    const hubImage = configSchema.shape.hubImage.parse(keys.hubImage);
    return { stack, namePrefix, postgresImage, hubVersion, hubImage, names: dockerNames(namePrefix) };
}
export type Deployment = ReturnType<typeof deploymentOf>;

/** Runs docker and returns its stdout; a failure is a BackupError with docker's words. */
export function docker(args: string[], opts: { allowFailure?: boolean } = {}): string {
    const r = spawnSync("docker", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw new BackupError(`cannot run docker: ${r.error.message}`);
    if (r.status !== 0 && !opts.allowFailure) throw new BackupError(`docker ${args.slice(0, 2).join(" ")} failed: ${r.stderr.trim()}`);
    return r.status === 0 ? r.stdout.trim() : "";
}

export function volumeExists(name: string): boolean {
    return spawnSync("docker", ["volume", "inspect", name], { stdio: "ignore" }).status === 0;
}

export function containerState(name: string): { running: boolean; image: string } | undefined {
    const out = docker(["inspect", "--format", "{{.State.Running}} {{.Image}}", name], { allowFailure: true });
    if (!out) return undefined;
    const [running, image] = out.split(" ");
    return { running: running === "true", image };
}

/** Every home volume of the deployment (DockerSpawner's names: <prefix>-home-<user>). */
export function homeVolumes(d: Deployment): string[] {
    const prefix = d.names.homeVolume("");
    const rows = docker(["volume", "ls", "--format", `{{.Name}}\t{{.Label "${DEPLOYMENT_LABEL}"}}`]).split("\n").map((l) => l.split("\t"));
    // Homes carry no label (DockerSpawner makes them), but each deployment's hub data does:
    // `hub-home-x-home-bob` is a home of deployment `hub-home-x`, not of `hub`.
    const others = [...new Set(rows.map(([, owner]) => owner).filter((o) => o && o !== d.namePrefix))];
    return rows
        .filter(([name, owner]) => !owner && name.startsWith(prefix) && VOLUME_SUFFIX.test(name.slice(d.namePrefix.length + 1)))
        .filter(([name]) => !others.some((o) => o.length > d.namePrefix.length && name.startsWith(dockerNames(o).homeVolume(""))))
        .map(([name]) => name)
        .sort();
}

/** A throwaway container of the stack's Postgres image (which has sh and tar) with `volume` at /volume. */
export function helperArgs(d: Deployment, volume: string, readOnly: boolean, command: string[]): string[] {
    return ["run", "--rm", "-i", "--network", "none", "--entrypoint", command[0], "-v", `${volume}:/volume${readOnly ? ":ro" : ""}`, d.postgresImage, ...command.slice(1)];
}

/** The major version of the Postgres server in `image`. */
export function imageMajor(image: string): number {
    const v = docker(["run", "--rm", "--network", "none", "--entrypoint", "postgres", image, "-V"]);
    const m = /\(PostgreSQL\) (\d+)/.exec(v);
    if (!m) throw new BackupError(`${image} does not say which Postgres it runs (postgres -V: ${show(v)})`);
    return Number(m[1]);
}

/** The stack's Postgres image, pulled if this engine lacks it (restore on a new host). */
export function ensureImage(image: string): void {
    if (spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status !== 0) {
        log(`pulling ${image}`);
        docker(["pull", image]);
    }
}


/** A script's exit code for an expected failure (said plainly, exit 1); anything else is a bug and is thrown. */
export function failed(what: string, e: unknown): number {
    if (e instanceof BackupError || e instanceof StackConfigError) {
        console.error(`${what} failed: ${e.message}`);
        return 1;
    }
    throw e;
}

export function log(line: string): void {
    process.stderr.write(`${line}\n`);
}

const MiB = 1024 * 1024;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Runs `source` and pipes its stdout into `sink`'s stdin or into `file` (or nowhere),
 * counting and hashing the bytes on the way, with a progress line every 5 seconds.
 */
export async function stream(
    label: string,
    source: [string, string[]],
    to: { file?: string; sink?: [string, string[]] },
    /** Exit codes of the source that still mean success (GNU tar: 1 = a file changed while read). */
    sourceOk: number[] = [0],
): Promise<{ bytes: number; sha256: string }> {
    const hash = crypto.createHash("sha256");
    let bytes = 0;
    const started = Date.now();
    const ticker = setInterval(() => log(`  ${label}: ${mib(bytes)} so far`), 5000);
    const src = spawn(source[0], source[1], { stdio: ["ignore", "pipe", "pipe"] });
    const sink = to.sink ? spawn(to.sink[0], to.sink[1], { stdio: ["pipe", "ignore", "pipe"] }) : undefined;
    const out = to.file ? fs.createWriteStream(to.file, { flags: "wx", mode: 0o600 }) : undefined;
    const errors: string[] = [];
    src.stderr.on("data", (c) => errors.push(String(c)));
    sink?.stderr?.on("data", (c) => errors.push(String(c)));
    // Neither file nor sink: the bytes are only counted and hashed (a verification).
    const target = sink?.stdin ?? out ?? new Writable({ write: (_c: Buffer, _e: string, cb: () => void) => cb() });
    const exited = (p: ReturnType<typeof spawn>) => new Promise<number>((resolve) => p.on("close", (code) => resolve(code ?? 1)));
    const done = Promise.all([exited(src), sink ? exited(sink) : Promise.resolve(0), out ? new Promise<void>((r, j) => { out.on("close", r); out.on("error", j); }) : Promise.resolve()]);
    src.stdout.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (!target.write(chunk)) {
            src.stdout.pause();
            target.once("drain", () => src.stdout.resume());
        }
    });
    src.stdout.on("end", () => target.end());
    target.on("error", () => src.kill());
    try {
        const [srcCode, sinkCode] = await done;
        if (!sourceOk.includes(srcCode) || sinkCode !== 0) {
            throw new BackupError(`${label} failed: ${errors.join("").trim() || `exit ${srcCode}/${sinkCode}`}`);
        }
    } finally {
        clearInterval(ticker);
    }
    const seconds = (Date.now() - started) / 1000;
    log(`  ${label}: ${mib(bytes)} in ${seconds.toFixed(1)} s`);
    return { bytes, sha256: hash.digest("hex") };
}

/** The manifest of an archive, checked for its format. */
export function readManifest(archive: string): Manifest {
    if (!fs.existsSync(archive)) throw new BackupError(`no archive at ${show(archive)}`);
    const r = spawnSync("tar", memberArgs(archive, MANIFEST), { encoding: "utf8", maxBuffer: 16 * MiB });
    if (r.status !== 0) throw new BackupError(`${show(archive)} is not a backup of this project: ${r.stderr.trim() || "no manifest"}`);
    let raw: { format?: unknown };
    try {
        raw = JSON.parse(r.stdout);
    } catch {
        throw new BackupError(`the manifest of ${show(archive)} is not JSON`);
    }
    if (raw?.format !== FORMAT) throw new BackupError(`${show(archive)} has format ${show(String(raw?.format))}; this version reads ${FORMAT}`);
    const m = manifestSchema.safeParse(raw);
    if (!m.success) {
        const issue = m.error.issues[0];
        throw new BackupError(`the manifest of ${show(archive)} is not one this tool writes (${issue.path.join(".") || "manifest"}: ${issue.message}); nothing was changed`);
    }
    return m.data;
}

/** tar's arguments to print one member: names after `--`, so none is read as an option. */
export function memberArgs(archive: string, member: string): string[] {
    return ["-xOf", archive, "--", member];
}

export { POSTGRES, ROLES };

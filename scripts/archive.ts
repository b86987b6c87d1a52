// What `npm run backup` writes and `npm run restore` reads: one tar file holding a
// manifest, a logical dump of the hub database and a tar of each volume. The shared
// parts: the manifest, the deployment's names, and commands streamed with a checksum
// and progress.
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import { Writable } from "stream";
import { CONTROL, configSchema, shellWord, show } from "../config";
import { POSTGRES } from "../components/database";
import { DEPLOYMENT_LABEL, dockerNames, ROLES } from "../components/names";
import { StackConfigError, stackKeys } from "./stack";

export const FORMAT = "pyiron-jupyterhub-backup/1";
export const MANIFEST = "manifest.json";
export const DUMP = "database.dump";

export interface Member {
    /** Path inside the archive. */
    path: string;
    kind: "database" | "volume";
    /** For a volume: its name and role (hub data, or a user's home). */
    volume?: string;
    role?: string;
    bytes: number;
    sha256: string;
}

export interface Manifest {
    format: typeof FORMAT;
    createdAt: string;
    stack: string;
    namePrefix: string;
    tool: { name: string; version: string };
    postgres: { image: string; serverVersion: string };
    hub: { image: string | null; jupyterhubVersion: string | null };
    members: Member[];
}

export class BackupError extends Error {}

/** The deployment a stack's config names: its Docker names and its Postgres image. */
export function deploymentOf(stack: string) {
    const keys = stackKeys(stack);
    const namePrefix = configSchema.shape.namePrefix.parse(keys.namePrefix);
    const postgresImage = configSchema.shape.postgresImage.parse(keys.postgresImage);
    return { stack, namePrefix, postgresImage, names: dockerNames(namePrefix) };
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
    return docker(["volume", "ls", "--format", `{{.Name}}\t{{.Label "${DEPLOYMENT_LABEL}"}}`])
        .split("\n")
        .map((l) => l.split("\t"))
        // Another deployment's labelled volume is never taken for a home of this one.
        .filter(([name, owner]) => name.startsWith(prefix) && name.length > prefix.length && !owner)
        .map(([name]) => name)
        .sort();
}

/** A throwaway container of the stack's Postgres image (which has sh and tar) with `volume` at /volume. */
export function helperArgs(d: Deployment, volume: string, readOnly: boolean, command: string[]): string[] {
    return ["run", "--rm", "-i", "--network", "none", "--entrypoint", command[0], "-v", `${volume}:/volume${readOnly ? ":ro" : ""}`, d.postgresImage, ...command.slice(1)];
}

/** The stack's Postgres image, pulled if this engine lacks it (restore on a new host). */
export function ensureImage(image: string): void {
    if (spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status !== 0) {
        log(`pulling ${image}`);
        docker(["pull", image]);
    }
}

/** A command line that pastes safely whatever the words hold, or none at all. */
export function commandLine(words: string[]): string {
    if (words.some((w) => CONTROL.test(w))) return "(no command: a name holds control characters)";
    return words.map(shellWord).join(" ");
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
        if (srcCode !== 0 || sinkCode !== 0) {
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
    const r = spawnSync("tar", ["-xOf", archive, MANIFEST], { encoding: "utf8", maxBuffer: 16 * MiB });
    if (r.status !== 0) throw new BackupError(`${show(archive)} is not a backup of this project: ${r.stderr.trim() || "no manifest"}`);
    let m: Manifest;
    try {
        m = JSON.parse(r.stdout);
    } catch {
        throw new BackupError(`the manifest of ${show(archive)} is not JSON`);
    }
    if (m.format !== FORMAT) throw new BackupError(`${show(archive)} has format ${show(String(m.format))}; this version reads ${FORMAT}`);
    return m;
}

export { POSTGRES, ROLES };

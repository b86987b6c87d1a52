// The Pulumi side: read the stack's config, check what only this machine can tell
// (files, secrets), and hand the program a typed config with its secret kept secret.
import * as fs from "fs";
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import { frontMountConflict } from "../components/frontConfig";
import { ConfigError, rmCommand, setCommand, show, showKey } from "./messages";
import { commandLine } from "./shell";
import { describeStructured, isStructuredKey } from "./reference";
import { parseConfig } from "./parse";
import { BOUNDS, CLIENT_SECRET_KEY, PROJECT } from "./schema";
import { StackConfig } from "./types";

/**
 * The project's keys from a flat `project:key -> string` map. Values of keys that hold
 * objects or lists are parsed as JSON, others stay strings: a secret that starts with
 * `[` is a string, and no parse error can show a piece of it.
 */
export function projectKeys(all: Record<string, string>): Record<string, unknown> {
    // No prototype: a key named __proto__ is a key like any other, and is refused as unknown.
    const raw: Record<string, unknown> = Object.create(null);
    const problems: string[] = [];
    for (const [fullKey, value] of Object.entries(all)) {
        const namespace = fullKey.slice(0, fullKey.indexOf(":"));
        if (!fullKey.startsWith(`${PROJECT}:`)) {
            // A misspelt project name would make every key of it silently ignored.
            if (!KNOWN_NAMESPACES.includes(namespace)) {
                problems.push(`${showKey(fullKey)}: belongs to no project or provider this stack uses (${[PROJECT, ...KNOWN_NAMESPACES].join(", ")}), so it would be ignored. Fix: ${rmCommand(fullKey)}`);
            }
            continue;
        }
        const key = fullKey.slice(PROJECT.length + 1);
        const shown = showKey(key);
        if (value.length > BOUNDS.rawValue) {
            problems.push(`${shown}: is ${value.length} characters long, more than ${BOUNDS.rawValue}. Fix: ${rmCommand(key)}`);
            continue;
        }
        if (!isStructuredKey(key)) {
            raw[key] = value;
            continue;
        }
        try {
            raw[key] = JSON.parse(value);
        } catch {
            // The value itself is not shown: only structured keys get here, never the secret,
            // but a broken value may hold anything.
            problems.push(`${shown}: is not valid JSON for a${describeStructured(key) === "list" ? " list" : "n object"}. Set it again with \`pulumi config set --path\`, one item or field at a time`);
        }
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return raw;
}

/** Config namespaces other than the project's that a stack may hold: its providers' and Pulumi's. */
const KNOWN_NAMESPACES = ["docker", "random", "pulumi"];

// The SDK knows which keys were set with --secret but exports the check as internal.
function isSecretKey(fullKey: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    if (!check) {
        throw new Error("@pulumi/pulumi no longer exposes runtime.isConfigSecret; update config/load.ts");
    }
    return check(fullKey);
}

const TLS_EXAMPLES = { keyPath: "/etc/ssl/hub/hub.key", certPath: "/etc/ssl/hub/hub.crt" } as const;
const PEM_LABEL = { keyPath: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, certPath: /-----BEGIN CERTIFICATE-----/ } as const;
/** A PEM chain of a few certificates is a few kB; anything this large is the wrong file. */
const TLS_FILE_MAX_BYTES = 1024 * 1024;

/**
 * What is wrong with a TLS file, checked before any resource exists: Docker would bind a
 * directory or a missing path without complaint and the hub would fail at start.
 */
function tlsFileProblem(p: string, name: keyof typeof PEM_LABEL): string | undefined {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(p);
    } catch {
        return "does not exist on this machine";
    }
    if (stat.isDirectory()) return "is a directory, not a file";
    if (!stat.isFile()) return "is not a regular file";
    if (stat.size === 0) return "is empty";
    if (stat.size > TLS_FILE_MAX_BYTES) return `is ${stat.size} bytes, too large for a PEM ${name === "keyPath" ? "key" : "certificate"}`;
    let head: string;
    try {
        head = fs.readFileSync(p, "latin1");
    } catch {
        return "is not readable by this user";
    }
    if (!PEM_LABEL[name].test(head)) {
        return `is not a PEM ${name === "keyPath" ? "private key" : "certificate"} (no "-----BEGIN ${name === "keyPath" ? "... PRIVATE KEY" : "CERTIFICATE"}-----" line)`;
    }
    return undefined;
}

/** The Docker engine the stack deploys to, as the docker provider reads it. */
export function dockerHost(): string {
    return process.env.DOCKER_HOST ?? pulumi.runtime.allConfig()["docker:host"] ?? "unix:///var/run/docker.sock";
}

/**
 * What only the Docker host can tell, checked when the engine is this machine's: Docker
 * refuses a CPU limit above the host's CPU count at every spawn.
 */
function hostProblems(config: { cpuLimit: number; profiles: Array<{ cpuLimit?: number }>; swarm?: { storagePath: string } }): string[] {
    const cpus = os.cpus().length;
    if (!dockerHost().startsWith("unix://") || cpus === 0) return [];
    if (config.swarm) {
        // User servers run on other nodes, whose CPUs this host does not know; the hub,
        // here on the manager, makes every home in the storage.
        const storage = config.swarm.storagePath;
        if (!fs.existsSync(storage) || !fs.statSync(storage).isDirectory()) {
            return [`swarm.storagePath: ${show(storage)} is not a directory on this host, the swarm's manager, which runs the hub. Mount the storage there (as on every node) before pulumi up, or: ${setCommand("swarm.storagePath", "/srv/pyiron-storage")}`];
        }
        // Whoever may write the root could plant a link where a home is made.
        const st = fs.lstatSync(storage);
        const owner = st.uid === 0 || st.uid === process.getuid?.();
        return st.isSymbolicLink() || !owner || (st.mode & 0o022) !== 0
            ? [`swarm.storagePath: ${show(storage)} must be a directory that only its owner, root (or the user running Pulumi), may write: users' homes are made in it. Fix, on every node: ${commandLine(["chown", "root:root", storage])} && ${commandLine(["chmod", "755", storage])}`]
            : [];
    }
    const limits: Array<[string, number | undefined]> = [["cpuLimit", config.cpuLimit], ...config.profiles.map((p, i): [string, number | undefined] => [`profiles[${i}].cpuLimit`, p.cpuLimit])];
    return limits
        .filter(([, limit]) => limit !== undefined && limit > cpus)
        .map(([key, limit]) => `${key}: is ${limit}, but this Docker host has ${cpus} CPUs, and Docker refuses more at every spawn. Fix: ${setCommand(key, String(cpus))}`);
}

/**
 * Reads and validates the stack config. Throws pulumi.RunError (a message, no stack
 * trace) before any resource is declared.
 */
export function loadConfig(): StackConfig {
    try {
        const config = parseConfig(projectKeys(pulumi.runtime.allConfig()));
        const problems: string[] = hostProblems(config);
        // It is written into jupyterhub_config.py, which is no secret: a secret must stay in the environment.
        if (config.extraConfig !== undefined && isSecretKey(`${PROJECT}:extraConfig`)) {
            problems.push(`extraConfig: is stored as a secret, but it is written into the hub's config file, which is not one. Keep secrets out of it (read them from the environment), then: ${rmCommand("extraConfig")}, and set it again without --secret`);
        }
        if (config.mode === "trial") {
            if (problems.length > 0) throw new ConfigError(problems);
            return config;
        }
        if (!isSecretKey(`${PROJECT}:${CLIENT_SECRET_KEY}`)) {
            problems.push(
                `${CLIENT_SECRET_KEY}: is stored in plain text in the stack file. Store it encrypted (pulumi prompts for it): ${setCommand(CLIENT_SECRET_KEY, "")}`,
            );
        }
        const { tls } = config;
        if (tls.kind === "files") {
            for (const name of ["keyPath", "certPath"] as const) {
                const problem = tlsFileProblem(tls[name], name);
                const shadowed = problem ? undefined : frontMountConflict([tls[name]]);
                if (problem) {
                    problems.push(`tls.${name}: ${show(tls[name])} ${problem}. Fix the file, or: ${setCommand(`tls.${name}`, TLS_EXAMPLES[name])}`);
                } else if (shadowed) {
                    problems.push(`tls.${name}: ${show(tls[name])} lies in ${show(shadowed)}, which the front mounts and which would hide the front's own files there. Move the file into a directory of its own, e.g. /etc/ssl/hub/, and: ${setCommand(`tls.${name}`, `/etc/ssl/hub/${name === "keyPath" ? "hub.key" : "hub.crt"}`)}`);
                }
            }
        } else if (tls.caRoot !== undefined) {
            const problem = tlsFileProblem(tls.caRoot, "certPath");
            if (problem) {
                problems.push(`tls.acme.caRoot: ${show(tls.caRoot)} ${problem}. Fix the file, or: ${setCommand("tls.acme.caRoot", "/etc/ssl/certs/site-ca.crt")}`);
            }
        }
        if (problems.length > 0) {
            throw new ConfigError(problems);
        }
        return { ...config, clientSecret: pulumi.secret(config.clientSecret) };
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new pulumi.RunError(e.message);
        }
        throw e;
    }
}

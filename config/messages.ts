// Error and fix texts: every problem names the key as the user types it, what is
// wrong, and the command that fixes it.
import { z } from "zod";
import { docFor, isReferenceKey } from "./reference";
import { CLIENT_SECRET_KEY, MODES, PROJECT } from "./schema";

/** The command that sets a key, as a user would paste it. */
export function setCommand(key: string, value: string, opts: { path?: boolean; list?: boolean } = {}): string {
    if (key === CLIENT_SECRET_KEY) {
        return `pulumi config set --secret ${CLIENT_SECRET_KEY} '<client secret>'`;
    }
    const quoted = /^[\w.:/@-]+$/.test(value) ? value : `'${value}'`;
    if (opts.list && !key.includes("[")) {
        key = `${key}[0]`;
    }
    const usePath = opts.path || key.includes(".") || key.includes("[");
    const k = key.includes("[") ? `'${key}'` : key;
    return `pulumi config set ${usePath ? "--path " : ""}${k} ${quoted}`;
}

function describeValue(v: unknown): string {
    if (Array.isArray(v)) return "a list";
    if (v === null) return "null";
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** One schema issue as the lines a user reads. */
export function describeIssue(issue: z.core.$ZodIssue, mode: (typeof MODES)[number]): string[] {
    if (issue.code === "unrecognized_keys") {
        const known = docFor(issue.path);
        return issue.keys.map((k) => {
            const key = known.key ? `${known.key}.${k}` : k;
            if (!known.key && isReferenceKey(k)) {
                return mode === "trial"
                    ? `${key}: is for production; a trial stack brings its own Keycloak and serves plain HTTP on localhost. Remove it: pulumi config rm ${key}, or leave trial mode: pulumi config set mode production`
                    : `${key}: is only used in trial mode. Remove it: pulumi config rm ${key}, or: pulumi config set mode trial`;
            }
            return `${key}: is not a config key of this project. Remove it: pulumi config rm ${known.key ? "--path " : ""}${key}`;
        });
    }
    const { key, doc } = docFor(issue.path);
    const input = (issue as { input?: unknown }).input;
    let message = issue.message;
    if (issue.code === "invalid_type" && input === undefined) {
        message = "is required";
    } else if (issue.code === "invalid_type" && message.startsWith("Invalid input")) {
        message = `is ${describeValue(input)}, expected ${doc?.type ?? issue.expected}`;
    }
    // Echo what was typed, so the user sees the culprit; never for the secret.
    if (key !== CLIENT_SECRET_KEY && input !== undefined && (typeof input === "string" || typeof input === "number")) {
        message += ` (got ${JSON.stringify(input)})`;
    }
    const example = doc && doc.example ? doc.example : undefined;
    const fix = example !== undefined ? ` Fix: ${setCommand(key, example, { path: doc?.path, list: doc?.type.startsWith("list") })}` : "";
    return [`${key}: ${message}.${fix}`];
}

/** Raised for bad stack config; its message lists every problem, one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `The stack config of ${PROJECT} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

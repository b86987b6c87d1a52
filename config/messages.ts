// Error and fix texts: every problem names the key as the user types it, what is
// wrong, and the command that fixes it.
import { z } from "zod";
import { docFor, isReferenceKey } from "./reference";
import { CLIENT_SECRET_KEY, MODES, PROJECT } from "./schema";
import { pulumiCommand } from "./shell";

/** Where a printed command names a stack: `--stack <name>` when one was given. */
export interface CommandContext {
    stack?: string;
}

function stackArgs(ctx: CommandContext = {}): string[] {
    return ctx.stack === undefined ? [] : ["--stack", ctx.stack];
}

/**
 * The command that sets a key, safe to paste whatever key and value hold. The client
 * secret's command has no value: pulumi then prompts for it, so nothing is echoed and
 * no placeholder can be stored by mistake.
 */
export function setCommand(key: string, value: string, opts: { path?: boolean; list?: boolean } & CommandContext = {}): string {
    if (key === CLIENT_SECRET_KEY) {
        return pulumiCommand(["config", "set", ...stackArgs(opts), "--secret"], [CLIENT_SECRET_KEY]);
    }
    if (opts.list && !key.includes("[")) {
        key = `${key}[0]`;
    }
    const usePath = opts.path || key.includes(".") || key.includes("[");
    return pulumiCommand(["config", "set", ...stackArgs(opts), ...(usePath ? ["--path"] : [])], [key, value]);
}

/**
 * The command that removes a key. `path: false` removes a top-level key whose name holds
 * a dot or bracket (one set without --path), which --path would read as a nested key.
 */
export function rmCommand(key: string, opts: { path?: boolean } & CommandContext = {}): string {
    const usePath = opts.path ?? (key.includes(".") || key.includes("["));
    return pulumiCommand(["config", "rm", ...stackArgs(opts), ...(usePath ? ["--path"] : [])], [key]);
}

/**
 * A value the user typed, as an error echoes it: quoted, every invisible or control
 * character escaped, and cut short, so an echo can neither forge output nor flood it.
 */
export function show(v: unknown, max = 80): string {
    const text = typeof v === "string" ? v : String(v);
    const cut = text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
    return JSON.stringify(cut).replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A key as an error shows it: bare when plain, else like any other echoed value. */
export function showKey(key: string): string {
    return /^[\w.:[\]-]+$/.test(key) ? key : show(key);
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
            const shown = showKey(key);
            if (!known.key && isReferenceKey(k)) {
                return mode === "trial"
                    ? `${key}: is for production; a trial stack brings its own Keycloak and serves plain HTTP on localhost. Remove it: ${rmCommand(key)}, or leave trial mode: ${setCommand("mode", "production")}`
                    : `${key}: is only used in trial mode. Remove it: ${rmCommand(key)}, or: ${setCommand("mode", "trial")}`;
            }
            // A dotted top-level key was set without --path: the nested key was meant.
            const meant = !known.key && /[.[]/.test(k) ? "; nested keys are set with `pulumi config set --path`" : "";
            return `${shown}: is not a config key of this project. Remove it: ${rmCommand(key, { path: !!known.key })}${meant}`;
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
        message += ` (got ${show(input)})`;
    }
    const example = doc && doc.example ? doc.example : undefined;
    const fix = example !== undefined ? ` Fix: ${setCommand(key, example, { path: doc?.path, list: doc?.type.startsWith("list") })}` : "";
    return [`${key}: ${message}.${fix}`];
}

/** At most this many problems are listed; a flood of bad entries gives a short message. */
const MAX_LISTED = 20;

/** Raised for bad stack config; its message lists every problem, one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        const listed = problems.slice(0, MAX_LISTED).map((p) => `  - ${p}`);
        if (problems.length > MAX_LISTED) {
            listed.push(`  - ... and ${problems.length - MAX_LISTED} more`);
        }
        super(`The stack config of ${PROJECT} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${listed.join("\n")}`);
        this.name = "ConfigError";
    }
}

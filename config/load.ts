// The Pulumi side: read the stack's config, check what only this machine can tell
// (files, secrets), and hand the program a typed config with its secret kept secret.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./messages";
import { parseConfig } from "./parse";
import { CLIENT_SECRET_KEY, PROJECT } from "./schema";
import { StackConfig } from "./types";

/** The project's keys from a flat `project:key -> string` map, objects and lists parsed. */
export function projectKeys(all: Record<string, string>): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (!fullKey.startsWith(`${PROJECT}:`)) {
            continue;
        }
        const key = fullKey.slice(PROJECT.length + 1);
        const looksStructured = /^\s*[[{]/.test(value);
        raw[key] = looksStructured ? JSON.parse(value) : value;
    }
    return raw;
}

// The SDK knows which keys were set with --secret but exports the check as internal.
function isSecretKey(fullKey: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    if (!check) {
        throw new Error("@pulumi/pulumi no longer exposes runtime.isConfigSecret; update config/load.ts");
    }
    return check(fullKey);
}

/**
 * Reads and validates the stack config. Throws pulumi.RunError (a message, no stack
 * trace) before any resource is declared.
 */
export function loadConfig(): StackConfig {
    const raw = projectKeys(pulumi.runtime.allConfig());
    try {
        const config = parseConfig(raw);
        if (config.mode === "trial") {
            return config;
        }
        const problems: string[] = [];
        if (!isSecretKey(`${PROJECT}:${CLIENT_SECRET_KEY}`)) {
            problems.push(
                `${CLIENT_SECRET_KEY}: is stored in plain text in the stack file. Store it encrypted: pulumi config set --secret ${CLIENT_SECRET_KEY} '<client secret>'`,
            );
        }
        for (const name of ["keyPath", "certPath"] as const) {
            const p = config.tls[name];
            try {
                fs.accessSync(p, fs.constants.R_OK);
            } catch {
                problems.push(`tls.${name}: ${p} is not a readable file on this machine. Fix the file, or: pulumi config set --path tls.${name} <path>`);
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

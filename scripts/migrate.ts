// Migrates an old auto_config.json (grouped) or config.json (flat `pyiron` + `shared`)
// into this project's stack config.
//
//   npm run migrate -- <file> [--stack <name>] [--set KEY=VALUE ...] [--dry-run]
//
// It sets nothing unless the result is a stack that deploys: a missing value is named,
// with the old key that would have given it. --set adds what the old format never had
// (who may log in) or lacks (config.json keeps the TLS paths elsewhere). --dry-run
// prints the `pulumi config set` commands, each safe to paste, and runs nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { BOUNDS, CLIENT_SECRET_KEY, ConfigError, OIDC_PATH, parseConfig, realmEndpoints, realmOf, setCommand } from "../config";

/** One `pulumi config set`: the key as typed (with --path when nested) and its value. */
export interface ConfigSet {
    key: string;
    value: string;
    secret: boolean;
    /** The old key it came from, for messages. */
    from: string;
}

export interface Migration {
    sets: ConfigSet[];
    /** What the user still has to decide or should know. */
    notes: string[];
}

export class MigrationError extends Error {
    constructor(public readonly problems: string[], footer?: string) {
        super(`Cannot migrate:\n${problems.map((p) => `  - ${p}`).join("\n")}${footer ? `\n${footer}` : ""}`);
        this.name = "MigrationError";
    }
}

const GROUPS = ["ssl_info", "keycloak_config", "pyiron_images", "user_resources", "user_data"] as const;

/** The old keys with the name of the group they were found in. */
function flatten(old: unknown): Map<string, { value: unknown; from: string }> {
    if (typeof old !== "object" || old === null || Array.isArray(old)) {
        throw new MigrationError(["the file is not a JSON object"]);
    }
    const o = old as Record<string, unknown>;
    const flat = new Map<string, { value: unknown; from: string }>();
    const take = (group: string) => {
        const g = o[group];
        if (g === undefined) return;
        if (typeof g !== "object" || g === null || Array.isArray(g)) {
            throw new MigrationError([`${group}: is not an object of settings`]);
        }
        for (const [k, v] of Object.entries(g)) {
            flat.set(k, { value: v, from: `${group}.${k}` });
        }
    };
    if (GROUPS.some((g) => g in o)) {
        GROUPS.forEach(take);
        const unknown = Object.keys(o).filter((k) => !(GROUPS as readonly string[]).includes(k));
        if (unknown.length) {
            throw new MigrationError(unknown.map((k) => `${k}: is not a section of auto_config.json (expected ${GROUPS.join(", ")})`));
        }
    } else if ("pyiron" in o) {
        take("pyiron");
        take("shared");
    } else {
        throw new MigrationError([
            `neither auto_config.json (sections ${GROUPS.join(", ")}) nor config.json (sections pyiron, shared): found ${Object.keys(o).join(", ") || "nothing"}`,
        ]);
    }
    return flat;
}

/** Maps an old config to stack config, validated by the project's own schema. */
export function migrate(old: unknown, extra: Record<string, string> = {}): Migration {
    const flat = flatten(old);
    const sets: ConfigSet[] = [];
    const notes: string[] = [];
    const problems: string[] = [];
    const used = new Set<string>();
    const get = (k: string): { value: string; from: string } | undefined => {
        const e = flat.get(k);
        if (e === undefined) return undefined;
        used.add(k);
        if (typeof e.value !== "string" && typeof e.value !== "number") {
            problems.push(`${e.from}: is not a string`);
            return undefined;
        }
        // A secret is taken as it is: trimming would change it; the schema refuses blanks.
        return { value: k === "CLIENT_SECRET" ? String(e.value) : String(e.value).trim(), from: e.from };
    };
    const set = (key: string, v: { value: string; from: string } | undefined, secret = false) => {
        if (v) sets.push({ key, value: v.value, secret, from: v.from });
    };

    set("tls.keyPath", get("HOST_KEY_PATH"));
    set("tls.certPath", get("HOST_CERT_PATH"));

    const oldKeys = { authorizeUrl: "OAUTH2_AUTHORIZE_URL", tokenUrl: "OAUTH2_TOKEN_URL", userdataUrl: "OAUTH2_USERDATA_URL" } as const;
    const urls = (Object.keys(oldKeys) as Array<keyof typeof oldKeys>).map((key) => ({ key, v: get(oldKeys[key]) }));
    const realms = urls.map((u) => (u.v ? realmOf(u.v.value, u.key) : undefined)).filter((r): r is string => !!r);
    const realm = realms[0];
    if (realm) {
        set("keycloak.realmUrl", { value: realm, from: urls.find((u) => u.v)!.v!.from });
        if (realm.includes("/auth/realms/")) {
            notes.push("keycloak.realmUrl keeps the /auth/ prefix of the old URLs; Keycloak 17 and later serve realms without it.");
        }
    } else if (urls.some((u) => u.v)) {
        problems.push(`${urls.find((u) => u.v)!.v!.from}: does not end in ${OIDC_PATH}<endpoint>, so the realm URL cannot be derived; set keycloak.realmUrl by hand`);
    }
    for (const u of urls) {
        // Only keep an endpoint that differs from what the realm URL gives.
        if (u.v && (!realm || u.v.value !== realmEndpoints(realm)[u.key])) {
            set(`keycloak.${u.key}`, u.v);
        }
    }

    const callback = get("OAUTH_CALLBACK_URL");
    if (callback) {
        if (!URL.canParse(callback.value)) {
            problems.push(`${callback.from}: is not a URL (got ${JSON.stringify(callback.value)})`);
        } else {
            const parsed = new URL(callback.value);
            const origin = parsed.origin;
            set("publicUrl", { value: origin, from: callback.from });
            // The hub then serves on the port users type.
            if (parsed.port) set("httpsPort", { value: parsed.port, from: callback.from });
            if (callback.value !== `${origin}/hub/oauth_callback`) {
                set("keycloak.callbackUrl", callback);
            }
        }
    }
    set("keycloak.clientId", get("CLIENT_ID"));
    set(CLIENT_SECRET_KEY, get("CLIENT_SECRET"), true);

    // PYIRON_BASE, PYIRON_ATOMISTIC, ... in the file's order, each under a pyiron_* label.
    const LABELS: Record<string, string> = { PYIRON_ATOMISTIC: "pyiron_atomistics" };
    let i = 0;
    for (const k of flat.keys()) {
        if (!k.startsWith("PYIRON_")) continue;
        const v = get(k);
        if (!v) continue;
        const label = LABELS[k] ?? k.toLowerCase();
        sets.push({ key: `images[${i}].label`, value: label, secret: false, from: v.from });
        sets.push({ key: `images[${i}].image`, value: v.value, secret: false, from: v.from });
        i++;
    }

    set("memLimit", get("MEM_LIMIT"));
    set("cpuLimit", get("CPU_LIMIT"));
    const admins = get("ADMIN_USER");
    if (admins) {
        const names = admins.value.split(/[\s,]+/).filter(Boolean);
        if (names.length > BOUNDS.users) {
            problems.push(`${admins.from}: names ${names.length} admins, more than ${BOUNDS.users}`);
        } else {
            names.forEach((name, n) => set(`admins[${n}]`, { value: name, from: admins.from }));
        }
    }

    if (flat.has("POSTGRES_PASSWORD")) {
        used.add("POSTGRES_PASSWORD");
        notes.push("shared.POSTGRES_PASSWORD is not migrated: the stack generates the database password and keeps it secret.");
    }
    for (const [k, e] of flat) {
        if (!used.has(k)) {
            problems.push(`${e.from}: is not a key of the old format this tool knows`);
        }
    }

    if (problems.length) {
        throw new MigrationError(problems);
    }
    for (const [key, value] of Object.entries(extra)) {
        const i = sets.findIndex((x) => x.key === key);
        const entry = { key, value, secret: false, from: `--set ${key}` };
        if (i >= 0) sets[i] = entry;
        else sets.push(entry);
    }
    checkDeployable(sets);
    return { sets, notes };
}

/** Where each stack key comes from in the old format, for "missing" messages. */
const SOURCES: Record<string, string> = {
    publicUrl: "OAUTH_CALLBACK_URL",
    "tls.keyPath": "HOST_KEY_PATH",
    "tls.certPath": "HOST_CERT_PATH",
    "keycloak.realmUrl": "OAUTH2_AUTHORIZE_URL",
    "keycloak.clientId": "CLIENT_ID",
    [CLIENT_SECRET_KEY]: "CLIENT_SECRET",
    admins: "ADMIN_USER",
};

/**
 * Refuses a migration whose result would not deploy: the whole stack config is checked
 * as `pulumi up` checks it. Each problem names the old key it came from, or the one
 * that was missing.
 */
function checkDeployable(sets: ConfigSet[]): void {
    const raw: Record<string, unknown> = Object.create(null);
    for (const s of sets) {
        setPath(raw, s.key, s.value);
    }
    try {
        parseConfig(raw);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        throw new MigrationError(
            e.problems.map((full) => {
                // The stack's own fix commands do not apply: the migration sets nothing.
                const problem = full.replace(/ (Fix|Choose one): .*$/, "");
                const key = problem.slice(0, problem.indexOf(":"));
                const source = sets.find((s) => s.key === key || s.key.startsWith(`${key}.`) || s.key.startsWith(`${key}[`));
                if (source) {
                    return `${source.from} (${key}): ${problem.slice(key.length + 2)}`;
                }
                const old = SOURCES[key.replace(/\[\d+\]$/, "")];
                const hint = key === CLIENT_SECRET_KEY
                    ? "add CLIENT_SECRET to the old file (a secret never goes on a command line)"
                    : key.startsWith("allowAll")
                      ? "the old setup let every user of the realm in; keep that with --set allowAll=true, or name who may: --set 'allowedGroups[0]=pyiron-users'"
                      : `${old ? `add ${old} to the old file, or ` : ""}pass --set ${key}=...`;
                return `${problem} [not in the old file: ${hint}]`;
            }),
            "Nothing was set. Fix the old file or pass the missing values with --set KEY=VALUE, then run the migration again.",
        );
    }
}

// A stack key as `pulumi config set --path` takes it: names and list indexes, nothing else.
const KEY_PATH = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*|\[[0-9]{1,3}\])*$/;

function setPath(target: Record<string, any>, key: string, value: string) {
    if (!KEY_PATH.test(key)) {
        throw new MigrationError([`${JSON.stringify(key)}: is not a stack config key (names and [index] only)`]);
    }
    const parts = key.split(/\.|(?=\[)/).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
    let cur: any = target;
    parts.forEach((p, n) => {
        if (n === parts.length - 1) {
            cur[p] = value;
        } else {
            cur[p] ??= typeof parts[n + 1] === "number" ? [] : Object.create(null);
            cur = cur[p];
        }
    });
}

/** The command a user would paste for one setting; a secret's prompts for its value. */
export function commandLine(s: ConfigSet, stack?: string): string {
    return setCommand(s.key, s.value, { stack });
}

/** The argv of `pulumi` for one setting; a secret's value goes through stdin instead. */
export function pulumiArgs(s: ConfigSet, stack?: string): string[] {
    const args = ["config", "set"];
    if (stack !== undefined) args.push("--stack", stack);
    if (s.secret) args.push("--secret");
    if (s.key.includes(".") || s.key.includes("[")) args.push("--path");
    args.push(s.key);
    if (!s.secret) args.push("--", s.value);
    return args;
}

/** `--set KEY=VALUE` pairs; the client secret is refused there (it would sit in shell history). */
function parseExtra(pairs: string[]): Record<string, string> {
    const extra: Record<string, string> = Object.create(null);
    const problems: string[] = [];
    for (const pair of pairs) {
        const eq = pair.indexOf("=");
        const key = eq > 0 ? pair.slice(0, eq) : pair;
        if (eq <= 0 || !KEY_PATH.test(key)) {
            problems.push(`--set ${JSON.stringify(pair)}: expected KEY=VALUE with a stack config key, e.g. --set allowAll=true`);
        } else if (key === CLIENT_SECRET_KEY) {
            problems.push(`--set ${CLIENT_SECRET_KEY}: a secret never goes on a command line; put CLIENT_SECRET in the old file`);
        } else {
            extra[key] = pair.slice(eq + 1);
        }
    }
    if (problems.length) throw new MigrationError(problems);
    return extra;
}

const OLD_FILE_MAX_BYTES = 1024 * 1024;

function main(argv: string[]): number {
    const usage = "usage: npm run migrate -- <auto_config.json | config.json> [--stack <name>] [--set KEY=VALUE ...] [--dry-run]";
    let file: string | undefined;
    let stack: string | undefined;
    let dryRun = false;
    const pairs: string[] = [];
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--dry-run") dryRun = true;
        else if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--set" && n + 1 < argv.length) pairs.push(argv[++n]);
        else if (a === "-h" || a === "--help") { console.log(usage); return 0; }
        else if (!file && !a.startsWith("-")) file = a;
        else { console.error(`unknown argument ${JSON.stringify(a)}\n${usage}`); return 2; }
    }
    if (!file) {
        console.error(usage);
        return 2;
    }
    // Pulumi's stack names: [org/[project/]]name of letters, digits, - _ and .
    if (stack !== undefined && !/^(?:[A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/.test(stack)) {
        console.error(`--stack ${JSON.stringify(stack)}: is not a stack name (letters, digits, - _ . and up to two / )`);
        return 2;
    }
    let migration: Migration;
    try {
        const extra = parseExtra(pairs);
        const size = fs.statSync(file).size;
        if (size > OLD_FILE_MAX_BYTES) {
            throw new MigrationError([`${JSON.stringify(file)} is ${size} bytes; an old config file is a few hundred`]);
        }
        const text = fs.readFileSync(file, "utf8");
        let old: unknown;
        try {
            old = JSON.parse(text);
        } catch (e) {
            // The parser's message quotes the file, which holds the client secret: not shown.
            throw new MigrationError([`${JSON.stringify(file)} is not valid JSON (check it with: python3 -m json.tool FILE)`]);
        }
        migration = migrate(old, extra);
    } catch (e) {
        console.error(e instanceof MigrationError ? e.message : `Cannot migrate: ${(e as Error).message}`);
        return 1;
    }
    if (dryRun) {
        // stdout holds only commands, so all of it can be pasted; the rest goes to stderr.
        console.error(`${migration.sets.length} settings from ${JSON.stringify(file)}; nothing was run. The secret's command prompts for it.`);
        migration.sets.forEach((s) => console.log(commandLine(s, stack)));
    } else {
        for (const s of migration.sets) {
            const r = spawnSync("pulumi", pulumiArgs(s, stack), {
                input: s.secret ? s.value : undefined,
                stdio: [s.secret ? "pipe" : "ignore", "inherit", "inherit"],
            });
            if (r.error || r.status !== 0) {
                console.error(`failed: ${commandLine(s, stack)}${r.error ? ` (${r.error.message})` : ""}`);
                return 1;
            }
            console.log(`set ${s.key}${s.secret ? " (secret)" : ""}`);
        }
    }
    migration.notes.forEach((n) => console.error(`note: ${n}`));
    return 0;
}

if (require.main === module) {
    process.exit(main(process.argv.slice(2)));
}

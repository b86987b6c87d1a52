// Migrates an old auto_config.json (grouped) or config.json (flat `pyiron` + `shared`)
// into this project's stack config.
//
//   npm run migrate -- <file> [--stack <name>] [--dry-run]
//
// --dry-run prints the `pulumi config set` commands (secrets elided) and runs nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { CLIENT_SECRET_KEY, configSchema, OIDC_PATH, realmEndpoints, realmOf, setCommand } from "../config";

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
    constructor(public readonly problems: string[]) {
        super(`Cannot migrate:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
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
export function migrate(old: unknown): Migration {
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
        return { value: String(e.value).trim(), from: e.from };
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
            const origin = new URL(callback.value).origin;
            set("publicUrl", { value: origin, from: callback.from });
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
        admins.value.split(/[\s,]+/).filter(Boolean).forEach((name, n) => set(`admins[${n}]`, { value: name, from: admins.from }));
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

    const checked = validate(sets);
    problems.push(...checked.problems);
    if (problems.length) {
        throw new MigrationError(problems);
    }
    for (const key of checked.missing) {
        notes.push(`The old file has no ${key}; set it: ${setCommand(key, "<value>")}`);
    }
    notes.push(
        "Choose who may log in (JupyterHub 5 lets nobody in by default): pulumi config set allowAll true, " +
            "or pulumi config set --path 'allowedUsers[0]' <user>, or pulumi config set --path 'allowedGroups[0]' <group>",
    );
    return { sets, notes };
}

/**
 * Checks the migrated values with the schema. Keys the old file never had are not its
 * fault: they come back as `missing`, for a note.
 */
function validate(sets: ConfigSet[]): { problems: string[]; missing: string[] } {
    const raw: Record<string, any> = {};
    for (const s of sets) {
        setPath(raw, s.key, s.value);
    }
    const result = configSchema.safeParse(raw, { reportInput: true });
    const problems: string[] = [];
    const missing: string[] = [];
    if (result.success) return { problems, missing };
    for (const issue of result.error.issues) {
        const key = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
        const source = sets.find((s) => s.key === key || s.key.startsWith(`${key}.`) || s.key.startsWith(`${key}[`));
        if (!source) {
            if (issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined && key !== CLIENT_SECRET_KEY) {
                missing.push(key);
            }
            continue;
        }
        const shown = source.secret ? "" : ` (got ${JSON.stringify(source.value)})`;
        problems.push(`${source.from}: ${issue.message}${shown}; it becomes ${key}`);
    }
    return { problems, missing };
}

function setPath(target: Record<string, any>, key: string, value: string) {
    const parts = key.split(/\.|(?=\[)/).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
    let cur: any = target;
    parts.forEach((p, n) => {
        if (n === parts.length - 1) {
            cur[p] = value;
        } else {
            cur[p] ??= typeof parts[n + 1] === "number" ? [] : {};
            cur = cur[p];
        }
    });
}

/** The command a user would type for one setting; secrets elided. */
export function commandLine(s: ConfigSet, stack?: string): string {
    const base = setCommand(s.key, s.value);
    return stack ? base.replace("pulumi config set", `pulumi config set --stack ${stack}`) : base;
}

/** The argv of `pulumi` for one setting; a secret's value goes through stdin instead. */
export function pulumiArgs(s: ConfigSet, stack?: string): string[] {
    const args = ["config", "set"];
    if (stack) args.push("--stack", stack);
    if (s.secret) args.push("--secret");
    if (s.key.includes(".") || s.key.includes("[")) args.push("--path");
    args.push(s.key);
    if (!s.secret) args.push("--", s.value);
    return args;
}

function main(argv: string[]): number {
    const usage = "usage: npm run migrate -- <auto_config.json | config.json> [--stack <name>] [--dry-run]";
    let file: string | undefined;
    let stack: string | undefined;
    let dryRun = false;
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--dry-run") dryRun = true;
        else if (a === "--stack") stack = argv[++n];
        else if (a === "-h" || a === "--help") { console.log(usage); return 0; }
        else if (!file && !a.startsWith("-")) file = a;
        else { console.error(`unknown argument ${a}\n${usage}`); return 2; }
    }
    if (!file || (argv.includes("--stack") && !stack)) {
        console.error(usage);
        return 2;
    }
    let migration: Migration;
    try {
        const text = fs.readFileSync(file, "utf8");
        let old: unknown;
        try {
            old = JSON.parse(text);
        } catch (e) {
            throw new MigrationError([`${file} is not valid JSON: ${(e as Error).message}`]);
        }
        migration = migrate(old);
    } catch (e) {
        console.error(e instanceof MigrationError ? e.message : `Cannot migrate: ${(e as Error).message}`);
        return 1;
    }
    if (dryRun) {
        console.log(`# ${migration.sets.length} settings from ${file}; nothing was run.`);
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
    migration.notes.forEach((n) => console.log(`note: ${n}`));
    return 0;
}

if (require.main === module) {
    process.exit(main(process.argv.slice(2)));
}

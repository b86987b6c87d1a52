// Back to the JupyterHub release that ran before an upgrade. Before it migrates the hub
// database, the hub's entry point (components/hub-start.py) keeps a copy of it inside
// Postgres, named <database>_before_<release>_<time>. This brings the newest copy that a
// release of this project wrote back as the hub database (the current one is kept under
// another name), sets hubVersion to that release and runs `pulumi up`. User servers keep
// running. A database at a release's own schema (a migration that went through) is
// replaced only by a copy named with --copy. Usage:
//   npm run hub-rollback -- --stack <name> [--copy <database>] [--hub-image <image>]
import { spawnSync } from "child_process";
import { configSchema, HubVersion, hubVersionOfRevision, setCommand, show } from "../config";
import { BackupError, commandLine, containerState, Deployment, deploymentOf, docker, failed, log, POSTGRES } from "./archive";
import { healthy } from "./restore";

const USAGE = "usage: npm run hub-rollback -- --stack <name> [--copy <database>] [--hub-image <image>]";

/** The copies hub-start.py names: the database, `_before_`, the release, a UTC time. */
const COPY = new RegExp(`^${POSTGRES.database}_before_\\d+_\\d+_\\d{8}t\\d{6}$`);

function psql(d: Deployment, database: string, sql: string, opts: { allowFailure?: boolean } = {}): string {
    return docker(["exec", d.names.postgresContainer, "psql", "-U", POSTGRES.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql], opts);
}

/** The copies of the hub database kept before upgrades, newest first, with the release whose schema each holds. */
export function hubDatabaseCopies(d: Deployment): Array<{ name: string; version: HubVersion | undefined }> {
    const names = psql(d, "postgres", "SELECT datname FROM pg_database").split("\n").filter((n) => COPY.test(n));
    names.sort((a, b) => b.slice(-15).localeCompare(a.slice(-15)));
    return names.map((name) => ({
        name,
        version: hubVersionOfRevision(psql(d, name, "SELECT version_num FROM alembic_version", { allowFailure: true })),
    }));
}

/** Databases besides the hub's: copies taken before upgrades and ones that rollbacks replaced. */
export function keptDatabases(d: Deployment): string[] {
    const system = new Set(["postgres", "template0", "template1", POSTGRES.database]);
    return psql(d, "postgres", "SELECT datname FROM pg_database").split("\n").filter((n) => n && !system.has(n));
}

export interface RollbackResult {
    copy: string;
    version: HubVersion;
    /** The name the replaced database is kept under. */
    kept: string;
    hubDowntime: number;
}

export async function hubRollback(d: Deployment, opts: { copy?: string; hubImage?: string } = {}): Promise<RollbackResult> {
    if (!containerState(d.names.postgresContainer)?.running) {
        throw new BackupError(`the hub database of stack ${show(d.stack)} is not running (${d.names.postgresContainer}): ${commandLine(["pulumi", "up", "--stack", d.stack])} first`);
    }
    const copies = hubDatabaseCopies(d);
    const listed = copies.length
        ? ` The copies: ${copies.map((c) => `${c.name} (${c.version ? `JupyterHub ${c.version}` : "the schema of no release"})`).join(", ")}.`
        : " There is no copy.";
    const live = hubVersionOfRevision(psql(d, POSTGRES.database, "SELECT version_num FROM alembic_version", { allowFailure: true }));
    if (live !== undefined && opts.copy === undefined) {
        // A migration that went through: the live database has everything since; a copy
        // replaces it only when the admin names that copy.
        throw new BackupError(
            `the hub database is at the schema of JupyterHub ${live}, so no migration stopped half-way. A copy would replace it, with ` +
                `what changed since the copy was taken.${listed} Nothing was changed. To go back to a copy anyway, name it: ` +
                commandLine(["npm", "run", "hub-rollback", "--", "--stack", d.stack, "--copy", copies.find((c) => c.version)?.name ?? "COPY"]),
        );
    }
    const usable = copies.filter((c) => c.version !== undefined && (opts.copy === undefined || c.name === opts.copy));
    if (usable.length === 0) {
        throw new BackupError(
            (opts.copy === undefined
                ? "no copy of the hub database taken before an upgrade holds the schema of a release this project runs."
                : `${show(opts.copy)} is not a copy of the hub database taken before an upgrade, at the schema of a release this project runs.`) +
                `${listed} Nothing was changed. A backup archive brings the database back too (README, Backup and restore: restore with --only database).`,
        );
    }
    const { name: copy, version } = usable[0] as { name: string; version: HubVersion };
    // A prebuilt hub image holds one release: the rollback needs one of the copy's.
    const prebuilt = d.hubImage;
    if (prebuilt !== undefined && opts.hubImage === undefined) {
        throw new BackupError(
            `stack ${show(d.stack)} runs the prebuilt hubImage ${show(String(prebuilt))}; ${copy} is JupyterHub ${version}'s. Nothing was changed. ` +
                `Name an image with JupyterHub ${version}: ${commandLine(["npm", "run", "hub-rollback", "--", "--stack", d.stack, "--copy", copy, "--hub-image", "IMAGE"])}`,
        );
    }
    const kept = `${POSTGRES.database}_replaced_${new Date().toISOString().replace(/[-:]/g, "").replace("T", "t").slice(0, 15)}`;
    const downFrom = Date.now();
    log(`stopping ${d.names.hubContainer}: user servers keep running, the hub is down until the end`);
    docker(["stop", d.names.hubContainer], { allowFailure: true });
    try {
        // One transaction: either both names change or neither does.
        psql(d, "postgres", `BEGIN; ALTER DATABASE ${POSTGRES.database} RENAME TO ${kept}; ALTER DATABASE ${copy} RENAME TO ${POSTGRES.database}; COMMIT;`);
    } catch (e) {
        docker(["start", d.names.hubContainer], { allowFailure: true });
        throw new BackupError(`${(e as Error).message}. Nothing was changed (another session may use the database: a running backup?); the hub was started again`);
    }
    log(`${copy} is the hub database again; the one it replaced is kept as ${kept}`);
    const undo = `The hub database now is ${copy} (JupyterHub ${version}); ${kept} holds the one it replaced. Do not run hub-rollback again. ` +
        `Once the cause is fixed: ${setCommand("hubVersion", version, { stack: d.stack })} && ${commandLine(["pulumi", "up", "--stack", d.stack])}`;
    const sets: Array<[string, string]> = [["hubVersion", version], ...(opts.hubImage ? [["hubImage", opts.hubImage] as [string, string]] : [])];
    for (const [key, value] of sets) {
        const set = spawnSync("pulumi", ["config", "set", key, value, "--stack", d.stack], { encoding: "utf8" });
        if (set.status !== 0) throw new BackupError(`pulumi config set ${key} failed: ${set.stderr.trim()}. ${undo}`);
    }
    log(`pulumi up: the hub runs JupyterHub ${version}`);
    const up = spawnSync("pulumi", ["up", "--yes", "--skip-preview", "--stack", d.stack], { stdio: ["ignore", "inherit", "inherit"] });
    if (up.status !== 0) throw new BackupError(`pulumi up failed (above). ${undo}`);
    // A hub container that pulumi up left as it was is still stopped.
    docker(["start", d.names.hubContainer]);
    await healthy(d.names.hubContainer);
    return { copy, version, kept, hubDowntime: (Date.now() - downFrom) / 1000 };
}

async function main(argv: string[]): Promise<number> {
    let stack: string | undefined;
    let copy: string | undefined;
    let hubImage: string | undefined;
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--copy" && n + 1 < argv.length) copy = argv[++n];
        else if (a === "--hub-image" && n + 1 < argv.length) hubImage = argv[++n];
        else {
            console.error(`unknown argument ${show(a)}\n${USAGE}`);
            return 2;
        }
    }
    if (!stack) {
        console.error(`name the stack\n${USAGE}`);
        return 2;
    }
    if (copy !== undefined && !COPY.test(copy)) {
        console.error(`--copy ${show(copy)} is not the name of a copy taken before an upgrade (${POSTGRES.database}_before_<release>_<time>)`);
        return 2;
    }
    if (hubImage !== undefined) {
        const checked = configSchema.shape.hubImage.safeParse(hubImage);
        if (!checked.success) {
            console.error(`--hub-image ${show(hubImage)} ${checked.error.issues[0].message}`);
            return 2;
        }
    }
    try {
        const d = deploymentOf(stack);
        const r = await hubRollback(d, { copy, hubImage });
        console.log(
            `the hub runs JupyterHub ${r.version} on ${r.copy}, the database as it was before the upgrade; the hub was down ${r.hubDowntime.toFixed(1)} s. ` +
                `The replaced database is kept as ${r.kept}; drop it once you no longer need it: ${commandLine(["docker", "exec", d.names.postgresContainer, "dropdb", "-U", POSTGRES.user, r.kept])}`,
        );
        return 0;
    } catch (e) {
        return failed("hub-rollback", e);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}

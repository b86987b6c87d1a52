// Back to the JupyterHub release that ran before an upgrade. Before it migrates the hub
// database, the hub's entry point (components/hub-start.py) keeps a copy of it inside
// Postgres, named <database>_before_<release>_<time>. This brings the newest copy that a
// release of this project wrote back as the hub database (the current one is kept under
// another name), sets hubVersion to that release and runs `pulumi up`. User servers keep
// running. Usage:
//   npm run hub-rollback -- --stack <name> [--copy <database>]
import { spawnSync } from "child_process";
import { HubVersion, hubVersionOfRevision, show } from "../config";
import { BackupError, commandLine, containerState, Deployment, deploymentOf, docker, failed, log, POSTGRES } from "./archive";
import { healthy } from "./restore";

const USAGE = "usage: npm run hub-rollback -- --stack <name> [--copy <database>]";

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

export interface RollbackResult {
    copy: string;
    version: HubVersion;
    /** The name the replaced database is kept under. */
    kept: string;
    hubDowntime: number;
}

export async function hubRollback(d: Deployment, wanted?: string): Promise<RollbackResult> {
    if (!containerState(d.names.postgresContainer)?.running) {
        throw new BackupError(`the hub database of stack ${show(d.stack)} is not running (${d.names.postgresContainer}): ${commandLine(["pulumi", "up", "--stack", d.stack])} first`);
    }
    const copies = hubDatabaseCopies(d);
    const usable = copies.filter((c) => c.version !== undefined && (wanted === undefined || c.name === wanted));
    if (usable.length === 0) {
        const listed = copies.length ? ` The copies there: ${copies.map((c) => `${c.name} (${c.version ? `JupyterHub ${c.version}` : "schema of no release"})`).join(", ")}.` : "";
        throw new BackupError(
            (wanted === undefined
                ? "no copy of the hub database taken before an upgrade holds the schema of a release this project runs."
                : `${show(wanted)} is not a copy of the hub database taken before an upgrade, at the schema of a release this project runs.`) +
                `${listed} Nothing was changed. A backup archive brings the database back too (README, Backup and restore: restore with --only database).`,
        );
    }
    const { name: copy, version } = usable[0] as { name: string; version: HubVersion };
    const kept = `${POSTGRES.database}_replaced_${new Date().toISOString().replace(/[-:]/g, "").replace("T", "t").slice(0, 15)}`;
    const downFrom = Date.now();
    log(`stopping ${d.names.hubContainer}: user servers keep running, the hub is down until the end`);
    docker(["stop", d.names.hubContainer], { allowFailure: true });
    // One transaction: either both names change or neither does.
    psql(d, "postgres", `BEGIN; ALTER DATABASE ${POSTGRES.database} RENAME TO ${kept}; ALTER DATABASE ${copy} RENAME TO ${POSTGRES.database}; COMMIT;`);
    log(`${copy} is the hub database again; the one it replaced is kept as ${kept}`);
    const set = spawnSync("pulumi", ["config", "set", "hubVersion", version, "--stack", d.stack], { encoding: "utf8" });
    if (set.status !== 0) throw new BackupError(`pulumi config set hubVersion failed: ${set.stderr.trim()}`);
    log(`pulumi up: the hub runs JupyterHub ${version}`);
    const up = spawnSync("pulumi", ["up", "--yes", "--skip-preview", "--stack", d.stack], { stdio: ["ignore", "inherit", "inherit"] });
    if (up.status !== 0) throw new BackupError(`pulumi up failed (above); the database is back as it was before the upgrade, and ${kept} holds the replaced one`);
    // A hub container that pulumi up left as it was is still stopped.
    docker(["start", d.names.hubContainer]);
    await healthy(d.names.hubContainer);
    return { copy, version, kept, hubDowntime: (Date.now() - downFrom) / 1000 };
}

async function main(argv: string[]): Promise<number> {
    let stack: string | undefined;
    let copy: string | undefined;
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--copy" && n + 1 < argv.length) copy = argv[++n];
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
    try {
        const d = deploymentOf(stack);
        const r = await hubRollback(d, copy);
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

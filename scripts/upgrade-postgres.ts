// The hub database to a new Postgres major. Postgres cannot read an older major's data
// files, so the data moves as a dump: the hub stops, a backup of the database and hub data
// is taken (the way back), the dump is loaded into a fresh database of the new major on
// the same volume, the stack's postgresImage is set and `pulumi up` replaces the database
// container. User
// servers keep running; only the hub is down, for the time printed. Usage:
//   npm run upgrade-postgres -- --stack <name> --image <postgres image> [--out <file.tar>]
import { spawnSync } from "child_process";
import { configSchema, setCommand, show } from "../config";
import {
    BackupError, commandLine, containerState, imageMajor, Deployment, deploymentOf, docker, ensureImage, failed, log, POSTGRES, ROLES,
} from "./archive";
import { backup } from "./backup";
import { keptDatabases } from "./hub-rollback";
import { emptyVolume, healthy, restoreDatabase } from "./restore";

const USAGE = "usage: npm run upgrade-postgres -- --stack <name> --image <postgres image> [--out <file.tar>]";

export interface UpgradeResult {
    from: number;
    to: number;
    archive: string;
    /** Seconds the hub was down. */
    hubDowntime: number;
}

export async function upgradePostgres(d: Deployment, image: string, archive: string): Promise<UpgradeResult> {
    if (!containerState(d.names.postgresContainer)?.running || !containerState(d.names.hubContainer)?.running) {
        throw new BackupError(`the deployment of stack ${show(d.stack)} is not running: ${commandLine(["pulumi", "up", "--stack", d.stack])} first`);
    }
    const from = Math.floor(Number(docker(["exec", d.names.postgresContainer, "psql", "-U", POSTGRES.user, "-d", POSTGRES.database, "-tAc", "SHOW server_version_num"])) / 10000);
    ensureImage(image);
    const to = imageMajor(image);
    if (to < from) throw new BackupError(`${image} is Postgres ${to}, older than the database's ${from}: Postgres does not go back; restore a backup taken on ${to} instead`);
    if (to === from) {
        throw new BackupError(`${image} is Postgres ${from}, as the database is: no data moves, set the image and run pulumi up: ${setCommand("postgresImage", image, { stack: d.stack })}`);
    }
    // A dump holds the hub database alone: the copies kept beside it would not move along.
    const kept = keptDatabases(d);
    if (kept.length) {
        throw new BackupError(
            `Postgres holds ${kept.join(", ")} beside the hub database (copies from JupyterHub upgrades), which the move would not carry over. ` +
                `Nothing was changed. Drop them once no longer needed, then run this again: ` +
                kept.map((k) => commandLine(["docker", "exec", d.names.postgresContainer, "dropdb", "-U", POSTGRES.user, k])).join(" && "),
        );
    }
    // The `pulumi up` at the end must change the database alone: other pending changes of
    // the stack are applied (or reverted) by the admin first, where they can be previewed.
    const preview = spawnSync("pulumi", ["preview", "--expect-no-changes", "--stack", d.stack], { encoding: "utf8" });
    if (preview.status !== 0) {
        throw new BackupError(`stack ${show(d.stack)} has changes that are not applied (or its preview fails): run ${commandLine(["pulumi", "up", "--stack", d.stack])} and check it first; nothing was changed`);
    }
    const downFrom = Date.now();
    log(`stopping ${d.names.hubContainer}: user servers keep running, the hub is down until the end`);
    docker(["stop", d.names.hubContainer]);
    let wiped = false;
    try {
        // With the hub stopped nothing writes: the dump in this archive is the last state. Homes
        // stay out (the database does not touch them), so the hub is down for the database only.
        await backup(d, archive, false, { homes: false });
        log(`backup: ${archive}`);
        docker(["stop", d.names.postgresContainer]);
        wiped = true;
        emptyVolume(d, d.names.postgresDataVolume, ROLES.postgresData);
        log(`loading the dump into Postgres ${to}`);
        await restoreDatabase(archive, d, image);
        const set = spawnSync("pulumi", ["config", "set", "postgresImage", image, "--stack", d.stack], { encoding: "utf8" });
        if (set.status !== 0) throw new BackupError(`pulumi config set postgresImage failed: ${set.stderr.trim()}`);
        log("pulumi up: the database container is replaced by one of the new image");
        const up = spawnSync("pulumi", ["up", "--yes", "--skip-preview", "--stack", d.stack], { stdio: ["ignore", "inherit", "inherit"] });
        if (up.status !== 0) throw new BackupError("pulumi up failed (above)");
    } catch (e) {
        const back = wiped
            ? `The database volume no longer holds Postgres ${from} data. To go back to it: ` +
              `${setCommand("postgresImage", d.postgresImage, { stack: d.stack })} && ` +
              `${commandLine(["npm", "run", "restore", "--", archive, "--stack", d.stack, "--only", "database", "--force"])} && ` +
              `${commandLine(["pulumi", "up", "--stack", d.stack])} && ${commandLine(["docker", "start", d.names.hubContainer])}`
            : "Nothing was changed; the hub and its database run as before.";
        if (!wiped) {
            docker(["start", d.names.postgresContainer], { allowFailure: true });
            docker(["start", d.names.hubContainer], { allowFailure: true });
        }
        throw new BackupError(`${(e as Error).message}. ${back}`);
    }
    // The data has moved; from here on only the hub's start is left.
    docker(["start", d.names.hubContainer]);
    await healthy(d.names.hubContainer);
    return { from, to, archive, hubDowntime: (Date.now() - downFrom) / 1000 };
}

async function main(argv: string[]): Promise<number> {
    let stack: string | undefined;
    let image: string | undefined;
    let out: string | undefined;
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--image" && n + 1 < argv.length) image = argv[++n];
        else if (a === "--out" && n + 1 < argv.length) out = argv[++n];
        else {
            console.error(`unknown argument ${show(a)}\n${USAGE}`);
            return 2;
        }
    }
    if (!stack || !image) {
        console.error(`name the stack and the new Postgres image\n${USAGE}`);
        return 2;
    }
    try {
        // The image is checked as the stack config would check it.
        const checked = configSchema.shape.postgresImage.safeParse(image);
        if (!checked.success) {
            console.error(`--image ${show(image)} ${checked.error.issues[0].message}`);
            return 2;
        }
        const d = deploymentOf(stack);
        const archive = out ?? `pyiron-hub-backup-${d.namePrefix}-before-postgres-upgrade-${new Date().toISOString().replace(/[:.]/g, "-")}.tar`;
        const r = await upgradePostgres(d, checked.data, archive);
        console.log(`the hub database moved from Postgres ${r.from} to ${r.to}; the hub was down ${r.hubDowntime.toFixed(1)} s; the way back is ${r.archive}`);
        return 0;
    } catch (e) {
        return failed("upgrade-postgres", e);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}

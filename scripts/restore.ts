// Brings a backup (npm run backup) back onto this Docker engine, for the stack named:
// before `pulumi up` on an empty engine or a new host, or over a running deployment with
// --force. Every checksum is verified before anything changes. Usage:
//   npm run restore -- <archive.tar> --stack <name> [--force] [--only database|volumes]
import * as crypto from "crypto";
import { spawnSync } from "child_process";
import { HUB_VERSION_NAMES, setCommand, show } from "../config";
import { DEPLOYMENT_LABEL, deploymentLabels, ROLE_LABEL } from "../components/names";
import {
    BackupError, commandLine, containerState, Deployment, deploymentOf, docker, DUMP, ensureImage, failed, helperArgs, imageMajor, log, Manifest, Member, memberArgs, POSTGRES, readManifest, ROLES, stream, volumeExists,
} from "./archive";

const USAGE = "usage: npm run restore -- <archive.tar> --stack <name> [--force] [--only database|volumes]";

export interface RestoreOptions {
    force: boolean;
    only?: "database" | "volumes";
}

export interface RestoreResult {
    volumes: string[];
    database: boolean;
    /** What the admin runs next, if anything. */
    next: string | null;
}

/** The member's volume under the target stack's prefix (a backup may move to another stack). */
function targetVolume(m: Manifest, member: Extract<Member, { kind: "volume" }>, d: Deployment): string {
    // The manifest's schema holds each volume to `<its prefix>-hub-data` or `-home-<user>`.
    return `${d.namePrefix}-${member.volume.slice(m.namePrefix.length + 1)}`;
}

function isEmpty(d: Deployment, volume: string): boolean {
    return spawnSync("docker", helperArgs(d, volume, true, ["sh", "-c", 'test -z "$(ls -A /volume)"']), { stdio: "ignore" }).status === 0;
}

/** An empty volume of that name, with the labels the program gives it. */
export function emptyVolume(d: Deployment, volume: string, role: string | undefined): void {
    if (!volumeExists(volume)) {
        const labels = role === ROLES.hubData || role === ROLES.postgresData ? deploymentLabels(d.namePrefix, role) : [];
        docker(["volume", "create", ...labels.flatMap(({ label, value }) => ["--label", `${label}=${value}`]), volume]);
    } else if (!isEmpty(d, volume)) {
        docker(helperArgs(d, volume, false, ["sh", "-c", "find /volume -mindepth 1 -delete"]));
    }
}

/** Loads the dump into a fresh database on the (empty) data volume, with a throwaway server of `image`. */
export async function restoreDatabase(archive: string, d: Deployment, image = d.postgresImage): Promise<void> {
    const temp = `${d.namePrefix}-restore-postgres`;
    docker(["rm", "-f", temp], { allowFailure: true });
    // The password only lives as long as this server; the hub's own is set again when its database starts.
    const env = { ...process.env, POSTGRES_PASSWORD: crypto.randomBytes(24).toString("hex") };
    const r = spawnSync("docker", [
        "run", "-d", "--name", temp, "--network", "none",
        "-v", `${d.names.postgresDataVolume}:${POSTGRES.dataDir}`,
        "-e", `POSTGRES_USER=${POSTGRES.user}`, "-e", `POSTGRES_DB=${POSTGRES.database}`, "-e", "POSTGRES_PASSWORD", "-e", `PGDATA=${POSTGRES.dataDir}/pgdata`,
        image, "postgres",
    ], { encoding: "utf8", env });
    if (r.status !== 0) throw new BackupError(`cannot start a database server of ${image}: ${r.stderr.trim()}`);
    // Ctrl-C leaves no throwaway server behind.
    const interrupted = () => {
        docker(["rm", "-f", temp], { allowFailure: true });
        process.exit(130);
    };
    process.once("SIGINT", interrupted);
    try {
        const ready = () => spawnSync("docker", ["exec", temp, "pg_isready", "-q", "-h", "127.0.0.1", "-U", POSTGRES.user, "-d", POSTGRES.database], { stdio: "ignore" }).status === 0;
        for (let i = 0; i < 120 && !ready(); i++) await new Promise((res) => setTimeout(res, 1000));
        if (!ready()) throw new BackupError(`the database server of ${image} did not start: ${docker(["logs", "--tail", "20", temp], { allowFailure: true })}`);
        await stream("database", ["tar", memberArgs(archive, DUMP)], {
            sink: ["docker", ["exec", "-i", temp, "pg_restore", "-U", POSTGRES.user, "-d", POSTGRES.database, "--no-owner", "--no-privileges", "--exit-on-error"]],
        });
    } finally {
        process.off("SIGINT", interrupted);
        docker(["stop", temp], { allowFailure: true });
        docker(["rm", "-f", temp], { allowFailure: true });
    }
}

/** The deployment's running containers: hub, database and user servers. */
/** The deployment's running containers, or those of one role. */
function deploymentContainers(d: Deployment, role?: string): string[] {
    const filters = ["--filter", `label=${DEPLOYMENT_LABEL}=${d.namePrefix}`, ...(role ? ["--filter", `label=${ROLE_LABEL}=${role}`] : [])];
    return docker(["ps", "--format", "{{.Names}}", ...filters]).split("\n").filter(Boolean);
}

export async function restore(archive: string, d: Deployment, opts: RestoreOptions): Promise<RestoreResult> {
    const manifest = readManifest(archive);
    const members = manifest.members.filter((m) => !opts.only || (opts.only === "database") === (m.kind === "database"));
    // 1. Every byte checked before anything changes.
    for (const m of members) {
        const got = await stream(`checking ${m.path}`, ["tar", memberArgs(archive, m.path)], {});
        if (got.sha256 !== m.sha256 || got.bytes !== m.bytes) {
            throw new BackupError(`${m.path} in ${show(archive)} does not match its checksum in the manifest (damaged or altered); nothing was changed`);
        }
    }
    const volumes = members.flatMap((m) => (m.kind === "volume" ? [{ member: m, volume: targetVolume(manifest, m, d) }] : []));
    const database = members.some((m) => m.kind === "database");
    ensureImage(d.postgresImage);
    // A newer major's dump does not load into an older server: refused while nothing changed.
    const dumpMajor = parseInt(manifest.postgres.serverVersion, 10);
    const serverMajor = imageMajor(d.postgresImage);
    if (database && dumpMajor > serverMajor) {
        throw new BackupError(`the archive's database is Postgres ${dumpMajor}, newer than the stack's postgresImage ${d.postgresImage} (Postgres ${serverMajor}), which cannot load it: set a Postgres ${dumpMajor} image or newer (${setCommand("postgresImage", `postgres:${dumpMajor}`, { stack: d.stack })}); nothing was changed`);
    }
    // The database of a newer JupyterHub than the stack runs would leave the hub down.
    const archived = /^(\d+\.\d+)\./.exec(manifest.hub.jupyterhubVersion?.trim() ?? "")?.[1];
    const order = (release: string) => release.split(".").map(Number).reduce((n, part) => n * 1000 + part, 0);
    if (database && archived && order(archived) > order(d.hubVersion)) {
        const fix = (HUB_VERSION_NAMES as string[]).includes(archived) ? ` (${setCommand("hubVersion", archived, { stack: d.stack })})` : "";
        throw new BackupError(`the archive's hub database was written by JupyterHub ${archived}, newer than the stack's hubVersion ${d.hubVersion}, which cannot run it: set that release first${fix}; nothing was changed`);
    }
    // 2. Nothing a user stored is overwritten unless asked.
    const targets = [...volumes.map((v) => v.volume), ...(database ? [d.names.postgresDataVolume] : [])];
    const occupied = targets.filter((v) => volumeExists(v) && !isEmpty(d, v));
    const running = deploymentContainers(d);
    if ((occupied.length || running.length) && !opts.force) {
        const what = [...(occupied.length ? [`volumes with data: ${occupied.join(", ")}`] : []), ...(running.length ? [`running containers: ${running.join(", ")}`] : [])];
        throw new BackupError(
            `the restore would replace ${what.join("; ")}. Nothing was changed. To replace them with the archive's: ` +
            commandLine(["npm", "run", "restore", "--", archive, "--stack", d.stack, "--force", ...(opts.only ? ["--only", opts.only] : [])]),
        );
    }
    // 3. The hub first, so no user server starts again meanwhile; then the user servers (a
    // database-only restore leaves them running: they do not use the database), then the
    // database. The proxy, the front and the firewall hold no data and keep running.
    const stop = (c: string) => {
        log(`stopping ${c}`);
        docker(["stop", c]);
    };
    if (running.includes(d.names.hubContainer)) stop(d.names.hubContainer);
    const userServers = opts.only === "database" ? [] : deploymentContainers(d, ROLES.userServer);
    for (const c of userServers) stop(c);
    if (deploymentContainers(d).includes(d.names.postgresContainer)) stop(d.names.postgresContainer);
    // 4. The data.
    for (const [i, { member, volume }] of volumes.entries()) {
        log(`volume ${i + 1}/${volumes.length}: ${volume}`);
        emptyVolume(d, volume, member.role);
        // No set-uid or set-gid file comes back: a home never needs one, and an archive made
        // by hand could carry one owned by root.
        const unpack = 'tar --numeric-owner -C /volume -xf - && find /volume -type f -perm /6000 -exec chmod ug-s {} +';
        await stream(volume, ["tar", memberArgs(archive, member.path)], { sink: ["docker", helperArgs(d, volume, false, ["sh", "-c", unpack])] });
    }
    if (database) {
        log(`database into ${d.names.postgresDataVolume} (${d.postgresImage}; the backup is of Postgres ${manifest.postgres.serverVersion})`);
        emptyVolume(d, d.names.postgresDataVolume, ROLES.postgresData);
        await restoreDatabase(archive, d);
    }
    // 5. The deployment's containers run again (also ones stopped before the restore),
    // if the database container runs the stack's image; else Pulumi replaces it.
    let next: string | null = null;
    const db = containerState(d.names.postgresContainer);
    const wanted = docker(["image", "inspect", "--format", "{{.Id}}", d.postgresImage]);
    if (!db) {
        next = pulumiUp(d);
    } else if (db.image !== wanted) {
        // Pulumi replaces the database container with the stack's image; the hub, which it
        // leaves as it is, was stopped here and is started after.
        next = `${pulumiUp(d)} && ${commandLine(["docker", "start", d.names.hubContainer])}`;
    } else {
        // The hub last: it needs the database and the proxy's API as it starts.
        const order = [d.names.postgresContainer, d.names.firewallContainer, d.names.proxyContainer, d.names.frontContainer, d.names.hubContainer];
        for (const c of order.filter((c) => containerState(c))) {
            log(`starting ${c}`);
            docker(["start", c]);
            await healthy(c);
        }
    }
    return { volumes: volumes.map((v) => v.volume), database, next };
}

/** Waits until a started container's health check passes (both the hub's and the database's have one). */
export async function healthy(container: string): Promise<void> {
    for (let i = 0; i < 180; i++) {
        const status = docker(["inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", container]);
        if (status === "healthy" || status === "none") return;
        await new Promise((res) => setTimeout(res, 1000));
    }
    throw new BackupError(`${container} did not become healthy within 3 minutes after the restore: see docker logs ${container}`);
}

/** `pulumi up` for the stack. */
function pulumiUp(d: Deployment): string {
    return commandLine(["pulumi", "up", "--stack", d.stack]);
}

async function main(argv: string[]): Promise<number> {
    let stack: string | undefined;
    let archive: string | undefined;
    const opts: RestoreOptions = { force: false };
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--force") opts.force = true;
        else if (a === "--only" && (argv[n + 1] === "database" || argv[n + 1] === "volumes")) opts.only = argv[++n] as RestoreOptions["only"];
        else if (!a.startsWith("--") && archive === undefined) archive = a;
        else {
            console.error(`unknown argument ${show(a)}\n${USAGE}`);
            return 2;
        }
    }
    if (!stack || !archive) {
        console.error(`name the archive and the stack to restore into\n${USAGE}`);
        return 2;
    }
    try {
        const started = Date.now();
        const r = await restore(archive, deploymentOf(stack), opts);
        console.log(`restored ${r.database ? "the database and " : ""}${r.volumes.length} volumes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (r.next) console.log(`next: ${r.next}`);
        return 0;
    } catch (e) {
        return failed("restore", e);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}

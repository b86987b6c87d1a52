// One archive of everything a deployment keeps: a consistent dump of the hub database,
// taken while the hub runs, the hub data volume and every user's home volume, with a
// manifest of versions and checksums. Usage:
//   npm run backup -- --stack <name> [--out <file.tar>] [--force]
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { pulumiCommand, show } from "../config";
import {
    BackupError, containerState, failed, Deployment, deploymentOf, docker, DUMP, helperArgs, homeVolumes, log, Manifest, MANIFEST, Member, mib, POSTGRES, ROLES, stream, FORMAT,
} from "./archive";

const USAGE = "usage: npm run backup -- --stack <name> [--out <file.tar>] [--force]";

/** Adds `file` (in `dir`) to the archive and deletes it, so the disk holds one extra copy at most. */
function append(archive: string, dir: string, file: string): void {
    const r = spawnSync("tar", ["-rf", archive, "-C", dir, file], { encoding: "utf8" });
    if (r.status !== 0) throw new BackupError(`cannot add ${file} to ${show(archive)}: ${r.stderr.trim()}`);
    fs.rmSync(path.join(dir, file));
}

/** `homes: false` leaves the home volumes out (the database and hub data only). */
export async function backup(d: Deployment, out: string, force: boolean, opts: { homes: boolean } = { homes: true }): Promise<Manifest> {
    const db = containerState(d.names.postgresContainer);
    if (!db?.running) {
        throw new BackupError(`the hub database ${d.names.postgresContainer} is not running: deploy the stack (${pulumiCommand(["up", "--stack", d.stack])}) before a backup`);
    }
    if (fs.existsSync(out) && !force) throw new BackupError(`${show(out)} exists: choose another --out, or pass --force to replace it`);
    const work = fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), ".pyiron-hub-backup-"));
    const partial = `${out}.partial`;
    if (fs.existsSync(partial) && !force) throw new BackupError(`${show(partial)} is left from an earlier backup: remove it, or pass --force`);
    fs.rmSync(partial, { force: true });
    // The archive holds every user's files and SSH keys: its owner alone reads it.
    fs.closeSync(fs.openSync(partial, "wx", 0o600));
    try {
        const members: Member[] = [];
        // pg_dump reads one snapshot: consistent while the hub keeps writing.
        log(`dumping the hub database from ${d.names.postgresContainer}`);
        const dump = await stream("database", ["docker", ["exec", d.names.postgresContainer, "pg_dump", "-U", POSTGRES.user, "-d", POSTGRES.database, "--format=custom"]], { file: path.join(work, DUMP) });
        members.push({ path: DUMP, kind: "database", ...dump });
        append(partial, work, DUMP);
        const volumes = [
            { name: d.names.hubDataVolume, role: ROLES.hubData },
            ...(opts.homes ? homeVolumes(d) : []).map((name) => ({ name, role: "home" as const })),
        ];
        fs.mkdirSync(path.join(work, "volumes"));
        for (const [i, v] of volumes.entries()) {
            const file = `volumes/${v.name}.tar`;
            log(`volume ${i + 1}/${volumes.length}: ${v.name}`);
            // Numeric owners: jovyan's uid 1000 and the hub's files come back as they were. A file
            // a user writes meanwhile is taken as tar finds it (exit 1), not a failed backup.
            const copy = await stream(
                v.name,
                ["docker", helperArgs(d, v.name, true, ["tar", "--numeric-owner", "--warning=no-file-changed", "-C", "/volume", "-cf", "-", "."])],
                { file: path.join(work, file) },
                [0, 1],
            );
            members.push({ path: file, kind: "volume", volume: v.name, role: v.role, ...copy });
            append(partial, work, file);
        }
        const hub = containerState(d.names.hubContainer);
        const manifest: Manifest = {
            format: FORMAT,
            createdAt: new Date().toISOString(),
            stack: d.stack,
            namePrefix: d.namePrefix,
            tool: { name: "pyiron-jupyterhub", version: require("../package.json").version },
            postgres: {
                image: d.postgresImage,
                serverVersion: docker(["exec", d.names.postgresContainer, "psql", "-U", POSTGRES.user, "-d", POSTGRES.database, "-tAc", "SHOW server_version"]),
            },
            hub: {
                image: hub ? docker(["inspect", "--format", "{{.Config.Image}}", d.names.hubContainer]) : null,
                jupyterhubVersion: hub?.running ? docker(["exec", d.names.hubContainer, "jupyterhub", "--version"], { allowFailure: true }) || null : null,
            },
            members,
        };
        fs.writeFileSync(path.join(work, MANIFEST), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
        append(partial, work, MANIFEST);
        fs.renameSync(partial, out);
        return manifest;
    } catch (e) {
        fs.rmSync(partial, { force: true });
        throw e;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

async function main(argv: string[]): Promise<number> {
    let stack: string | undefined;
    let out: string | undefined;
    let force = false;
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--out" && n + 1 < argv.length) out = argv[++n];
        else if (a === "--force") force = true;
        else {
            console.error(`unknown argument ${show(a)}\n${USAGE}`);
            return 2;
        }
    }
    if (!stack) {
        console.error(`name the stack to back up\n${USAGE}`);
        return 2;
    }
    try {
        const d = deploymentOf(stack);
        const file = out ?? `pyiron-hub-backup-${d.namePrefix}-${new Date().toISOString().replace(/[:.]/g, "-")}.tar`;
        const started = Date.now();
        const m = await backup(d, file, force);
        const total = m.members.reduce((s, x) => s + x.bytes, 0);
        console.log(`${file}: the database and ${m.members.length - 1} volumes, ${mib(total)}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return 0;
    } catch (e) {
        return failed("backup", e);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}

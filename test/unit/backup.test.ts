// The archive format of npm run backup / restore, without Docker: which files are taken
// for backups of this project, and the checksum pass that runs before a restore changes
// anything. The whole round trip runs on the test bed (e2e/tests/backup.e2e.test.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { BackupError, FORMAT, memberArgs, readManifest, stream } from "../../scripts/archive";

function archiveWith(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archive-"));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const file = path.join(dir, "a.tar");
    assert.equal(spawnSync("tar", ["-cf", file, "-C", dir, ...Object.keys(files)]).status, 0);
    return file;
}

const SUM = "0".repeat(64);
const MANIFEST = {
    format: FORMAT,
    createdAt: "2026-11-26T00:00:00.000Z",
    stack: "prod",
    namePrefix: "hub",
    tool: { name: "pyiron-jupyterhub", version: "0.1.0" },
    postgres: { image: "postgres:17", serverVersion: "17.2" },
    hub: { image: "hub:x", jupyterhubVersion: "5.5.4" },
    members: [
        { kind: "database", path: "database.dump", bytes: 1, sha256: SUM },
        { kind: "volume", path: "volumes/hub-hub-data.tar", volume: "hub-hub-data", role: "hub-data", bytes: 1, sha256: SUM },
        { kind: "volume", path: "volumes/hub-home-alice.tar", volume: "hub-home-alice", role: "home", bytes: 1, sha256: SUM },
    ],
};

describe("backup archives", () => {
    it("refuses a crafted manifest before any of it reaches tar or Docker", () => {
        const [db, data, home] = MANIFEST.members;
        const crafted: Array<[string, unknown[]]> = [
            ["a member path tar would read as an option", [{ ...db, path: "--use-compress-program=sh -c id" }]],
            ["a volume member path with ../", [{ ...home, path: "volumes/../../etc/passwd.tar" }]],
            ["a path that is not the volume's", [{ ...home, path: "volumes/hub-home-bob.tar" }]],
            ["another deployment's volume", [{ ...home, volume: "other-home-alice", path: "volumes/other-home-alice.tar" }]],
            ["the database volume", [{ ...data, volume: "hub-postgres-data", path: "volumes/hub-postgres-data.tar" }]],
            ["a home of a longer prefix's deployment", [{ ...home, volume: "hub-prod-postgres-data", path: "volumes/hub-prod-postgres-data.tar" }]],
            ["a home called hub data", [{ ...data, role: "home" }]],
            ["a member twice", [home, home]],
            ["two databases", [db, { ...db }]],
            ["an odd checksum", [{ ...db, sha256: "x" }]],
            ["an unknown kind", [{ ...db, kind: "script" }]],
        ];
        for (const [what, members] of crafted) {
            const file = archiveWith({ "manifest.json": JSON.stringify({ ...MANIFEST, members }) });
            assert.throws(() => readManifest(file), /is not one this tool writes .*nothing was changed/, what);
        }
        assert.throws(() => readManifest(archiveWith({ "manifest.json": JSON.stringify({ ...MANIFEST, namePrefix: "-x" }) })), /is not one this tool writes/);
    });

    it("reads the manifest of an archive of this format, and refuses others by name", () => {
        const good = archiveWith({ "manifest.json": JSON.stringify(MANIFEST) });
        assert.deepEqual(readManifest(good), MANIFEST);
        assert.throws(() => readManifest("/nonexistent/x.tar"), /no archive at/);
        assert.throws(() => readManifest(archiveWith({ "other.txt": "x" })), (e) => e instanceof BackupError && /is not a backup of this project/.test(e.message));
        assert.throws(() => readManifest(archiveWith({ "manifest.json": "{" })), /is not JSON/);
        assert.throws(() => readManifest(archiveWith({ "manifest.json": JSON.stringify({ format: "pyiron-jupyterhub-backup/9" }) })), /has format "pyiron-jupyterhub-backup\/9"; this version reads pyiron-jupyterhub-backup\/1/);
    });

    it("hashes a member as the restore's check does: one changed byte gives another checksum", async () => {
        const a = archiveWith({ "database.dump": "abc".repeat(1000) });
        const b = archiveWith({ "database.dump": "abc".repeat(999) + "abd" });
        const sum = (f: string) => stream("check", ["tar", ["-xOf", f, "database.dump"]], {});
        const [x, y] = [await sum(a), await sum(b)];
        assert.equal(x.bytes, 3000);
        assert.equal(x.sha256, crypto.createHash("sha256").update("abc".repeat(1000)).digest("hex"));
        assert.notEqual(x.sha256, y.sha256);
        await assert.rejects(sum(archiveWith({ "x": "1" })), /check failed/);
        // A member name is never an option to tar, even past the manifest's checks.
        const marker = path.join(os.tmpdir(), `tar-option-${process.pid}`);
        await assert.rejects(stream("check", ["tar", memberArgs(a, `--to-command=touch ${marker}`)], {}), /check failed/);
        assert.equal(fs.existsSync(marker), false);
    });
});

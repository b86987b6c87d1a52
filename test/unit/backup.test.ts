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
import { BackupError, FORMAT, readManifest, stream } from "../../scripts/archive";

function archiveWith(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archive-"));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const file = path.join(dir, "a.tar");
    assert.equal(spawnSync("tar", ["-cf", file, "-C", dir, ...Object.keys(files)]).status, 0);
    return file;
}

describe("backup archives", () => {
    it("reads the manifest of an archive of this format, and refuses others by name", () => {
        const good = archiveWith({ "manifest.json": JSON.stringify({ format: FORMAT, members: [] }) });
        assert.equal(readManifest(good).format, FORMAT);
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
    });
});

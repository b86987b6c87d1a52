// The hub database's entry point (components/postgres-start.sh) with stand-ins for the
// Postgres binaries: a data volume of another major is refused with the way out, before
// the server is started; data of the image's own major starts as before.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const SCRIPT = path.join(__dirname, "..", "..", "components", "postgres-start.sh");

function start(dataMajor: string | undefined, imageMajor: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-start-"));
    const bin = path.join(dir, "bin");
    const data = path.join(dir, "data");
    fs.mkdirSync(bin);
    fs.mkdirSync(data);
    if (dataMajor) fs.writeFileSync(path.join(data, "PG_VERSION"), `${dataMajor}\n`);
    const started = path.join(dir, "server-started");
    const tool = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    tool("postgres", `echo "postgres (PostgreSQL) ${imageMajor}.2 (Debian ${imageMajor}.2-1)"`);
    tool("docker-entrypoint.sh", `touch "${started}"`);
    tool("pg_isready", "exit 1");
    const r = spawnSync("sh", [SCRIPT, "postgres"], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin`, PGDATA: data, POSTGRES_USER: "u", POSTGRES_DB: "d" } });
    return { status: r.status, stderr: r.stderr, started: fs.existsSync(started) };
}

describe("the hub database's entry point", () => {
    it("refuses data of another Postgres major before starting a server, and says how out", () => {
        const r = start("15", "17");
        assert.equal(r.status, 1);
        assert.equal(r.started, false);
        assert.match(r.stderr, /holds Postgres 15 data, and postgresImage runs Postgres 17, which cannot read it\. Nothing was changed\. Set postgresImage back to a Postgres 15 image/);
        assert.match(r.stderr, /to move the data to another major, see the README, Upgrading Postgres/);
    });

    it("starts the server on data of its own major, and on an empty volume", () => {
        for (const data of ["17", undefined]) {
            const r = start(data, "17");
            assert.equal(r.started, true, `${data}: ${r.stderr}`);
            assert.equal(r.status, 0, r.stderr);
        }
    });
});

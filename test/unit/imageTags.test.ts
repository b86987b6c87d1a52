// `npm run image-tags`: newer published tags per configured image, and a clear failure
// when the list cannot be read. The list is served from 127.0.0.1 here.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_IMAGES } from "../../config";
import { checkImages, parseReleaseList } from "../../scripts/image-tags";

const ROOT = path.join(__dirname, "..", "..");
const SAMPLE = fs.readFileSync(path.join(__dirname, "..", "fixtures", "release-sample.csv"), "utf8");

// Asynchronous, so that the list server in this process can answer meanwhile.
function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "image-tags.ts"), ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
            resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
    });
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
}

describe("pyiron's published tags", () => {
    let server: http.Server;
    let url = "";
    before(async () => {
        server = http.createServer((req, res) => {
            if (req.url === "/release.csv") res.writeHead(200).end(SAMPLE);
            else if (req.url === "/changed.csv") res.writeHead(200).end("a,b,c\n1,2,3\n");
            else res.writeHead(404).end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    it("reads the docker_tag column and nothing that is not a pyiron date tag", () => {
        const refs = parseReleaseList(SAMPLE);
        assert.ok(refs.includes("pyiron/md:2025-12-08"));
        assert.ok(!refs.some((r) => r.includes("$(id)")));
    });

    it("names the newest tag of each image and the command that moves to it", () => {
        const rows = checkImages(DEFAULT_IMAGES, parseReleaseList(SAMPLE), "prod");
        const byLabel = Object.fromEntries(rows.map((r) => [r.label, r]));
        assert.equal(byLabel.pyiron_base.newest, "2025-12-01");
        assert.equal(byLabel.pyiron_base.command, "pulumi config set --stack prod --path 'images[0].image' pyiron/base:2025-12-01");
        assert.equal(byLabel.pyiron_md.status, "2 newer tags");
        assert.equal(byLabel.pyiron_atomistics.status, "newest published tag");
        assert.equal(byLabel.pyiron_atomistics.command, undefined);
    });

    it("says when an image is retired, unknown or not pyiron's", () => {
        const rows = checkImages([
            { label: "c", image: "pyiron/continuum:2025-03-04" },
            { label: "x", image: "pyiron/nothing:2025-11-24" },
            { label: "o", image: "registry.example.org/lab/image:1" },
            { label: "t", image: "pyiron/base:2025-11-20" },
        ], parseReleaseList(SAMPLE));
        assert.match(rows[0].status, /^retired upstream; its last tag is 2025-03-04/);
        assert.match(rows[1].status, /^not in the published list/);
        assert.match(rows[2].status, /^not a pyiron image/);
        assert.match(rows[3].status, /^tag 2025-11-20 is not in the published list/);
        assert.match(rows[3].command!, /pyiron\/base:2025-12-01$/);
    });

    it("prints a table and the commands from a served list, and can keep a snapshot", async () => {
        const snapshot = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tags-")), "tags.txt");
        const r = await run(["--source", `${url}/release.csv`, "--write-snapshot", snapshot]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\| pyiron_md \| pyiron\/md:2025-11-24 \| 2025-12-08 \| 2 newer tags \|$/m);
        assert.match(r.stdout, /^pulumi config set --path 'images\[2\]\.image' pyiron\/md:2025-12-08$/m);
        assert.ok(fs.readFileSync(snapshot, "utf8").includes("\npyiron/md:2025-12-08\n"));
    });

    it("fails clearly, never silently, when the list cannot be reached or read", async () => {
        const port = await closedPort();
        const closed = await run(["--source", `http://127.0.0.1:${port}/release.csv`]);
        assert.equal(closed.status, 2);
        assert.match(closed.stderr, new RegExp(`^Cannot check the image tags: cannot reach http://127\\.0\\.0\\.1:${port}/release\\.csv: ECONNREFUSED\\.\nNothing was checked\\.`));
        assert.equal(closed.stdout, "");
        const missing = await run(["--source", `${url}/gone.csv`]);
        assert.equal(missing.status, 2);
        assert.match(missing.stderr, /answered 404/);
        const changed = await run(["--source", `${url}/changed.csv`]);
        assert.equal(changed.status, 2);
        assert.match(changed.stderr, /has no docker_tag column/);
    });
});

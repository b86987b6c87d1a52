// Loads generated configs with the hub's real Python packages (test/setup-python.sh).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { POSTGRES } from "../../components/database";
import { JupyterhubConfigInputs, renderJupyterhubConfig } from "../../components/jupyterhubConfig";
import { goldenSettings } from "../fixtures";

const VENV = process.env.PYIRON_HUB_VENV ?? path.join(os.homedir(), ".cache", "pyiron-jupyterhub", "venv");
const PYTHON = path.join(VENV, "bin", "python");
const CHECK = path.join(__dirname, "..", "python", "check_hub_config.py");

function check(content: string): { ok: boolean; output: string } {
    assert.ok(fs.existsSync(PYTHON), `no Python with the hub's packages at ${PYTHON}: run test/setup-python.sh`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-config-"));
    const file = path.join(dir, "jupyterhub_config.py");
    fs.writeFileSync(file, content);
    const r = spawnSync(PYTHON, [CHECK, file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const variants: Array<[string, Partial<JupyterhubConfigInputs>]> = [
    ["users and groups allowed (the golden config)", {}],
    ["everyone in the realm allowed", { allowAll: true, allowedUsers: [], allowedGroups: [] }],
    ["only listed users allowed", { allowedGroups: [] }],
    ["plain HTTP for a trial stack", { tls: false, publicUrl: "http://localhost:8000", allowAll: true, allowedUsers: [], allowedGroups: [] }],
    ["clusters for pyiron jobs (hpc)", { hpc: { clusters: [{ name: "lab", host: "login.lab.example.org", port: 22, hostKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjTZdOB8UhU7bE5PCJPFOVQvsZROrEq16yaSKrcKoj9"], username: "{username}", remotePath: "/home/{clusterUser}/r", configDir: "/home/{clusterUser}/q", partitions: [{ name: "batch", cores: 1, runTime: 600 }] }] } }],
    ["a single image and fractional limits", { images: [{ label: "base", image: "pyiron/base:2025-11-24" }], cpuLimit: 0.25, memLimit: "512M" }],
];

describe("generated config against JupyterHub 5, DockerSpawner 14, OAuthenticator 17", () => {
    for (const [what, change] of variants) {
        it(`defines every key it sets: ${what}`, () => {
            const r = check(renderJupyterhubConfig({ ...goldenSettings(), ...change }));
            assert.ok(r.ok, r.output);
        });
    }

    it("the hub's packages include the driver of the database URL the stack hands it", () => {
        assert.ok(fs.existsSync(PYTHON), `no Python with the hub's packages at ${PYTHON}: run test/setup-python.sh`);
        const url = `${POSTGRES.urlScheme}://jupyterhub:pw@pyiron-hub-postgres:5432/jupyterhub`;
        const r = spawnSync(PYTHON, ["-c", `import sqlalchemy; sqlalchemy.create_engine("${url}")`], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
    });

    it("the check fails on a key the classes do not define (so it can catch a typo)", () => {
        const r = check(renderJupyterhubConfig(goldenSettings()) + "c.DockerSpawner.mem_limitt = \"2G\"\n");
        assert.ok(!r.ok);
        assert.match(r.output, /c\.DockerSpawner\.mem_limitt: DockerSpawner has no such configurable trait/);
    });

    it("the check fails on keys that current versions dropped or deprecated", () => {
        const r = check(renderJupyterhubConfig(goldenSettings()) + "c.DockerSpawner.image_whitelist = {}\nc.GenericOAuthenticator.tls_verify = True\n");
        assert.ok(!r.ok);
        assert.match(r.output, /image_whitelist: deprecated/);
        assert.match(r.output, /tls_verify: deprecated/);
    });

    it("the check fails on a value the trait rejects", () => {
        const r = check(renderJupyterhubConfig(goldenSettings()).replace('mem_limit = "2G"', 'mem_limit = "2GB"'));
        assert.ok(!r.ok, r.output);
        assert.match(r.output, /mem_limit/);
    });
});

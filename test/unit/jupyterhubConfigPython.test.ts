// Loads generated configs with the hub's real Python packages (test/setup-python.sh).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { POSTGRES } from "../../components/database";
import { JupyterhubConfigInputs, renderJupyterhubConfig } from "../../components/jupyterhubConfig";
import { HUB_VERSION_NAMES, HUB_VERSIONS, HubVersion } from "../../config";
import { goldenSettings, swarmSettings } from "../fixtures";
import { hubPython } from "../python";

const CHECK = path.join(__dirname, "..", "..", "components", "hub_config_check.py");
const SPAWN_MODULE = path.join(__dirname, "..", "..", "components", "pyiron_hub_spawn.py");
const RECIPE = path.join(__dirname, "..", "..", "hub-image");

function python(version: HubVersion): string {
    const p = hubPython(version);
    assert.ok(fs.existsSync(p), `no Python with the hub's packages at ${p}: run test/setup-python.sh`);
    return p;
}

function check(content: string, version: HubVersion = "5.5"): { ok: boolean; output: string } {
    const PYTHON = python(version);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-config-"));
    const file = path.join(dir, "jupyterhub_config.py");
    fs.writeFileSync(file, content);
    // Beside the config, as in the hub container.
    fs.copyFileSync(SPAWN_MODULE, path.join(dir, "pyiron_hub_spawn.py"));
    const r = spawnSync(PYTHON, [CHECK, file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const variants: Array<[string, Partial<JupyterhubConfigInputs>]> = [
    ["users and groups allowed (the golden config)", {}],
    ["everyone in the realm allowed", { allowAll: true, allowedUsers: [], allowedGroups: [] }],
    ["only listed users allowed", { allowedGroups: [] }],
    ["plain HTTP for a trial stack", { publicUrl: "http://localhost:8000", allowAll: true, allowedUsers: [], allowedGroups: [] }],
    ["clusters for pyiron jobs (hpc)", { hpc: { clusters: [{ name: "lab", host: "login.lab.example.org", port: 22, hostKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjTZdOB8UhU7bE5PCJPFOVQvsZROrEq16yaSKrcKoj9"], username: "{username}", remotePath: "/home/{clusterUser}/r", configDir: "/home/{clusterUser}/q", partitions: [{ name: "batch", cores: 1, runTime: 600 }] }] } }],
    ["user servers on a swarm", swarmSettings()],
    // Nothing else imports the spawn module then: the swarm's spawner must be known anyway.
    ["user servers on a swarm, without profiles and shared folders", { ...swarmSettings(), profiles: [], sharedFolders: [] }],
    ["a single image and fractional limits", { images: [{ label: "base", image: "pyiron/base:2025-11-24" }], cpuLimit: 0.25, memLimit: "512M" }],
];

for (const version of HUB_VERSION_NAMES) {
    describe(`generated config against the packages of hubVersion ${version} (JupyterHub ${HUB_VERSIONS[version].jupyterhub})`, () => {
        for (const [what, change] of variants) {
            it(`defines every key it sets: ${what}`, () => {
                const r = check(renderJupyterhubConfig({ ...goldenSettings(), ...change }), version);
                assert.ok(r.ok, r.output);
            });
        }

        it("the hub's packages include the driver of the database URL the stack hands it", () => {
            const url = `${POSTGRES.urlScheme}://jupyterhub:pw@pyiron-hub-postgres:5432/jupyterhub`;
            const r = spawnSync(python(version), ["-c", `import sqlalchemy; sqlalchemy.create_engine("${url}")`], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
        });

        it("the recipe pins the release the program names, and that release writes the schema head the rollback looks for", () => {
            const pinned = /^jupyterhub==(\S+)$/m.exec(fs.readFileSync(path.join(RECIPE, `requirements-${version}.txt`), "utf8"));
            assert.equal(pinned?.[1], HUB_VERSIONS[version].jupyterhub);
            assert.match(HUB_VERSIONS[version].baseImage, new RegExp(`:${HUB_VERSIONS[version].jupyterhub.replace(/\./g, "\\.")}$`));
            const r = spawnSync(python(version), ["-c", [
                "import jupyterhub",
                "from alembic.script import ScriptDirectory",
                "from jupyterhub import dbutil",
                "print(jupyterhub.__version__, ScriptDirectory(dbutil.ALEMBIC_DIR).get_current_head())",
            ].join("\n")], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stdout.trim(), `${HUB_VERSIONS[version].jupyterhub} ${HUB_VERSIONS[version].schemaHead}`);
        });
    });
}

describe("the config check itself", () => {
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

describe("extraConfig, as the check before a hub update sees it", () => {
    const withExtra = (extraConfig: string) => check(renderJupyterhubConfig({ ...goldenSettings(), extraConfig }));

    it("passes a setting of a class the hub configures, or of one of its base classes", () => {
        const r = withExtra('c.JupyterHub.template_vars = {"announcement": "x"}\nc.OAuthenticator.refresh_pre_spawn = True');
        assert.ok(r.ok, r.output);
    });

    it("names the line of extraConfig that does not compile", () => {
        const r = withExtra("c.JupyterHub.shutdown_on_logout = True\nif True\n    pass");
        assert.ok(!r.ok);
        assert.match(r.output, /^extraConfig line 2: does not compile/m);
    });

    it("names the line of extraConfig that raises while the config loads", () => {
        const r = withExtra("import kubespawner_not_installed");
        assert.ok(!r.ok);
        assert.match(r.output, /^extraConfig line 1: raises ModuleNotFoundError/m);
    });

    it("refuses a class the hub does not configure, and a trait with a typo", () => {
        const r = withExtra('c.KubeSpawner.image = "x"\nc.Spawner.mem_limt = "1G"');
        assert.ok(!r.ok);
        assert.match(r.output, /^extraConfig line 1: c\.KubeSpawner: not a class this hub configures/m);
        assert.match(r.output, /^extraConfig line 2: c\.Spawner\.mem_limt: Spawner has no such configurable trait/m);
    });
});

describe("the hub's Python modules, with the hub's packages", () => {
    for (const file of ["test_spawn_rules.py", "test_job_activity.py", "test_swarm_spawner.py"]) {
        it(`${file}: every case passes`, () => {
            const r = spawnSync(python("5.5"), [path.join(__dirname, "..", "python", file)], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stderr, /^Ran [1-9]\d* tests/m);
        });
    }
});

describe("a Keycloak outage with the hub's real OAuthenticator", () => {
    const HOOK = path.join(__dirname, "..", "python", "keycloak_down_hook.py");
    const hookAnswer = (userdataUrl: string): unknown => {
        const settings = goldenSettings();
        const content = renderJupyterhubConfig({ ...settings, keycloak: { ...settings.keycloak, userdataUrl } });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-hook-"));
        fs.writeFileSync(path.join(dir, "jupyterhub_config.py"), content);
        fs.copyFileSync(SPAWN_MODULE, path.join(dir, "pyiron_hub_spawn.py"));
        const r = spawnSync(python("5.5"), [HOOK, path.join(dir, "jupyterhub_config.py")], { encoding: "utf8" });
        fs.rmSync(dir, { recursive: true });
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout.trim().split("\n").pop()!);
    };

    it("keeps a login while Keycloak cannot be reached, and lets a reachable Keycloak decide", async () => {
        const server = net.createServer((c) => c.end());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const open = (server.address() as net.AddressInfo).port;
        try {
            assert.equal(hookAnswer(`http://127.0.0.1:${open}/userinfo`), null, "reachable: OAuthenticator's own refresh runs");
        } finally {
            await new Promise((r) => server.close(r));
        }
        // The same port, now closed: nothing listens there.
        assert.equal(hookAnswer(`http://127.0.0.1:${open}/userinfo`), true, "unreachable: the login is kept");
    });
});

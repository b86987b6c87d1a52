import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { JupyterhubConfigInputs, logoutRedirectUrl, renderJupyterhubConfig, threadEnvironment } from "../../components/jupyterhubConfig";
import { env, py, PyExpr, PySet } from "../../components/pyLiteral";
import { goldenSettings, plain, swarmSettings } from "../fixtures";

const GOLDEN = path.join(__dirname, "..", "golden", "jupyterhub_config.py");
const SWARM_GOLDEN = path.join(__dirname, "..", "golden", "jupyterhub_config.swarm.py");

describe("Python literal emitter", () => {
    const cases: Array<[string, Parameters<typeof py>[0], string]> = [
        ["None", null, "None"],
        ["True", true, "True"],
        ["False", false, "False"],
        ["an integer", 600, "600"],
        ["a float", 1.5, "1.5"],
        ["a negative number", -2, "-2"],
        ["a plain string", "pyiron", '"pyiron"'],
        ["quotes and backslashes", 'a"b\\c', '"a\\"b\\\\c"'],
        ["a newline, which would end the line", "a\nb", '"a\\nb"'],
        ["non-ASCII text", "Düsseldorf", '"Düsseldorf"'],
        ["a list", ["a", 1, true], '["a", 1, True]'],
        ["a dict in insertion order", { b: 1, a: 2 }, '{"b": 1, "a": 2}'],
        ["a set, sorted", new PySet(["carol", "alice"]), '{"alice", "carol"}'],
        ["an empty set", new PySet([]), "set()"],
        ["an environment variable", env("JPY_COOKIE_SECRET"), 'os.environ["JPY_COOKIE_SECRET"]'],
    ];
    for (const [what, value, expected] of cases) {
        it(`writes ${what} as ${expected}`, () => assert.equal(py(value), expected));
    }
    it("refuses numbers Python would read differently", () => {
        assert.throws(() => py(NaN), /cannot write NaN/);
        assert.throws(() => py(Infinity), /cannot write Infinity/);
    });
    it("refuses an environment variable name that could inject code", () => {
        assert.throws(() => env('X"] or __import__("os").system("id") or os.environ["Y'), /not an environment variable name/);
    });
    it("writes a string that looks like code as a string", () => {
        assert.equal(py('"); import os; os.system("id"); ("'), '"\\"); import os; os.system(\\"id\\"); (\\""');
    });
    it("emits raw code only through PyExpr", () => assert.equal(py(new PyExpr("1 + 1")), "1 + 1"));
});

describe("jupyterhub_config.py renderer", () => {
    it("matches the golden file (UPDATE_GOLDEN=1 rewrites it)", () => {
        const rendered = renderJupyterhubConfig(goldenSettings());
        if (process.env.UPDATE_GOLDEN === "1") {
            fs.writeFileSync(GOLDEN, rendered);
        }
        assert.equal(rendered, fs.readFileSync(GOLDEN, "utf8"));
    });

    it("matches the golden file of a swarm stack (UPDATE_GOLDEN=1 rewrites it)", () => {
        const rendered = renderJupyterhubConfig(swarmSettings());
        if (process.env.UPDATE_GOLDEN === "1") {
            fs.writeFileSync(SWARM_GOLDEN, rendered);
        }
        assert.equal(rendered, fs.readFileSync(SWARM_GOLDEN, "utf8"));
    });

    it("on a swarm: the program's spawner, services reached by name without a virtual IP, no one-host-only settings", () => {
        const out = renderJupyterhubConfig(swarmSettings());
        assert.match(out, /^from pyiron_hub_spawn import PyironSwarmSpawner\nc\.JupyterHub\.spawner_class = PyironSwarmSpawner$/m);
        assert.equal(out.match(/spawner_class/g)!.length, 1);
        assert.match(out, /^c\.PyironSwarmSpawner\.extra_endpoint_spec = \{"mode": "dnsrr"\}$/m);
        assert.match(out, /^c\.PyironSwarmSpawner\.extra_placement_spec = \{"constraints": \["node\.role==worker"\]\}$/m);
        assert.match(out, /^c\.PyironSwarmSpawner\.storage_path = "\/srv\/pyiron-storage"$/m);
        assert.match(out, /^c\.PyironSwarmSpawner\.pids_limit = 2048$/m);
        // Images are on every node before a spawn; a pull by the hub would be on the manager only.
        assert.match(out, /^c\.DockerSpawner\.pull_policy = "skip"$/m);
        assert.doesNotMatch(out, /extra_host_config/);
        // The module is importable before the spawn rules need it too.
        assert.ok(out.indexOf("sys.path.insert") < out.indexOf("from pyiron_hub_spawn import SpawnRules"));
        assert.equal(out.match(/sys\.path\.insert/g)!.length, 1);
        // One host renders as before.
        assert.match(renderJupyterhubConfig(goldenSettings()), /^c\.JupyterHub\.spawner_class = "dockerspawner\.DockerSpawner"$/m);
    });

    it("is deterministic: the same settings give the same bytes, whatever the order of sets", () => {
        const a = goldenSettings();
        const b = { ...goldenSettings(), admins: [...a.admins].reverse() };
        assert.equal(renderJupyterhubConfig(a), renderJupyterhubConfig(b));
    });

    it("reads every secret from the environment and writes none into the file", () => {
        const out = renderJupyterhubConfig(goldenSettings());
        assert.match(out, /^c\.JupyterHub\.db_url = os\.environ\["JUPYTERHUB_DB_URL"\]$/m);
        assert.match(out, /^c\.JupyterHub\.cookie_secret = bytes\.fromhex\(os\.environ\["JPY_COOKIE_SECRET"\]\)$/m);
        assert.match(out, /^c\.GenericOAuthenticator\.client_secret = os\.environ\["OAUTH_CLIENT_SECRET"\]$/m);
    });

    it("offers the images in the configured order, the first one as default", () => {
        const s = { ...plain(), images: [{ label: "zeta", image: "z/z:1" }, { label: "alpha", image: "a/a:1" }] };
        const out = renderJupyterhubConfig(s);
        assert.match(out, /^c\.DockerSpawner\.allowed_images = \{"zeta": "z\/z:1", "alpha": "a\/a:1"\}$/m);
        assert.match(out, /^c\.DockerSpawner\.image = "z\/z:1"$/m);
    });

    it("writes allow_all only when everyone may log in, and no lists then", () => {
        const out = renderJupyterhubConfig({ ...plain(), allowAll: true, allowedUsers: [], allowedGroups: [] });
        assert.match(out, /^c\.GenericOAuthenticator\.allow_all = True$/m);
        assert.doesNotMatch(out, /allowed_users|allowed_groups|manage_groups/);
    });

    it("turns on group management only when groups grant access or decide profiles and shared folders", () => {
        const users = renderJupyterhubConfig({ ...plain(), allowedGroups: [] });
        assert.doesNotMatch(users, /manage_groups|auth_state_groups_key/);
        const groups = renderJupyterhubConfig({ ...goldenSettings(), allowedUsers: [] });
        assert.match(groups, /^c\.GenericOAuthenticator\.allowed_groups = \{"pyiron-users"\}$/m);
        assert.match(groups, /^c\.GenericOAuthenticator\.manage_groups = True$/m);
        assert.doesNotMatch(groups, /allowed_users/);
        const changes: Array<[string, Partial<JupyterhubConfigInputs>]> = [
            ["a profile", { profiles: [{ name: "dft", groups: ["dft"], images: ["pyiron_base"] }] }],
            ["a shared folder", { sharedFolders: [{ name: "dft", mountPath: "/srv/dft", readOnly: false, groups: ["dft"] }] }],
        ];
        for (const [what, change] of changes) {
            const out = renderJupyterhubConfig({ ...plain(), allowedGroups: [], ...change });
            assert.match(out, /^c\.GenericOAuthenticator\.manage_groups = True$/m, what);
            assert.doesNotMatch(out, /allowed_groups/, what);
        }
    });

    it("renders a stack without profiles, shared folders and extraConfig as before: one static image list, no spawn rules", () => {
        const out = renderJupyterhubConfig(plain());
        assert.match(out, /^c\.DockerSpawner\.allowed_images = \{"pyiron_base": /m);
        assert.doesNotMatch(out, /spawn_rules|pre_spawn_hook|options_form|extraConfig|import sys/);
    });

    it("with profiles, lets the spawn rules decide the images per user, with each profile's limits or the global ones", () => {
        const out = renderJupyterhubConfig(goldenSettings());
        assert.doesNotMatch(out, /^c\.DockerSpawner\.allowed_images = \{/m);
        assert.match(out, /^c\.DockerSpawner\.allowed_images = spawn_rules\.allowed_images$/m);
        assert.match(out, /^c\.Spawner\.pre_spawn_hook = spawn_rules\.pre_spawn_hook$/m);
        // dft sets its own; students take memLimit 2G and cpuLimit 1.5, with 2 threads.
        assert.match(out, /"name": "dft", "groups": \["dft"\], "images": \["pyiron_atomistics", "pyiron_base"\], "mem_limit": "8G", "cpu_limit": 4, "environment": \{"MKL_NUM_THREADS": "4"/);
        assert.match(out, /"name": "students", "groups": None, "images": \["pyiron_base", "pyiron_md"\], "mem_limit": "2G", "cpu_limit": 1\.5, "environment": \{"MKL_NUM_THREADS": "2"/);
    });

    it("mounts shared folders through the spawn rules, by volume name, read-only where asked", () => {
        const out = renderJupyterhubConfig({ ...plain(), sharedFolders: goldenSettings().sharedFolders });
        assert.match(out, /"volume": "pyiron-hub-shared-potentials", "path": "\/home\/jovyan\/shared\/potentials", "read_only": True, "groups": None/);
        assert.match(out, /^c\.Spawner\.pre_spawn_hook = spawn_rules\.pre_spawn_hook$/m);
        // No profiles: the image list stays static, and no form of the rules'.
        assert.match(out, /^c\.DockerSpawner\.allowed_images = \{/m);
        assert.doesNotMatch(out, /options_form/);
    });

    it("appends extraConfig verbatim after everything generated, between markers", () => {
        const extra = "def hook(spawner):\n    spawner.environment['X'] = '1'\n\nc.Spawner.post_stop_hook = hook";
        const out = renderJupyterhubConfig({ ...goldenSettings(), extraConfig: extra });
        assert.ok(out.endsWith(`# ---- extraConfig: written by the hub's admins in the stack config, not generated ----\n${extra}\n# ---- end of extraConfig ----\n`), out.slice(-400));
    });

    it("runs the job-activity service, with its role, only when keepServersWithRunningJobs is on", () => {
        const on = renderJupyterhubConfig(goldenSettings());
        assert.match(on, /\{"name": "job-activity", "command": \["python3", "\/srv\/jupyterhub\/pyiron_hub_activity\.py"\]\}/);
        assert.match(on, /"scopes": \["list:users", "read:servers", "admin:server_state", "users:activity"\], "services": \["job-activity"\]/);
        const off = renderJupyterhubConfig({ ...goldenSettings(), keepServersWithRunningJobs: false });
        assert.doesNotMatch(off, /job-activity/);
        assert.match(off, /--cull-every=60/);
    });

    it("uses the proxy container with the token from the environment, and starts no proxy of its own", () => {
        const out = renderJupyterhubConfig(goldenSettings());
        assert.match(out, /^c\.ConfigurableHTTPProxy\.should_start = False$/m);
        assert.match(out, /^c\.ConfigurableHTTPProxy\.api_url = "http:\/\/pyiron-hub-proxy:8001"$/m);
        assert.match(out, /^c\.ConfigurableHTTPProxy\.auth_token = os\.environ\["CONFIGPROXY_AUTH_TOKEN"\]$/m);
        // TLS ends at the front: the hub holds no certificate, in either mode.
        assert.match(out, /^c\.JupyterHub\.bind_url = "http:\/\/0\.0\.0\.0:8000"$/m);
        assert.doesNotMatch(out, /ssl_cert|ssl_key|pid_file/);
    });

    it("keeps user servers running across a hub restart", () => {
        assert.match(renderJupyterhubConfig(goldenSettings()), /^c\.JupyterHub\.cleanup_servers = False$/m);
    });

    it("gives user servers the hub's container name to call back to", () => {
        const out = renderJupyterhubConfig({ ...goldenSettings(), namePrefix: "lab" });
        assert.match(out, /^c\.JupyterHub\.hub_connect_ip = "lab-hub"$/m);
        assert.match(out, /^c\.JupyterHub\.hub_ip = "0\.0\.0\.0"$/m);
    });

    it("mounts each user's own volume at /home/jovyan", () => {
        const out = renderJupyterhubConfig({ ...goldenSettings(), namePrefix: "lab" });
        assert.match(out, /^c\.DockerSpawner\.volumes = \{"lab-home-\{username\}": "\/home\/jovyan"\}$/m);
    });

    it("logs out of Keycloak too, returning to the hub", () => {
        const url = new URL(logoutRedirectUrl(goldenSettings()));
        assert.equal(url.origin + url.pathname, "https://keycloak.example.org/realms/pyiron/protocol/openid-connect/logout");
        assert.equal(url.searchParams.get("client_id"), "jupyterhub");
        assert.equal(url.searchParams.get("post_logout_redirect_uri"), "https://hub.example.org/hub/");
    });

    it("escapes hostile values instead of running them", () => {
        const out = renderJupyterhubConfig({ ...goldenSettings(), admins: ['x"}; import os; os.system("id"); {"'] });
        assert.match(out, /^c\.Authenticator\.admin_users = \{"x\\"\}; import os; os\.system\(\\"id\\"\); \{\\""\}$/m);
    });

    it("sizes the thread pools of numerical libraries to the CPU limit, rounded up, at least 1", () => {
        for (const [cpuLimit, threads] of [[0.25, "1"], [1, "1"], [1.5, "2"], [8, "8"]] as const) {
            assert.deepEqual(threadEnvironment(cpuLimit), { MKL_NUM_THREADS: threads, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads });
        }
        assert.match(renderJupyterhubConfig({ ...goldenSettings(), cpuLimit: 4 }), /^c\.DockerSpawner\.environment = \{"MKL_NUM_THREADS": "4", "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "4"\}$/m);
    });

    it("refuses to render without an image", () => {
        assert.throws(() => renderJupyterhubConfig({ ...goldenSettings(), images: [] }), /at least one image/);
    });
});

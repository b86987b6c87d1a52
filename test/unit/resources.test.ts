// The resource graph of a full deployment, under Pulumi mocks.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { hubStartSettings } from "../../components/hub";
import { writeTlsFiles } from "../fixtures";
import { isSecret, installMocks, mockedSecrets, mockHex, mockSecret, one as oneOf, Recorded, reveal, settled, valueOf } from "../mocks";

const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-tls-"));
const { keyPath, certPath } = writeTlsFiles(tlsDir);

const CLIENT_SECRET = "kc-client-secret-value";
const recorded: Recorded[] = installMocks(
    {
        "pyiron-jupyterhub:publicUrl": "https://hub.example.org",
        "pyiron-jupyterhub:tls": JSON.stringify({ keyPath, certPath }),
        "pyiron-jupyterhub:keycloak": JSON.stringify({ realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub" }),
        "pyiron-jupyterhub:keycloakClientSecret": CLIENT_SECRET,
        "pyiron-jupyterhub:admins": JSON.stringify(["alice"]),
        "pyiron-jupyterhub:allowedGroups": JSON.stringify(["/pyiron-users"]),
        "pyiron-jupyterhub:memLimit": "3G",
        "pyiron-jupyterhub:cpuLimit": "1.5",
        "pyiron-jupyterhub:hubExtraNetworks": JSON.stringify(["keycloak-net"]),
        "pyiron-jupyterhub:sharedFolders": JSON.stringify([{ name: "potentials", mountPath: "/home/jovyan/shared/potentials", readOnly: true }]),
    },
    ["pyiron-jupyterhub:keycloakClientSecret"],
);

let stack: typeof import("../../index");
before(async () => {
    stack = await import("../../index");
    // Wait until every output, and so every registration, has settled.
    await valueOf(stack.containers.hub);
    await valueOf(stack.volumeNames.postgresData);
    await settled();
});

const one = (type: string, name: string) => oneOf(recorded, type, name);
const container = (name: string) => one("docker:index/container:Container", name);
const inputsOf = (r: Recorded) => Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, reveal(v)]));

describe("resource graph", () => {
    it("puts user servers and the hub on one network and Postgres on an internal one", () => {
        const users = one("docker:index/network:Network", "network-users").inputs;
        const db = one("docker:index/network:Network", "network-database").inputs;
        assert.equal(users.name, "pyiron-hub-users");
        assert.notEqual(users.internal, true);
        assert.equal(db.name, "pyiron-hub-database");
        assert.equal(db.internal, true);
        const pg = inputsOf(container("database-container"));
        assert.deepEqual(pg.networksAdvanced.map((n: any) => n.name), ["pyiron-hub-database"]);
        const hub = inputsOf(container("hub-container"));
        assert.deepEqual(hub.networksAdvanced.map((n: any) => n.name).sort(), ["keycloak-net", "pyiron-hub-database", "pyiron-hub-users"]);
        assert.match(inputsOf(container("hub-container")).uploads[0].content, /^c\.DockerSpawner\.network_name = "pyiron-hub-users"$/m);
    });

    it("replaces a container whose health check changed, which Docker cannot change in place", () => {
        const checked = recorded.filter((r) => r.type === "docker:index/container:Container" && r.inputs.healthcheck);
        assert.deepEqual(checked.map((r) => r.name).sort(), ["database-container", "hub-container", "user-firewall-container"]);
        for (const r of checked) assert.deepEqual(r.replaceOnChanges, ["healthcheck"], r.name);
    });

    it("keeps the hub, database and front volumes on destroy, named and labelled", () => {
        for (const role of ["hub-data", "postgres-data", "front-data"]) {
            const v = one("docker:index/volume:Volume", `volumes-${role}`);
            assert.equal(v.inputs.name, `pyiron-hub-${role}`);
            assert.equal(v.retainOnDelete, true, `${role} is retained on delete`);
            assert.deepEqual(v.inputs.labels, [
                { label: "org.pyiron-jupyterhub.deployment", value: "pyiron-hub" },
                { label: "org.pyiron-jupyterhub.role", value: role },
            ]);
        }
    });

    it("pulls Postgres and every pyiron image at deploy time and keeps them on destroy", () => {
        const names = recorded.filter((r) => r.type === "docker:index/remoteImage:RemoteImage" && !r.inputs.build).map((r) => [r.name, r.inputs.name, r.inputs.keepLocally]);
        assert.deepEqual(names.sort(), [
            ["database-image", "postgres:17", true],
            ["front-image", "caddy:2.11.9", true],
            ["proxy-image", "quay.io/jupyterhub/configurable-http-proxy:5.3.0", true],
            ["user-images-pyiron_atomistics", "pyiron/pyiron:2025-11-24", true],
            ["user-images-pyiron_base", "pyiron/base:2025-11-24", true],
            ["user-images-pyiron_md", "pyiron/md:2025-11-24", true],
        ]);
    });

    it("builds the hub image from the recipe in hub-image/, tagged by the recipe's digest", () => {
        const img = one("docker:index/remoteImage:RemoteImage", "hub-image-image").inputs;
        assert.match(img.name, /^pyiron-hub-hub:[0-9a-f]{12}$/);
        assert.equal(img.build.context, path.resolve(__dirname, "..", "..", "hub-image"));
        assert.equal(img.build.dockerfile, "Dockerfile");
        assert.equal(img.triggers.recipe, img.name.split(":")[1]);
        assert.equal(inputsOf(container("hub-container")).image, `sha256:${img.name}`);
    });

    it("runs Postgres with a healthcheck, a restart policy, its data volume and no host port", () => {
        const pg = inputsOf(container("database-container"));
        assert.equal(pg.name, "pyiron-hub-postgres");
        assert.equal(pg.image, "sha256:postgres:17");
        assert.equal(pg.ports, undefined);
        assert.equal(pg.restart, "unless-stopped");
        assert.match(pg.healthcheck.tests.join(" "), /^CMD-SHELL pg_isready /);
        assert.equal(pg.wait, true);
        assert.deepEqual(pg.volumes, [{ volumeName: "pyiron-hub-postgres-data", containerPath: "/var/lib/postgresql/data" }]);
        assert.ok(pg.envs.includes("PGDATA=/var/lib/postgresql/data/pgdata"));
        assert.equal(container("database-container").deleteBeforeReplace, true);
    });

    it("sets the database role's password on every start, so a kept volume fits a new password", () => {
        const pg = inputsOf(container("database-container"));
        assert.deepEqual(pg.entrypoints, ["/bin/sh", "/usr/local/bin/pyiron-hub-postgres-start"]);
        const script = pg.uploads[0].content as string;
        assert.match(script, /docker-entrypoint\.sh "\$@" &/);
        assert.match(script, /ALTER ROLE CURRENT_USER PASSWORD :'password'/);
        // Through stdin: no command line of the script carries the password.
        for (const line of script.split("\n").filter((l) => /^\s*(psql|pg_isready|docker-entrypoint)/.test(l))) {
            assert.doesNotMatch(line, /PASSWORD/, line);
        }
    });

    it("runs the hub with the generated config, the Docker socket and its data volume, and no host port", () => {
        const hub = inputsOf(container("hub-container"));
        assert.equal(hub.name, "pyiron-hub-hub");
        // The entry point checks the release and migrates the database, then runs the hub.
        assert.deepEqual(hub.command, ["python3", "/srv/jupyterhub/hub-start.py", "jupyterhub", "-f", "/srv/jupyterhub/jupyterhub_config.py"]);
        assert.equal(hub.uploads[0].file, "/srv/jupyterhub/jupyterhub_config.py");
        assert.equal(hub.uploads[1].file, "/srv/jupyterhub/hub-start.py");
        assert.match(hub.uploads[1].content, /CREATE DATABASE/);
        assert.deepEqual(hub.volumes, [
            { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" },
            { volumeName: "pyiron-hub-hub-data", containerPath: "/srv/jupyterhub/data" },
            // To give a new shared folder to jovyan as the hub starts.
            { volumeName: "pyiron-hub-shared-potentials", containerPath: "/srv/jupyterhub/shared/potentials" },
        ]);
        const start = JSON.parse(hub.envs.find((e: string) => e.startsWith("PYIRON_HUB_START=")).slice("PYIRON_HUB_START=".length));
        assert.deepEqual(start.shared, ["/srv/jupyterhub/shared/potentials"]);
        // The spawn rules and the job-activity service sit beside the config.
        const files = hub.uploads.map((u: any) => u.file);
        assert.ok(files.includes("/srv/jupyterhub/pyiron_hub_spawn.py") && files.includes("/srv/jupyterhub/pyiron_hub_activity.py"), files.join(", "));
        assert.deepEqual(hub.tmpfs, { "/run/jupyterhub": "mode=0755" });
        assert.equal(hub.ports, undefined);
        assert.equal(hub.restart, "unless-stopped");
        assert.equal(hub.wait, true);
    });

    it("calls the hub healthy exactly when its /hub/health answers 200 (the probe, run against a stand-in)", () => {
        const [kind, ...argv] = inputsOf(container("hub-container")).healthcheck.tests as string[];
        assert.equal(kind, "CMD");
        // The probe, pointed at a stand-in on a free port that answers with the given status.
        const probe = (status: number | "closed"): number | null => {
            const server = [
                "import http.server, socket, subprocess, sys, threading",
                "class H(http.server.BaseHTTPRequestHandler):",
                "    def do_GET(self):",
                "        self.send_response(200 if self.path == '/hub/health' and STATUS == 200 else STATUS)",
                "        self.end_headers()",
                "    def log_message(self, *a): pass",
                `STATUS = ${status === "closed" ? 0 : status}`,
                "s = http.server.HTTPServer(('127.0.0.1', 0), H)",
                "port = s.server_address[1]",
                "if STATUS: threading.Thread(target=s.serve_forever, daemon=True).start()",
                "else: s.server_close()",
                "code = sys.argv[1].replace('8081', str(port))",
                "sys.exit(subprocess.run(sys.argv[2:] + [code]).returncode)",
            ].join("\n");
            const r = spawnSync("python3", ["-c", server, argv[argv.length - 1], ...argv.slice(0, -1)], { encoding: "utf8", timeout: 20_000 });
            return r.status;
        };
        assert.equal(probe(200), 0);
        assert.equal(probe(503), 1);
        assert.equal(probe("closed"), 1);
    });

    it("writes the configured limits, images and access rules into the hub config", () => {
        const config = inputsOf(container("hub-container")).uploads[0].content as string;
        assert.match(config, /^c\.DockerSpawner\.mem_limit = "3G"$/m);
        assert.match(config, /^c\.DockerSpawner\.cpu_limit = 1\.5$/m);
        assert.match(config, /^c\.DockerSpawner\.network_name = "pyiron-hub-users"$/m);
        assert.match(config, /^c\.DockerSpawner\.allowed_images = \{"pyiron_base": "pyiron\/base:2025-11-24", /m);
        assert.match(config, /^c\.GenericOAuthenticator\.allowed_groups = \{"pyiron-users"\}$/m);
        assert.match(config, /^c\.Authenticator\.admin_users = \{"alice"\}$/m);
        assert.match(config, /^c\.JupyterHub\.hub_connect_ip = "pyiron-hub-hub"$/m);
    });

    it("serves HTTPS at the front with the host's files, HTTP redirected, on the configured ports", () => {
        const front = inputsOf(container("front-container"));
        assert.equal(front.name, "pyiron-hub-front");
        assert.equal(front.image, "sha256:caddy:2.11.9");
        assert.deepEqual(front.ports, [
            { internal: 443, external: 443, ip: "0.0.0.0" },
            { internal: 80, external: 80, ip: "0.0.0.0" },
        ]);
        // The directory, not the file: a renewal that replaces the file reaches the container.
        assert.deepEqual(front.volumes, [
            { hostPath: tlsDir, containerPath: tlsDir, readOnly: true },
            { volumeName: "pyiron-hub-front-data", containerPath: "/data" },
        ]);
        assert.deepEqual(front.command, [certPath, keyPath], "the entry point watches both files");
        const caddyfile = front.uploads.find((u: any) => u.file === "/etc/caddy/Caddyfile").content as string;
        assert.ok(caddyfile.includes(`tls "${certPath}" "${keyPath}"`));
        assert.match(caddyfile, /reverse_proxy pyiron-hub-proxy:8000 \{/);
        assert.deepEqual(front.networksAdvanced.map((n: any) => n.name), ["pyiron-hub-proxy"]);
        assert.deepEqual(front.capabilities, { drops: ["ALL"], adds: ["CAP_DAC_READ_SEARCH", "CAP_NET_BIND_SERVICE"] });
    });

    it("runs the proxy on the users and front networks, unpublished, with the hub as its default target", () => {
        const proxy = inputsOf(container("proxy-container"));
        assert.equal(proxy.name, "pyiron-hub-proxy");
        assert.equal(proxy.image, "sha256:quay.io/jupyterhub/configurable-http-proxy:5.3.0");
        assert.deepEqual(proxy.networksAdvanced.map((n: any) => n.name), ["pyiron-hub-users", "pyiron-hub-proxy"]);
        assert.deepEqual(proxy.ports, []);
        assert.ok(proxy.command.includes("--default-target=http://pyiron-hub-hub:8081"));
        assert.ok(proxy.command.includes("--api-port=8001"));
        const config = inputsOf(container("hub-container")).uploads[0].content as string;
        assert.match(config, /^c\.ConfigurableHTTPProxy\.should_start = False$/m);
        assert.match(config, /^c\.ConfigurableHTTPProxy\.api_url = "http:\/\/pyiron-hub-proxy:8001"$/m);
        // The hub starts after the proxy, and a new proxy (an empty routing table) restarts
        // the hub, which puts every route back as it starts.
        assert.ok(container("hub-container").dependencies.includes(container("proxy-container").urn));
        const labels = inputsOf(container("hub-container")).labels as Array<{ label: string; value: string }>;
        assert.equal(labels.find((l) => l.label === "org.pyiron-jupyterhub.proxy-id")?.value, "proxy-container-id");
        assert.match(config, /^c\.JupyterHub\.last_activity_interval = 60$/m);
    });

    it("starts the hub only after Postgres is healthy and the pyiron images are pulled", () => {
        const hub = container("hub-container");
        const urnOf = (type: string, name: string) => one(type, name).urn;
        const deps = new Set(hub.dependencies);
        assert.ok(deps.has(urnOf("docker:index/container:Container", "database-container")));
        for (const label of ["pyiron_base", "pyiron_atomistics", "pyiron_md"]) {
            assert.ok(deps.has(urnOf("docker:index/remoteImage:RemoteImage", `user-images-${label}`)), label);
        }
        assert.equal(hub.deleteBeforeReplace, true);
    });

    it("starts the hub only after the hub image has loaded exactly the config the hub gets", () => {
        const hub = container("hub-container");
        const check = one("pulumi-nodejs:dynamic:Resource", "hub-config-check");
        assert.ok(hub.dependencies.includes(check.urn));
        const files = inputsOf(check).files;
        assert.equal(files["jupyterhub_config.py"], inputsOf(hub).uploads[0].content);
        assert.deepEqual(Object.keys(files).sort(), ["hub_config_check.py", "jupyterhub_config.py", "pyiron_hub_spawn.py"]);
        assert.equal(inputsOf(check).image, inputsOf(hub).image);
    });

    it("orders the user-server cleanup after the hub and before the user network, selecting by label", () => {
        const cleaner = one("pulumi-nodejs:dynamic:Resource", "user-servers");
        assert.deepEqual(cleaner.inputs.labels, ["org.pyiron-jupyterhub.deployment=pyiron-hub", "org.pyiron-jupyterhub.role=user-server"]);
        assert.ok(cleaner.dependencies.includes(one("docker:index/network:Network", "network-users").urn));
        assert.ok(container("hub-container").dependencies.includes(cleaner.urn));
    });

    it("runs the user firewall in the host's network with NET_ADMIN and NET_RAW only, before the hub, after the users network", () => {
        const fw = container("user-firewall-container");
        assert.equal(fw.inputs.networkMode, "host");
        assert.deepEqual(fw.inputs.capabilities, { drops: ["ALL"], adds: ["CAP_NET_ADMIN", "CAP_NET_RAW"] });
        assert.deepEqual(fw.inputs.securityOpts, ["no-new-privileges:true"]);
        assert.ok(fw.inputs.destroyGraceSeconds > 0, "a delete sends SIGTERM, so the chains are removed");
        assert.equal(fw.inputs.image, container("hub-container").inputs.image, "the hub image carries iptables and the Docker SDK");
        const settings = JSON.parse(fw.inputs.envs.find((e: string) => e.startsWith("PYIRON_USER_FIREWALL=")).split("=").slice(1).join("="));
        assert.equal(settings.network, "pyiron-hub-users");
        assert.equal(settings.hub, "pyiron-hub-hub");
        assert.equal(settings.proxy, "pyiron-hub-proxy");
        assert.deepEqual(settings.userLabels, ["org.pyiron-jupyterhub.deployment=pyiron-hub", "org.pyiron-jupyterhub.role=user-server"]);
        assert.deepEqual(settings.hostPorts, [], "only the admin's userHostPorts are open on the host");
        assert.match(settings.chain, /^PYIRON-[0-9a-f]{8}$/);
        assert.ok(fw.dependencies.includes(one("docker:index/network:Network", "network-users").urn));
        assert.ok(container("hub-container").dependencies.includes(fw.urn), "no user server starts before the firewall");
    });

    it("generates the database password, cookie secret and crypt key with @pulumi/random", () => {
        assert.equal(one("random:index/randomPassword:RandomPassword", "database-password").inputs.special, false);
        assert.equal(one("random:index/randomBytes:RandomBytes", "hub-cookie-secret").inputs.length, 32);
        assert.equal(one("random:index/randomBytes:RandomBytes", "hub-crypt-key").inputs.length, 32);
    });

    it("hands the hub its secrets through secret environment variables", () => {
        const hub = container("hub-container");
        assert.ok(isSecret(hub.inputs.envs), "the hub's envs are secret");
        const envs = reveal<string[]>(hub.inputs.envs);
        // Each variable carries its own secret, not another one.
        assert.deepEqual(envs.slice().sort(), [
            `CONFIGPROXY_AUTH_TOKEN=${mockHex("proxy-api-token")}`,
            `JPY_COOKIE_SECRET=${mockHex("hub-cookie-secret")}`,
            `JUPYTERHUB_CRYPT_KEY=${mockHex("hub-crypt-key")}`,
            `JUPYTERHUB_DB_URL=postgresql+psycopg2://jupyterhub:${mockSecret("database-password")}@pyiron-hub-postgres:5432/jupyterhub`,
            `OAUTH_CLIENT_SECRET=${CLIENT_SECRET}`,
            `PYIRON_HUB_START=${hubStartSettings("5.5", "test", ["/srv/jupyterhub/shared/potentials"])}`,
        ]);
        const pg = container("database-container");
        assert.ok(isSecret(pg.inputs.envs), "Postgres's envs are secret");
        assert.ok(reveal<string[]>(pg.inputs.envs).includes(`POSTGRES_PASSWORD=${mockSecret("database-password")}`));
        const proxy = container("proxy-container");
        assert.ok(isSecret(proxy.inputs.envs), "the proxy's envs are secret");
        assert.deepEqual(reveal<string[]>(proxy.inputs.envs), [`CONFIGPROXY_AUTH_TOKEN=${mockHex("proxy-api-token")}`]);
    });

    it("has no secret in any plain input of any resource", () => {
        const secrets = [...mockedSecrets.values(), CLIENT_SECRET];
        assert.equal(mockedSecrets.size, 4, "database password, cookie secret, crypt key, proxy token");
        for (const r of recorded) {
            for (const [key, value] of Object.entries(r.inputs)) {
                if (isSecret(value)) {
                    continue;
                }
                const text = JSON.stringify(value);
                for (const s of secrets) {
                    assert.ok(!text.includes(s), `${r.name}.${key} holds a secret in plain text`);
                }
            }
        }
    });

    it("exports the hub URL and the names an admin needs for docker commands, none secret", async () => {
        assert.equal(stack.hubUrl, "https://hub.example.org/hub/");
        assert.deepEqual(await valueOf(stack.containers.hub), "pyiron-hub-hub");
        assert.deepEqual(await valueOf(stack.containers.postgres), "pyiron-hub-postgres");
        assert.equal(await valueOf(stack.networks.users), "pyiron-hub-users");
        assert.equal(await valueOf(stack.volumeNames.postgresData), "pyiron-hub-postgres-data");
        assert.equal(stack.volumeNames.userHomes, "pyiron-hub-home-<username>");
        const all = JSON.stringify([
            stack.hubUrl,
            await valueOf(stack.containers.hub),
            await valueOf(stack.networks.database),
            await valueOf(stack.volumeNames.hubData),
            stack.userServerFilter,
        ]);
        for (const s of [...mockedSecrets.values(), CLIENT_SECRET]) {
            assert.ok(!all.includes(s));
        }
    });

    it("creates nothing but the expected resources", () => {
        const custom = recorded.filter((r) => r.custom).map((r) => r.name).sort();
        assert.deepEqual(custom, [
            "database-container",
            "database-image",
            "database-password",
            "front-container",
            "front-image",
            "hub-config-check",
            "hub-container",
            "hub-cookie-secret",
            "hub-crypt-key",
            "hub-image-image",
            "network-database",
            "network-proxy",
            "network-users",
            "proxy-api-token",
            "proxy-container",
            "proxy-image",
            "user-firewall-container",
            "user-images-pyiron_atomistics",
            "user-images-pyiron_base",
            "user-images-pyiron_md",
            "user-servers",
            "volumes-front-data",
            "volumes-hub-data",
            "volumes-postgres-data",
            "volumes-shared-potentials",
        ]);
    });
});

describe("component options", () => {
    it("pulls a prebuilt hub image instead of building when hubImage is set", async () => {
        const { HubImage } = await import("../../components/hubImage");
        const img = new HubImage("prebuilt", { namePrefix: "x", prebuilt: "registry.example.org/hub:1.0", version: "5.5", buildArgs: {} });
        await valueOf(img.imageId);
        await settled();
        const r = one("docker:index/remoteImage:RemoteImage", "prebuilt-image");
        assert.equal(r.inputs.name, "registry.example.org/hub:1.0");
        assert.equal(r.inputs.build, undefined);
    });

    it("lets destroy delete the volumes only when deleteDataOnDestroy is set, and never a shared folder", async () => {
        const { HubVolumes } = await import("../../components/volumes");
        const v = new HubVolumes("doomed", { namePrefix: "x", deleteOnDestroy: true, front: true, sharedFolders: ["pot"] });
        await valueOf(v.hubData.name);
        await settled();
        assert.equal(one("docker:index/volume:Volume", "doomed-hub-data").retainOnDelete, false);
        assert.equal(one("docker:index/volume:Volume", "doomed-postgres-data").retainOnDelete, false);
        assert.equal(one("docker:index/volume:Volume", "doomed-front-data").retainOnDelete, false);
        const shared = one("docker:index/volume:Volume", "doomed-shared-pot");
        assert.equal(shared.retainOnDelete, true);
        assert.equal(shared.inputs.name, "x-shared-pot");
    });

    it("builds the HPC layer on every user image with hpc, and users spawn those", async () => {
        const { UserImages, USER_RECIPE_DIR } = await import("../../components/images");
        const u = new UserImages("hpc-images", {
            namePrefix: "lab",
            images: [{ label: "Base", image: "pyiron/base:2025-11-24" }, { label: "md", image: "pyiron/md:2025-11-24" }],
            hpcLayer: { pipArgs: "--no-index" },
        });
        await settled();
        for (const [i, label] of ["Base", "md"].entries()) {
            const built = one("docker:index/remoteImage:RemoteImage", `hpc-images-${label}-hpc`);
            assert.equal(built.inputs.build.context, USER_RECIPE_DIR);
            assert.deepEqual(built.inputs.build.buildArgs, { BASE_IMAGE: u.spawnable[i].image === built.inputs.name ? ["pyiron/base:2025-11-24", "pyiron/md:2025-11-24"][i] : "?", PIP_ARGS: "--no-index" });
            assert.match(built.inputs.name, new RegExp(`^lab-user-image-${label.toLowerCase()}:[0-9a-f]{12}$`));
            assert.ok(built.dependencies.includes(one("docker:index/remoteImage:RemoteImage", `hpc-images-${label}`).urn), "built after the base is pulled");
        }
    });

    it("tags a build with other build args as a different image", async () => {
        const { HubImage } = await import("../../components/hubImage");
        const a = new HubImage("args-a", { namePrefix: "x", version: "5.5", buildArgs: {} });
        const b = new HubImage("args-b", { namePrefix: "x", version: "5.5", buildArgs: { PIP_ARGS: "--no-index" } });
        await valueOf(a.imageId);
        await valueOf(b.imageId);
        await settled();
        const na = one("docker:index/remoteImage:RemoteImage", "args-a-image").inputs.name;
        const nb = one("docker:index/remoteImage:RemoteImage", "args-b-image").inputs;
        assert.notEqual(na, nb.name);
        assert.deepEqual(nb.build.buildArgs, { JUPYTERHUB_IMAGE: "quay.io/jupyterhub/jupyterhub:5.5.4", HUB_VERSION: "5.5", PIP_ARGS: "--no-index" });
    });

    it("builds the release hubVersion names on that release's official image, as a different image", async () => {
        const { HubImage } = await import("../../components/hubImage");
        const five = new HubImage("v55", { namePrefix: "x", version: "5.5", buildArgs: {} });
        const six = new HubImage("v61", { namePrefix: "x", version: "6.1", buildArgs: {} });
        const mirrored = new HubImage("v61m", { namePrefix: "x", version: "6.1", buildArgs: { JUPYTERHUB_IMAGE: "mirror.example.org/jupyterhub:6.1.1" } });
        await Promise.all([five, six, mirrored].map((i) => valueOf(i.imageId)));
        await settled();
        const [a, b, c] = ["v55", "v61", "v61m"].map((n) => one("docker:index/remoteImage:RemoteImage", `${n}-image`).inputs);
        assert.deepEqual(b.build.buildArgs, { JUPYTERHUB_IMAGE: "quay.io/jupyterhub/jupyterhub:6.1.1", HUB_VERSION: "6.1" });
        assert.deepEqual(c.build.buildArgs, { JUPYTERHUB_IMAGE: "mirror.example.org/jupyterhub:6.1.1", HUB_VERSION: "6.1" }, "the admin's base image wins");
        assert.notEqual(a.name, b.name);
    });
});

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, DEFAULT_IMAGES, memoryBytes, parseConfig, ProductionConfig, projectKeys, RETIRED_IMAGES } from "../../config";
import { validRaw } from "../fixtures";

function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        parseConfig(raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("the config was accepted");
}

function production(raw: Record<string, unknown>): ProductionConfig {
    const config = parseConfig(raw);
    assert.equal(config.mode, "production");
    return config as ProductionConfig;
}

function without(key: string): Record<string, unknown> {
    const raw = validRaw();
    delete raw[key];
    return raw;
}

describe("stack config: accepted input", () => {
    it("applies the documented defaults to a minimal config", () => {
        const config = parseConfig(validRaw());
        assert.equal(config.memLimit, "2G");
        assert.equal(config.cpuLimit, 1);
        assert.equal(config.httpsPort, 443);
        assert.equal(config.bindAddress, "0.0.0.0");
        assert.equal(config.idleTimeout, 3600);
        assert.equal(config.namePrefix, "pyiron-hub");
        assert.equal(config.postgresImage, "postgres:17");
        assert.equal(config.deleteDataOnDestroy, false);
        assert.deepEqual(config.images, DEFAULT_IMAGES.map((i) => ({ ...i })));
    });

    it("offers pyiron_base, pyiron_atomistics and pyiron_md by default, each a tag pyiron has published", () => {
        const config = parseConfig(validRaw());
        assert.deepEqual(config.images.map((i) => i.label), ["pyiron_base", "pyiron_atomistics", "pyiron_md"]);
        const published = new Set(
            fs.readFileSync(path.join(__dirname, "../fixtures/pyiron-published-tags.txt"), "utf8")
                .split("\n")
                .filter((l) => l && !l.startsWith("#")),
        );
        for (const { image } of config.images) {
            assert.ok(published.has(image), `${image} is not in pyiron's published tag list`);
            assert.ok(!(image.split(":")[0] in RETIRED_IMAGES), `${image} is retired upstream`);
        }
    });

    it("keeps retired pyiron images out of the README and the example stack", () => {
        for (const file of ["README.md", "Pulumi.dev.yaml", "Pulumi.trial.yaml"]) {
            const text = fs.readFileSync(path.join(__dirname, "../..", file), "utf8");
            for (const retired of Object.keys(RETIRED_IMAGES)) {
                assert.ok(!text.includes(`${retired}:`), `${file} offers the retired ${retired}`);
            }
        }
    });

    it("derives every Keycloak endpoint from the realm URL, and the callback from the public URL", () => {
        const config = production({ ...validRaw(), publicUrl: "https://hub.example.org/" });
        const realm = "https://keycloak.example.org/realms/pyiron/protocol/openid-connect";
        assert.equal(config.keycloak.authorizeUrl, `${realm}/auth`);
        assert.equal(config.keycloak.tokenUrl, `${realm}/token`);
        assert.equal(config.keycloak.userdataUrl, `${realm}/userinfo`);
        assert.equal(config.keycloak.logoutUrl, `${realm}/logout`);
        assert.equal(config.keycloak.callbackUrl, "https://hub.example.org/hub/oauth_callback");
    });

    it("lets each endpoint be overridden", () => {
        const raw = validRaw();
        raw.keycloak = {
            ...(raw.keycloak as object),
            tokenUrl: "https://sso.example.org/token",
            callbackUrl: "https://hub.example.org/hub/other_callback",
        };
        const config = production(raw);
        assert.equal(config.keycloak.tokenUrl, "https://sso.example.org/token");
        assert.equal(config.keycloak.callbackUrl, "https://hub.example.org/hub/other_callback");
        assert.match(config.keycloak.authorizeUrl, /realms\/pyiron\/protocol\/openid-connect\/auth$/);
    });

    it("takes numbers and booleans typed on the command line as strings", () => {
        const config = parseConfig({ ...validRaw(), cpuLimit: "0.5", httpsPort: "8443", allowAll: "true", allowedUsers: [] });
        assert.equal(config.cpuLimit, 0.5);
        assert.equal(config.httpsPort, 8443);
        assert.equal(config.allowAll, true);
    });

    it("keeps the image order and accepts registry hosts with ports and digests", () => {
        const images = [
            { label: "experimental", image: "registry.example.org:5000/pyiron/experimental:2026-01-06" },
            { label: "pinned", image: `pyiron/base@sha256:${"a".repeat(64)}` },
        ];
        const config = parseConfig({ ...validRaw(), images });
        assert.deepEqual(config.images, images);
    });

    it("normalizes memory units to upper case and strips a leading / from group names", () => {
        const config = parseConfig({ ...validRaw(), memLimit: "512m", allowedGroups: ["/pyiron-users"] });
        assert.equal(config.memLimit, "512M");
        assert.deepEqual(config.allowedGroups, ["pyiron-users"]);
    });

    it("takes a subgroup by its full path, as the claim has it with Keycloak's full group path", () => {
        const config = parseConfig({ ...validRaw(), allowedGroups: ["/institute/dft", "institute/md team"] });
        assert.deepEqual(config.allowedGroups, ["institute/dft", "institute/md team"]);
    });

    it("carries the client secret of a production stack, taken from keycloakClientSecret", () => {
        const config = production(validRaw());
        assert.equal(config.clientSecret, "client-secret-value");
    });

    it("on a swarm: turns off by default what only one host has, and places user servers where asked", () => {
        const one = parseConfig(validRaw());
        assert.equal(one.userFirewall, true);
        assert.equal(one.keepServersWithRunningJobs, true);
        assert.equal(one.swarm, undefined);
        const swarm = parseConfig({ ...validRaw(), swarm: { storagePath: "/srv/pyiron-storage", placement: ["node.role == worker"] } });
        assert.equal(swarm.userFirewall, false);
        assert.equal(swarm.keepServersWithRunningJobs, false);
        assert.deepEqual(swarm.swarm, { storagePath: "/srv/pyiron-storage", placement: ["node.role == worker"] });
        assert.deepEqual(parseConfig({ ...validRaw(), swarm: { storagePath: "/srv/s" } }).swarm!.placement, []);
        // Engine labels, as swarmkit names them.
        assert.deepEqual(parseConfig({ ...validRaw(), swarm: { storagePath: "/srv/s", placement: ["engine.labels.storage==nfs", "node.labels.gpu!=true"] } }).swarm!.placement.length, 2);
        // Set off explicitly: accepted as well.
        assert.equal(parseConfig({ ...validRaw(), swarm: { storagePath: "/srv/s" }, userFirewall: "false" }).userFirewall, false);
    });

    it("computes memory sizes in 1024-based bytes", () => {
        assert.equal(memoryBytes("2G"), 2 * 1024 ** 3);
        assert.equal(memoryBytes("1.5G"), 1.5 * 1024 ** 3);
        assert.equal(memoryBytes("512M"), 512 * 1024 ** 2);
    });

    it("reads the project's keys, parses objects and lists, and ignores other namespaces", () => {
        const raw = projectKeys({
            "pyiron-jupyterhub:memLimit": "4G",
            "pyiron-jupyterhub:admins": '["alice"]',
            "pyiron-jupyterhub:tls": '{"keyPath":"/k"}',
            "docker:host": "unix:///var/run/docker.sock",
        });
        assert.deepEqual({ ...raw }, { memLimit: "4G", admins: ["alice"], tls: { keyPath: "/k" } });
    });
});

// Each row: what the user set, and what the error must say (the key first, then the fix).
const BAD_INPUTS: Array<[string, Record<string, unknown>, RegExp]> = [
    ["missing public URL", without("publicUrl"), /^publicUrl: is required\. Fix: pulumi config set publicUrl https:\/\/hub\.example\.org$/],
    ["public URL over http", { ...validRaw(), publicUrl: "http://hub.example.org" }, /^publicUrl: must use https:\/\/.*pulumi config set publicUrl https:\/\/hub\.example\.org$/],
    ["public URL with a path", { ...validRaw(), publicUrl: "https://hub.example.org/jupyter" }, /^publicUrl: must be the site root/],
    ["public URL that is no URL", { ...validRaw(), publicUrl: "hub.example.org" }, /^publicUrl: is not a URL/],
    ["missing TLS section", without("tls"), /^tls: names no certificate\. Files on the host: pulumi config set --path tls\.keyPath .*Or certificates by ACME: pulumi config set --path tls\.acme\.email /],
    ["only one TLS file", { ...validRaw(), tls: { keyPath: "/k" } }, /^tls\.certPath: is required with tls\.keyPath\. Fix: pulumi config set --path tls\.certPath /],
    ["TLS files and ACME at once", { ...validRaw(), tls: { keyPath: "/k", certPath: "/c", acme: { email: "a@example.org" } } }, /^tls\.acme: is set together with tls\.keyPath\/tls\.certPath.*pulumi config rm --path tls\.acme/],
    ["an ACME email that is none", { ...validRaw(), tls: { acme: { email: "admin" } } }, /^tls\.acme\.email: is not an email address/],
    ["a plain-HTTP ACME directory", { ...validRaw(), tls: { acme: { email: "a@example.org", directory: "http://acme.example.org/directory" } } }, /^tls\.acme\.directory: is not an https:\/\/ URL/],
    ["ACME without an email", { ...validRaw(), tls: { acme: {} } }, /^tls\.acme\.email: is required/],
    ["httpPort equal to httpsPort", { ...validRaw(), httpPort: "443" }, /^httpPort: is httpsPort too.*pulumi config set httpPort 80/],
    ["a front network of the stack's own", { ...validRaw(), frontExtraNetworks: ["pyiron-hub-users"] }, /^frontExtraNetworks\[0\]: "pyiron-hub-users" is this stack's own network/],
    ["an image that is not Caddy as the front", { ...validRaw(), frontImage: "nginx:1.27" }, /^frontImage: is not a Caddy image/],
    ["an image that is not configurable-http-proxy as the proxy", { ...validRaw(), proxyImage: "traefik:3.1" }, /^proxyImage: is not a configurable-http-proxy image/],
    ["relative TLS key path", { ...validRaw(), tls: { keyPath: "hub.key", certPath: "/c" } }, /^tls\.keyPath: must be an absolute path.*\(got "hub\.key"\)/],
    ["missing realm URL", { ...validRaw(), keycloak: { clientId: "jupyterhub" } }, /^keycloak\.realmUrl: is required\. Fix: pulumi config set --path keycloak\.realmUrl https:/],
    ["Keycloak over plain http", { ...validRaw(), keycloak: { realmUrl: "http://kc.example.org/realms/p", clientId: "c" } }, /^keycloak\.realmUrl: uses http:\/\/.*pulumi config set --path keycloak\.allowInsecureHttp true$/],
    ["empty client id", { ...validRaw(), keycloak: { realmUrl: "https://kc.example.org/realms/p", clientId: "" } }, /^keycloak\.clientId: is empty/],
    ["unknown Keycloak key", { ...validRaw(), keycloak: { realmUrl: "https://kc.example.org/realms/p", clientId: "c", tls_verify: false } }, /^keycloak\.tls_verify: is not a config key of this project\. Remove it: pulumi config rm --path keycloak\.tls_verify$/],
    ["missing client secret", without("keycloakClientSecret"), /^keycloakClientSecret: is required\. Fix: pulumi config set --secret keycloakClientSecret$/],
    ["no admin", { ...validRaw(), admins: [] }, /^admins: names no admin.*pulumi config set --path 'admins\[0\]' alice$/],
    ["admin given as a plain string", { ...validRaw(), admins: "alice" }, /^admins: is a string, expected list of usernames/],
    ["admin with a space", { ...validRaw(), admins: ["alice smith"] }, /^admins\[0\]: is not a username: lower-case letters, digits and \. _ @ - only/],
    ["nobody may log in", { ...validRaw(), allowedUsers: [] }, /^allowAll, allowedUsers, allowedGroups: nobody but the admins could log in.*pulumi config set allowAll true/],
    ["allowAll together with a user list", { ...validRaw(), allowAll: true }, /^allowAll: is true, so allowedUsers and allowedGroups would have no effect/],
    ["duplicate allowed user", { ...validRaw(), allowedUsers: ["bob", "bob"] }, /^allowedUsers: lists the same user twice/],
    ["memory limit with an unknown unit", { ...validRaw(), memLimit: "2GB" }, /^memLimit: is not a memory size.*\(got "2GB"\)\. Fix: pulumi config set memLimit 2G$/],
    ["memory limit without a unit", { ...validRaw(), memLimit: "2048" }, /^memLimit: is not a memory size/],
    ["tiny memory limit", { ...validRaw(), memLimit: "1M" }, /^memLimit: is below 64M/],
    ["zero CPUs", { ...validRaw(), cpuLimit: 0 }, /^cpuLimit: must be greater than 0.*Fix: pulumi config set cpuLimit 1\.5$/],
    ["CPU limit that is no number", { ...validRaw(), cpuLimit: "two" }, /^cpuLimit: is not a number of CPUs.*\(got "two"\)/],
    ["empty image list", { ...validRaw(), images: [] }, /^images: is empty: users need at least one image/],
    ["image without a tag", { ...validRaw(), images: [{ label: "base", image: "pyiron/base" }] }, /^images\[0\]\.image: has no tag.*pulumi config set --path 'images\[0\]\.image' /],
    ["image reference with upper case", { ...validRaw(), images: [{ label: "base", image: "Pyiron/Base:1" }] }, /^images\[0\]\.image: is not a Docker image reference/],
    ["two images with one label", { ...validRaw(), images: [{ label: "a", image: "x/y:1" }, { label: "a", image: "x/z:1" }] }, /^images: uses the same label twice/],
    ["idle timeout too short", { ...validRaw(), idleTimeout: 10 }, /^idleTimeout: is under 300 seconds/],
    ["port out of range", { ...validRaw(), httpsPort: 70000 }, /^httpsPort: is not a port number \(1-65535\)/],
    ["bind address that is no IPv4", { ...validRaw(), bindAddress: "localhost" }, /^bindAddress: is not an IPv4 address/],
    ["name prefix with upper case", { ...validRaw(), namePrefix: "Pyiron" }, /^namePrefix: must be lowercase letters/],
    ["old auto_config.json key", { ...validRaw(), MEM_LIMIT: "2G" }, /^MEM_LIMIT: is not a config key of this project\. Remove it: pulumi config rm MEM_LIMIT$/],
];

describe("stack config: trial mode", () => {
    it("needs nothing but the mode, and defaults to localhost, an admin, one user, everyone allowed", () => {
        const config = parseConfig({ mode: "trial" });
        assert.equal(config.mode, "trial");
        if (config.mode !== "trial") return;
        assert.equal(config.publicUrl, "http://localhost:8000");
        assert.equal(config.bindAddress, "127.0.0.1");
        assert.deepEqual(config.admins, ["admin"]);
        assert.deepEqual(config.trial.users, ["alice"]);
        assert.equal(config.trial.keycloakPort, 8180);
        assert.equal(config.allowAll, true);
        assert.ok(!("clientSecret" in config), "a trial stack generates its own client secret");
    });

    it("keeps the same settings as production for everything else", () => {
        const config = parseConfig({ mode: "trial", memLimit: "4G", images: [{ label: "base", image: "pyiron/base:2025-11-17" }] });
        assert.equal(config.memLimit, "4G");
        assert.deepEqual(config.images, [{ label: "base", image: "pyiron/base:2025-11-17" }]);
    });

    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
        ["a trial stack on a non-loopback address", { mode: "trial", bindAddress: "0.0.0.0" }, /^bindAddress: a trial stack serves plain HTTP and binds to 127\.0\.0\.1 only \(got "0\.0\.0\.0"\)\. Fix: pulumi config rm bindAddress$/],
        ["production keys in a trial stack", { mode: "trial", keycloak: { realmUrl: "https://kc.example.org/realms/p" } }, /^keycloak: is for production; a trial stack brings its own Keycloak.*pulumi config rm keycloak/],
        ["trial keys in a production stack", { ...validRaw(), trial: { port: 8000 } }, /^trial: is only used in trial mode\. Remove it: pulumi config rm trial, or: pulumi config set mode trial$/],
        ["an unknown mode", { ...validRaw(), mode: "demo" }, /^mode: must be "production" or "trial"/],
        ["one port for hub and Keycloak", { mode: "trial", trial: { port: 8180 } }, /^trial\.keycloakPort: is the hub's port too/],
    ];
    for (const [what, raw, expected] of bad) {
        it(`rejects ${what}`, () => {
            const problems = problemsOf(raw);
            assert.ok(problems.some((p) => expected.test(p)), `no problem matches ${expected}:\n${problems.join("\n")}`);
        });
    }

    it("never falls back to trial mode: a production stack without Keycloak is an error", () => {
        const problems = problemsOf(without("keycloak"));
        assert.ok(problems.some((p) => p.startsWith("keycloak.realmUrl: is required")), problems.join("\n"));
    });
});

describe("stack config: rejected input, one clear message per problem", () => {
    assert.ok(BAD_INPUTS.length >= 20);
    for (const [what, raw, expected] of BAD_INPUTS) {
        it(`rejects ${what}`, () => {
            const problems = problemsOf(raw);
            assert.ok(problems.some((p) => expected.test(p)), `no problem matches ${expected}:\n${problems.join("\n")}`);
        });
    }

    it("reports every problem at once, not just the first", () => {
        const problems = problemsOf({ ...validRaw(), memLimit: "2GB", cpuLimit: -1, images: [] });
        assert.equal(problems.length, 3, problems.join("\n"));
    });

    it("gives a list set as one long string one problem, not a false second about its length", () => {
        const problems = problemsOf({ ...validRaw(), swarm: { storagePath: "/srv/s", placement: "node.role==worker" } });
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^swarm\.placement: is a string, expected list of constraints/);
    });

    it("never echoes the client secret in an error", () => {
        const problems = problemsOf({ ...validRaw(), keycloakClientSecret: 12345, memLimit: "x" });
        assert.ok(problems.every((p) => !p.includes("12345")), problems.join("\n"));
    });

    it("says how many problems there are and lists them one per line", () => {
        try {
            parseConfig({ ...validRaw(), memLimit: "2GB", cpuLimit: -1 });
            assert.fail("accepted");
        } catch (e) {
            assert.match((e as Error).message, /^The stack config of pyiron-jupyterhub has 2 problems:\n  - memLimit: .*\n  - cpuLimit: /s);
        }
    });
});

// Reading the stack config as `pulumi up` does: errors come before any resource.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { swarmStorageDir, writeTlsFiles } from "../fixtures";
import { installMocks, settled } from "../mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-tls-"));
writeTlsFiles(dir);

function stackConfig(overrides: Record<string, string> = {}): Record<string, string> {
    return {
        "pyiron-jupyterhub:publicUrl": "https://hub.example.org",
        "pyiron-jupyterhub:tls": JSON.stringify({ keyPath: path.join(dir, "hub.key"), certPath: path.join(dir, "hub.crt") }),
        "pyiron-jupyterhub:keycloak": JSON.stringify({ realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub" }),
        "pyiron-jupyterhub:keycloakClientSecret": "s3cret",
        "pyiron-jupyterhub:admins": JSON.stringify(["alice"]),
        "pyiron-jupyterhub:allowAll": "true",
        ...overrides,
    };
}
const SECRET_KEYS = ["pyiron-jupyterhub:keycloakClientSecret"];

const recorded = installMocks(stackConfig({ "pyiron-jupyterhub:memLimit": "2GB" }), SECRET_KEYS);

async function loadError(config: Record<string, string>, secretKeys = SECRET_KEYS): Promise<Error> {
    pulumi.runtime.setAllConfig(config, secretKeys);
    const { loadConfig } = await import("../../config");
    try {
        loadConfig();
    } catch (e) {
        return e as Error;
    }
    assert.fail("the config was accepted");
}

describe("loading the stack config", () => {
    it("stops `pulumi up` with a plain message before any resource is declared", async () => {
        await assert.rejects(import("../../index"), (e: Error) => {
            assert.ok(pulumi.RunError.isInstance(e), "a RunError prints without a stack trace");
            assert.match(e.message, /memLimit: is not a memory size/);
            return true;
        });
        await settled();
        assert.deepEqual(recorded.map((r) => r.name), []);
    });

    it("accepts the client secret set with --secret and returns it as a secret output", async () => {
        pulumi.runtime.setAllConfig(stackConfig(), SECRET_KEYS);
        const { loadConfig } = await import("../../config");
        const config = loadConfig();
        assert.equal(config.mode, "production");
        assert.equal(await pulumi.isSecret(config.mode === "production" ? config.clientSecret : pulumi.output("")), true);
    });

    it("refuses a client secret stored in plain text, with the --secret command", async () => {
        const e = await loadError(stackConfig(), []);
        assert.ok(pulumi.RunError.isInstance(e));
        assert.match(e.message, /keycloakClientSecret: is stored in plain text.*pulumi config set --secret keycloakClientSecret$/m);
        assert.doesNotMatch(e.message, /s3cret/);
    });

    it("refuses extraConfig stored as a secret: it goes into a file that is none, and its text is not shown", async () => {
        const e = await loadError(stackConfig({ "pyiron-jupyterhub:extraConfig": "c.JupyterHub.template_vars = {'k': 'hidden-value'}" }), [...SECRET_KEYS, "pyiron-jupyterhub:extraConfig"]);
        assert.match(e.message, /extraConfig: is stored as a secret, but it is written into the hub's config file.*pulumi config rm extraConfig/);
        assert.doesNotMatch(e.message, /hidden-value/);
    });

    it("refuses a profile's CPU limit above this host's CPU count, naming the profile", async () => {
        const cpus = os.cpus().length;
        const profiles = JSON.stringify([{ name: "big", images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"], cpuLimit: cpus + 1 }]);
        const e = await loadError(stackConfig({ "pyiron-jupyterhub:profiles": profiles }));
        assert.match(e.message, new RegExp(`profiles\\[0\\]\\.cpuLimit: is ${cpus + 1}, but this Docker host has ${cpus} CPUs.*Fix: pulumi config set --path 'profiles\\[0\\]\\.cpuLimit' ${cpus}`));
    });

    it("refuses a swarm's storage that is not a directory here, or that others may write, with the commands that fix it", async () => {
        const swarm = (storagePath: string) => stackConfig({ "pyiron-jupyterhub:swarm": JSON.stringify({ storagePath }) });
        const missing = await loadError(swarm(path.join(swarmStorageDir(), "no-such-storage")));
        assert.match(missing.message, /swarm\.storagePath: ".*no-such-storage" is not a directory on this host, the swarm's manager/);
        const open = swarmStorageDir();
        fs.chmodSync(open, 0o777);
        const writable = await loadError(swarm(open));
        assert.match(writable.message, new RegExp(`swarm\\.storagePath: .* must be a directory that only its owner.*Fix, on every node: chown root:root ${open} && chmod 755 ${open}`));
        // Its owner's alone: accepted.
        fs.chmodSync(open, 0o755);
        pulumi.runtime.setAllConfig(swarm(open), SECRET_KEYS);
        const { loadConfig } = await import("../../config");
        assert.equal(loadConfig().swarm?.storagePath, open);
    });

    it("refuses a missing client secret, with the --secret command", async () => {
        const config = stackConfig();
        delete config["pyiron-jupyterhub:keycloakClientSecret"];
        const e = await loadError(config, []);
        assert.match(e.message, /keycloakClientSecret: is required\. Fix: pulumi config set --secret keycloakClientSecret/);
    });

    const badFiles: Array<[string, () => string, RegExp]> = [
        ["a missing file", () => "/nonexistent/hub.key", /does not exist on this machine/],
        ["a directory", () => dir, /is a directory, not a file/],
        ["a device", () => "/dev/null", /is not a regular file/],
        ["an empty file", () => write("empty.key", ""), /is empty/],
        ["a certificate given as the key", () => path.join(dir, "hub.crt"), /is not a PEM private key/],
        ["a file far too large", () => write("huge.key", "-----BEGIN PRIVATE KEY-----\n" + "A".repeat(2 * 1024 * 1024)), /is \d+ bytes, too large for a PEM key/],
    ];
    for (const [what, keyPath, expected] of badFiles) {
        it(`refuses ${what} as the TLS key, before any resource, naming the key and a fix`, async () => {
            const e = await loadError(stackConfig({
                "pyiron-jupyterhub:tls": JSON.stringify({ keyPath: keyPath(), certPath: path.join(dir, "hub.crt") }),
            }));
            assert.match(e.message, new RegExp(`tls\\.keyPath: ".*" ${expected.source}.*Fix the file, or: pulumi config set --path tls\\.keyPath /etc/ssl/hub/hub\\.key`));
            assert.doesNotMatch(e.message, /tls\.certPath/);
        });
    }
});

describe("certificate files the front cannot mount", () => {
    it("refuses a certificate whose directory is one the front needs, naming the key and a fix", async () => {
        // A valid certificate directly in /tmp: the front would mount /tmp over its own.
        const file = path.join(os.tmpdir(), `hub-front-${process.pid}.crt`);
        fs.copyFileSync(path.join(dir, "hub.crt"), file);
        try {
            const e = await loadError(stackConfig({
                "pyiron-jupyterhub:tls": JSON.stringify({ keyPath: path.join(dir, "hub.key"), certPath: file }),
            }));
            assert.match(e.message, /tls\.certPath: ".*" lies in "\/tmp", which the front mounts and which would hide the front's own files there\. .*pulumi config set --path tls\.certPath \/etc\/ssl\/hub\/hub\.crt/);
            assert.doesNotMatch(e.message, /tls\.keyPath/);
        } finally {
            fs.rmSync(file);
        }
    });
});

function write(name: string, content: string): string {
    fs.writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
}

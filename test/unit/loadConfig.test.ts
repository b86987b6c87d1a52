// Reading the stack config as `pulumi up` does: errors come before any resource.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settled } from "../mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-tls-"));
fs.writeFileSync(path.join(dir, "hub.key"), "k");
fs.writeFileSync(path.join(dir, "hub.crt"), "c");

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
        assert.match(e.message, /keycloakClientSecret: is stored in plain text.*pulumi config set --secret keycloakClientSecret '<client secret>'/);
        assert.doesNotMatch(e.message, /s3cret/);
    });

    it("refuses a missing client secret, with the --secret command", async () => {
        const config = stackConfig();
        delete config["pyiron-jupyterhub:keycloakClientSecret"];
        const e = await loadError(config, []);
        assert.match(e.message, /keycloakClientSecret: is required\. Fix: pulumi config set --secret keycloakClientSecret/);
    });

    it("refuses TLS files that do not exist on this machine, naming the key", async () => {
        const e = await loadError(stackConfig({
            "pyiron-jupyterhub:tls": JSON.stringify({ keyPath: "/nonexistent/hub.key", certPath: path.join(dir, "hub.crt") }),
        }));
        assert.match(e.message, /tls\.keyPath: \/nonexistent\/hub\.key is not a readable file on this machine/);
        assert.doesNotMatch(e.message, /tls\.certPath/);
    });
});

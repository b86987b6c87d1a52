// Every secret, from generation to use: each has a distinct value under the mocks, and
// none appears in anything the program produces in plain form: a resource input that
// is not marked secret (labels, names, commands, rendered files), a stack output that
// is not secret, or an error message.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig, projectKeys } from "../../config";
import { writeTlsFiles } from "../fixtures";
import { installMocks, isSecret, mockedSecrets, Recorded, reveal, runProgram } from "../mocks";

const CLIENT_SECRET = "prod-client-secret-7d41";
const tls = writeTlsFiles(fs.mkdtempSync(path.join(os.tmpdir(), "hub-secrets-")));
const PRODUCTION: Record<string, string> = {
    "pyiron-jupyterhub:publicUrl": "https://hub.example.org",
    "pyiron-jupyterhub:tls": JSON.stringify(tls),
    "pyiron-jupyterhub:keycloak": JSON.stringify({ realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub" }),
    "pyiron-jupyterhub:keycloakClientSecret": CLIENT_SECRET,
    "pyiron-jupyterhub:admins": JSON.stringify(["alice"]),
    "pyiron-jupyterhub:allowedUsers": JSON.stringify(["bob"]),
};
const TRIAL = { "pyiron-jupyterhub:mode": "trial", "pyiron-jupyterhub:trial": JSON.stringify({ users: ["alice", "bob"] }) };

const recorded = installMocks({}, []);

/** Every plain string the deployment holds, each with where it is. */
async function plainTexts(resources: Recorded[]): Promise<Array<[where: string, text: string]>> {
    const out: Array<[string, string]> = [];
    for (const r of resources) {
        for (const [key, value] of Object.entries(r.inputs)) {
            if (!isSecret(value)) out.push([`${r.name}.${key}`, JSON.stringify(value)]);
        }
    }
    const index = require("../../index");
    for (const [name, value] of Object.entries(index)) {
        if (value === undefined) continue;
        const lifted = pulumi.output(value as any);
        const resolved = await new Promise((resolve) => lifted.apply(resolve));
        if (!(await pulumi.isSecret(lifted))) out.push([`output ${name}`, JSON.stringify(resolved)]);
    }
    return out;
}

function assertNoSecret(texts: Array<[string, string]>, secrets: Map<string, string>) {
    for (const [where, text] of texts) {
        for (const [name, secret] of secrets) {
            assert.ok(!text.includes(secret), `${where} holds ${name} in plain text`);
        }
    }
}

describe("secrets from generation to use", () => {
    it("production: no secret in a plain input, the rendered config, a label or a plain output", async () => {
        const resources = await runProgram(recorded, PRODUCTION, ["pyiron-jupyterhub:keycloakClientSecret"]);
        const secrets = new Map([...mockedSecrets, ["the client secret", CLIENT_SECRET]]);
        assert.equal(new Set(secrets.values()).size, secrets.size, "every secret has its own value");
        assert.ok(secrets.size >= 4);
        assertNoSecret(await plainTexts(resources), secrets);
        // The rendered file and the labels are plain by design: checked explicitly too.
        const hub = resources.find((r) => r.name === "hub-container")!;
        assertNoSecret([["jupyterhub_config.py", reveal<any[]>(hub.inputs.uploads)[0].content], ["hub labels", JSON.stringify(reveal(hub.inputs.labels))]], secrets);
        // Where the secrets do go, they are marked secret.
        assert.ok(isSecret(hub.inputs.envs));
    });

    it("trial: the realm file, passwords and client secret only in secret inputs and outputs", async () => {
        mockedSecrets.clear();
        const resources = await runProgram(recorded, TRIAL, []);
        assert.ok(mockedSecrets.size >= 5, [...mockedSecrets.keys()].join(", "));
        assert.equal(new Set(mockedSecrets.values()).size, mockedSecrets.size);
        assertNoSecret(await plainTexts(resources), mockedSecrets);
        const kc = resources.find((r) => r.name === "trial-keycloak-container")!;
        assert.ok(isSecret(kc.inputs.uploads), "the realm file is a secret input");
        const index = require("../../index");
        assert.equal(await pulumi.isSecret(index.trialLogin.passwords), true);
        assert.equal(await pulumi.isSecret(pulumi.output(index.trialLogin.clientSecret)), true);
    });

    it("errors never show the client secret, however it is malformed or wherever it sits", () => {
        const secrets = ["[abc-secret-1", "{abc-secret-2", "abc-secret-3\n", "abc\u001b-secret-4"];
        for (const secret of secrets) {
            for (const extra of [{}, { "pyiron-jupyterhub:memLimit": "2GB" }, { "pyiron-jupyterhub:admins": "[broken" }] as Array<Record<string, string>>) {
                try {
                    parseConfig(projectKeys({ ...PRODUCTION, "pyiron-jupyterhub:keycloakClientSecret": secret, ...extra }));
                } catch (e) {
                    assert.ok(e instanceof ConfigError, String(e));
                    assert.ok(!e.message.includes(secret.replace(/[\n\u001b]/g, "").slice(0, 8)), `the error shows the secret:\n${e.message}`);
                }
            }
        }
    });
});

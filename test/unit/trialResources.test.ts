// The resource graph of a trial stack, under Pulumi mocks.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { isSecret, installMocks, mockedSecrets, mockSecret, one as oneOf, Recorded, reveal, settled, valueOf } from "../mocks";

const recorded: Recorded[] = installMocks({ "pyiron-jupyterhub:mode": "trial", "pyiron-jupyterhub:trial": JSON.stringify({ users: ["alice", "bob"] }) }, []);

let stack: typeof import("../../index");
before(async () => {
    stack = await import("../../index");
    await valueOf(stack.containers.hub);
    await settled();
});

const one = (type: string, name: string) => oneOf(recorded, type, name);
const container = (name: string) => one("docker:index/container:Container", name);

describe("trial stack", () => {
    it("runs its own Keycloak, published on 127.0.0.1 only, importing a generated realm", () => {
        const kc = container("trial-keycloak-container").inputs;
        assert.equal(kc.name, "pyiron-hub-keycloak");
        assert.deepEqual(kc.ports, [{ internal: 8080, external: 8180, ip: "127.0.0.1" }]);
        assert.deepEqual(kc.command, ["start-dev", "--import-realm", "--http-port=8080"]);
        assert.ok(kc.envs.includes("KC_HOSTNAME=http://localhost:8180"));
    });

    it("keeps the realm file secret: it holds the client secret and the passwords", () => {
        const uploads = container("trial-keycloak-container").inputs.uploads;
        assert.ok(isSecret(uploads), "the realm upload is secret");
        const realm = JSON.parse(reveal<any[]>(uploads)[0].content);
        assert.equal(realm.clients[0].secret, mockSecret("trial-keycloak-client-secret"));
        assert.deepEqual(realm.users.map((u: any) => u.username), ["admin", "alice", "bob"]);
        // Each user gets the password generated for them, and no one else's.
        for (const u of realm.users) {
            assert.deepEqual(u.credentials.map((c: any) => c.value), [mockSecret(`trial-keycloak-password-${u.username}`)], u.username);
        }
    });

    it("hands the hub the generated client secret, and the trial login output the same", async () => {
        const envs = reveal<string[]>(container("hub-container").inputs.envs);
        assert.ok(envs.includes(`OAUTH_CLIENT_SECRET=${mockSecret("trial-keycloak-client-secret")}`), envs.join("\n"));
        assert.equal(await valueOf(stack.trialLogin!.clientSecret as any), mockSecret("trial-keycloak-client-secret"));
        const passwords = await valueOf(stack.trialLogin!.passwords);
        for (const [user, pw] of Object.entries(passwords)) {
            assert.equal(pw, mockSecret(`trial-keycloak-password-${user}`), user);
        }
    });

    it("registers the hub's own callback as the client's redirect URI", () => {
        const config = reveal<any[]>(container("hub-container").inputs.uploads)[0].content as string;
        const callback = /^c\.GenericOAuthenticator\.oauth_callback_url = "([^"]+)"$/m.exec(config)![1];
        const realm = JSON.parse(reveal<any[]>(container("trial-keycloak-container").inputs.uploads)[0].content);
        assert.equal(callback, "http://localhost:8000/hub/oauth_callback");
        assert.deepEqual(realm.clients[0].redirectUris, [callback]);
    });

    it("sends the browser to Keycloak on localhost and the hub to it on their own network", () => {
        const config = reveal<any[]>(container("hub-container").inputs.uploads)[0].content as string;
        assert.match(config, /^c\.GenericOAuthenticator\.authorize_url = "http:\/\/localhost:8180\/realms\/pyiron\/protocol\/openid-connect\/auth"$/m);
        assert.match(config, /^c\.GenericOAuthenticator\.token_url = "http:\/\/pyiron-hub-keycloak:8080\/realms\/pyiron\/protocol\/openid-connect\/token"$/m);
        const hub = reveal<any>(container("hub-container").inputs);
        assert.ok(hub.networksAdvanced.some((n: any) => n.name === "pyiron-hub-keycloak"));
    });

    it("serves the hub over plain HTTP on 127.0.0.1 through the proxy container, with no front", () => {
        const hub = container("hub-container").inputs;
        assert.equal(hub.ports, undefined);
        assert.deepEqual(container("proxy-container").inputs.ports, [{ internal: 8000, external: 8000, ip: "127.0.0.1" }]);
        assert.ok(!recorded.some((r) => r.name === "front-container" || r.name === "network-proxy" || r.name === "volumes-front-data"));
        assert.match(reveal<any[]>(hub.uploads)[0].content, /^c\.JupyterHub\.bind_url = "http:\/\/0\.0\.0\.0:8000"$/m);
    });

    it("generates the client secret and one password per user with @pulumi/random", () => {
        const names = recorded.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => r.name).sort();
        assert.deepEqual(names, [
            "database-password",
            "trial-keycloak-client-secret",
            "trial-keycloak-password-admin",
            "trial-keycloak-password-alice",
            "trial-keycloak-password-bob",
        ]);
    });

    it("shows the hub URL and the users in plain outputs, the passwords only as secrets", async () => {
        assert.equal(stack.hubUrl, "http://localhost:8000/hub/");
        const login = stack.trialLogin!;
        assert.deepEqual(login.users, ["admin", "alice", "bob"]);
        assert.equal(await (await import("@pulumi/pulumi")).isSecret(login.passwords), true);
        assert.deepEqual(Object.keys(await valueOf(login.passwords)), ["admin", "alice", "bob"]);
    });

    it("has no secret in any plain input of any resource", () => {
        for (const r of recorded) {
            for (const [key, value] of Object.entries(r.inputs)) {
                if (isSecret(value)) continue;
                for (const [name, secret] of mockedSecrets) {
                    assert.ok(!JSON.stringify(value).includes(secret), `${r.name}.${key} holds ${name} in plain text`);
                }
            }
        }
    });
});

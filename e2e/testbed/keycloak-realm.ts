// Configures the test bed's Keycloak through its admin REST API: a realm, a confidential
// client for the hub, a group with a membership claim, and the test users. Idempotent:
// the realm is made anew each time. Usage: tsx keycloak-realm.ts
import testbed from "../testbed.json";

const kc = testbed.keycloak;
const base = `http://127.0.0.1:${kc.port}`;
const hub = `https://${testbed.hub.host}:${testbed.hub.port}`;

async function call(token: string, method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${base}/admin/realms${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok && !(method === "DELETE" && res.status === 404)) {
        throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    }
    return res;
}

async function main() {
    const login = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: kc.admin.username, password: kc.admin.password }),
    });
    if (!login.ok) throw new Error(`admin login: ${login.status} ${await login.text()}`);
    const token = ((await login.json()) as { access_token: string }).access_token;

    await call(token, "DELETE", `/${kc.realm}`);
    await call(token, "POST", "", { realm: kc.realm, enabled: true });
    await call(token, "POST", `/${kc.realm}/clients`, {
        clientId: kc.clientId,
        protocol: "openid-connect",
        publicClient: false,
        secret: kc.clientSecret,
        standardFlowEnabled: true,
        directAccessGrantsEnabled: false,
        redirectUris: [`${hub}/hub/oauth_callback`],
        webOrigins: [hub],
        attributes: { "post.logout.redirect.uris": `${hub}/*` },
        protocolMappers: [{
            name: "groups",
            protocol: "openid-connect",
            protocolMapper: "oidc-group-membership-mapper",
            config: { "claim.name": "groups", "full.path": "true", "userinfo.token.claim": "true", "id.token.claim": "true", "access.token.claim": "true" },
        }],
    });
    const groupIds: Record<string, string> = {};
    for (const name of kc.groups) {
        const res = await call(token, "POST", `/${kc.realm}/groups`, { name });
        groupIds[name] = res.headers.get("location")!.split("/").pop()!;
    }
    for (const [username, u] of Object.entries(kc.users)) {
        const res = await call(token, "POST", `/${kc.realm}/users`, {
            username,
            enabled: true,
            email: `${username}@testbed.example`,
            emailVerified: true,
            firstName: username,
            lastName: "Testbed",
            credentials: [{ type: "password", value: u.password, temporary: false }],
        });
        const id = res.headers.get("location")!.split("/").pop()!;
        for (const g of u.groups) {
            await call(token, "PUT", `/${kc.realm}/users/${id}/groups/${groupIds[g]}`);
        }
    }
    console.log(`realm ${kc.realm}: client ${kc.clientId}, groups ${kc.groups.join(", ")}, users ${Object.keys(kc.users).join(", ")}`);
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});

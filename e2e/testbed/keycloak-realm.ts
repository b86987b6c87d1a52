// Loads the test bed's realm into its Keycloak through the admin REST API: the realm
// that trial stacks import (components/trialRealm.ts), with the test hub's URL, the
// groups and the users of e2e/testbed.json, and full group paths in the claim.
// Idempotent: the realm is made anew each time. Usage: tsx keycloak-realm.ts
import { TRIAL_CLIENT_ID, TRIAL_REALM, trialRealm } from "../../components/trialRealm";
import testbed from "../testbed.json";

const kc = testbed.keycloak;
const base = `http://127.0.0.1:${kc.port}`;

async function main() {
    if (kc.realm !== TRIAL_REALM || kc.clientId !== TRIAL_CLIENT_ID) {
        throw new Error(`e2e/testbed.json names realm ${kc.realm} and client ${kc.clientId}; the realm file has ${TRIAL_REALM} and ${TRIAL_CLIENT_ID}`);
    }
    const login = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: kc.admin.username, password: kc.admin.password }),
    });
    if (!login.ok) throw new Error(`admin login: ${login.status} ${await login.text()}`);
    const token = ((await login.json()) as { access_token: string }).access_token;
    const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${base}/admin/realms${path}`, {
            method,
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (!res.ok && !(method === "DELETE" && res.status === 404)) {
            throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        }
    };

    await call("DELETE", `/${kc.realm}`);
    await call("POST", "", trialRealm({
        hubUrl: `https://${testbed.hub.host}:${testbed.hub.port}`,
        clientSecret: kc.clientSecret,
        groups: kc.groups,
        fullGroupPath: true,
        users: Object.entries(kc.users).map(([username, u]) => ({ username, password: u.password, groups: u.groups })),
    }));
    console.log(`realm ${kc.realm}: client ${kc.clientId}, groups ${kc.groups.join(", ")}, users ${Object.keys(kc.users).join(", ")}`);
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});

// Every config key reaches the deployment: changing it changes some resource input,
// resource option or rendered file. A key added to the schema without a row here, or
// one whose value goes nowhere, fails this test.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { configReference } from "../../config";
import { swarmStorageDir, writeTlsFiles } from "../fixtures";
import { installMocks, Recorded, reveal, runProgram } from "../mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-wiring-"));
const tls = writeTlsFiles(dir, "one");
const other = writeTlsFiles(dir, "two", { key: "other.key", cert: "other.crt" });
const otherKey = other.keyPath;
const otherCert = other.certPath;
// A swarm's storage must be a directory of the manager (this host, under the mocks).
const storage = swarmStorageDir();
const otherStorage = swarmStorageDir();

const PRODUCTION: Record<string, unknown> = {
    publicUrl: "https://hub.example.org",
    tls,
    keycloak: { realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub" },
    keycloakClientSecret: "wiring-client-secret",
    admins: ["alice"],
    allowedUsers: ["bob"],
};
const TRIAL: Record<string, unknown> = { mode: "trial" };

const CLUSTER = {
    name: "lab",
    host: "login.cluster.example.org",
    hostKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjTZdOB8UhU7bE5PCJPFOVQvsZROrEq16yaSKrcKoj9"],
    partitions: [{ name: "batch", cores: 4, runTime: 3600 }],
};

type Variant = { base: Record<string, unknown>; change: Record<string, unknown> };
const production = (change: Record<string, unknown>): Variant => ({ base: PRODUCTION, change });
const trial = (change: Record<string, unknown>): Variant => ({ base: TRIAL, change });
const keycloak = (change: Record<string, unknown>) => production({ keycloak: { ...(PRODUCTION.keycloak as object), ...change } });

/** For each key, a valid change of that key (and only what it needs besides). */
const VARIANTS: Record<string, Variant> = {
    mode: production({ mode: "trial", publicUrl: undefined, tls: undefined, keycloak: undefined, keycloakClientSecret: undefined, admins: undefined }),
    publicUrl: production({ publicUrl: "https://lab.example.org" }),
    "tls.keyPath": production({ tls: { ...tls, keyPath: otherKey } }),
    "tls.certPath": production({ tls: { ...tls, certPath: otherCert } }),
    "tls.acme.email": production({ tls: { acme: { email: "hub-admin@example.org" } } }),
    "tls.acme.directory": { base: { ...PRODUCTION, tls: { acme: { email: "a@example.org" } } }, change: { tls: { acme: { email: "a@example.org", directory: "https://acme.example.org/directory" } } } },
    "tls.acme.caRoot": { base: { ...PRODUCTION, tls: { acme: { email: "a@example.org" } } }, change: { tls: { acme: { email: "a@example.org", caRoot: tls.certPath } } } },
    "keycloak.realmUrl": keycloak({ realmUrl: "https://sso.example.org/realms/lab" }),
    "keycloak.clientId": keycloak({ clientId: "lab-hub" }),
    "keycloak.authorizeUrl": keycloak({ authorizeUrl: "https://sso.example.org/authorize" }),
    "keycloak.tokenUrl": keycloak({ tokenUrl: "https://sso.example.org/token" }),
    "keycloak.userdataUrl": keycloak({ userdataUrl: "https://sso.example.org/userinfo" }),
    "keycloak.logoutUrl": keycloak({ logoutUrl: "https://sso.example.org/logout" }),
    "keycloak.callbackUrl": keycloak({ callbackUrl: "https://hub.example.org/hub/other_callback" }),
    keycloakClientSecret: production({ keycloakClientSecret: "another-client-secret" }),
    admins: production({ admins: ["carol"] }),
    "trial.port": trial({ trial: { port: 8001 } }),
    "trial.keycloakPort": trial({ trial: { keycloakPort: 8181 } }),
    "trial.keycloakImage": trial({ trial: { keycloakImage: "quay.io/keycloak/keycloak:26.4.6" } }),
    "trial.users": trial({ trial: { users: ["bob"] } }),
    // allowAll excludes the lists, so the list goes too.
    allowAll: production({ allowAll: "true", allowedUsers: undefined }),
    allowedUsers: production({ allowedUsers: ["carol"] }),
    allowedGroups: production({ allowedGroups: ["lab"] }),
    images: production({ images: [{ label: "base", image: "pyiron/base:2025-11-17" }] }),
    memLimit: production({ memLimit: "3G" }),
    cpuLimit: production({ cpuLimit: "0.5" }),
    idleTimeout: production({ idleTimeout: "7200" }),
    httpsPort: production({ httpsPort: "8443" }),
    httpPort: production({ httpPort: "8080" }),
    frontImage: production({ frontImage: "registry.example.org/caddy:2.11.9" }),
    frontExtraNetworks: production({ frontExtraNetworks: ["acme"] }),
    proxyImage: production({ proxyImage: "registry.example.org/jupyterhub/configurable-http-proxy:5.3.0" }),
    bindAddress: production({ bindAddress: "127.0.0.1" }),
    hubExtraNetworks: production({ hubExtraNetworks: ["keycloak"] }),
    namePrefix: production({ namePrefix: "lab" }),
    hubImage: production({ hubImage: "registry.example.org/pyiron-hub:1.0" }),
    hubVersion: production({ hubVersion: "6.1" }),
    pidsLimit: production({ pidsLimit: 512 }),
    maxActiveServers: production({ maxActiveServers: 3 }),
    userFirewall: production({ userFirewall: false }),
    userHostPorts: production({ userHostPorts: [3141] }),
    maxConcurrentSpawns: production({ maxConcurrentSpawns: 2 }),
    profiles: production({ profiles: [{ name: "all", images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"], memLimit: "4G" }] }),
    sharedFolders: production({ sharedFolders: [{ name: "data", mountPath: "/srv/data" }] }),
    keepServersWithRunningJobs: production({ keepServersWithRunningJobs: "false" }),
    extraConfig: production({ extraConfig: "c.JupyterHub.shutdown_on_logout = True" }),
    "hubBuildArgs.JUPYTERHUB_IMAGE": production({ hubBuildArgs: { JUPYTERHUB_IMAGE: "registry.example.org/jupyterhub/jupyterhub:5.5.4" } }),
    "hubBuildArgs.PIP_ARGS": production({ hubBuildArgs: { PIP_ARGS: "--no-index" } }),
    postgresImage: production({ postgresImage: "postgres:16" }),
    deleteDataOnDestroy: production({ deleteDataOnDestroy: "true" }),
    "swarm.storagePath": { base: { ...PRODUCTION, swarm: { storagePath: storage } }, change: { swarm: { storagePath: otherStorage } } },
    "swarm.placement": { base: { ...PRODUCTION, swarm: { storagePath: storage } }, change: { swarm: { storagePath: storage, placement: ["node.role==worker"] } } },
    "hpc.clusters": production({ hpc: { clusters: [CLUSTER] } }),
    "hpc.pipArgs": { base: { ...PRODUCTION, hpc: { clusters: [CLUSTER] } }, change: { hpc: { clusters: [CLUSTER], pipArgs: "--no-index" } } },
};

/** Keys that only allow a value elsewhere; each with a config it lets through and one without it. */
const GATES: Record<string, { allowed: Variant; refused: Variant }> = {
    "keycloak.allowInsecureHttp": {
        allowed: keycloak({ realmUrl: "http://keycloak:8080/realms/pyiron", allowInsecureHttp: "true" }),
        refused: keycloak({ realmUrl: "http://keycloak:8080/realms/pyiron" }),
    },
};

function stackConfig(v: Variant): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, value] of Object.entries({ ...v.base, ...v.change })) {
        if (value !== undefined) {
            out[`pyiron-jupyterhub:${k}`] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return out;
}
const SECRET_KEYS = ["pyiron-jupyterhub:keycloakClientSecret"];

/** What a deployment is made of, as comparable text: inputs, options, dependencies. */
function fingerprint(recorded: Recorded[]): string {
    const urnName = new Map(recorded.map((r) => [r.urn, r.name]));
    return JSON.stringify(
        recorded
            .filter((r) => r.custom)
            .map((r) => ({
                type: r.type,
                name: r.name,
                inputs: JSON.parse(JSON.stringify(r.inputs, (_k, v) => reveal(v))),
                retainOnDelete: r.retainOnDelete,
                deleteBeforeReplace: r.deleteBeforeReplace,
                dependsOn: r.dependencies.map((u) => urnName.get(u) ?? u).sort(),
            }))
            .sort((a, b) => `${a.type}/${a.name}`.localeCompare(`${b.type}/${b.name}`)),
    );
}

const recorded = installMocks({}, []);

async function deploy(v: Variant): Promise<string> {
    return fingerprint(await runProgram(recorded, stackConfig(v), SECRET_KEYS));
}

describe("config wiring", () => {
    const baselines: Record<string, string> = {};
    before(async () => {
        baselines.production = await deploy(production({}));
        baselines.trial = await deploy(trial({}));
    });

    it("has a change for every documented key, and nothing else", () => {
        const keys = configReference().filter((r) => r.type !== "object").map((r) => r.key).sort();
        assert.deepEqual([...Object.keys(VARIANTS), ...Object.keys(GATES)].sort(), keys);
    });

    it("deploys the same thing twice from the same config", async () => {
        assert.equal(await deploy(production({})), baselines.production);
    });

    for (const [key, variant] of Object.entries(VARIANTS)) {
        it(`changes the deployment when ${key} changes`, async () => {
            const baseline = variant.base === TRIAL ? baselines.trial : variant.base === PRODUCTION ? baselines.production : await deploy({ base: variant.base, change: {} });
            assert.notEqual(await deploy(variant), baseline, `${key} reaches no resource input and no rendered file`);
        });
    }

    // What the hub alone is made of: a change here must leave the proxy and the front as
    // they are, so users' open connections survive it (the front e2e suite shows they do).
    const HUB_ONLY = ["admins", "allowedUsers", "images", "memLimit", "cpuLimit", "idleTimeout", "hubVersion", "keycloak.clientId", "maxActiveServers"];
    const routing = (fp: string) => JSON.stringify(JSON.parse(fp).filter((r: { name: string }) => /^(proxy|front)-/.test(r.name)));
    for (const key of HUB_ONLY) {
        it(`leaves the proxy and the front untouched when ${key} changes`, async () => {
            const changed = await deploy(VARIANTS[key]);
            assert.notEqual(changed, baselines.production);
            assert.equal(routing(changed), routing(baselines.production));
        });
    }

    for (const [key, { allowed, refused }] of Object.entries(GATES)) {
        it(`lets ${key} decide whether a config is accepted`, async () => {
            await deploy(allowed);
            await assert.rejects(deploy(refused), new RegExp(key.replace(/\./g, "\\.")));
        });
    }
});

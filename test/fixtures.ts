// Shared inputs of the unit tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { JupyterhubConfigInputs } from "../components/jupyterhubConfig";

/** A complete, valid stack config as `pulumi config` hands it to the program. */
export function validRaw(): Record<string, unknown> {
    return {
        publicUrl: "https://hub.example.org",
        tls: { keyPath: "/etc/ssl/private/hub.key", certPath: "/etc/ssl/certs/hub.crt" },
        keycloak: { realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub" },
        keycloakClientSecret: "client-secret-value",
        admins: ["alice"],
        allowedUsers: ["bob"],
    };
}

/** Settings of the golden config: every feature of the renderer switched on. */
export function goldenSettings(): JupyterhubConfigInputs {
    return {
        publicUrl: "https://hub.example.org",
        namePrefix: "pyiron-hub",
        images: [
            { label: "pyiron_base", image: "pyiron/base:2025-11-24" },
            { label: "pyiron_atomistics", image: "pyiron/pyiron:2025-11-24" },
            { label: "pyiron_md", image: "pyiron/md:2025-11-24" },
        ],
        memLimit: "2G",
        cpuLimit: 1.5,
        pidsLimit: 2048,
        maxActiveServers: 50,
        maxConcurrentSpawns: 10,
        idleTimeout: 3600,
        admins: ["alice", "carol"],
        allowAll: false,
        allowedUsers: ["bob"],
        allowedGroups: ["pyiron-users"],
        profiles: [
            { name: "dft", groups: ["dft"], images: ["pyiron_atomistics", "pyiron_base"], memLimit: "8G", cpuLimit: 4 },
            { name: "students", images: ["pyiron_base", "pyiron_md"] },
        ],
        sharedFolders: [
            { name: "potentials", mountPath: "/home/jovyan/shared/potentials", readOnly: true },
            { name: "dft-workspace", mountPath: "/home/jovyan/shared/dft", readOnly: false, groups: ["dft"] },
        ],
        keepServersWithRunningJobs: true,
        extraConfig: 'c.JupyterHub.template_vars = {"announcement": "Maintenance on Friday"}',
        keycloak: {
            clientId: "jupyterhub",
            authorizeUrl: "https://keycloak.example.org/realms/pyiron/protocol/openid-connect/auth",
            tokenUrl: "https://keycloak.example.org/realms/pyiron/protocol/openid-connect/token",
            userdataUrl: "https://keycloak.example.org/realms/pyiron/protocol/openid-connect/userinfo",
            logoutUrl: "https://keycloak.example.org/realms/pyiron/protocol/openid-connect/logout",
            callbackUrl: "https://hub.example.org/hub/oauth_callback",
        },
    };
}

/** A key and certificate in PEM form (not a real key pair: the program reads, never parses them). */
export function writeTlsFiles(dir: string, tag = "one", names = { key: "hub.key", cert: "hub.crt" }): { keyPath: string; certPath: string } {
    const keyPath = path.join(dir, names.key);
    const certPath = path.join(dir, names.cert);
    fs.writeFileSync(keyPath, `-----BEGIN PRIVATE KEY-----\nkey ${tag}\n-----END PRIVATE KEY-----\n`);
    fs.writeFileSync(certPath, `-----BEGIN CERTIFICATE-----\ncert ${tag}\n-----END CERTIFICATE-----\n`);
    return { keyPath, certPath };
}

/** The golden settings without profiles, shared folders and extraConfig: a stack from before they existed. */
export function plain(): JupyterhubConfigInputs {
    return { ...goldenSettings(), profiles: [], sharedFolders: [], extraConfig: undefined };
}

/** The golden settings on a swarm: storage every node mounts, servers on workers only. */
export function swarmSettings(): JupyterhubConfigInputs {
    return {
        ...goldenSettings(),
        keepServersWithRunningJobs: false,
        swarm: { storagePath: "/srv/pyiron-storage", placement: ["node.role==worker"] },
    };
}

/**
 * A directory for a swarm's storage: outside /tmp, which the config refuses (the system
 * empties it), and only its owner's to write.
 */
export function swarmStorageDir(): string {
    const root = path.join(os.homedir(), ".cache", "pyiron-jupyterhub", "unit-tests");
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    const dir = fs.mkdtempSync(path.join(root, "storage-"));
    fs.chmodSync(dir, 0o755);
    return dir;
}

/**
 * A production stack's config as the Pulumi mocks take it (`pyiron-jupyterhub:` keys,
 * JSON values): these TLS files and client secret, everyone admitted, plus `extra`.
 */
export function mockedStackConfig(tls: { keyPath: string; certPath: string }, clientSecret: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
        "pyiron-jupyterhub:publicUrl": "https://hub.example.org",
        "pyiron-jupyterhub:tls": JSON.stringify(tls),
        "pyiron-jupyterhub:keycloak": JSON.stringify({ realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub" }),
        "pyiron-jupyterhub:keycloakClientSecret": clientSecret,
        "pyiron-jupyterhub:admins": JSON.stringify(["alice"]),
        "pyiron-jupyterhub:allowAll": "true",
        ...extra,
    };
}

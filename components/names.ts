// Every Docker name and label of a deployment, derived from its namePrefix in this one
// place: components, the rendered hub config and the stack outputs all take them here.

/** Label on everything of one deployment, user containers included. */
export const DEPLOYMENT_LABEL = "org.pyiron-jupyterhub.deployment";
/** Label that says what a container, network or volume is. */
export const ROLE_LABEL = "org.pyiron-jupyterhub.role";

/**
 * Label on the hub with the proxy container's id: a new proxy starts with an empty routing
 * table, and the hub that starts with it puts every running server's route back at once.
 */
export const PROXY_ID_LABEL = "org.pyiron-jupyterhub.proxy-id";

/** Label of a built hub image: the digest of the recipe it was built from. */
export const RECIPE_LABEL = "org.pyiron-jupyterhub.recipe";

/** The role label's values. */
export const ROLES = {
    usersNetwork: "users-network",
    databaseNetwork: "database-network",
    keycloakNetwork: "keycloak-network",
    hubData: "hub-data",
    postgresData: "postgres-data",
    hub: "hub",
    postgres: "postgres",
    keycloak: "keycloak",
    userServer: "user-server",
    firewall: "user-firewall",
    proxy: "proxy",
    front: "front",
    proxyNetwork: "proxy-network",
    frontData: "front-data",
    sharedFolder: "shared-folder",
    configCheck: "config-check",
    swarmImage: "swarm-image",
} as const;

/** The suffix of every deployment's internal database network. */
export const DATABASE_NETWORK_SUFFIX = "-database";

/**
 * A username as DockerSpawner puts it into Docker names (its default `escape`): lower-case
 * letters and digits stay, every other byte becomes `-` and two hex digits, so
 * `jane.doe` is `jane-2edoe` and `load-1` is `load-2d1`.
 */
export function dockerSafe(username: string): string {
    let out = "";
    for (const ch of username) {
        if (/^[a-z0-9]$/.test(ch)) {
            out += ch;
        } else {
            for (const byte of Buffer.from(ch, "utf8")) out += `-${byte.toString(16).padStart(2, "0")}`;
        }
    }
    return out;
}

/** The Docker names of one deployment. */
export function dockerNames(namePrefix: string) {
    return {
        usersNetwork: `${namePrefix}-users`,
        databaseNetwork: `${namePrefix}${DATABASE_NETWORK_SUFFIX}`,
        keycloakNetwork: `${namePrefix}-keycloak`,
        /** Between the TLS front and the proxy; nothing else joins it. */
        proxyNetwork: `${namePrefix}-proxy`,
        hubContainer: `${namePrefix}-hub`,
        proxyContainer: `${namePrefix}-proxy`,
        frontContainer: `${namePrefix}-front`,
        postgresContainer: `${namePrefix}-postgres`,
        // Not `<prefix>-user-…`: that is where DockerSpawner names user servers, and a user
        // named "firewall" would get this name.
        firewallContainer: `${namePrefix}-firewall`,
        keycloakContainer: `${namePrefix}-keycloak`,
        hubDataVolume: `${namePrefix}-${ROLES.hubData}`,
        postgresDataVolume: `${namePrefix}-${ROLES.postgresData}`,
        /** The front's ACME account and certificates. */
        frontDataVolume: `${namePrefix}-${ROLES.frontData}`,
        /** The hub image built from the recipe, tagged by its digest. */
        hubImageRepository: `${namePrefix}-hub`,
        /** The HPC layer built on a user image, per label (Docker wants lower case). */
        userImageRepository: (label: string) => `${namePrefix}-user-image-${label.toLowerCase().replace(/[^a-z0-9_.-]/g, "-")}`,
        /** DockerSpawner's container name prefix: `<prefix>-<username>`. */
        userContainerPrefix: `${namePrefix}-user`,
        /** A user's home volume, as DockerSpawner templates it (`{username}` is escaped). */
        homeVolume: (username: string) => `${namePrefix}-home-${username}`,
        /** A shared folder's volume (sharedFolders[].name). */
        sharedVolume: (name: string) => `${namePrefix}-shared-${name}`,
        /** The home volume of one user. */
        homeVolumeOf: (username: string) => `${namePrefix}-home-${dockerSafe(username)}`,
        /** The server container of one user. */
        userServerOf: (username: string) => `${namePrefix}-user-${dockerSafe(username)}`,
    };
}
export type DockerNames = ReturnType<typeof dockerNames>;

/** The labels of one deployment's resource with a given role. */
export function deploymentLabels(namePrefix: string, role: string): Array<{ label: string; value: string }> {
    return [
        { label: DEPLOYMENT_LABEL, value: namePrefix },
        { label: ROLE_LABEL, value: role },
    ];
}

/** The same labels as a map (for containers DockerSpawner creates). */
export function labelMap(namePrefix: string, role: string): Record<string, string> {
    return Object.fromEntries(deploymentLabels(namePrefix, role).map(({ label, value }) => [label, value]));
}

/** The same labels as `key=value` filters (`docker ps --filter label=...`). */
export function labelFilters(namePrefix: string, role?: string): string[] {
    return deploymentLabels(namePrefix, role ?? "")
        .filter(({ value }) => value !== "")
        .map(({ label, value }) => `${label}=${value}`);
}

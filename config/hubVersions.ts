// The JupyterHub versions a stack can run (`hubVersion`). Each is a pinned requirement
// set, hub-image/requirements-<version>.txt, installed on the official image of that
// release. The Python test checks every entry against the installed packages.
export const HUB_VERSIONS = {
    "5.5": {
        jupyterhub: "5.5.4",
        baseImage: "quay.io/jupyterhub/jupyterhub:5.5.4",
        // The alembic revision of the hub database this version writes.
        schemaHead: "4621fec11365",
    },
    "6.1": {
        jupyterhub: "6.1.1",
        baseImage: "quay.io/jupyterhub/jupyterhub:6.1.1",
        schemaHead: "f460b0348206",
    },
} as const;

export type HubVersion = keyof typeof HUB_VERSIONS;

export const HUB_VERSION_NAMES = Object.keys(HUB_VERSIONS) as [HubVersion, ...HubVersion[]];

/** The version of a saved hub database, by its alembic revision. */
export function hubVersionOfRevision(revision: string): HubVersion | undefined {
    return HUB_VERSION_NAMES.find((v) => HUB_VERSIONS[v].schemaHead === revision);
}

import { HEALTHCHECK_REPLACES } from "./containerOptions";
import * as fs from "fs";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as path from "path";
import { commandLine, dockerHost, HUB_VERSION_NAMES, HUB_VERSIONS, HubVersion, setCommand, StackConfig } from "../config";
import type { Identity } from "./identity";
import { HUB_API_PORT, HUB_ENV, HUB_PATHS, HUB_START_ENV, hubSharedPath, renderJupyterhubConfig } from "./jupyterhubConfig";
import { HubConfigCheck } from "./hubConfigCheck";
import { deploymentLabels, dockerNames, labelMap, PROXY_ID_LABEL, ROLES } from "./names";

export interface HubArgs {
    /** The validated stack config: the hub takes its settings from it, not from copies. */
    config: StackConfig;
    /** Who logs users in. */
    identity: Identity;
    /** The images users choose from, as DockerSpawner starts them (with the HPC layer, if any). */
    images: Array<{ label: string; image: string }>;
    imageId: pulumi.Input<string>;
    userNetwork: pulumi.Input<string>;
    databaseNetwork: pulumi.Input<string>;
    dataVolume: pulumi.Input<string>;
    /** Shared folders' volumes by folder name: the hub gives a new one to jovyan. */
    sharedVolumes: Record<string, pulumi.Input<string>>;
    /** Secret `postgresql://` URL of the hub database. */
    databaseUrl: pulumi.Input<string>;
    /** Secret token of the proxy's routing API. */
    proxyToken: pulumi.Input<string>;
    /** The proxy container's id: a replaced proxy restarts the hub, which restores its routes. */
    proxyId: pulumi.Input<string>;
    /**
     * Resources the hub container starts after (and is deleted before): the healthy
     * database, the pulled user images, the user-server cleanup.
     */
    startAfter: pulumi.Resource[];
}

/** Page templates over JupyterHub's own, uploaded next to the config. */
export const HUB_TEMPLATES = Object.fromEntries(
    ["error.html"].map((name) => [name, fs.readFileSync(path.join(__dirname, "templates", name), "utf8")]),
);

/** Python the hub runs beside its config: the spawn rules and the job-activity service. */
const SPAWN_MODULE = fs.readFileSync(path.join(__dirname, path.basename(HUB_PATHS.spawnModule)), "utf8");
const ACTIVITY_SERVICE = fs.readFileSync(path.join(__dirname, path.basename(HUB_PATHS.activityService)), "utf8");

/** The hub's entry point: checks the release, migrates the database behind a copy. */
export const HUB_START_SCRIPT = fs.readFileSync(path.join(__dirname, "hub-start.py"), "utf8");

/**
 * What hub-start.py needs to know: the stack's release, the schema head of each release
 * (to name the one that wrote a database), and the commands its messages print.
 */
export function hubStartSettings(version: HubVersion, stack: string, sharedFolders: string[] = []): string {
    return JSON.stringify({
        version,
        // Shared folders as the hub sees them: a new (root-owned) one is given to jovyan.
        shared: sharedFolders,
        heads: Object.fromEntries(HUB_VERSION_NAMES.map((v) => [v, HUB_VERSIONS[v].schemaHead])),
        setVersion: Object.fromEntries(
            HUB_VERSION_NAMES.map((v) => [v, `${setCommand("hubVersion", v, { stack })} && ${commandLine(["pulumi", "up", "--stack", stack])}`]),
        ),
        rollback: commandLine(["npm", "run", "hub-rollback", "--", "--stack", stack]),
    });
}

/** The JupyterHub container with its generated config and its secrets. */
export class Hub extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The generated jupyterhub_config.py (holds no secret). */
    public readonly configFile: string;

    constructor(name: string, args: HubArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Hub", name, {}, opts);
        const { config, identity } = args;
        const names = dockerNames(config.namePrefix);
        // Stable across updates: changing them would log every user out (cookie) or make
        // stored auth state unreadable (crypt key).
        const cookieSecret = new random.RandomBytes(`${name}-cookie-secret`, { length: 32 }, { parent: this });
        const cryptKey = new random.RandomBytes(`${name}-crypt-key`, { length: 32 }, { parent: this });
        // Shared folders as the hub mounts them: each a volume; on a swarm, a directory of the storage.
        const sharedInHub = config.swarm
            ? config.sharedFolders.map((f) => `${HUB_PATHS.storage}/${names.sharedVolume(f.name)}`)
            : Object.keys(args.sharedVolumes).map(hubSharedPath);
        this.configFile = renderJupyterhubConfig({ ...config, images: args.images, keycloak: identity.client });
        // The hub's own packages load the config before the hub is replaced.
        const check = new HubConfigCheck(`${name}-config-check`, {
            image: args.imageId,
            dockerHost: dockerHost(),
            files: { "jupyterhub_config.py": this.configFile, [path.basename(HUB_PATHS.spawnModule)]: SPAWN_MODULE },
            labels: labelMap(config.namePrefix, ROLES.configCheck),
        }, { parent: this });
        this.container = new docker.Container(`${name}-container`, {
            name: names.hubContainer,
            image: args.imageId,
            command: ["python3", HUB_PATHS.start, "jupyterhub", "-f", HUB_PATHS.config],
            uploads: [
                { file: HUB_PATHS.config, content: this.configFile },
                { file: HUB_PATHS.start, content: HUB_START_SCRIPT },
                { file: HUB_PATHS.spawnModule, content: SPAWN_MODULE },
                { file: HUB_PATHS.activityService, content: ACTIVITY_SERVICE },
                ...Object.entries(HUB_TEMPLATES).map(([name, content]) => ({ file: `${HUB_PATHS.templates}/${name}`, content })),
            ],
            envs: [
                `${HUB_START_ENV}=${hubStartSettings(config.hubVersion, pulumi.getStack(), sharedInHub)}`,
                pulumi.interpolate`${HUB_ENV.dbUrl}=${args.databaseUrl}`,
                pulumi.interpolate`${HUB_ENV.cookieSecret}=${pulumi.secret(cookieSecret.hex)}`,
                pulumi.interpolate`${HUB_ENV.cryptKey}=${pulumi.secret(cryptKey.hex)}`,
                pulumi.interpolate`${HUB_ENV.clientSecret}=${pulumi.secret(identity.clientSecret)}`,
                pulumi.interpolate`${HUB_ENV.proxyToken}=${pulumi.secret(args.proxyToken)}`,
            ],
            volumes: [
                // DockerSpawner starts and stops user servers through the host's engine.
                { hostPath: HUB_PATHS.dockerSocket, containerPath: HUB_PATHS.dockerSocket },
                { volumeName: args.dataVolume, containerPath: HUB_PATHS.data },
                ...Object.entries(args.sharedVolumes).map(([folder, volumeName]) => ({ volumeName, containerPath: hubSharedPath(folder) })),
                // A swarm's storage, where the hub makes each home and shared folder before a node binds it.
                ...(config.swarm ? [{ hostPath: config.swarm.storagePath, containerPath: HUB_PATHS.storage }] : []),
            ],
            tmpfs: { [HUB_PATHS.runtime]: "mode=0755" },
            networksAdvanced: [
                { name: args.userNetwork },
                { name: args.databaseNetwork },
                // The Keycloak's network, and those the admin named (user servers join neither).
                ...[...identity.networks, ...config.hubExtraNetworks].map((name) => ({ name })),
            ],
            // No published port: users come in through the proxy.
            // Probed every 2 s, so `pulumi up` (which waits for healthy) and a hub update end
            // soon after the hub answers: Docker 20.10 runs the first probe one interval after
            // the start. A bare socket under `python3 -I -S` costs about 10 ms of CPU a probe,
            // a seventh of urllib's; 30 failures in a row (a minute) make it unhealthy.
            healthcheck: {
                tests: [
                    "CMD",
                    "python3",
                    "-I",
                    "-S",
                    "-c",
                    `import socket; s = socket.create_connection(("127.0.0.1", ${HUB_API_PORT}), 5); s.sendall(b"GET /hub/health HTTP/1.0\\r\\n\\r\\n"); raise SystemExit(s.recv(12)[9:12] != b"200")`,
                ],
                interval: "2s",
                timeout: "6s",
                retries: 30,
                startPeriod: "30s",
            },
            restart: "unless-stopped",
            wait: true,
            waitTimeout: 300,
            labels: [...deploymentLabels(config.namePrefix, ROLES.hub), { label: PROXY_ID_LABEL, value: args.proxyId }],
        }, { parent: this, deleteBeforeReplace: true, replaceOnChanges: HEALTHCHECK_REPLACES, dependsOn: [...args.startAfter, check] });
        this.registerOutputs({ container: this.container.name });
    }
}

import { HEALTHCHECK_REPLACES } from "./containerOptions";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HUB_PATHS } from "./jupyterhubConfig";
import { deploymentLabels, dockerNames, labelFilters, ROLES } from "./names";

/** The firewall's loop (see the file for its rules). */
export const USER_FIREWALL_SCRIPT = fs.readFileSync(path.join(__dirname, "user-firewall.py"), "utf8");
export const USER_FIREWALL_ENV = "PYIRON_USER_FIREWALL";
const SCRIPT_PATH = "/srv/user-firewall.py";

export interface UserFirewallArgs {
    namePrefix: string;
    /** The hub image: it carries Python, the Docker SDK and iptables. */
    imageId: pulumi.Input<string>;
    /** Host TCP ports user servers may still reach (the hub's own, the admin's). */
    hostPorts: number[];
    /** Resources it starts after, e.g. the users network. */
    startAfter: pulumi.Resource[];
}

/** What user-firewall.py reads from its environment. */
export function userFirewallSettings(namePrefix: string, hostPorts: number[]): string {
    const names = dockerNames(namePrefix);
    return JSON.stringify({
        network: names.usersNetwork,
        hub: names.hubContainer,
        proxy: names.proxyContainer,
        userLabels: labelFilters(namePrefix, ROLES.userServer),
        hostPorts: [...new Set(hostPorts)].sort((a, b) => a - b),
        // One pair of chains per deployment; iptables allows 28 characters.
        chain: `PYIRON-${crypto.createHash("sha256").update(namePrefix).digest("hex").slice(0, 8)}`,
    });
}

/**
 * Keeps user servers from each other, from the Docker host and from link-local metadata
 * addresses: iptables chains on the host, kept in step with the users network by a small
 * loop in a container of its own. It needs the host's network and NET_ADMIN (nothing
 * else), and the Docker socket to see which containers are user servers.
 */
export class UserFirewall extends pulumi.ComponentResource {
    public readonly container: docker.Container;

    constructor(name: string, args: UserFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:UserFirewall", name, {}, opts);
        this.container = new docker.Container(`${name}-container`, {
            name: dockerNames(args.namePrefix).firewallContainer,
            image: args.imageId,
            command: ["python3", SCRIPT_PATH],
            uploads: [{ file: SCRIPT_PATH, content: USER_FIREWALL_SCRIPT }],
            envs: [`${USER_FIREWALL_ENV}=${userFirewallSettings(args.namePrefix, args.hostPorts)}`],
            networkMode: "host",
            // Spelled as the engine reports them, so a `pulumi refresh` finds no difference.
            capabilities: { drops: ["ALL"], adds: ["CAP_NET_ADMIN", "CAP_NET_RAW"] },
            securityOpts: ["no-new-privileges:true"],
            volumes: [{ hostPath: HUB_PATHS.dockerSocket, containerPath: HUB_PATHS.dockerSocket }],
            healthcheck: {
                // Healthy while its loop runs: the loop touches the file every second.
                // Every 2 s, cheaply (`-I -S`): the hub waits for it.
                tests: ["CMD", "python3", "-I", "-S", "-c", "import os, sys, time; sys.exit(time.time() - os.path.getmtime('/tmp/user-firewall.tick') > 15)"],
                interval: "2s",
                timeout: "5s",
                retries: 8,
                startPeriod: "10s",
            },
            restart: "unless-stopped",
            wait: true,
            waitTimeout: 60,
            // SIGTERM, not SIGKILL, at delete: the loop removes its chains on the way out.
            destroyGraceSeconds: 20,
            labels: deploymentLabels(args.namePrefix, ROLES.firewall),
        }, { parent: this, deleteBeforeReplace: true, replaceOnChanges: HEALTHCHECK_REPLACES, dependsOn: args.startAfter });
        this.registerOutputs({ container: this.container.name });
    }
}

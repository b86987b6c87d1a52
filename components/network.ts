import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { deploymentLabels, dockerNames, ROLES } from "./names";

export interface HubNetworkArgs {
    namePrefix: string;
    /** A network between the TLS front and the proxy (production). */
    front: boolean;
    /** A swarm: the users network spans its nodes. */
    swarm: boolean;
}

/**
 * Two networks: user servers share one with the hub; Postgres sits on an internal one
 * that only the hub joins, so no user container can reach the database.
 */
export class HubNetwork extends pulumi.ComponentResource {
    public readonly users: docker.Network;
    public readonly database: docker.Network;
    public readonly proxy?: docker.Network;

    constructor(name: string, args: HubNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Network", name, {}, opts);
        const names = dockerNames(args.namePrefix);
        this.users = new docker.Network(`${name}-users`, {
            name: names.usersNetwork,
            // On a swarm: an overlay over its nodes, which the hub's and the proxy's
            // containers join beside the user services.
            ...(args.swarm ? { driver: "overlay", attachable: true } : { driver: "bridge" }),
            labels: deploymentLabels(args.namePrefix, ROLES.usersNetwork),
        }, { parent: this });
        this.database = new docker.Network(`${name}-database`, {
            name: names.databaseNetwork,
            driver: "bridge",
            // No route out and none in from other networks.
            internal: true,
            labels: deploymentLabels(args.namePrefix, ROLES.databaseNetwork),
        }, { parent: this });
        this.proxy = args.front
            ? new docker.Network(`${name}-proxy`, {
                  name: names.proxyNetwork,
                  driver: "bridge",
                  labels: deploymentLabels(args.namePrefix, ROLES.proxyNetwork),
              }, { parent: this })
            : undefined;
        this.registerOutputs({ users: this.users.name, database: this.database.name });
    }
}

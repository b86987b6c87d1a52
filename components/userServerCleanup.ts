import * as pulumi from "@pulumi/pulumi";
import { labelFilters, ROLES } from "./names";

// User servers are DockerSpawner's containers, not Pulumi's. While one runs, Docker
// refuses to remove the user network, so `pulumi destroy` would stop half way. This
// resource stands between the network and the hub: the hub is deleted first, then this
// removes the user servers still running (their home volumes stay), then the network.

/** @internal exported for tests */
export interface UserServerCleanupInputs {
    namePrefix: string;
    /** Docker label filters (`key=value`) that select this deployment's user servers. */
    labels: string[];
    /**
     * User servers are swarm services. Switching replaces the users network, which Docker
     * refuses to remove while servers are attached: the switch replaces this resource
     * too, and its delete stops them first (their homes stay).
     */
    swarm?: boolean;
    /**
     * The users network's id: a replaced network (a switch to or from a swarm) replaces
     * this resource first, and so stops the servers Docker would not let it remove.
     */
    network?: string;
}

/**
 * Serialized into the dynamic provider process: it uses only its inputs and Node's own modules.
 * @internal exported for tests
 */
export const cleanupProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: UserServerCleanupInputs) {
        return { id: `${inputs.namePrefix}-user-servers`, outs: inputs };
    },
    async diff(_id: string, olds: UserServerCleanupInputs, news: UserServerCleanupInputs) {
        // A stack deployed before the swarm input existed ran on one host: no change, so
        // running servers are not stopped by an update of the program.
        const key = (i: UserServerCleanupInputs) => JSON.stringify([i.namePrefix, i.labels, i.swarm ?? false]);
        // Nor by the network's id, which such a stack did not record.
        const network = olds.network !== undefined && olds.network !== news.network;
        const changed = key(olds) !== key(news) || network;
        return { changes: changed, replaces: changed ? ["labels"] : [] };
    },
    async delete(_id: string, props: UserServerCleanupInputs) {
        const http = require("http");
        const dockerHost: string = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
        const filterArgs = props.labels.map((l) => `--filter label=${l}`).join(" ");
        // Two commands, each to paste on its own: containers (one host), services (a swarm).
        const manual = `docker rm -f $(docker ps -aq ${filterArgs})\n  on a swarm: docker service rm $(docker service ls -q ${filterArgs})`;
        if (!dockerHost.startsWith("unix://")) {
            throw new Error(`cannot reach DOCKER_HOST=${dockerHost} to stop the user servers; stop them with: ${manual}`);
        }
        const socketPath = dockerHost.slice("unix://".length);
        const call = (method: string, path: string) =>
            new Promise<{ status: number; body: string }>((resolve, reject) => {
                const req = http.request({ socketPath, path, method }, (res: any) => {
                    let body = "";
                    res.on("data", (chunk: string) => (body += chunk));
                    res.on("end", () => resolve({ status: res.statusCode, body }));
                });
                req.on("error", (e: Error) => reject(new Error(`${e.message}; stop the user servers with: ${manual}`)));
                req.end();
            });
        const filters = JSON.stringify({ label: props.labels });
        const list = await call("GET", `/containers/json?all=1&filters=${encodeURIComponent(filters)}`);
        if (list.status !== 200) {
            throw new Error(`listing user servers failed (${list.status}): ${list.body}`);
        }
        for (const c of JSON.parse(list.body) as Array<{ Id: string }>) {
            // Volumes are not removed (no v=1): the user's home stays.
            const rm = await call("DELETE", `/containers/${c.Id}?force=1`);
            if (rm.status !== 204 && rm.status !== 404) {
                throw new Error(`removing user server ${c.Id} failed (${rm.status}): ${rm.body}`);
            }
        }
        // On a swarm, user servers are services (an engine outside a swarm answers 503).
        const services = await call("GET", `/services?filters=${encodeURIComponent(filters)}`);
        if (services.status === 200) {
            for (const s of JSON.parse(services.body) as Array<{ ID: string }>) {
                const rm = await call("DELETE", `/services/${s.ID}`);
                if (rm.status !== 200 && rm.status !== 404) {
                    throw new Error(`removing user service ${s.ID} failed (${rm.status}): ${rm.body}`);
                }
            }
        } else if (services.status !== 503) {
            throw new Error(`listing user services failed (${services.status}): ${services.body}`);
        }
    },
};

export interface UserServerCleanupArgs {
    namePrefix: string;
    /** User servers are swarm services. */
    swarm: boolean;
    /** The users network's id. */
    network: pulumi.Input<string>;
}

/**
 * Not a user server: a destroy-time cleaner. Creating it does nothing; deleting it
 * removes the deployment's running user servers (never their home volumes).
 */
export class UserServerCleanup extends pulumi.dynamic.Resource {
    constructor(name: string, args: UserServerCleanupArgs, opts?: pulumi.CustomResourceOptions) {
        const labels = labelFilters(args.namePrefix, ROLES.userServer);
        super(cleanupProvider, name, { namePrefix: args.namePrefix, labels, swarm: args.swarm, network: args.network }, opts);
    }
}

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { HUB_API_PORT, HUB_ENV, PROXY_PORTS } from "./jupyterhubConfig";
import { deploymentLabels, dockerNames, ROLES } from "./names";

export interface ProxyArgs {
    namePrefix: string;
    /** A configurable-http-proxy image (the official one's entry point and user). */
    image: string;
    /** The users network: the proxy reaches user servers and the hub there. */
    userNetwork: pulumi.Input<string>;
    /** The network of the TLS front (production); unset in a trial stack. */
    frontNetwork?: pulumi.Input<string>;
    /** Trial mode: the proxy itself is published on this loopback address and port. */
    publish?: { ip: string; port: number };
}

/**
 * configurable-http-proxy in a container of its own. It holds the routing table in
 * memory, so while the hub is replaced it keeps forwarding to running user servers, and
 * open websockets stay open. It is replaced only when its own settings change.
 */
export class Proxy extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The token of its routing API, shared with the hub only. */
    public readonly apiToken: pulumi.Output<string>;

    constructor(name: string, args: ProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Proxy", name, {}, opts);
        const names = dockerNames(args.namePrefix);
        const token = new random.RandomBytes(`${name}-api-token`, { length: 32 }, { parent: this });
        this.apiToken = pulumi.secret(token.hex);
        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
        const hub = `http://${names.hubContainer}:${HUB_API_PORT}`;
        this.container = new docker.Container(`${name}-container`, {
            name: names.proxyContainer,
            image: image.imageId,
            // Arguments to the image's entry point, configurable-http-proxy.
            command: [
                "--ip=0.0.0.0",
                `--port=${PROXY_PORTS.public}`,
                "--api-ip=0.0.0.0",
                `--api-port=${PROXY_PORTS.api}`,
                // While the hub restarts, requests for it get the proxy's own error page.
                `--default-target=${hub}`,
                `--error-target=${hub}/hub/error`,
                "--log-level=warn",
                // The front's X-Forwarded-* headers reach the hub as they are (https, the
                // client's address), not with the front's own appended.
                "--no-x-forward",
            ],
            envs: [pulumi.interpolate`${HUB_ENV.proxyToken}=${this.apiToken}`],
            networksAdvanced: [
                { name: args.userNetwork },
                ...(args.frontNetwork ? [{ name: args.frontNetwork }] : []),
            ],
            ports: args.publish ? [{ internal: PROXY_PORTS.public, external: args.publish.port, ip: args.publish.ip }] : [],
            capabilities: { drops: ["ALL"] },
            securityOpts: ["no-new-privileges:true"],
            restart: "unless-stopped",
            labels: deploymentLabels(args.namePrefix, ROLES.proxy),
        }, { parent: this, deleteBeforeReplace: true });
        this.registerOutputs({ container: this.container.name });
    }
}

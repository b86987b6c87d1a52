import * as fs from "fs";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { TlsSource } from "../config";
import { certificateDirs, FRONT_PATHS, FRONT_PORTS, renderCaddyfile } from "./frontConfig";
import { PROXY_PORTS } from "./jupyterhubConfig";
import { deploymentLabels, dockerNames, ROLES } from "./names";

/** The front's entry point: Caddy, and a reload when host certificate files change. */
export const FRONT_START_SCRIPT = fs.readFileSync(path.join(__dirname, "front-start.sh"), "utf8");

export interface FrontArgs {
    namePrefix: string;
    /** A Caddy image (the official one's paths). */
    image: string;
    publicUrl: string;
    /** The host's files, or ACME (with the host path of a CA root to trust). */
    tls: TlsSource;
    /** Host address and ports the front is published on. */
    bindAddress: string;
    httpsPort: number;
    httpPort: number;
    /** The network it shares with the proxy. */
    proxyNetwork: pulumi.Input<string>;
    /** Networks the admin named; there the front answers to the public host name too. */
    extraNetworks: string[];
    dataVolume: pulumi.Input<string>;
}

/**
 * Caddy in front of the proxy: TLS with the host's files or certificates it gets and
 * renews by ACME, HTTP redirected to HTTPS, security headers. A renewed certificate
 * reaches users without a restart of anything behind it.
 */
export class Front extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The generated Caddyfile (holds no secret). */
    public readonly caddyfile: string;

    constructor(name: string, args: FrontArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Front", name, {}, opts);
        const names = dockerNames(args.namePrefix);
        const { tls } = args;
        this.caddyfile = renderCaddyfile({
            publicUrl: args.publicUrl,
            tls,
            upstream: `${names.proxyContainer}:${PROXY_PORTS.public}`,
        });
        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
        const watched = tls.kind === "files" ? [tls.certPath, tls.keyPath] : [];
        const host = new URL(args.publicUrl).hostname;
        this.container = new docker.Container(`${name}-container`, {
            name: names.frontContainer,
            image: image.imageId,
            entrypoints: ["/bin/sh", FRONT_PATHS.start],
            command: watched,
            uploads: [
                { file: FRONT_PATHS.caddyfile, content: this.caddyfile },
                { file: FRONT_PATHS.start, content: FRONT_START_SCRIPT },
                ...(tls.kind === "acme" && tls.caRoot ? [{ file: FRONT_PATHS.acmeCaRoot, content: fs.readFileSync(tls.caRoot, "utf8") }] : []),
            ],
            volumes: [
                ...certificateDirs(watched).map((dir) => ({ hostPath: dir, containerPath: dir, readOnly: true })),
                { volumeName: args.dataVolume, containerPath: FRONT_PATHS.data },
            ],
            networksAdvanced: [
                { name: args.proxyNetwork },
                ...args.extraNetworks.map((name) => ({ name, aliases: [host] })),
            ],
            ports: [
                { internal: FRONT_PORTS.https, external: args.httpsPort, ip: args.bindAddress },
                { internal: FRONT_PORTS.http, external: args.httpPort, ip: args.bindAddress },
            ],
            // Binding 80 and 443, and reading a key file whoever owns it (only the mounted
            // directories are there to read).
            capabilities: { drops: ["ALL"], adds: ["CAP_DAC_READ_SEARCH", "CAP_NET_BIND_SERVICE"] },
            securityOpts: ["no-new-privileges:true"],
            restart: "unless-stopped",
            // SIGTERM first: Caddy finishes requests in flight.
            destroyGraceSeconds: 15,
            labels: deploymentLabels(args.namePrefix, ROLES.front),
        }, { parent: this, deleteBeforeReplace: true });
        this.registerOutputs({ container: this.container.name });
    }
}

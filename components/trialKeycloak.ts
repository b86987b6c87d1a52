import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { realmEndpoints } from "../config";
import type { Identity } from "./identity";
import { deploymentLabels, dockerNames, ROLES } from "./names";
import { TRIAL_CLIENT_ID, TRIAL_REALM, trialRealm } from "./trialRealm";

export interface TrialKeycloakArgs {
    namePrefix: string;
    image: string;
    /** Port on 127.0.0.1 where the browser reaches Keycloak. */
    port: number;
    /** The hub's public URL (http://localhost:<port>). */
    hubUrl: string;
    /** Everyone who gets an account: admins and trial users. */
    usernames: string[];
}

// Inside its container Keycloak listens here; the hub calls it on this port too.
const KEYCLOAK_PORT = 8080;
const IMPORT_FILE = `/opt/keycloak/data/import/${TRIAL_REALM}-realm.json`;

/**
 * The Keycloak of a trial stack: its realm, client and users are generated from the
 * stack config and imported at start; the client secret and the passwords are
 * @pulumi/random secrets. The browser reaches it on 127.0.0.1, the hub on a network of
 * their own; both see one issuer, the browser's URL.
 */
export class TrialKeycloak extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly network: docker.Network;
    /** The hub's client in the bundled realm, its secret, and the network to reach it. */
    public readonly identity: Identity;
    /** username -> initial password, secret. */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    public readonly url: string;
    public readonly usernames: string[];

    constructor(name: string, args: TrialKeycloakArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:TrialKeycloak", name, {}, opts);
        const names = dockerNames(args.namePrefix);
        const host = names.keycloakContainer;
        this.url = `http://localhost:${args.port}`;
        this.usernames = args.usernames;
        const generatedSecret = new random.RandomPassword(`${name}-client-secret`, { length: 32, special: false }, { parent: this });
        const secret = pulumi.secret(generatedSecret.result);
        const users = args.usernames.map((username) => ({
            username,
            password: pulumi.secret(
                new random.RandomPassword(`${name}-password-${username}`, { length: 16, special: false }, { parent: this }).result,
            ),
        }));
        this.passwords = pulumi.secret(
            pulumi.all(users.map((u) => u.password)).apply((pw) => Object.fromEntries(users.map((u, i) => [u.username, pw[i]]))),
        );
        const realm = pulumi.secret(
            pulumi.all([secret, this.passwords]).apply(([clientSecret, passwords]) =>
                JSON.stringify(
                    trialRealm({
                        hubUrl: args.hubUrl,
                        clientSecret,
                        users: args.usernames.map((username) => ({ username, password: passwords[username] })),
                    }),
                    null,
                    2,
                ),
            ),
        );
        this.network = new docker.Network(`${name}-network`, {
            name: names.keycloakNetwork,
            driver: "bridge",
            labels: deploymentLabels(args.namePrefix, ROLES.keycloakNetwork),
        }, { parent: this });
        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
        this.container = new docker.Container(`${name}-container`, {
            name: host,
            image: image.imageId,
            command: ["start-dev", "--import-realm", `--http-port=${KEYCLOAK_PORT}`],
            envs: [
                // One issuer for the browser and the hub: the URL the browser uses.
                `KC_HOSTNAME=${this.url}`,
                "KC_HOSTNAME_BACKCHANNEL_DYNAMIC=true",
                "KC_HTTP_ENABLED=true",
            ],
            uploads: [{ file: IMPORT_FILE, content: realm }],
            networksAdvanced: [{ name: this.network.name }],
            // Loopback only: a trial is for this machine.
            ports: [{ internal: KEYCLOAK_PORT, external: args.port, ip: "127.0.0.1" }],
            restart: "unless-stopped",
            labels: deploymentLabels(args.namePrefix, ROLES.keycloak),
        }, { parent: this, deleteBeforeReplace: true });
        // The browser's endpoints on localhost, the hub's on the Keycloak network.
        const front = realmEndpoints(`${this.url}/realms/${TRIAL_REALM}`);
        const back = realmEndpoints(`http://${host}:${KEYCLOAK_PORT}/realms/${TRIAL_REALM}`);
        this.identity = {
            client: {
                clientId: TRIAL_CLIENT_ID,
                authorizeUrl: front.authorizeUrl,
                logoutUrl: front.logoutUrl,
                tokenUrl: back.tokenUrl,
                userdataUrl: back.userdataUrl,
                callbackUrl: `${args.hubUrl}/hub/oauth_callback`,
            },
            clientSecret: secret,
            networks: [this.network.name],
        };
        this.registerOutputs({ container: this.container.name, url: this.url });
    }
}

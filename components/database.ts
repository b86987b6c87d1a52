import { HEALTHCHECK_REPLACES } from "./containerOptions";
import * as fs from "fs";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { deploymentLabels, dockerNames, ROLES } from "./names";

/** The Postgres image contract this component relies on (the official image's). */
export const POSTGRES = {
    user: "jupyterhub",
    database: "jupyterhub",
    port: 5432,
    dataDir: "/var/lib/postgresql/data",
    startScript: "/usr/local/bin/pyiron-hub-postgres-start",
    // The driver is explicit: SQLAlchemy 2.1 maps a plain postgresql:// to psycopg 3,
    // while the hub image ships psycopg2.
    urlScheme: "postgresql+psycopg2",
} as const;

export interface DatabaseArgs {
    namePrefix: string;
    image: string;
    network: pulumi.Input<string>;
    volume: pulumi.Input<string>;
}

/** The hub database: Postgres on the internal network, no host port, data on a volume. */
export class Database extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** `postgresql://...` for the hub, secret. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Database", name, {}, opts);
        const password = new random.RandomPassword(`${name}-password`, {
            length: 32,
            // Letters and digits only: the password goes into a URL unescaped.
            special: false,
        }, { parent: this });
        const image = new docker.RemoteImage(`${name}-image`, {
            name: args.image,
            keepLocally: true,
        }, { parent: this });
        // The provider marks the result secret; say so here too, so no code path can lose it.
        const secretPassword = pulumi.secret(password.result);
        const containerName = dockerNames(args.namePrefix).postgresContainer;
        this.container = new docker.Container(`${name}-container`, {
            name: containerName,
            image: image.imageId,
            entrypoints: ["/bin/sh", POSTGRES.startScript],
            command: ["postgres"],
            uploads: [{
                file: POSTGRES.startScript,
                content: fs.readFileSync(path.join(__dirname, "postgres-start.sh"), "utf8"),
                executable: true,
            }],
            envs: [
                `POSTGRES_USER=${POSTGRES.user}`,
                `POSTGRES_DB=${POSTGRES.database}`,
                pulumi.interpolate`POSTGRES_PASSWORD=${secretPassword}`,
                `PGDATA=${POSTGRES.dataDir}/pgdata`,
            ],
            volumes: [{ volumeName: args.volume, containerPath: POSTGRES.dataDir }],
            networksAdvanced: [{ name: args.network, aliases: ["postgres"] }],
            healthcheck: {
                tests: ["CMD-SHELL", `pg_isready -q -h 127.0.0.1 -U ${POSTGRES.user} -d ${POSTGRES.database} && test -f /tmp/pyiron-hub-password-synced`],
                // Every 2 s (a shell and pg_isready, a few ms of CPU): the hub waits for it.
                interval: "2s",
                timeout: "5s",
                retries: 30,
                startPeriod: "10s",
            },
            restart: "unless-stopped",
            // `pulumi up` returns only once the database answers; the hub starts after.
            wait: true,
            waitTimeout: 180,
            labels: deploymentLabels(args.namePrefix, ROLES.postgres),
        }, { parent: this, deleteBeforeReplace: true, replaceOnChanges: HEALTHCHECK_REPLACES });
        this.url = pulumi.secret(
            pulumi.interpolate`${POSTGRES.urlScheme}://${POSTGRES.user}:${secretPassword}@${this.container.name}:${POSTGRES.port}/${POSTGRES.database}`,
        );
        this.registerOutputs({ container: this.container.name });
    }
}

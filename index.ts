// Wires the deployment together; each piece lives in components/.
import * as pulumi from "@pulumi/pulumi";
import { KeycloakClient, loadConfig } from "./config";
import { Database } from "./components/database";
import { Hub } from "./components/hub";
import { HubImage } from "./components/hubImage";
import { UserImages } from "./components/images";
import { HubNetwork } from "./components/network";
import { TrialKeycloak } from "./components/trialKeycloak";
import { UserServers } from "./components/userServers";
import { HubVolumes } from "./components/volumes";

const { config, clientSecret } = loadConfig();
const { namePrefix } = config;

const network = new HubNetwork("network", { namePrefix });
const volumes = new HubVolumes("volumes", { namePrefix, deleteOnDestroy: config.deleteDataOnDestroy });
const database = new Database("database", {
    namePrefix,
    image: config.postgresImage,
    network: network.database.name,
    volume: volumes.postgresData.name,
});
const userImages = new UserImages("user-images", { images: config.images });
const hubImage = new HubImage("hub-image", { namePrefix, prebuilt: config.hubImage, buildArgs: config.hubBuildArgs });
const userServers = new UserServers("user-servers", { namePrefix }, { dependsOn: [network.users] });

// The one difference between the modes: where login and the certificate come from.
const trial =
    config.mode === "trial"
        ? new TrialKeycloak("trial-keycloak", {
              namePrefix,
              image: config.trial.keycloakImage,
              port: config.trial.keycloakPort,
              hubUrl: config.publicUrl,
              usernames: [...new Set([...config.admins, ...config.trial.users])],
          })
        : undefined;
const identity: { client: KeycloakClient; secret: pulumi.Input<string>; networks: pulumi.Input<string>[] } =
    config.mode === "trial"
        ? { client: trial!.client, secret: trial!.clientSecret, networks: [trial!.network.name] }
        : { client: config.keycloak, secret: clientSecret!, networks: [] };

const hub = new Hub("hub", {
    namePrefix,
    imageId: hubImage.imageId,
    settings: {
        publicUrl: config.publicUrl,
        images: config.images,
        memLimit: config.memLimit,
        cpuLimit: config.cpuLimit,
        idleTimeout: config.idleTimeout,
        admins: config.admins,
        allowAll: config.allowAll,
        allowedUsers: config.allowedUsers,
        allowedGroups: config.allowedGroups,
        keycloak: identity.client,
    },
    tls: config.mode === "production" ? config.tls : undefined,
    port: config.mode === "production" ? config.httpsPort : config.trial.port,
    bindAddress: config.bindAddress,
    userNetwork: network.users.name,
    databaseNetwork: network.database.name,
    extraNetworks: [...identity.networks, ...config.hubExtraNetworks],
    dataVolume: volumes.hubData.name,
    databaseUrl: database.url,
    clientSecret: identity.secret,
    startAfter: [database.container, userServers, ...userImages.images, ...(trial ? [trial.container] : [])],
});

export const hubUrl = `${config.publicUrl}/hub/`;
export const containers = {
    hub: hub.container.name,
    postgres: database.container.name,
    ...(trial ? { keycloak: trial.container.name } : {}),
};
export const networks = { users: network.users.name, database: network.database.name };
export const volumeNames = {
    hubData: volumes.hubData.name,
    postgresData: volumes.postgresData.name,
    userHomes: `${namePrefix}-home-<username>`,
};
export const userServerFilter = `label=org.pyiron-jupyterhub.deployment=${namePrefix}`;
// Trial mode: where to log in, and as whom (`pulumi stack output --show-secrets trial`).
export const trialLogin = trial
    ? { keycloakUrl: trial.url, users: trial.usernames, passwords: trial.passwords, clientSecret: trial.clientSecret }
    : undefined;

// Wires the deployment together; each piece lives in components/.
import { loadConfig } from "./config";
import { Database } from "./components/database";
import { UserFirewall } from "./components/firewall";
import { Hub, hubHostPort } from "./components/hub";
import { HubImage } from "./components/hubImage";
import { identityFor } from "./components/identity";
import { UserImages } from "./components/images";
import { dockerNames, labelFilters } from "./components/names";
import { HubNetwork } from "./components/network";
import { UserServerCleanup } from "./components/userServerCleanup";
import { HubVolumes } from "./components/volumes";

const config = loadConfig();
const { namePrefix } = config;

const network = new HubNetwork("network", { namePrefix });
const volumes = new HubVolumes("volumes", { namePrefix, deleteOnDestroy: config.deleteDataOnDestroy });
const database = new Database("database", {
    namePrefix,
    image: config.postgresImage,
    network: network.database.name,
    volume: volumes.postgresData.name,
});
const userImages = new UserImages("user-images", {
    namePrefix,
    images: config.images,
    hpcLayer: config.hpc ? { pipArgs: config.hpc.pipArgs } : undefined,
});
const hubImage = new HubImage("hub-image", {
    namePrefix,
    prebuilt: config.hubImage,
    version: config.hubVersion,
    buildArgs: config.hubBuildArgs,
});
const firewall = config.userFirewall
    ? new UserFirewall("user-firewall", {
          namePrefix,
          imageId: hubImage.imageId,
          hostPorts: [hubHostPort(config), ...config.userHostPorts],
          startAfter: [network.users],
      })
    : undefined;
const cleanup = new UserServerCleanup("user-servers", { namePrefix }, { dependsOn: [network.users] });
// Production: the config's Keycloak. Trial: a bundled one (the only difference).
const { identity, trial } = identityFor(config);

const hub = new Hub("hub", {
    config,
    identity,
    images: userImages.spawnable,
    imageId: hubImage.imageId,
    userNetwork: network.users.name,
    databaseNetwork: network.database.name,
    dataVolume: volumes.hubData.name,
    databaseUrl: database.url,
    startAfter: [
        database.container,
        cleanup,
        ...userImages.images,
        ...(trial ? [trial.container] : []),
        ...(firewall ? [firewall.container] : []),
    ],
});

export const hubUrl = `${config.publicUrl}/hub/`;
export const containers = {
    hub: hub.container.name,
    postgres: database.container.name,
    ...(firewall ? { userFirewall: firewall.container.name } : {}),
    ...(trial ? { keycloak: trial.container.name } : {}),
};
export const networks = { users: network.users.name, database: network.database.name };
export const volumeNames = {
    hubData: volumes.hubData.name,
    postgresData: volumes.postgresData.name,
    userHomes: dockerNames(namePrefix).homeVolume("<username>"),
};
export const userServerFilter = `label=${labelFilters(namePrefix)[0]}`;
// Trial mode: where to log in, and as whom (`pulumi stack output --show-secrets trialLogin`).
export const trialLogin = trial
    ? { keycloakUrl: trial.url, users: trial.usernames, passwords: trial.passwords, clientSecret: trial.identity.clientSecret }
    : undefined;

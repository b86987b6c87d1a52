// Wires the deployment together; each piece lives in components/.
import { loadConfig } from "./config";
import { Database } from "./components/database";
import { Hub } from "./components/hub";
import { HubImage } from "./components/hubImage";
import { UserImages } from "./components/images";
import { HubNetwork } from "./components/network";
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
        keycloak: config.keycloak,
    },
    tls: config.tls,
    httpsPort: config.httpsPort,
    bindAddress: config.bindAddress,
    userNetwork: network.users.name,
    databaseNetwork: network.database.name,
    extraNetworks: config.hubExtraNetworks,
    dataVolume: volumes.hubData.name,
    databaseUrl: database.url,
    clientSecret,
    startAfter: [database.container, userServers, ...userImages.images],
});

export const hubUrl = `${config.publicUrl}/hub/`;
export const containers = { hub: hub.container.name, postgres: database.container.name };
export const networks = { users: network.users.name, database: network.database.name };
export const volumeNames = {
    hubData: volumes.hubData.name,
    postgresData: volumes.postgresData.name,
    userHomes: `${namePrefix}-home-<username>`,
};
export const userServerFilter = `label=org.pyiron-jupyterhub.deployment=${namePrefix}`;

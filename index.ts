// Wires the deployment together; each piece lives in components/.
import { dockerHost, loadConfig } from "./config";
import { Database } from "./components/database";
import { UserFirewall } from "./components/firewall";
import { Front } from "./components/front";
import { Hub } from "./components/hub";
import { HubImage } from "./components/hubImage";
import { identityFor } from "./components/identity";
import { UserImages } from "./components/images";
import { SwarmImages } from "./components/swarmImages";
import { dockerNames, labelFilters } from "./components/names";
import { HubNetwork } from "./components/network";
import { Proxy } from "./components/proxy";
import { UserServerCleanup } from "./components/userServerCleanup";
import { HubVolumes } from "./components/volumes";

const config = loadConfig();
const { namePrefix } = config;

const production = config.mode === "production" ? config : undefined;
const network = new HubNetwork("network", { namePrefix, front: !!production, swarm: !!config.swarm });
const volumes = new HubVolumes("volumes", {
    namePrefix,
    deleteOnDestroy: config.deleteDataOnDestroy,
    front: !!production,
    // On a swarm, shared folders are directories of its storage, not volumes of the manager.
    sharedFolders: config.swarm ? [] : config.sharedFolders.map((f) => f.name),
});
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
// On a swarm, the images must be on every node a user server may land on.
const onNodes = config.swarm
    ? new SwarmImages("user-images-on-nodes", {
          namePrefix,
          images: userImages.spawnable,
          constraints: config.swarm.placement,
          dockerHost: dockerHost(),
      }, { dependsOn: userImages.images })
    : undefined;
const firewall = config.userFirewall
    ? new UserFirewall("user-firewall", {
          namePrefix,
          imageId: hubImage.imageId,
          hostPorts: config.userHostPorts,
          startAfter: [network.users],
      })
    : undefined;
// Replaced delete-first with the network: on a switch to or from a swarm, the servers go before it.
const cleanup = new UserServerCleanup("user-servers", { namePrefix, swarm: !!config.swarm, network: network.users.id }, { dependsOn: [network.users], deleteBeforeReplace: true });
// Production: the config's Keycloak. Trial: a bundled one (the only difference).
const { identity, trial } = identityFor(config);

// Users' requests: the front (production: TLS) → the proxy → the hub or a user server.
const proxy = new Proxy("proxy", {
    namePrefix,
    image: config.proxyImage,
    userNetwork: network.users.name,
    frontNetwork: network.proxy?.name,
    publish: config.mode === "trial" ? { ip: config.bindAddress, port: config.trial.port } : undefined,
});
const front = production
    ? new Front("front", {
          namePrefix,
          image: production.frontImage,
          publicUrl: production.publicUrl,
          tls: production.tls,
          bindAddress: production.bindAddress,
          httpsPort: production.httpsPort,
          httpPort: production.httpPort,
          proxyNetwork: network.proxy!.name,
          extraNetworks: production.frontExtraNetworks,
          dataVolume: volumes.frontData!.name,
      }, { dependsOn: [proxy] })
    : undefined;

const hub = new Hub("hub", {
    config,
    identity,
    images: userImages.spawnable,
    imageId: hubImage.imageId,
    userNetwork: network.users.name,
    databaseNetwork: network.database.name,
    dataVolume: volumes.hubData.name,
    sharedVolumes: Object.fromEntries(Object.entries(volumes.shared).map(([folder, v]) => [folder, v.name])),
    databaseUrl: database.url,
    proxyToken: proxy.apiToken,
    proxyId: proxy.container.id,
    startAfter: [
        proxy.container,
        database.container,
        cleanup,
        ...userImages.images,
        ...(onNodes ? [onNodes] : []),
        ...(trial ? [trial.container] : []),
        ...(firewall ? [firewall.container] : []),
    ],
});

export const hubUrl = `${config.publicUrl}/hub/`;
export const containers = {
    hub: hub.container.name,
    proxy: proxy.container.name,
    ...(front ? { front: front.container.name } : {}),
    postgres: database.container.name,
    ...(firewall ? { userFirewall: firewall.container.name } : {}),
    ...(trial ? { keycloak: trial.container.name } : {}),
};
export const networks = {
    users: network.users.name,
    database: network.database.name,
    ...(network.proxy ? { proxy: network.proxy.name } : {}),
};
export const volumeNames = {
    hubData: volumes.hubData.name,
    postgresData: volumes.postgresData.name,
    ...(volumes.frontData ? { frontData: volumes.frontData.name } : {}),
    userHomes: dockerNames(namePrefix).homeVolume("<username>"),
    shared: Object.fromEntries(Object.entries(volumes.shared).map(([folder, v]) => [folder, v.name])),
};
export const userServerFilter = `label=${labelFilters(namePrefix)[0]}`;
// Trial mode: where to log in, and as whom (`pulumi stack output --show-secrets trialLogin`).
export const trialLogin = trial
    ? { keycloakUrl: trial.url, users: trial.usernames, passwords: trial.passwords, clientSecret: trial.identity.clientSecret }
    : undefined;

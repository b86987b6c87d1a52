import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { deploymentLabels, dockerNames, ROLES } from "./names";

export interface HubVolumesArgs {
    namePrefix: string;
    /** Let `pulumi destroy` delete the volumes. Off: destroy only forgets them. */
    deleteOnDestroy: boolean;
    /** A volume for the TLS front's certificates and ACME account (production). */
    front: boolean;
    /** Names of the shared folders (sharedFolders[].name). */
    sharedFolders: string[];
}

/**
 * The hub's persistent state. Fixed names: a later `pulumi up` finds the same volumes
 * again (Docker reuses a volume of the same name), so data survives a destroy.
 */
export class HubVolumes extends pulumi.ComponentResource {
    public readonly hubData: docker.Volume;
    public readonly postgresData: docker.Volume;
    public readonly frontData?: docker.Volume;
    /** Shared folders by name. */
    public readonly shared: Record<string, docker.Volume>;

    constructor(name: string, args: HubVolumesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Volumes", name, {}, opts);
        const names = dockerNames(args.namePrefix);
        const volume = (role: string, volumeName: string) =>
            new docker.Volume(`${name}-${role}`, {
                name: volumeName,
                labels: deploymentLabels(args.namePrefix, role),
            }, { parent: this, retainOnDelete: !args.deleteOnDestroy });
        this.hubData = volume(ROLES.hubData, names.hubDataVolume);
        this.postgresData = volume(ROLES.postgresData, names.postgresDataVolume);
        // Kept like the others: a fresh ACME account for every redeploy would soon meet
        // the CA's rate limits.
        this.frontData = args.front ? volume(ROLES.frontData, names.frontDataVolume) : undefined;
        // Users' files, like their homes: destroy never deletes them, whatever deleteDataOnDestroy says.
        this.shared = Object.fromEntries(args.sharedFolders.map((folder) => [folder, new docker.Volume(`${name}-shared-${folder}`, {
            name: names.sharedVolume(folder),
            labels: deploymentLabels(args.namePrefix, ROLES.sharedFolder),
        }, { parent: this, retainOnDelete: true })]));
        this.registerOutputs({ hubData: this.hubData.name, postgresData: this.postgresData.name });
    }
}

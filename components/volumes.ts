import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { deploymentLabels } from "./labels";

export interface HubVolumesArgs {
    namePrefix: string;
    /** Let `pulumi destroy` delete the volumes. Off: destroy only forgets them. */
    deleteOnDestroy: boolean;
}

/**
 * The hub's persistent state. Fixed names: a later `pulumi up` finds the same volumes
 * again (Docker reuses a volume of the same name), so data survives a destroy.
 */
export class HubVolumes extends pulumi.ComponentResource {
    public readonly hubData: docker.Volume;
    public readonly postgresData: docker.Volume;

    constructor(name: string, args: HubVolumesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:Volumes", name, {}, opts);
        const volume = (role: string) =>
            new docker.Volume(`${name}-${role}`, {
                name: `${args.namePrefix}-${role}`,
                labels: deploymentLabels(args.namePrefix, role),
            }, { parent: this, retainOnDelete: !args.deleteOnDestroy });
        this.hubData = volume("hub-data");
        this.postgresData = volume("postgres-data");
        this.registerOutputs({ hubData: this.hubData.name, postgresData: this.postgresData.name });
    }
}

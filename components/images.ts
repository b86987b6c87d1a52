import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

export interface UserImagesArgs {
    images: ReadonlyArray<{ label: string; image: string }>;
}

/**
 * Pulls every image users can choose at deploy time, so a first spawn does not wait
 * for a multi-GB download. Images stay on the host after destroy: pulling them again
 * costs more than the disk they use.
 */
export class UserImages extends pulumi.ComponentResource {
    public readonly images: docker.RemoteImage[];

    constructor(name: string, args: UserImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:UserImages", name, {}, opts);
        // Named by label, so reordering the list changes nothing.
        this.images = args.images.map(
            ({ label, image }) => new docker.RemoteImage(`${name}-${label}`, { name: image, keepLocally: true }, { parent: this }),
        );
        this.registerOutputs({ images: this.images.map((i) => i.name) });
    }
}

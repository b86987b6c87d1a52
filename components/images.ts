import * as crypto from "crypto";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { recipeDigest } from "./hubImage";
import { dockerNames, RECIPE_LABEL } from "./names";

/** The recipe of the HPC layer on the user images. */
export const USER_RECIPE_DIR = path.join(__dirname, "..", "user-image");

export interface UserImagesArgs {
    namePrefix: string;
    images: ReadonlyArray<{ label: string; image: string }>;
    /** With `hpc`: build the HPC layer on each image, with these pip options. */
    hpcLayer?: { pipArgs?: string };
}

/**
 * Pulls every image users can choose at deploy time, so a first spawn does not wait
 * for a multi-GB download. Images stay on the host after destroy: pulling them again
 * costs more than the disk they use. With an HPC layer, each gets a thin image on top
 * (user-image/), and that is what users spawn.
 */
export class UserImages extends pulumi.ComponentResource {
    public readonly images: docker.RemoteImage[];
    /** What users choose from: label and the image DockerSpawner starts. */
    public readonly spawnable: Array<{ label: string; image: string }>;

    constructor(name: string, args: UserImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:UserImages", name, {}, opts);
        // Named by label, so reordering the list changes nothing.
        const pulled = args.images.map(
            ({ label, image }) => new docker.RemoteImage(`${name}-${label}`, { name: image, keepLocally: true }, { parent: this }),
        );
        this.images = [...pulled];
        this.spawnable = args.images.map((i) => ({ ...i }));
        const layer = args.hpcLayer;
        if (layer) {
            const recipe = recipeDigest(USER_RECIPE_DIR);
            const names = dockerNames(args.namePrefix);
            args.images.forEach(({ label, image }, i) => {
                const buildArgs = { BASE_IMAGE: image, ...(layer.pipArgs ? { PIP_ARGS: layer.pipArgs } : {}) };
                // Tagged by recipe, base and build args: any change is a new image.
                const digest = crypto.createHash("sha256").update(recipe).update(JSON.stringify(Object.entries(buildArgs).sort())).digest("hex").slice(0, 12);
                const ref = `${names.userImageRepository(label)}:${digest}`;
                this.images.push(new docker.RemoteImage(`${name}-${label}-hpc`, {
                    name: ref,
                    keepLocally: true,
                    build: { context: USER_RECIPE_DIR, dockerfile: "Dockerfile", buildArgs, useLegacyBuilder: true, label: { [RECIPE_LABEL]: digest } },
                    triggers: { recipe: digest },
                }, { parent: this, dependsOn: [pulled[i]] }));
                this.spawnable[i] = { label, image: ref };
            });
        }
        this.registerOutputs({ images: this.images.map((i) => i.name) });
    }
}

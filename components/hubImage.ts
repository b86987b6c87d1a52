import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HUB_VERSIONS, HubVersion } from "../config";
import { dockerNames, RECIPE_LABEL } from "./names";

/** The hub recipe shipped with the project. */
export const HUB_RECIPE_DIR = path.join(__dirname, "..", "hub-image");

/** A digest of every file of the recipe: the tag of the built image. */
export function recipeDigest(dir: string = HUB_RECIPE_DIR): string {
    const hash = crypto.createHash("sha256");
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const child = path.join(rel, entry.name);
            if (entry.isDirectory()) {
                walk(child);
            } else if (entry.isFile()) {
                hash.update(child).update("\0").update(fs.readFileSync(path.join(dir, child))).update("\0");
            }
        }
    };
    walk("");
    return hash.digest("hex");
}

export interface HubImageArgs {
    namePrefix: string;
    /** A prebuilt image to pull instead of building the recipe. */
    prebuilt?: string;
    /** The JupyterHub release the recipe installs. */
    version: HubVersion;
    /** The admin's Docker build args for the recipe (over those of the release). */
    buildArgs: Record<string, string>;
}

/** The JupyterHub image: pulled when `hubImage` names one, else built from the recipe. */
export class HubImage extends pulumi.ComponentResource {
    public readonly image: docker.RemoteImage;
    /** Image id to run; changes whenever the image does. */
    public readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: HubImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pyiron:hub:HubImage", name, {}, opts);
        if (args.prebuilt) {
            this.image = new docker.RemoteImage(`${name}-image`, { name: args.prebuilt, keepLocally: true }, { parent: this });
        } else {
            const buildArgs = { JUPYTERHUB_IMAGE: HUB_VERSIONS[args.version].baseImage, HUB_VERSION: args.version, ...args.buildArgs };
            // Tagged by the recipe's digest and build args: a changed recipe is a new image.
            const digest = crypto
                .createHash("sha256")
                .update(recipeDigest())
                .update(JSON.stringify(Object.entries(buildArgs).sort()))
                .digest("hex")
                .slice(0, 12);
            this.image = new docker.RemoteImage(`${name}-image`, {
                name: `${dockerNames(args.namePrefix).hubImageRepository}:${digest}`,
                keepLocally: true,
                build: {
                    context: HUB_RECIPE_DIR,
                    dockerfile: "Dockerfile",
                    buildArgs,
                    // The classic builder needs no buildx plugin and takes a base image
                    // that only exists on the host.
                    useLegacyBuilder: true,
                    label: { [RECIPE_LABEL]: digest },
                },
                triggers: { recipe: digest },
            }, { parent: this });
        }
        this.imageId = this.image.imageId;
        this.registerOutputs({ imageId: this.imageId });
    }
}

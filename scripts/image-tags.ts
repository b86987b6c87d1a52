// Which pyiron image tags exist, and which are newer than the stack's: read from the list
// pyiron publishes (release.csv on the gh-pages branch of pyiron/docker-stacks).
//
//   npm run image-tags -- [--stack <name>] [--source <URL or file>] [--write-snapshot <file>]
//
// It changes nothing: it prints, per configured image, the newest published tag and the
// command that moves to it. With no list reachable it fails (exit 2) and says so.
import * as fs from "fs";
import { DEFAULT_IMAGES, parseConfig, RETIRED_IMAGES, setCommand, show } from "../config";
import { StackConfigError, stackKeys } from "./stack";

export const RELEASE_LIST_URL = "https://raw.githubusercontent.com/pyiron/docker-stacks/gh-pages/release.csv";
const FETCH_TIMEOUT_MS = 20_000;
const PYIRON_TAG = /^(pyiron\/[a-z0-9][a-z0-9_./-]*):(\d{4}-\d{2}-\d{2})$/;

export class TagListError extends Error {}

/** The published `image:tag` references, from release.csv's `docker_tag` column. */
export function parseReleaseList(csv: string): string[] {
    const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== "");
    const header = (lines[0] ?? "").split(",");
    const column = header.indexOf("docker_tag");
    if (column < 0) {
        throw new TagListError("the list has no docker_tag column: its format changed, so nothing could be checked");
    }
    const refs = lines.slice(1).map((l) => l.split(",")[column]?.trim() ?? "").filter((r) => PYIRON_TAG.test(r));
    if (refs.length === 0) {
        throw new TagListError("the list names no pyiron image tag, so nothing could be checked");
    }
    return [...new Set(refs)].sort();
}

/** Tags per image, oldest first. */
function tagsByImage(refs: string[]): Map<string, string[]> {
    const by = new Map<string, string[]>();
    for (const ref of refs) {
        const [, repo, tag] = PYIRON_TAG.exec(ref)!;
        by.set(repo, [...(by.get(repo) ?? []), tag].sort());
    }
    return by;
}

export interface ImageStatus {
    index: number;
    label: string;
    image: string;
    /** What the admin should know, in a few words. */
    status: string;
    newest?: string;
    /** The command that moves this image to the newest tag, when there is one. */
    command?: string;
}

/** Compares the configured images with the published tags. Pure. */
export function checkImages(images: ReadonlyArray<{ label: string; image: string }>, refs: string[], stack?: string): ImageStatus[] {
    const published = tagsByImage(refs);
    return images.map(({ label, image }, index) => {
        const m = /^(?:docker\.io\/)?(pyiron\/[^:@]+):([^@]+)$/.exec(image);
        if (!m) {
            return { index, label, image, status: "not a pyiron image from Docker Hub: not checked" };
        }
        const [, repo, tag] = m;
        const tags = published.get(repo);
        if (repo in RETIRED_IMAGES) {
            return { index, label, image, status: `retired upstream; its last tag is ${RETIRED_IMAGES[repo]}: choose a current image` };
        }
        if (!tags) {
            return { index, label, image, status: "not in the published list: check the name" };
        }
        const newest = tags[tags.length - 1];
        const known = tags.includes(tag);
        const newer = tags.filter((t) => t > tag);
        if (newer.length === 0 && known) {
            return { index, label, image, status: "newest published tag", newest };
        }
        const status = known ? `${newer.length} newer tag${newer.length === 1 ? "" : "s"}` : `tag ${tag} is not in the published list`;
        return {
            index,
            label,
            image,
            status,
            newest,
            command: setCommand(`images[${index}].image`, `${repo}:${newest}`, { stack }),
        };
    });
}

async function readSource(source: string): Promise<string> {
    if (!/^https?:\/\//.test(source)) {
        try {
            return fs.readFileSync(source, "utf8");
        } catch (e) {
            throw new TagListError(`cannot read ${show(source)}: ${(e as Error).message}`);
        }
    }
    let response: Response;
    try {
        response = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new TagListError(`cannot reach ${source}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    if (!response.ok) {
        throw new TagListError(`${source} answered ${response.status} ${response.statusText}`);
    }
    return response.text();
}

/** The stack's images as `pulumi up` would see them (the defaults when unset). */
function stackImages(stack: string): ReadonlyArray<{ label: string; image: string }> {
    let images: unknown;
    try {
        images = stackKeys(stack).images;
    } catch (e) {
        if (e instanceof StackConfigError) throw new TagListError(e.message);
        throw e;
    }
    // Only the images matter here; the rest of the config is checked by `pulumi preview`.
    return images === undefined ? DEFAULT_IMAGES : parseConfig({ mode: "trial", images }).images;
}

async function main(argv: string[]): Promise<number> {
    const usage = "usage: npm run image-tags -- [--stack <name>] [--source <URL or file>] [--write-snapshot <file>]";
    let stack: string | undefined;
    let source = RELEASE_LIST_URL;
    let snapshot: string | undefined;
    for (let n = 0; n < argv.length; n++) {
        const a = argv[n];
        if (a === "--stack" && n + 1 < argv.length) stack = argv[++n];
        else if (a === "--source" && n + 1 < argv.length) source = argv[++n];
        else if (a === "--write-snapshot" && n + 1 < argv.length) snapshot = argv[++n];
        else if (a === "-h" || a === "--help") { console.log(usage); return 0; }
        else { console.error(`unknown argument ${show(a)}\n${usage}`); return 2; }
    }
    try {
        const refs = parseReleaseList(await readSource(source));
        if (snapshot) {
            const header = `# pyiron's published image tags (docker_tag column of ${source}), as of ${new Date().toISOString().slice(0, 10)}.\n`;
            fs.writeFileSync(snapshot, header + refs.join("\n") + "\n");
            console.error(`wrote ${refs.length} tags to ${snapshot}`);
        }
        const images = stack === undefined ? DEFAULT_IMAGES : stackImages(stack);
        const rows = checkImages(images, refs, stack);
        console.log(`Published pyiron tags from ${source}; images of ${stack === undefined ? "the defaults" : `stack ${stack}`}:\n`);
        console.log("| label | image | newest published | status |");
        console.log("|---|---|---|---|");
        for (const r of rows) {
            console.log(`| ${r.label} | ${r.image} | ${r.newest ?? ""} | ${r.status} |`);
        }
        const commands = rows.filter((r) => r.command).map((r) => r.command!);
        if (commands.length > 0) {
            console.log("\nTo move to the newest tags (then `pulumi preview` shows what changes):\n");
            commands.forEach((c) => console.log(c));
        }
        return 0;
    } catch (e) {
        if (e instanceof TagListError) {
            console.error(`Cannot check the image tags: ${e.message}.\nNothing was checked. Reach ${RELEASE_LIST_URL} from this machine, or pass --source with a copy of release.csv.`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}

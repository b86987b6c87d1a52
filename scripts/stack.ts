// A stack's config as the scripts read it: `pulumi config --json`, without secrets, with
// this project's keys picked out. Each script parses the keys it needs with the schema,
// so defaults and checks are the ones `pulumi up` applies.
import { spawnSync } from "child_process";
import { projectKeys, show } from "../config";

export class StackConfigError extends Error {}

/** The stack's project keys, raw (secrets left out: their values are not read). */
export function stackKeys(stack: string): Record<string, unknown> {
    const r = spawnSync("pulumi", ["config", "--json", "--stack", stack], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
        throw new StackConfigError(`cannot read the config of stack ${show(stack)}: ${r.error?.message ?? r.stderr.trim()}`);
    }
    const flat: Record<string, string> = {};
    for (const [key, entry] of Object.entries(JSON.parse(r.stdout) as Record<string, { value?: string; secret?: boolean }>)) {
        if (entry.value !== undefined && !entry.secret) flat[key] = entry.value;
    }
    return projectKeys(flat);
}

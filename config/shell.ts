// Commands the tool prints for the user to paste. Every word goes through shellWord, so a
// pasted command runs exactly the argv it shows, whatever a key or value holds.

// Characters no POSIX shell treats specially anywhere in a word.
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;
import { CONTROL } from "./schema";

/** One shell word that any POSIX shell reads back as exactly `s` (which has no control character). */
export function shellWord(s: string): string {
    if (CONTROL.test(s)) {
        throw new Error("a shell word cannot hold a control character");
    }
    return BARE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `pulumi ...` command line from its arguments. Positionals that look like flags
 * follow `--`. A name with control characters gets no command at all: no quoting
 * makes one safe to paste in every shell, so the user is sent to the stack file.
 */
export function pulumiCommand(flags: readonly string[], positionals: readonly string[] = []): string {
    if ([...flags, ...positionals].some((w) => CONTROL.test(w))) {
        return "(no command: the name holds control characters; edit the stack's Pulumi.<stack>.yaml)";
    }
    const dashDash = positionals.some((p) => p.startsWith("-")) ? ["--"] : [];
    return ["pulumi", ...flags, ...dashDash, ...positionals].map(shellWord).join(" ");
}

/** Any command line that pastes safely whatever the words hold, or none at all. */
export function commandLine(words: readonly string[]): string {
    if (words.some((w) => CONTROL.test(w))) return "(no command: a name holds control characters)";
    return words.map(shellWord).join(" ");
}

// Commands the tool prints for the user to paste. Every word goes through shellWord, so a
// pasted command runs exactly the argv it shows, whatever a key or value holds.

// Characters no POSIX shell treats specially anywhere in a word.
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;
// Anything that would end a line, move the cursor or talk to the terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** One shell word that the shell reads back as exactly `s`. */
export function shellWord(s: string): string {
    if (BARE.test(s)) {
        return s;
    }
    if (CONTROL.test(s)) {
        // bash and zsh's ANSI-C quoting: every control character as an escape, so the
        // printed line stays one line and the terminal sees no raw control codes.
        const escaped = Array.from(s)
            .map((ch) => {
                const code = ch.codePointAt(0)!;
                if (ch === "\\" || ch === "'") return `\\${ch}`;
                if (CONTROL.test(ch)) return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
                return ch;
            })
            .join("");
        return `$'${escaped}'`;
    }
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A `pulumi ...` command line from its arguments; a value that looks like a flag follows `--`. */
export function pulumiCommand(args: readonly string[], value?: string): string {
    const words = ["pulumi", ...args];
    if (value !== undefined) {
        if (value.startsWith("-")) words.push("--");
        words.push(value);
    }
    return words.map(shellWord).join(" ");
}

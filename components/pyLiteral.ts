// A small emitter of Python literals: the only way values enter the generated
// jupyterhub_config.py, so quoting and escaping are right by construction.

/** A Python expression emitted verbatim; only the renderer's own constants use it. */
export class PyExpr {
    constructor(public readonly code: string) {}
}

/** A Python set, emitted sorted so the output is deterministic. */
export class PySet {
    constructor(public readonly items: readonly (string | number)[]) {}
}

/** `os.environ["NAME"]`: how secrets reach the hub without being written into the file. */
export function env(name: string): PyExpr {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) {
        throw new Error(`not an environment variable name: ${name}`);
    }
    return new PyExpr(`os.environ[${py(name)}]`);
}

export type PyValue =
    | null
    | boolean
    | number
    | string
    | PyExpr
    | PySet
    | readonly PyValue[]
    | { readonly [key: string]: PyValue };

/** Renders a value as Python source. Dict keys keep their insertion order. */
export function py(value: PyValue): string {
    if (value === null) {
        return "None";
    }
    if (typeof value === "boolean") {
        return value ? "True" : "False";
    }
    if (typeof value === "number") {
        if (!Number.isFinite(value)) {
            throw new Error(`cannot write ${value} into Python config`);
        }
        return String(value);
    }
    if (typeof value === "string") {
        // A JSON string literal is a valid Python str literal with the same value.
        return JSON.stringify(value);
    }
    if (value instanceof PyExpr) {
        return value.code;
    }
    if (value instanceof PySet) {
        if (value.items.length === 0) {
            return "set()";
        }
        const sorted = [...new Set(value.items)].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
        return `{${sorted.map((v) => py(v)).join(", ")}}`;
    }
    if (Array.isArray(value)) {
        return `[${value.map((v: PyValue) => py(v)).join(", ")}]`;
    }
    if (typeof value === "object") {
        const entries = Object.entries(value as { [key: string]: PyValue });
        return `{${entries.map(([k, v]) => `${py(k)}: ${py(v)}`).join(", ")}}`;
    }
    throw new Error(`cannot write a ${typeof value} into Python config`);
}

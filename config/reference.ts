// The documentation of every key, walked from the schema: the README table, the
// Pulumi.yaml key list and the error messages' fix hints all come from here.
import { z } from "zod";
import { docOf, productionShape, referenceShape } from "./schema";
import { FieldDoc } from "./types";
import { declaredDefault, objectShape } from "./zodInternals";

export interface ReferenceRow extends FieldDoc {
    /** `parent.child` for nested keys. */
    key: string;
    default?: unknown;
    required: boolean;
    /** The mode the key belongs to, when only one has it. */
    only?: "production" | "trial";
}

function onlyIn(key: string): ReferenceRow["only"] {
    const top = key.split(".")[0];
    return top in productionShape ? "production" : top === "trial" ? "trial" : undefined;
}

/** Every key, in schema order, nested keys after their parent. */
export function configReference(): ReferenceRow[] {
    const rows: ReferenceRow[] = [];
    const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
        for (const [name, schema] of Object.entries(shape)) {
            const doc = docOf(schema);
            if (!doc) {
                throw new Error(`config key ${prefix}${name} has no documentation`);
            }
            rows.push({
                key: prefix + name,
                only: onlyIn(prefix + name),
                required: !schema.safeParse(undefined).success,
                default: declaredDefault(schema),
                ...doc,
            });
            const inner = objectShape(schema);
            if (inner) {
                walk(inner, `${prefix}${name}.`);
            }
        }
    };
    walk(referenceShape as Record<string, z.ZodType>, "");
    return rows;
}

/** The key as a user types it (`images[2].label`) and the doc of its nearest documented field. */
export function docFor(path: readonly PropertyKey[]): { key: string; doc?: FieldDoc } {
    let shape: Record<string, z.ZodType> = referenceShape as Record<string, z.ZodType>;
    let doc: FieldDoc | undefined;
    const parts: string[] = [];
    for (const p of path) {
        if (typeof p === "number") {
            parts[parts.length - 1] += `[${p}]`;
            continue;
        }
        parts.push(String(p));
        const schema = Object.hasOwn(shape, String(p)) ? shape[String(p)] : undefined;
        if (schema) {
            doc = docOf(schema) ?? doc;
            shape = objectShape(schema) ?? {};
        }
    }
    return { key: parts.join("."), doc };
}

/** True for a top-level key that exists in some mode. */
export function isReferenceKey(key: string): boolean {
    return Object.hasOwn(referenceShape, key);
}

/** True for a top-level key whose value is an object or a list (Pulumi hands those over as JSON). */
export function isStructuredKey(key: string): boolean {
    const doc = Object.hasOwn(referenceShape, key) ? docOf((referenceShape as Record<string, z.ZodType>)[key]) : undefined;
    return !!doc && (doc.type === "object" || doc.type.startsWith("list") || doc.type.startsWith("map"));
}

/** "list" or "object", for messages. */
export function describeStructured(key: string): string {
    const doc = docOf((referenceShape as Record<string, z.ZodType>)[key]);
    return doc?.type.startsWith("list") ? "list" : "object";
}

// The one place that reads zod's internal definitions. zod has no public API for
// "the object shape behind a default/optional/pipe" or "the default of a field", which
// the config reference and the error messages need; a zod upgrade is checked here.
import { z } from "zod";

type Def = { type: string; innerType?: z.ZodType; out?: z.ZodType; shape?: Record<string, z.ZodType> };

function defOf(schema: z.ZodType): Def {
    return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object shape a field holds, looking through default, optional and pipe. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
    let def = defOf(schema);
    for (;;) {
        if ((def.type === "default" || def.type === "optional") && def.innerType) {
            def = defOf(def.innerType);
        } else if (def.type === "pipe" && def.out) {
            def = defOf(def.out);
        } else {
            break;
        }
    }
    return def.type === "object" ? def.shape : undefined;
}

/** The field's declared default (undefined when it has none). */
export function declaredDefault(schema: z.ZodType): unknown {
    return defOf(schema).type === "default" ? schema.parse(undefined) : undefined;
}

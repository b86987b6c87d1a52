// Checks that a provider built for the test bed speaks the Node SDK's language: every
// input property the @pulumi/<pkg> SDK can send must exist, under the same name, in
// the schema the bridge generated, for the resources the project uses (and their input
// types). Usage: tsx check-schema.ts <pkg> <schema.json> <Resource>...
import * as fs from "fs";
import * as path from "path";

const [pkg, schemaFile, ...used] = process.argv.slice(2);
const sdk = path.join(__dirname, "..", "..", "node_modules", "@pulumi", pkg);
const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));

/** Property names of each `export interface X {` block of a .d.ts file. */
function interfaces(file: string): Map<string, string[]> {
    const text = fs.readFileSync(file, "utf8");
    const out = new Map<string, string[]>();
    const re = /^( *)export interface (\w+) \{\n([\s\S]*?)\n\1\}/gm;
    for (let m = re.exec(text); m; m = re.exec(text)) {
        // Only the properties of this block, one level in, not of nested object types.
        const prop = new RegExp(`^${m[1]}    (\\w+)\\??:`, "gm");
        out.set(m[2], [...m[3].matchAll(prop)].map((p) => p[1]));
    }
    return out;
}

const problems: string[] = [];
let resources = 0;
for (const file of fs.readdirSync(sdk).filter((f) => f.endsWith(".js"))) {
    // Each resource class records its type token, e.g. docker:index/container:Container.
    const token = /__pulumiType = '([^']+)'/.exec(fs.readFileSync(path.join(sdk, file), "utf8"))?.[1];
    if (!token || !used.includes(token.split(":")[2] ?? "")) continue;
    resources++;
    const res = schema.resources?.[token];
    if (!res) {
        problems.push(`${token}: the SDK has this resource, the provider does not`);
        continue;
    }
    const name = token.split(":")[2];
    for (const prop of interfaces(path.join(sdk, file.replace(/\.js$/, ".d.ts"))).get(`${name}Args`) ?? []) {
        if (!(prop in (res.inputProperties ?? {}))) problems.push(`${token}: the SDK sends ${prop}, the provider has no such input`);
    }
}
const inputs = path.join(sdk, "types", "input.d.ts");
if (fs.existsSync(inputs)) {
    const types = new Map(Object.entries<any>(schema.types ?? {}).map(([t, v]) => [t.split(":")[2], v]));
    for (const [name, props] of interfaces(inputs)) {
        if (!used.some((r) => name.startsWith(r))) continue;
        const type = types.get(name);
        if (!type) {
            problems.push(`${name}: the SDK has this input type, the provider does not`);
            continue;
        }
        for (const prop of props) {
            if (!(prop in type.properties)) problems.push(`${name}: the SDK sends ${prop}, the provider has no such property`);
        }
    }
}
if (resources !== used.length) problems.push(`found ${resources} of the ${used.length} resources ${used.join(", ")} in ${sdk}`);
if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
}
console.log(`${pkg}: every input of the SDK's ${resources} resources is known to the provider`);

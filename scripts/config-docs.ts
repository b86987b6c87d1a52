// Renders the config reference from the schema into README.md and Pulumi.yaml.
// `npm run docs` rewrites both; the unit tests fail while either is stale.
import * as fs from "fs";
import * as path from "path";
import { configReference } from "../config";

const ROOT = path.join(__dirname, "..");

function show(value: unknown): string {
    if (value === undefined) return "";
    if (Array.isArray(value) && value.every((v) => typeof v === "object" && v && "label" in v)) {
        return (value as Array<{ label: string; image: string }>).map((v) => `${v.label}: \`${v.image}\``).join("<br>");
    }
    return `\`${JSON.stringify(value)}\``;
}

/** The Markdown table of the README. */
export function readmeTable(): string {
    const rows = configReference().filter((r) => r.type !== "object");
    const lines = ["| key | type | default | what it does |", "|---|---|---|---|"];
    for (const r of rows) {
        const required = r.only === "production" ? "**required** (production)" : "**required**";
        const def = r.defaultText ?? (r.required ? required : r.default === undefined ? "unset" : show(r.default));
        lines.push(`| \`${r.key}\` | ${r.type} | ${def} | ${r.description.replace(/\|/g, "\\|")} |`);
    }
    return lines.join("\n");
}

/** The comment block of Pulumi.yaml: one line a key. */
export function pulumiYamlBlock(): string {
    return configReference()
        .filter((r) => r.type !== "object")
        .map((r) => `#   ${r.key} (${r.type}${r.required ? `, required${r.only ? ` in ${r.only}` : ""}` : r.only ? `, ${r.only} only` : ""})`)
        .join("\n");
}

const MARKERS = {
    readme: ["<!-- config-reference:start (npm run docs) -->", "<!-- config-reference:end -->"],
    yaml: ["# config-reference:start (npm run docs)", "# config-reference:end"],
} as const;

function splice(text: string, [start, end]: readonly [string, string], body: string): string {
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a < 0 || b < a) {
        throw new Error(`markers ${start} ... ${end} not found`);
    }
    return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
}

/** Each documented file with the content it should have. */
export function expectedDocs(): Array<{ file: string; actual: string; expected: string }> {
    const readme = path.join(ROOT, "README.md");
    const yaml = path.join(ROOT, "Pulumi.yaml");
    const r = fs.readFileSync(readme, "utf8");
    const y = fs.readFileSync(yaml, "utf8");
    return [
        { file: readme, actual: r, expected: splice(r, MARKERS.readme, readmeTable()) },
        { file: yaml, actual: y, expected: splice(y, MARKERS.yaml, pulumiYamlBlock()) },
    ];
}

if (require.main === module) {
    for (const { file, actual, expected } of expectedDocs()) {
        if (actual !== expected) {
            fs.writeFileSync(file, expected);
            console.log(`updated ${path.relative(ROOT, file)}`);
        }
    }
}

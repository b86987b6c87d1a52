// The docs and the example stack are checked against the schema.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { configReference, parseConfig, projectKeys } from "../../config";
import { expectedDocs } from "../../scripts/config-docs";

const ROOT = path.join(__dirname, "..", "..");

/** A stack file's config as Pulumi hands it to the program. */
function stackFile(name: string): Record<string, unknown> {
    const stack = parse(fs.readFileSync(path.join(ROOT, name), "utf8"));
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(stack.config as Record<string, unknown>)) {
        flat[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return projectKeys(flat);
}

describe("documentation", () => {
    for (const { file, actual, expected } of expectedDocs()) {
        it(`${path.basename(file)} documents every config key as the schema does (npm run docs)`, () => {
            assert.equal(actual, expected);
        });
    }

    it("the README table lists every leaf key of the schema", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const r of configReference().filter((r) => r.type !== "object")) {
            assert.ok(readme.includes(`| \`${r.key}\` |`), r.key);
        }
    });

    it("Pulumi.dev.yaml is a working example once the client secret is set", () => {
        const config = parseConfig({ ...stackFile("Pulumi.dev.yaml"), keycloakClientSecret: "set with --secret" });
        assert.equal(config.memLimit, "4G");
        assert.equal(config.images.length, 3);
    });

    it("Pulumi.trial.yaml is a complete trial stack as it is", () => {
        const config = parseConfig(stackFile("Pulumi.trial.yaml"));
        assert.equal(config.mode, "trial");
        assert.equal(config.publicUrl, "http://localhost:8000");
    });

    it("the README's main command deploys the trial stack", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.ok(readme.includes("pulumi stack select --create trial && pulumi up --yes\n"));
    });

    it("the README's test command is what CI runs", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        assert.ok(readme.includes("\nnpm ci && npm test && npm run e2e\n"));
        assert.match(ci, /^npm ci --no-audit --no-fund && npm test && npm run e2e$/m);
    });
});

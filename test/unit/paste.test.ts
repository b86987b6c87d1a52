// Every command the tools print is pasted into a real shell, with a `pulumi` on PATH that
// only records its arguments. Hostile values go into every migrated old key, into
// `--stack`, and into stack keys and values whose errors print fix commands. Nothing
// but the printed `pulumi` may run, and it must get exactly the arguments intended.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, parseConfig, projectKeys } from "../../config";
import { commandLine, migrate, MigrationError, pulumiArgs } from "../../scripts/migrate";
import { commandLine as archiveCommand } from "../../scripts/archive";
import { validRaw } from "../fixtures";

const ROOT = path.join(__dirname, "..", "..");

/** Payloads a shell would act on if a printed word were not quoted right. */
const HOSTILE = [
    "x'$(touch PWNED)'",
    "$(touch PWNED)",
    "`touch PWNED`",
    "a;touch PWNED",
    "a && touch PWNED",
    "a | touch PWNED",
    "a > PWNED",
    "'; touch PWNED; '",
    "\"; touch PWNED; \"",
    "\\'$(touch PWNED)",
    "--secret",
    "-rf",
    "~root",
    "*",
    "{a,b}",
    "#x",
    "!!",
    "a b",
    "",
    "x\ntouch PWNED",
    "x\u001b]8;;touch PWNED\u0007",
];

interface Pasted { argv: string[][]; npmArgv: string[][]; pwned: boolean; status: number | null; stderr: string }

/** Pastes lines into bash (as a terminal would get them) with a recording pulumi. */
function paste(lines: string[]): Pasted {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "paste-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const log = path.join(dir, "argv.log");
    const npmLog = path.join(dir, "npm-argv.log");
    // One record per call: the arguments, NUL-separated, then a record separator.
    const recorder = (file: string) => `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >> "${file}"\nprintf '\\036' >> "${file}"\n`;
    fs.writeFileSync(path.join(bin, "pulumi"), recorder(log), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "npm"), recorder(npmLog), { mode: 0o755 });
    const work = path.join(dir, "work");
    fs.mkdirSync(work);
    const r = spawnSync("bash", ["--norc", "--noprofile", "-i"], {
        cwd: work,
        input: lines.join("\n") + "\n",
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, PS1: "", TERM: "dumb" },
    });
    const records = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "").split("\u001e").filter((rec) => rec !== "").map((rec) => rec.split("\0").slice(0, -1));
    return { argv: records(log), npmArgv: records(npmLog), pwned: fs.readdirSync(work).length > 0, status: r.status, stderr: r.stderr };
}

/** The commands inside a message: each `pulumi ...` up to the end of its clause. */
function commandsIn(text: string): string[] {
    const found: string[] = [];
    for (const line of text.split("\n")) {
        for (const m of line.matchAll(/pulumi (?:config|stack|up|destroy)[^\n]*/g)) {
            found.push(m[0].split(/, or:? |, and |; (?=pulumi )/)[0].replace(/[.,]$/, ""));
        }
    }
    return found;
}

const fixture = () => JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "auto_config.json"), "utf8"));

/** Each migrated old key, and where it sits in auto_config.json. */
const OLD_KEYS: Array<[section: string, key: string]> = [
    ["ssl_info", "HOST_KEY_PATH"],
    ["ssl_info", "HOST_CERT_PATH"],
    ["keycloak_config", "OAUTH2_AUTHORIZE_URL"],
    ["keycloak_config", "OAUTH2_TOKEN_URL"],
    ["keycloak_config", "OAUTH2_USERDATA_URL"],
    ["keycloak_config", "OAUTH_CALLBACK_URL"],
    ["keycloak_config", "CLIENT_ID"],
    ["pyiron_images", "PYIRON_BASE"],
    ["user_resources", "MEM_LIMIT"],
    ["user_resources", "CPU_LIMIT"],
    ["user_data", "ADMIN_USER"],
];

describe("printed commands pasted into a shell", () => {
    it("the migration's dry-run: each line runs pulumi with exactly the intended arguments", () => {
        // Values that pass validation but need quoting, in every key that allows them.
        const old = fixture();
        old.ssl_info.HOST_KEY_PATH = "/etc/ssl/my key's dir/hub.key";
        old.keycloak_config.CLIENT_ID = "hub@lab";
        old.user_data.ADMIN_USER = "alice,o.neil";
        const m = migrate(old, { "allowedGroups[0]": "lab group", "hubBuildArgs.PIP_ARGS": "--no-index" });
        const lines = m.sets.map((s) => commandLine(s, "prod"));
        const r = paste(lines);
        assert.equal(r.pwned, false);
        const intended = m.sets.map((s) => (s.secret ? pulumiArgs(s, "prod") : pulumiArgs(s, "prod").filter((a) => a !== "--")));
        assert.deepEqual(r.argv.map((a) => a.filter((w) => w !== "--")), intended.map((a) => a.filter((w) => w !== "--")));
    });

    for (const [section, key] of OLD_KEYS) {
        it(`the migration with hostile values in ${key}: nothing runs but pulumi`, () => {
            for (const value of HOSTILE) {
                const old = fixture();
                old[section][key] = value;
                let printed: string;
                try {
                    printed = migrate(old, { allowAll: "true" }).sets.map((s) => commandLine(s, "prod")).join("\n");
                } catch (e) {
                    assert.ok(e instanceof MigrationError, String(e));
                    printed = e.message;
                }
                const r = paste(commandsIn(printed));
                assert.equal(r.pwned, false, `${key}=${JSON.stringify(value)} ran a command:\n${printed}`);
                for (const argv of r.argv) {
                    assert.equal(argv[0], "config", `${JSON.stringify(value)}: pulumi got ${JSON.stringify(argv)}`);
                }
            }
        });
    }

    it("the migration with a hostile image key, which becomes a label", () => {
        for (const value of HOSTILE) {
            const old = fixture();
            old.pyiron_images[`PYIRON_${value}`] = "pyiron/base:2025-11-24";
            let printed: string;
            try {
                printed = migrate(old, { allowAll: "true" }).sets.map((s) => commandLine(s)).join("\n");
            } catch (e) {
                printed = (e as Error).message;
            }
            assert.equal(paste(commandsIn(printed)).pwned, false, printed);
        }
    });

    it("the migration script refuses a hostile --stack and prints no command with it", () => {
        const file = path.join(__dirname, "..", "fixtures", "auto_config.json");
        for (const stack of HOSTILE.filter((s) => s !== "" && !s.startsWith("-"))) {
            const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "migrate.ts"), file, "--stack", stack, "--set", "allowAll=true", "--dry-run"], { encoding: "utf8" });
            assert.equal(r.status, 2, `--stack ${JSON.stringify(stack)}: ${r.stdout}${r.stderr}`);
            assert.equal(r.stdout, "");
        }
    });

    it("fix hints of config errors, for hostile keys and values", () => {
        const printed: string[] = [];
        for (const value of HOSTILE) {
            const attempts: Record<string, unknown>[] = [
                { [value]: "1" },
                { keycloak: { realmUrl: "https://kc.example.org/realms/p", clientId: "c", [value]: 1 } },
                { hubBuildArgs: { [value]: "x" } },
                { publicUrl: `https://${value}.example.org` },
                { admins: [value] },
                { memLimit: value },
                { images: [{ label: value, image: "pyiron/base:2025-11-24" }] },
                { hubExtraNetworks: [value] },
            ];
            for (const overrides of attempts) {
                const flat: Record<string, string> = {};
                for (const [k, v] of Object.entries({ ...validRaw(), ...overrides })) {
                    flat[`pyiron-jupyterhub:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
                }
                try {
                    parseConfig(projectKeys(flat));
                } catch (e) {
                    assert.ok(e instanceof ConfigError, String(e));
                    printed.push(e.message);
                }
            }
        }
        const commands = printed.flatMap(commandsIn);
        assert.ok(commands.length > 100, `${commands.length} commands`);
        const r = paste(commands);
        assert.equal(r.pwned, false, commands.join("\n"));
        for (const argv of r.argv) {
            assert.equal(argv[0], "config", JSON.stringify(argv));
            assert.ok(["set", "rm"].includes(argv[1]), JSON.stringify(argv));
        }
    });

    it("the restore's printed commands, for hostile archive paths and stack names", () => {
        const lines: string[] = [];
        const intended: string[][] = [];
        for (const value of HOSTILE) {
            const npmWords = ["npm", "run", "restore", "--", value, "--stack", value, "--force"];
            const upWords = ["pulumi", "up", "--stack", value];
            for (const words of [npmWords, upWords]) {
                const line = archiveCommand(words);
                if (line.startsWith("(no command")) {
                    assert.match(value, /[\n\u001b]/, `${JSON.stringify(value)} got no command`);
                    continue;
                }
                lines.push(line);
                intended.push(words);
            }
        }
        const r = paste(lines);
        assert.equal(r.pwned, false, lines.join("\n"));
        assert.deepEqual(r.npmArgv, intended.filter((w) => w[0] === "npm").map((w) => w.slice(1)));
        assert.deepEqual(r.argv, intended.filter((w) => w[0] === "pulumi").map((w) => w.slice(1)));
    });
});

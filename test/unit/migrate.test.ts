import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../config";
import { migrate, MigrationError } from "../../scripts/migrate";

const ROOT = path.join(__dirname, "..", "..");
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", name), "utf8"));

/** Runs `npm run migrate` as a user does, with a recording `pulumi` first on PATH. */
function runMigrate(args: string[]): { status: number | null; stdout: string; stderr: string; calls: string[] } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    const log = path.join(bin, "calls.log");
    fs.writeFileSync(
        path.join(bin, "pulumi"),
        `#!/bin/sh\nstdin=""\nif [ ! -t 0 ]; then stdin="$(cat)"; fi\nprintf '%s | stdin=%s\\n' "$*" "$stdin" >> "${log}"\n`,
        { mode: 0o755 },
    );
    const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "migrate.ts"), ...args], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

/** Applies the migration's settings to an object, as `pulumi config set --path` would. */
function asConfig(sets: ReturnType<typeof migrate>["sets"]): Record<string, unknown> {
    const raw: Record<string, any> = {};
    for (const s of sets) {
        const parts = s.key.split(/\.|(?=\[)/).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
        let cur = raw;
        parts.forEach((p, n) => {
            if (n === parts.length - 1) cur[p] = s.value;
            else cur = cur[p] ??= typeof parts[n + 1] === "number" ? [] : {};
        });
    }
    return raw;
}

const ALLOW_ALL = { allowAll: "true" };
// config.json kept the TLS paths elsewhere (its .env files).
const TLS = { "tls.keyPath": "/etc/ssl/private/hub.key", "tls.certPath": "/etc/ssl/certs/hub.crt" };

describe("migration from the old repository's config files", () => {
    it("maps every key of the grouped auto_config.json", () => {
        const { sets } = migrate(fixture("auto_config.json"), ALLOW_ALL);
        const byKey = Object.fromEntries(sets.map((s) => [s.key, s.value]));
        assert.deepEqual(byKey, {
            "tls.keyPath": "/etc/ssl/private/hub.key",
            "tls.certPath": "/etc/ssl/certs/hub.crt",
            "keycloak.realmUrl": "https://keycloak.example.org/realms/pyiron",
            publicUrl: "https://hub.example.org",
            "keycloak.clientId": "jupyterhub",
            keycloakClientSecret: "old-client-secret",
            "images[0].label": "pyiron_base",
            "images[0].image": "pyiron/base:2021-06-04",
            "images[1].label": "pyiron_atomistics",
            "images[1].image": "pyiron/pyiron:2021-06-04",
            "images[2].label": "pyiron_continuum",
            "images[2].image": "pyiron/continuum:2021-06-04",
            memLimit: "2G",
            cpuLimit: "1",
            "admins[0]": "alice",
            allowAll: "true",
        });
        assert.deepEqual(sets.filter((s) => s.secret).map((s) => s.key), ["keycloakClientSecret"]);
    });

    it("maps the flat config.json, keeps the extra image and drops the old database password", () => {
        const { sets, notes } = migrate(fixture("config.json"), { ...ALLOW_ALL, ...TLS });
        const byKey = Object.fromEntries(sets.map((s) => [s.key, s.value]));
        assert.equal(byKey["images[3].label"], "pyiron_experimental");
        assert.equal(byKey["images[3].image"], "pyiron/experimental:2021-06-04");
        assert.equal(byKey.publicUrl, "https://hub.example.org:8443");
        assert.equal(byKey["keycloak.realmUrl"], "https://keycloak.example.org/auth/realms/pyiron");
        assert.ok(!sets.some((s) => s.value === "old-db-password"));
        assert.ok(notes.some((n) => /POSTGRES_PASSWORD is not migrated/.test(n)));
        assert.ok(notes.some((n) => /\/auth\/ prefix/.test(n)));
    });

    it("gives a config that the stack accepts", () => {
        for (const file of ["auto_config.json", "config.json"]) {
            const config = parseConfig(asConfig(migrate(fixture(file), { ...ALLOW_ALL, ...TLS }).sets));
            assert.equal(config.admins[0], "alice");
        }
    });

    it("refuses to migrate without a login rule, and says how to keep the old behaviour", () => {
        assert.throws(() => migrate(fixture("auto_config.json")), (e: Error) => {
            assert.match(e.message, /allowAll, allowedUsers, allowedGroups: nobody but the admins could log in.*--set allowAll=true/);
            assert.match(e.message, /Nothing was set/);
            return true;
        });
    });

    const missing: Array<[string, (o: any) => unknown, RegExp]> = [
        ["the client secret", (o) => { delete o.keycloak_config.CLIENT_SECRET; return o; }, /keycloakClientSecret: is required.*add CLIENT_SECRET to the old file/],
        ["an empty client secret", (o) => { o.keycloak_config.CLIENT_SECRET = ""; return o; }, /keycloak_config\.CLIENT_SECRET \(keycloakClientSecret\): is empty/],
        ["the admins", (o) => { delete o.user_data.ADMIN_USER; return o; }, /admins: is required.*add ADMIN_USER to the old file/],
        ["an empty admin list", (o) => { o.user_data.ADMIN_USER = " , "; return o; }, /admins: is required.*ADMIN_USER/],
        ["the callback URL", (o) => { delete o.keycloak_config.OAUTH_CALLBACK_URL; return o; }, /publicUrl: is required.*add OAUTH_CALLBACK_URL/],
        ["the TLS key", (o) => { delete o.ssl_info.HOST_KEY_PATH; return o; }, /tls\.keyPath: is required.*add HOST_KEY_PATH/],
        ["the client id", (o) => { delete o.keycloak_config.CLIENT_ID; return o; }, /keycloak\.clientId: is required.*add CLIENT_ID/],
        ["every Keycloak endpoint", (o) => { for (const k of ["OAUTH2_AUTHORIZE_URL", "OAUTH2_TOKEN_URL", "OAUTH2_USERDATA_URL"]) delete o.keycloak_config[k]; return o; }, /keycloak\.realmUrl: is required/],
    ];
    for (const [what, change, expected] of missing) {
        it(`refuses a file without ${what}, naming what is missing`, () => {
            assert.throws(() => migrate(change(fixture("auto_config.json")), ALLOW_ALL), (e: Error) => {
                assert.ok(e instanceof MigrationError, String(e));
                assert.match(e.message, expected);
                assert.doesNotMatch(e.message, /old-client-secret/);
                return true;
            });
        });
    }

    it("keeps endpoints that do not follow from the realm URL, and a non-standard callback", () => {
        const old = fixture("auto_config.json");
        old.keycloak_config.OAUTH2_USERDATA_URL = "https://sso.example.org/userinfo";
        old.keycloak_config.OAUTH_CALLBACK_URL = "https://hub.example.org/custom/callback";
        const byKey = Object.fromEntries(migrate(old, ALLOW_ALL).sets.map((s) => [s.key, s.value]));
        assert.equal(byKey["keycloak.userdataUrl"], "https://sso.example.org/userinfo");
        assert.equal(byKey["keycloak.callbackUrl"], "https://hub.example.org/custom/callback");
        assert.equal(byKey["keycloak.tokenUrl"], undefined);
    });

    it("splits several admins", () => {
        const old = fixture("auto_config.json");
        old.user_data.ADMIN_USER = "alice, carol";
        const admins = migrate(old, ALLOW_ALL).sets.filter((s) => s.key.startsWith("admins")).map((s) => s.value);
        assert.deepEqual(admins, ["alice", "carol"]);
    });

    const bad: Array<[string, (o: any) => unknown, RegExp]> = [
        ["a memory limit with an unknown unit", (o) => { o.user_resources.MEM_LIMIT = "2GB"; return o; }, /user_resources\.MEM_LIMIT \(memLimit\): is not a memory size.*\(got "2GB"\)/],
        ["a relative key path", (o) => { o.ssl_info.HOST_KEY_PATH = "path/to/key"; return o; }, /ssl_info\.HOST_KEY_PATH \(tls\.keyPath\): must be an absolute path/],
        ["a callback that is no URL", (o) => { o.keycloak_config.OAUTH_CALLBACK_URL = "url"; return o; }, /keycloak_config\.OAUTH_CALLBACK_URL: is not a URL/],
        ["an unknown key", (o) => { o.user_data.USER_LIST = "bob"; return o; }, /user_data\.USER_LIST: is not a key of the old format/],
        ["an unknown section", (o) => { o.nginx = {}; return o; }, /nginx: is not a section of auto_config\.json/],
        ["a file of neither format", () => ({ foo: 1 }), /neither auto_config\.json .* nor config\.json/],
        ["a number where settings belong", (o) => { o.ssl_info = 3; return o; }, /ssl_info: is not an object of settings/],
    ];
    for (const [what, change, expected] of bad) {
        it(`refuses ${what}, naming the old key`, () => {
            assert.throws(() => migrate(change(fixture("auto_config.json")), ALLOW_ALL), (e: Error) => {
                assert.ok(e instanceof MigrationError);
                assert.match(e.message, expected);
                assert.doesNotMatch(e.message, /old-client-secret/);
                return true;
            });
        });
    }
});

describe("npm run migrate", () => {
    it("--dry-run prints the exact commands, secret elided, and runs nothing", () => {
        const r = runMigrate([path.join(__dirname, "..", "fixtures", "auto_config.json"), "--stack", "prod", "--set", "allowAll=true", "--dry-run"]);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.calls, []);
        assert.match(r.stdout, /^pulumi config set --stack prod --path tls\.keyPath \/etc\/ssl\/private\/hub\.key$/m);
        // No placeholder: pulumi prompts for the secret.
        assert.match(r.stdout, /^pulumi config set --stack prod --secret keycloakClientSecret$/m);
        assert.match(r.stdout, /^pulumi config set --stack prod --path 'images\[1\]\.image' pyiron\/pyiron:2021-06-04$/m);
        assert.match(r.stdout, /^pulumi config set --stack prod allowAll true$/m);
        assert.ok(r.stdout.trim().split("\n").every((l) => l.startsWith("pulumi config set ")), "stdout holds only commands");
        assert.doesNotMatch(r.stdout, /old-client-secret/);
    });

    it("sets each key with pulumi, the secret with --secret through stdin", () => {
        const r = runMigrate([path.join(__dirname, "..", "fixtures", "config.json"), "--stack", "prod", "--set", "allowAll=true",
            "--set", "tls.keyPath=/etc/ssl/private/hub.key", "--set", "tls.certPath=/etc/ssl/certs/hub.crt"]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.calls.length, 19);
        // The old callback's port is where users reach the hub: it serves there.
        assert.ok(r.calls.includes("config set --stack prod httpsPort -- 8443 | stdin="), r.calls.join("\n"));
        assert.ok(r.calls.includes("config set --stack prod --secret keycloakClientSecret | stdin=old-client-secret"), r.calls.join("\n"));
        assert.ok(r.calls.includes("config set --stack prod memLimit -- 4G | stdin="));
        assert.ok(r.calls.every((c) => !c.startsWith("config set --stack prod --secret") || !c.includes("old-client-secret |")));
        assert.doesNotMatch(r.stdout, /old-client-secret/);
    });

    it("exits non-zero on a bad file and sets nothing", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "old-")), "auto_config.json");
        const old = fixture("auto_config.json");
        old.user_resources.CPU_LIMIT = "-1";
        fs.writeFileSync(file, JSON.stringify(old));
        const r = runMigrate([file]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /user_resources\.CPU_LIMIT \(cpuLimit\): must be greater than 0/);
        assert.deepEqual(r.calls, []);
    });

    it("exits non-zero on a file that is not JSON", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "old-")), "auto_config.json");
        fs.writeFileSync(file, "{ not json");
        const r = runMigrate([file, "--dry-run"]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /is not valid JSON/);
    });
});

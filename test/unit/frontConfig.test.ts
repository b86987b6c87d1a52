// The TLS front's Caddyfile: golden, deterministic, and closed to injection.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { certificateDirs, FrontConfigInputs, frontMountConflict, renderCaddyfile } from "../../components/frontConfig";

const GOLDEN_DIR = path.join(__dirname, "..", "golden");

const files: FrontConfigInputs = {
    publicUrl: "https://hub.example.org",
    tls: { kind: "files", certPath: "/etc/ssl/certs/hub.crt", keyPath: "/etc/ssl/private/hub.key" },
    upstream: "pyiron-hub-proxy:8000",
};
const acme: FrontConfigInputs = {
    publicUrl: "https://hub.example.org:8443",
    tls: { kind: "acme", email: "hub-admin@example.org", directory: "https://acme.example.org/directory", caRoot: "/etc/ssl/site/root.crt" },
    upstream: "pyiron-hub-proxy:8000",
};

function golden(name: string, rendered: string) {
    const file = path.join(GOLDEN_DIR, name);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, rendered);
    assert.equal(rendered, fs.readFileSync(file, "utf8"));
}

describe("Caddyfile renderer", () => {
    it("matches the golden file for host certificate files (UPDATE_GOLDEN=1 rewrites it)", () => golden("Caddyfile.files", renderCaddyfile(files)));
    it("matches the golden file for ACME with a private CA root", () => golden("Caddyfile.acme", renderCaddyfile(acme)));

    it("redirects plain HTTP to the public URL's own port", () => {
        assert.match(renderCaddyfile(acme), /^\tredir https:\/\/hub\.example\.org:8443\{uri\} 308$/m);
        assert.match(renderCaddyfile(files), /^\tredir https:\/\/hub\.example\.org\{uri\} 308$/m);
    });

    it("sends HSTS and keeps open websockets across a reload", () => {
        const out = renderCaddyfile(files);
        assert.match(out, /^\t\tStrict-Transport-Security "max-age=31536000"$/m);
        assert.match(out, /^\t\tstream_close_delay 24h$/m);
    });

    it("names no ACME settings with host files, and no files with ACME", () => {
        assert.doesNotMatch(renderCaddyfile(files), /acme|email/);
        assert.doesNotMatch(renderCaddyfile(acme), /^\ttls "/m);
    });

    it("puts the ACME issuer in the site, so an internal name (hub.internal) still gets the configured CA", () => {
        const out = renderCaddyfile({ ...acme, publicUrl: "https://hub.internal" });
        assert.match(out, /^https:\/\/hub\.internal \{\n\ttls \{\n\t\tissuer acme \{\n\t\t\tdir "https:\/\/acme\.example\.org\/directory"$/m);
        assert.doesNotMatch(out, /acme_ca/);
    });

    it("passes the client's own address to the hub and bounds how long a reload waits", () => {
        const out = renderCaddyfile(files);
        assert.match(out, /^\t\theader_up X-Real-IP \{remote_host\}$/m);
        assert.match(out, /^\tgrace_period 10s$/m);
    });

    it("refuses a value that would break out of its Caddyfile token", () => {
        for (const bad of ['/etc/x" }\nimport /etc/passwd', "/etc/{env.SECRET}", "/etc/x\\y", "/etc/x\ny"]) {
            assert.throws(() => renderCaddyfile({ ...files, tls: { ...files.tls, certPath: bad } as FrontConfigInputs["tls"] }), /not a Caddyfile token/, bad);
        }
    });
});

describe("certificate mounts", () => {
    it("mounts the file's directory and, for a symlink, its target's (certbot's live/ and archive/)", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "front-certs-"));
        fs.mkdirSync(path.join(root, "archive"));
        fs.mkdirSync(path.join(root, "live"));
        fs.writeFileSync(path.join(root, "archive", "fullchain1.pem"), "x");
        fs.symlinkSync("../archive/fullchain1.pem", path.join(root, "live", "fullchain.pem"));
        fs.writeFileSync(path.join(root, "live", "privkey.pem"), "k");
        const real = fs.realpathSync(root);
        assert.deepEqual(
            certificateDirs([path.join(real, "live", "fullchain.pem"), path.join(real, "live", "privkey.pem")]),
            [path.join(real, "archive"), path.join(real, "live")],
        );
    });
});

describe("certificate directories that would hide the front's own files", () => {
    const conflicts: Array<[string, string | undefined]> = [
        ["/etc/hub.crt", "/etc"],
        ["/hub.crt", "/"],
        ["/data/hub.crt", "/data"],
        ["/usr/hub.crt", "/usr"],
        ["/etc/caddy/hub.crt", "/etc/caddy"],
        ["/usr/bin/hub.crt", "/usr/bin"],
        ["/data/caddy/hub.crt", "/data/caddy"],
        ["/etc/ssl/certs/hub.crt", undefined],
        ["/etc/letsencrypt/live/hub.example.org/fullchain.pem", undefined],
        ["/tmp/certs/hub.crt", undefined],
    ];
    for (const [file, expected] of conflicts) {
        it(`${expected ? "refuses" : "accepts"} ${file}`, () => assert.equal(frontMountConflict([file]), expected));
    }
});

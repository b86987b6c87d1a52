// The TLS front's Caddyfile: golden, deterministic, and closed to injection.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { certificateDirs } from "../../components/front";
import { FrontConfigInputs, renderCaddyfile } from "../../components/frontConfig";

const GOLDEN_DIR = path.join(__dirname, "..", "golden");

const files: FrontConfigInputs = {
    publicUrl: "https://hub.example.org",
    tls: { kind: "files", certPath: "/etc/ssl/certs/hub.crt", keyPath: "/etc/ssl/private/hub.key" },
    upstream: "pyiron-hub-proxy:8000",
};
const acme: FrontConfigInputs = {
    publicUrl: "https://hub.example.org:8443",
    tls: { kind: "acme", email: "hub-admin@example.org", directory: "https://acme.example.org/directory", caRoot: true },
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
        assert.doesNotMatch(renderCaddyfile(acme), /^\ttls /m);
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

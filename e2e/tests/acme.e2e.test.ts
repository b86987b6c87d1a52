// ACME at the TLS front, entirely inside the test bed: an ACME server of the test bed's
// own (Caddy's acme_server, issuing certificates that live five minutes, its shortest) on the test bed's
// network; the test stack switched to `tls.acme` with that directory and its root. The
// front gets a certificate by a real HTTP-01 challenge, the client verifies it against
// the test CA's root, and the front renews it by itself while the hub and the proxy run
// on, untouched, and a client polls the hub at 10 Hz.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { after, before, describe } from "node:test";
import { docker, inspect, PREFIX, pulumi, step, TESTBED_DIR, testbed, waitFor } from "./testbed";

const ACME = { container: "pyiron-testbed-acme", host: "acme.testbed", image: `caddy:${process.env.CADDY_VERSION ?? "2.11.9"}` };
const DIR = path.join(TESTBED_DIR, "acme");
const ROOT = path.join(DIR, "root.crt");
const DIRECTORY = `https://${ACME.host}/acme/local/directory`;
const rows: string[] = [];
const state: { tls?: Record<string, string> } = {};

/** The certificate the front serves for the hub's name, verified against the test CA's root. */
function served(): Promise<{ cert: crypto.X509Certificate; authorized: boolean; error?: string }> {
    return new Promise((resolve, reject) => {
        const s = tls.connect({
            host: "127.0.0.1",
            port: testbed.hub.port,
            servername: testbed.hub.host,
            ca: fs.readFileSync(ROOT),
            rejectUnauthorized: false,
        }, () => {
            const cert = s.getPeerX509Certificate()!;
            resolve({ cert, authorized: s.authorized, error: s.authorizationError ? String(s.authorizationError) : undefined });
            s.end();
        });
        s.on("error", reject);
        s.setTimeout(5000, () => s.destroy(new Error("timeout")));
    });
}

function health(): Promise<number> {
    return new Promise((resolve) => {
        const s = tls.connect({ host: "127.0.0.1", port: testbed.hub.port, servername: testbed.hub.host, ca: fs.readFileSync(ROOT) }, () => {
            s.write(`GET /hub/health HTTP/1.1\r\nHost: ${testbed.hub.host}:${testbed.hub.port}\r\nConnection: close\r\n\r\n`);
        });
        let head = "";
        s.on("data", (d) => (head += d));
        s.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0)));
        s.on("error", () => resolve(-1));
        s.setTimeout(5000, () => s.destroy());
    });
}

describe("ACME at the front, with the test bed's own ACME server", { concurrency: 1 }, () => {
    before(() => {
        // The test stack as the suites find it: deployed with the host's certificate files.
        pulumi(["up", "--yes", "--skip-preview"]);
        fs.mkdirSync(DIR, { recursive: true });
        docker(["rm", "-f", ACME.container], { allowFailure: true });
        // Certificates that live five minutes (its shortest), so that the front renews one during the suite.
        fs.writeFileSync(path.join(DIR, "Caddyfile"), [
            "{",
            "\tadmin off",
            "}",
            `${ACME.host} {`,
            "\ttls internal",
            "\tacme_server {",
            "\t\tlifetime 5m",
            "\t}",
            "}",
            "",
        ].join("\n"));
        docker(["run", "-d", "--name", ACME.container, "--network", testbed.network, "--network-alias", ACME.host,
            "-v", `${path.join(DIR, "Caddyfile")}:/etc/caddy/Caddyfile:ro`, ACME.image]);
        state.tls = JSON.parse(pulumi(["config", "get", "tls", "--json"]).stdout).objectValue;
        assert.ok(state.tls?.certPath, "the test stack starts with certificate files");
        assert.notEqual(pulumi(["config", "get", "frontExtraNetworks"], { allowFailure: true }).status, 0, "the test stack names no front network");
    });
    after(() => {
        // The stack goes back to the host's certificate files.
        if (state.tls) {
            pulumi(["config", "rm", "tls"]);
            for (const [k, v] of Object.entries(state.tls)) pulumi(["config", "set", "--path", `tls.${k}`, v]);
            pulumi(["config", "rm", "frontExtraNetworks"], { allowFailure: true });
            pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        }
        docker(["rm", "-f", ACME.container], { allowFailure: true });
        console.log(["", "| step | result |", "|---|---|", ...rows].join("\n"));
    });

    step("a. the front obtains a certificate by an HTTP-01 challenge, and it verifies against the test CA's root", async () => {
        await waitFor("the ACME server's root", async () => {
            const r = docker(["cp", `${ACME.container}:/data/caddy/pki/authorities/local/root.crt`, ROOT], { allowFailure: true });
            return r.status === 0 ? true : undefined;
        }, 60);
        pulumi(["config", "rm", "--path", "tls.keyPath"]);
        pulumi(["config", "rm", "--path", "tls.certPath"]);
        pulumi(["config", "set", "--path", "tls.acme.email", "hub-admin@testbed.example"]);
        pulumi(["config", "set", "--path", "tls.acme.directory", DIRECTORY]);
        pulumi(["config", "set", "--path", "tls.acme.caRoot", ROOT]);
        pulumi(["config", "set", "--path", "frontExtraNetworks[0]", testbed.network]);
        const hub = inspect(`${PREFIX}-hub`);
        const proxy = inspect(`${PREFIX}-proxy`);
        const started = Date.now();
        pulumi(["up", "--yes", "--skip-preview"]);
        const got = await waitFor("a certificate from the test CA", async () => {
            const s = await served().catch(() => undefined);
            return s?.authorized ? s : undefined;
        }, 120);
        const seconds = (Date.now() - started) / 1000;
        assert.ok(got.cert.checkHost(testbed.hub.host), `the certificate is for ${got.cert.subjectAltName}`);
        assert.match(got.cert.issuer, /Caddy Local Authority/);
        assert.equal(await health(), 200);
        assert.equal(inspect(`${PREFIX}-hub`).Id, hub.Id, "the hub was replaced");
        assert.equal(inspect(`${PREFIX}-proxy`).Id, proxy.Id, "the proxy was replaced");
        assert.match(docker(["logs", `${PREFIX}-front`]).stderr, /certificate obtained successfully/);
        // The account and the certificate are on the front's volume, which destroy keeps.
        const stored = docker(["exec", `${PREFIX}-front`, "sh", "-c", "ls -R /data/caddy"]).stdout;
        assert.match(stored, new RegExp(`${testbed.hub.host.replace(/\./g, "\\.")}\\.crt`));
        assert.match(stored, /\.json/);
        rows.push(`| first certificate (HTTP-01) | verified against the test root ${seconds.toFixed(1)} s after \`pulumi up\` started; valid ${((Date.parse(got.cert.validTo) - Date.parse(got.cert.validFrom)) / 1000).toFixed(0)} s |`);
    }, [`${PREFIX}-front`, ACME.container]);

    step("b. the front renews the certificate by itself; the hub and the proxy run on and no request fails", async () => {
        const first = await served();
        const ids = [`${PREFIX}-hub`, `${PREFIX}-proxy`, `${PREFIX}-front`].map((c) => inspect(c).State.StartedAt);
        const results: number[] = [];
        let polling = true;
        const poll = (async () => {
            while (polling) {
                const at = Date.now();
                results.push(await health());
                await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - at))));
            }
        })();
        const renewed = await waitFor("a renewed certificate", async () => {
            const s = await served().catch(() => undefined);
            return s && s.authorized && s.cert.serialNumber !== first.cert.serialNumber ? s : undefined;
        }, 330);
        await new Promise((r) => setTimeout(r, 2000));
        polling = false;
        await poll;
        const failed = results.filter((s) => s !== 200).length;
        rows.push(`| renewal | new serial ${Date.parse(renewed.cert.validFrom) - Date.parse(first.cert.validFrom) > 0 ? "issued" : "seen"} ${((Date.parse(renewed.cert.validFrom) - Date.parse(first.cert.validFrom)) / 1000).toFixed(0)} s after the first; ${results.length - failed}/${results.length} health polls at 10 Hz answered; hub, proxy and front not restarted |`);
        assert.deepEqual([`${PREFIX}-hub`, `${PREFIX}-proxy`, `${PREFIX}-front`].map((c) => inspect(c).State.StartedAt), ids);
        assert.equal(failed, 0);
    }, [`${PREFIX}-front`, ACME.container], 500_000);
});

// The benchmark's peers (e2e/bench/peers.ts): a compose file and docker commands that
// give the containers what the program gives them, so `npm run bench` compares like
// with like.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { composeFile, declared, dockerRuns } from "../../e2e/bench/peers";
import { mockedStackConfig, writeTlsFiles } from "../fixtures";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-peers-"));
const { keyPath, certPath } = writeTlsFiles(dir);
const config = (memLimit: string) => mockedStackConfig({ keyPath, certPath }, "kc-secret", {
    "pyiron-jupyterhub:memLimit": memLimit,
    "pyiron-jupyterhub:bindAddress": "127.0.0.1",
});
const SECRET_KEYS = ["pyiron-jupyterhub:keycloakClientSecret"];

describe("benchmark peers", () => {
    it("give every container the program declares its image, environment, ports, mounts and files", async () => {
        const d = await declared(config("2G"), SECRET_KEYS);
        const out = path.join(dir, "one");
        const compose = JSON.parse(composeFile(d, out));
        assert.deepEqual(Object.keys(compose.services).sort(), d.containers.map((c) => c.name).sort());
        const hub = compose.services["pyiron-hub-hub"];
        const declaredHub = d.containers.find((c) => c.name === "pyiron-hub-hub")!.inputs;
        assert.deepEqual(hub.environment, declaredHub.envs);
        assert.equal(hub.image, declaredHub.image.replace(/^sha256:/, ""));
        // The generated hub config is mounted where the program uploads it, with its content.
        const configMount = hub.volumes.find((v: string) => v.endsWith(":/srv/jupyterhub/jupyterhub_config.py:ro"));
        assert.equal(fs.readFileSync(configMount.split(":")[0], "utf8"), declaredHub.uploads.find((u: any) => u.file === "/srv/jupyterhub/jupyterhub_config.py").content);
        assert.deepEqual(compose.services["pyiron-hub-front"].ports, ["127.0.0.1:443:443", "127.0.0.1:80:80"]);
        // The hub waits for a healthy database, as Pulumi's waited-for container makes it.
        assert.deepEqual(hub.depends_on["pyiron-hub-postgres"], { condition: "service_healthy" });
        const runs = dockerRuns(d, path.join(dir, "runs"));
        assert.deepEqual(runs.filter((r) => r.args[0] === "create").map((r) => r.args[2]).sort(), d.containers.map((c) => c.name).sort());
        assert.ok(runs.findIndex((r) => r.args[0] === "start" && r.args[1] === "pyiron-hub-postgres") < runs.findIndex((r) => r.args[0] === "create" && r.args[2] === "pyiron-hub-hub"));
    });

    it("change only the hub's service when the memory limit changes, as Pulumi replaces only the hub", async () => {
        const a = JSON.parse(composeFile(await declared(config("2G"), SECRET_KEYS), path.join(dir, "same")));
        const b = JSON.parse(composeFile(await declared(config("3G"), SECRET_KEYS), path.join(dir, "same")));
        const changed = Object.keys(a.services).filter((s) => JSON.stringify(a.services[s]) !== JSON.stringify(b.services[s]));
        assert.deepEqual(changed, ["pyiron-hub-hub"]);
    });
});

// The resource graph of a swarm stack, under Pulumi mocks.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { HUB_PATHS } from "../../components/jupyterhubConfig";
import { mockedStackConfig, swarmStorageDir, writeTlsFiles } from "../fixtures";
import { installMocks, one as oneOf, Recorded, reveal, settled, valueOf } from "../mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-swarm-"));
const { keyPath, certPath } = writeTlsFiles(dir);
// The storage every node mounts: a directory of the manager, which runs the program here.
const storage = swarmStorageDir();

const recorded: Recorded[] = installMocks(
    mockedStackConfig({ keyPath, certPath }, "swarm-client-secret", {
        "pyiron-jupyterhub:sharedFolders": JSON.stringify([{ name: "potentials", mountPath: "/home/jovyan/shared/potentials", readOnly: true }]),
        "pyiron-jupyterhub:swarm": JSON.stringify({ storagePath: storage, placement: ["node.role==worker"] }),
    }),
    ["pyiron-jupyterhub:keycloakClientSecret"],
);

before(async () => {
    const stack = await import("../../index");
    await valueOf(stack.containers.hub);
    await settled();
});

const one = (type: string, name: string) => oneOf(recorded, type, name);
const hub = () => one("docker:index/container:Container", "hub-container");
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

describe("swarm stack", () => {
    it("spans the users network over the nodes, joinable by the hub's and the proxy's containers", () => {
        const users = one("docker:index/network:Network", "network-users").inputs;
        assert.equal(users.driver, "overlay");
        assert.equal(users.attachable, true);
        // The database stays on the manager, on its internal bridge.
        assert.equal(one("docker:index/network:Network", "network-database").inputs.driver, "bridge");
        const proxy = one("docker:index/container:Container", "proxy-container").inputs;
        assert.ok(proxy.networksAdvanced.some((n: any) => reveal(n.name) === "pyiron-hub-users"));
    });

    it("puts every image on every allowed node before the hub starts", () => {
        const images = one(DYNAMIC, "user-images-on-nodes");
        assert.deepEqual(images.inputs.images.map((i: any) => i.label), ["pyiron_base", "pyiron_atomistics", "pyiron_md"]);
        assert.deepEqual(images.inputs.constraints, ["node.role==worker"]);
        assert.ok(hub().dependencies.includes(images.urn), "the hub starts after the images are on the nodes");
    });

    it("keeps homes and shared folders in the storage: the hub mounts it, and no shared volume is made on the manager", () => {
        const volumes = reveal<any[]>(hub().inputs.volumes);
        assert.ok(volumes.some((v) => v.hostPath === storage && v.containerPath === HUB_PATHS.storage));
        assert.ok(!recorded.some((r) => r.type === "docker:index/volume:Volume" && /shared/.test(r.name)), "no shared-folder volume");
        const start = JSON.parse(reveal<string[]>(hub().inputs.envs).find((e) => e.startsWith("PYIRON_HUB_START="))!.slice("PYIRON_HUB_START=".length));
        assert.deepEqual(start.shared, [`${HUB_PATHS.storage}/pyiron-hub-shared-potentials`]);
    });

    it("stops running servers first when a stack switches to the swarm: the cleanup is replaced delete-first", () => {
        const cleanup = one(DYNAMIC, "user-servers");
        assert.equal(cleanup.inputs.swarm, true);
        assert.equal(cleanup.deleteBeforeReplace, true);
    });

    it("runs neither the user firewall nor the job-activity service, which see one host only", () => {
        assert.ok(!recorded.some((r) => r.name.startsWith("user-firewall")));
        const config = reveal<any[]>(hub().inputs.uploads)[0].content;
        assert.doesNotMatch(config, /job-activity/);
        assert.match(config, /^c\.JupyterHub\.spawner_class = PyironSwarmSpawner$/m);
    });
});

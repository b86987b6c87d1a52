// Docker names of one user: the project's escaping must be DockerSpawner's own, or the
// README's commands and the tools would name volumes and containers that do not exist.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { dockerNames, dockerSafe } from "../../components/names";
import { HUB_VERSION_NAMES } from "../../config";
import { hubPython } from "../python";

const USERNAMES = ["alice", "load-001", "jane.doe", "a_b", "x@y.org", "0day", "émile", "a--b"];

describe("user names in Docker names", () => {
    for (const version of HUB_VERSION_NAMES) {
        it(`escapes usernames exactly as DockerSpawner does (hub ${version})`, () => {
            const r = spawnSync(hubPython(version), ["-c", "import json, sys; from dockerspawner import DockerSpawner; print(json.dumps([DockerSpawner._escape(u) for u in json.load(sys.stdin)]))"], {
                input: JSON.stringify(USERNAMES),
                encoding: "utf8",
            });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(USERNAMES.map(dockerSafe), JSON.parse(r.stdout));
        });
    }

    it("names a user's home volume and server container with the escaped name", () => {
        const names = dockerNames("pyiron-hub");
        assert.equal(names.homeVolumeOf("jane.doe"), "pyiron-hub-home-jane-2edoe");
        assert.equal(names.userServerOf("load-1"), "pyiron-hub-user-load-2d1");
        assert.equal(names.homeVolumeOf("alice"), names.homeVolume("alice"));
    });
});

describe("container names that a username could take", () => {
    it("gives no container of the deployment a name DockerSpawner could give a user's server", () => {
        const names = dockerNames("pyiron-hub");
        const own = [names.hubContainer, names.postgresContainer, names.firewallContainer, names.proxyContainer, names.frontContainer, names.keycloakContainer];
        for (const name of own) {
            assert.ok(!name.startsWith(`${names.userContainerPrefix}-`), `${name}: a user named ${name.slice(names.userContainerPrefix.length + 1)} would get it`);
        }
    });
});

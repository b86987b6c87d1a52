// The hpc section: its rendering into the hub config, and the start hook of the images'
// HPC layer, run with the hub's Python against a scratch home.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { parseConfig } from "../../config";
import { hubPython } from "../python";
import { HPC_ENV, hpcSettings, renderJupyterhubConfig } from "../../components/jupyterhubConfig";
import { goldenSettings, validRaw } from "../fixtures";

const HOOK = path.join(__dirname, "..", "..", "user-image", "pyiron_hub_hpc.py");
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjTZdOB8UhU7bE5PCJPFOVQvsZROrEq16yaSKrcKoj9";

function hpc(clusters: unknown[]) {
    const config = parseConfig({ ...validRaw(), hpc: { clusters } });
    assert.ok(config.hpc);
    return config.hpc;
}
const LAB = { name: "lab", host: "login.lab.example.org", port: "2222", hostKeys: [HOST_KEY], username: "hub_{username}", partitions: [{ name: "batch", cores: "4", runTime: "3600", memory: "8G" }, { name: "short", cores: 1, runTime: 600 }] };

/** Runs the start hook as user `user` in `home`; returns its exit status and output. */
function hook(home: string, settings: string, user = "alice", args: string[] = []) {
    const python = hubPython();
    assert.ok(fs.existsSync(python), `no Python at ${python}: run test/setup-python.sh`);
    return spawnSync(python, [HOOK, ...args], { encoding: "utf8", env: { HOME: home, JUPYTERHUB_USER: user, [HPC_ENV]: settings, PATH: process.env.PATH } });
}

describe("hpc", () => {
    it("renders nothing without hpc, and the clusters into the spawner's environment with it", () => {
        assert.doesNotMatch(renderJupyterhubConfig(goldenSettings()), /PYIRON_HUB_HPC/);
        const out = renderJupyterhubConfig({ ...goldenSettings(), hpc: hpc([LAB]) });
        const line = /^c\.DockerSpawner\.environment = \{"PYIRON_HUB_HPC": (".*?"), "MKL_NUM_THREADS"/m.exec(out);
        assert.ok(line, out);
        const settings = JSON.parse(JSON.parse(line[1]));
        assert.deepEqual(settings.clusters[0].partitions[0], { name: "batch", cores: 4, runTime: 3600, memoryGB: 8 });
        assert.equal(settings.clusters[0].username, "hub_{username}");
    });

    it("refuses a cluster without pinned host keys, and templates with other placeholders", () => {
        assert.throws(() => hpc([{ ...LAB, hostKeys: [] }]), /hpc\.clusters\[0\]\.hostKeys: is empty: pin the login host's keys/);
        assert.throws(() => hpc([{ ...LAB, hostKeys: ["AAAA"] }]), /hostKeys\[0\]: is not a public host key/);
        assert.throws(() => hpc([{ ...LAB, username: "{user}" }]), /username: may only use the placeholders \{username\}/);
        assert.throws(() => hpc([{ ...LAB, remotePath: "relative/{clusterUser}" }]), /remotePath: must be an absolute path/);
        assert.throws(() => hpc([LAB, LAB]), /hpc\.clusters: names the same cluster twice/);
        assert.throws(() => hpc([{ ...LAB, hostKeys: [HOST_KEY, HOST_KEY.replace("AAAAI", "AAAAJ")] }]), /hostKeys: lists two keys of one type/);
    });

    it("writes the user's queue file, pinned known_hosts and a private key only they can read", () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-home-"));
        const r = hook(home, hpcSettings(hpc([LAB])));
        assert.equal(r.status, 0, r.stderr);
        const queue = YAML.parse(fs.readFileSync(path.join(home, ".pyiron-hub/hpc/resources/queues/queue.yaml"), "utf8"));
        assert.equal(queue.queue_type, "REMOTE");
        assert.equal(queue.ssh_username, "hub_alice");
        assert.equal(queue.ssh_host, "login.lab.example.org");
        assert.equal(queue.ssh_port, 2222);
        assert.equal(queue.ssh_remote_path, "/home/hub_alice/pyiron/remote/");
        assert.equal(queue.ssh_remote_config_dir, "/home/hub_alice/pyiron/resources/queues");
        assert.equal(queue.ssh_local_path, `${home}/`);
        assert.equal(queue.queue_primary, "batch");
        assert.deepEqual(queue.queues.batch, { cores_min: 1, cores_max: 4, run_time_max: 3600, memory_max: 8 });
        assert.equal(queue.known_hosts, path.join(home, ".pyiron-hub/hpc/known_hosts"));
        // Port 2222: paramiko looks the key up as [host]:port.
        assert.equal(fs.readFileSync(queue.known_hosts, "utf8"), `[login.lab.example.org]:2222 ${HOST_KEY}\n`);
        const key = path.join(home, ".ssh/pyiron_hub_ed25519");
        assert.equal(fs.statSync(key).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.join(home, ".ssh")).mode & 0o777, 0o700);
        assert.match(fs.readFileSync(key, "utf8"), /^-----BEGIN OPENSSH PRIVATE KEY-----/);
        const printed = hook(home, hpcSettings(hpc([LAB])), "alice", ["key"]);
        assert.match(printed.stdout, /^ssh-ed25519 [A-Za-z0-9+/]+=* alice@pyiron-hub\n$/);
    });

    it("keeps the user's key across restarts, and a key the user brought", () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-home-"));
        hook(home, hpcSettings(hpc([LAB])));
        const key = path.join(home, ".ssh/pyiron_hub_ed25519");
        const first = fs.readFileSync(key, "utf8");
        assert.equal(hook(home, hpcSettings(hpc([LAB]))).status, 0);
        assert.equal(fs.readFileSync(key, "utf8"), first);
        fs.writeFileSync(key, "-----BEGIN OPENSSH PRIVATE KEY-----\nbrought by the user\n");
        assert.equal(hook(home, hpcSettings(hpc([LAB]))).status, 0);
        assert.match(fs.readFileSync(key, "utf8"), /brought by the user/);
    });

    it("writes one queue file per cluster and an index when there are several", () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-home-"));
        const other = { ...LAB, name: "big", host: "10.1.2.3", port: 22, username: "{username}" };
        assert.equal(hook(home, hpcSettings(hpc([LAB, other]))).status, 0);
        const dir = path.join(home, ".pyiron-hub/hpc/resources/queues");
        assert.deepEqual(fs.readdirSync(dir).sort(), ["big.yaml", "clusters.yaml", "lab.yaml"]);
        assert.deepEqual(YAML.parse(fs.readFileSync(path.join(dir, "clusters.yaml"), "utf8")), { cluster: { big: "big.yaml", lab: "lab.yaml" }, cluster_primary: "lab" });
        assert.equal(YAML.parse(fs.readFileSync(path.join(dir, "big.yaml"), "utf8")).ssh_username, "alice");
        assert.match(fs.readFileSync(path.join(home, ".pyiron-hub/hpc/known_hosts"), "utf8"), /^10\.1\.2\.3 ssh-ed25519 /m);
    });

    it("sends pysqa to the local tunnel for a cluster behind a jump host, with both hosts' keys pinned", () => {
        const JUMP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBXjr0qXW6v2Wc4yY8m3Cw7x0d5S0Fa4T6pGQz1jO7yJ";
        const direct = { ...LAB, name: "direct", host: "10.1.2.3", port: 22 };
        const behind = { ...LAB, jumpHost: { host: "gate.lab.example.org", port: "2200", hostKeys: [JUMP_KEY] } };
        const settings = hpcSettings(hpc([direct, behind]));
        assert.doesNotMatch(hpcSettings(hpc([direct])), /jumpHost/);
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-home-"));
        assert.equal(hook(home, settings).status, 0);
        const queue = YAML.parse(fs.readFileSync(path.join(home, ".pyiron-hub/hpc/resources/queues/lab.yaml"), "utf8"));
        // The second cluster's tunnel: 127.0.0.1, port base + its index.
        assert.deepEqual([queue.ssh_host, queue.ssh_port, queue.ssh_username], ["127.0.0.1", 10023, "hub_alice"]);
        assert.equal(
            fs.readFileSync(path.join(home, ".pyiron-hub/hpc/known_hosts"), "utf8"),
            `10.1.2.3 ${HOST_KEY}\n[127.0.0.1]:10023 ${HOST_KEY}\n[gate.lab.example.org]:2200 ${JUMP_KEY}\n`,
        );
        // The shell hook starts a tunnel for exactly the clusters behind a jump host.
        assert.equal(hook(home, settings, "alice", ["jumps"]).stdout, "lab\n");
        assert.throws(() => hpc([{ ...behind, jumpHost: { host: "gate", hostKeys: [] } }]), /hpc\.clusters\[0\]\.jumpHost\.hostKeys: is empty: pin the jump host's keys/);
        assert.throws(() => hpc([{ ...behind, jumpHost: { host: "Gate;rm", hostKeys: [JUMP_KEY] } }]), /jumpHost\.host: is not a host name/);
        assert.throws(() => hpc([{ ...behind, jumpHost: { host: "gate", hostKeys: [JUMP_KEY], user: "x" } }]), /jumpHost\.user: is not a config key of this project/);
    });
});

// pyiron jobs from a user's server to the test bed's SLURM cluster, on the `testbed-hpc`
// stack: users log in through Keycloak in Chromium; their servers run the HPC layer
// built by the program; the cluster's admins (this harness) install each user's public
// key and pyiron's cluster-side settings, as the README's cluster section says.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import {
    closeBrowser, docker, hubRequest, PROJECT_DIR, pulumi, runInKernel, serverFor, startServer, step as testbedStep, stopServer, testbed, waitFor,
} from "./testbed";

const STACK = testbed.hpc.stack;
const PREFIX = testbed.hpc.namePrefix;
const CLUSTER = testbed.cluster;
const step = (name: string, fn: () => Promise<void>) => testbedStep(name, fn, [`${PREFIX}-hub`, `${PREFIX}-user-alice`, CLUSTER.controller]);
const tokens: Record<string, string> = {};

/** What a cluster's admins do once per user: the key, and pyiron's cluster-side files (cluster-side/). */
function clusterAccount(user: string, publicKey: string): void {
    const { login: host, partition } = CLUSTER;
    const put = (file: string, content: string) => docker(["exec", "-i", "-u", user, host, "sh", "-c", `umask 077 && mkdir -p "$(dirname ${file})" && cat > ${file}`], { input: content });
    const side = (name: string) => fs.readFileSync(path.join(PROJECT_DIR, "cluster-side", name), "utf8");
    put("~/.ssh/authorized_keys", `${publicKey}\n`);
    put("~/.pyiron", `[DEFAULT]\nRESOURCE_PATHS = /home/${user}/pyiron/resources\nDISABLE_DATABASE = True\nPROJECT_CHECK_ENABLED = False\n`);
    put("~/pyiron/resources/queues/queue.yaml", `queue_type: SLURM\nqueue_primary: ${partition}\nqueues:\n  ${partition}: {cores_min: 1, cores_max: 1, run_time_max: 600, script: slurm.sh}\n`);
    put("~/pyiron/resources/queues/slurm.sh", side("slurm.sh").replace("PARTITION", partition));
    put("~/pyiron/resources/queues/pyiron_finalize_status.py", side("pyiron_finalize_status.py"));
}

/** The controller's accounting of SLURM job `id`: its name, user, node and state. */
function accounting(id: string): { name: string; user: string; node: string; state: string } | undefined {
    const out = docker(["exec", CLUSTER.controller, "sacct", "-c", "-n", "-P", "-j", id, "-o", "JobID,JobName,User,NodeList,State"]).stdout;
    const line = out.split("\n").find((l) => l.split("|")[0] === id);
    if (!line) return undefined;
    const [, name, user, node, state] = line.split("|");
    return { name, user, node, state };
}

const SUBMIT = (seconds: number, jobName: string) => [
    "import time",
    "from pyiron_base import Project",
    "def slow_add(a, b, seconds):",
    "    import time",
    "    time.sleep(seconds)",
    "    return a + b",
    "pr = Project('hpc_e2e')",
    `job = pr.wrap_python_function(slow_add, a=40, b=2, seconds=${seconds}, job_name=${JSON.stringify(jobName)}, automatically_rename=False)`,
    `job.server.queue = ${JSON.stringify(CLUSTER.partition)}`,
    "job.run()",
    "print('LOCAL_ID', job.job_id, 'QUEUE_ID', job.server.queue_id, 'STATUS', job.status)",
].join("\n");

const COLLECT = (jobName: string) => [
    "import time",
    "from pyiron_base import Project",
    "pr = Project('hpc_e2e')",
    "for _ in range(60):",
    "    pr.update_from_remote()",
    `    job = pr.load(${JSON.stringify(jobName)})`,
    "    if job.status == 'finished':",
    "        break",
    "    time.sleep(2)",
    "print('RESULT', job.output['result'], job.status)",
].join("\n");

/** alice submits a short job: it runs on a compute node as her account, and its result comes back. */
async function jobRunsAndComesBack(jobName: string): Promise<void> {
    const submitted = await runInKernel("alice", tokens.alice, SUBMIT(1, jobName), 240);
    assert.match(submitted, /LOCAL_ID \d+ QUEUE_ID \d+ STATUS (submitted|running)/, submitted);
    const [, localId, slurmId] = /LOCAL_ID (\d+) QUEUE_ID (\d+)/.exec(submitted)!;
    // The cluster's own accounting of the SLURM job pyiron reported; pyiron names it pi_<local id>.
    const acct = await waitFor("the job in sacct", async () => {
        const a = accounting(slurmId);
        return a?.state === "COMPLETED" ? a : undefined;
    }, 120);
    assert.equal(acct.name, `pi_${localId}`);
    assert.match(acct.user, /^alice\(\d+\)$/);
    assert.match(acct.node, /^slurm-c\d$/);
    const result = await runInKernel("alice", tokens.alice, COLLECT(jobName), 200);
    assert.match(result, /RESULT 42 finished/, result);
}

describe("pyiron jobs to the SLURM cluster", { concurrency: 1 }, () => {
    before(() => {
        pulumi(["destroy", "--yes", "--skip-preview"], { stack: STACK });
        // Step 5 adds a jump host; every run starts without it.
        pulumi(["config", "rm", "--path", "hpc.clusters[0].jumpHost"], { stack: STACK, allowFailure: true });
        for (const v of docker(["volume", "ls", "-q"]).stdout.split("\n").filter((v) => v.startsWith(`${PREFIX}-`))) {
            docker(["volume", "rm", "-f", v]);
        }
        pulumi(["up", "--yes", "--skip-preview"], { stack: STACK });
        // The cluster is reached through the user network here (on a site: routed).
        docker(["network", "connect", `${PREFIX}-users`, CLUSTER.login]);
    });

    after(async () => {
        await closeBrowser();
        for (const host of [CLUSTER.login, CLUSTER.jumpHost]) docker(["network", "disconnect", "-f", `${PREFIX}-users`, host], { allowFailure: true });
        pulumi(["config", "rm", "--path", "hpc.clusters[0].jumpHost"], { stack: STACK, allowFailure: true });
        pulumi(["destroy", "--yes", "--skip-preview"], { stack: STACK }, );
    });

    step("1. alice's pyiron job goes over SSH with her own key, runs on a compute node as her cluster account, and its result comes back", async () => {
        tokens.alice = await serverFor("alice");
        const key = await runInKernel("alice", tokens.alice, "import subprocess; print(subprocess.run(['python3', '/usr/local/lib/pyiron-hub/pyiron_hub_hpc.py', 'key'], capture_output=True, text=True).stdout)");
        assert.match(key, /^ssh-ed25519 \S+ alice@pyiron-hub$/m, key);
        clusterAccount("alice", key.trim());
        // pyiron finds the cluster's queues with no step by the user.
        const queues = await runInKernel("alice", tokens.alice, "from pyiron_base import state\nprint('QUEUES', state.queue_adapter.queue_list)");
        assert.match(queues, new RegExp(`QUEUES \\['${CLUSTER.partition}'\\]`), queues);
        await jobRunsAndComesBack("add_on_cluster");
    });

    step("2. bob can read neither alice's job files on the cluster nor her home in the hub", async () => {
        const probe = docker(["exec", "-u", "bob", CLUSTER.login, "ls", "/home/alice/pyiron/remote"], { allowFailure: true });
        assert.notEqual(probe.status, 0, probe.stdout);
        assert.match(probe.stderr, /Permission denied/);
        tokens.bob = await serverFor("bob");
        const mounts = JSON.parse(docker(["inspect", `${PREFIX}-user-bob`]).stdout)[0].Mounts.map((m: { Name?: string }) => m.Name);
        assert.deepEqual(mounts, [`${PREFIX}-home-bob`]);
        const inBob = await runInKernel("bob", tokens.bob, "import os; print('HOMES', sorted(os.listdir('/home')))");
        assert.match(inBob, /HOMES \['jovyan'\]/);
    });

    step("3. a job outlives alice's server: after a respawn she collects it", async () => {
        const submitted = await runInKernel("alice", tokens.alice, SUBMIT(20, "outlives_server"), 240);
        const [, , slurmId] = /LOCAL_ID (\d+) QUEUE_ID (\d+)/.exec(submitted) ?? assert.fail(submitted);
        await stopServer("alice", tokens.alice);
        // The job was still running when the server went.
        assert.notEqual(accounting(slurmId)?.state, "COMPLETED");
        await waitFor("the job to complete on the cluster", async () => (accounting(slurmId)?.state === "COMPLETED" ? true : undefined), 120);
        await startServer("alice", tokens.alice);
        const result = await runInKernel("alice", tokens.alice, COLLECT("outlives_server"), 200);
        assert.match(result, /RESULT 42 finished/, result);
    });

    step("4. a wrong host key and an unreachable cluster give clear errors; the hub and bob are unaffected", async () => {
        const wrongKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPKUqLBvMwDw9i8Z5ZrL0Yx3d2rz5aD0w0Yb0t1JQX9Q";
        const tryQueue = [
            "from pyiron_base import state",
            "state.update()",
            "try:",
            "    print('QUEUE', state.queue_adapter.get_status_of_my_jobs())",
            "except Exception as e:",
            "    print('ERROR', type(e).__name__, e)",
        ].join("\n");
        const wrong = await runInKernel("alice", tokens.alice, [
            "import os, pathlib",
            "p = pathlib.Path.home() / '.pyiron-hub/hpc/known_hosts'",
            "good = p.read_text()",
            `p.write_text(good.split(' ')[0] + ' ${wrongKey}\\n')`,
            tryQueue,
            "p.write_text(good)",
        ].join("\n"));
        assert.match(wrong, /ERROR (BadHostKeyException|SSHException) .*(Host key for server|does not match|not found in known_hosts)/i, wrong);
        docker(["network", "disconnect", "-f", `${PREFIX}-users`, CLUSTER.login]);
        try {
            const unreachable = await runInKernel("alice", tokens.alice, tryQueue, 120);
            assert.match(unreachable, /ERROR (gaierror|socket\.gaierror|NoValidConnectionsError|SSHException|OSError)/, unreachable);
        } finally {
            docker(["network", "connect", `${PREFIX}-users`, CLUSTER.login]);
        }
        const health = await hubRequest("GET", "/hub/health");
        assert.equal(health.status, 200);
        const bob = await runInKernel("bob", tokens.bob, "print('BOB', 1 + 1)");
        assert.match(bob, /BOB 2/);
    });
    step("5. through a jump host: the login node unreachable directly, both host keys pinned, a wrong jump-host key refused with a clear error", async () => {
        const jumpKey = docker(["exec", CLUSTER.jumpHost, "cut", "-d", " ", "-f1,2", "/etc/ssh/ssh_host_ed25519_key.pub"]).stdout.trim();
        pulumi(["config", "set", "--path", "hpc.clusters[0].jumpHost.host", CLUSTER.jumpHost], { stack: STACK });
        pulumi(["config", "set", "--path", "hpc.clusters[0].jumpHost.hostKeys[0]", jumpKey], { stack: STACK });
        pulumi(["up", "--yes", "--skip-preview"], { stack: STACK });
        docker(["network", "disconnect", "-f", `${PREFIX}-users`, CLUSTER.login]);
        docker(["network", "connect", `${PREFIX}-users`, CLUSTER.jumpHost]);
        // A server started before the change keeps its environment; a restart picks the jump host up.
        await stopServer("alice", tokens.alice);
        await startServer("alice", tokens.alice);
        const direct = await runInKernel("alice", tokens.alice, [
            "import socket",
            "try:",
            `    socket.create_connection((${JSON.stringify(CLUSTER.login)}, 22), timeout=5)`,
            "    print('DIRECT open')",
            "except OSError as e:",
            "    print('DIRECT refused', type(e).__name__)",
        ].join("\n"));
        assert.match(direct, /DIRECT refused/, direct);
        await jobRunsAndComesBack("via_jump_host");
        const wrongKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPKUqLBvMwDw9i8Z5ZrL0Yx3d2rz5aD0w0Yb0t1JQX9Q";
        const wrong = await runInKernel("alice", tokens.alice, [
            "import pathlib",
            "p = pathlib.Path.home() / '.pyiron-hub/hpc/known_hosts'",
            "good = p.read_text()",
            `p.write_text('\\n'.join(l if not l.startswith(${JSON.stringify(CLUSTER.jumpHost + " ")}) else ${JSON.stringify(CLUSTER.jumpHost + " " + wrongKey)} for l in good.splitlines()) + '\\n')`,
            "from pyiron_base import state",
            "try:",
            "    print('QUEUE', state.queue_adapter.get_status_of_my_jobs())",
            "except Exception as e:",
            "    print('ERROR', type(e).__name__, e)",
            "p.write_text(good)",
        ].join("\n"));
        assert.match(wrong, new RegExp(`ERROR \\w+ .*the host key of jump host ${CLUSTER.jumpHost}:22 does not match the pinned hostKeys; no connection made`), wrong);
        assert.equal((await hubRequest("GET", "/hub/health")).status, 200);
    });
});

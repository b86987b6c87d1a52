// What a user can reach and break, probed from inside real user servers of the test
// stack: the hub's API with another user's rights, another user's server through the
// proxy, Postgres, the Docker socket, capabilities and set-uid escalation; carol's server,
// the host and cloud metadata over the network (the user firewall); a fork bomb and
// a memory hog in alice's server while carol's server and the hub answer; the bounds on
// running and starting servers. Each probe prints a row of the table at the end.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import { after, before, describe } from "node:test";
import {
    closeBrowser, docker, hubRequest, inspect, PREFIX, pulumi, runInKernel, serverFor, startServer, step, stopServer, testbed, tokenWithoutServer,
    waitFor,
} from "./testbed";

const PIDS = 256;
const state: { alice?: string; carol?: string; admin?: string } = {};
const rows: string[] = [];

/** A file of a container's pids cgroup, read on the host (cgroup v1 or v2, either driver). */
function pidsCgroup(container: string, file: "pids.current" | "pids.events"): string {
    const id = inspect(container).Id;
    for (const dir of [`/sys/fs/cgroup/pids/docker/${id}`, `/sys/fs/cgroup/docker/${id}`, `/sys/fs/cgroup/system.slice/docker-${id}.scope`]) {
        if (fs.existsSync(`${dir}/${file}`)) return fs.readFileSync(`${dir}/${file}`, "utf8").trim();
    }
    throw new Error(`no pids cgroup found for ${container}`);
}

// "The internet" and a cloud metadata service: a network namespace of the test bed's own
// holding 198.51.100.10 and 169.254.169.254, routed from the host, with a web server on
// port 80. Nothing else is ever routed there.
const OUTSIDE = { netns: "pyiron-tb-outside", hostIf: "pyiron-tb-out0", nsIf: "pyiron-tb-out1", internet: "198.51.100.10", metadata: "169.254.169.254" };

function ip(args: string[], allowFailure = false): void {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0 && !allowFailure) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
}

function outsideDown(): void {
    spawnSync("ip", ["netns", "pids", OUTSIDE.netns], { encoding: "utf8" }).stdout?.split("\n").filter(Boolean).forEach((pid) => process.kill(Number(pid), "SIGKILL"));
    ip(["netns", "del", OUTSIDE.netns], true);
    ip(["link", "del", OUTSIDE.hostIf], true);
}

function outsideUp(): void {
    outsideDown();
    const inNs = (args: string[]) => ip(["netns", "exec", OUTSIDE.netns, "ip", ...args]);
    ip(["netns", "add", OUTSIDE.netns]);
    ip(["link", "add", OUTSIDE.hostIf, "type", "veth", "peer", "name", OUTSIDE.nsIf]);
    ip(["link", "set", OUTSIDE.nsIf, "netns", OUTSIDE.netns]);
    ip(["addr", "add", "169.254.169.253/30", "dev", OUTSIDE.hostIf]);
    ip(["link", "set", OUTSIDE.hostIf, "up"]);
    inNs(["addr", "add", `${OUTSIDE.metadata}/30`, "dev", OUTSIDE.nsIf]);
    inNs(["addr", "add", `${OUTSIDE.internet}/32`, "dev", OUTSIDE.nsIf]);
    inNs(["link", "set", OUTSIDE.nsIf, "up"]);
    inNs(["link", "set", "lo", "up"]);
    inNs(["route", "add", "default", "via", "169.254.169.253"]);
    ip(["route", "add", `${OUTSIDE.internet}/32`, "via", OUTSIDE.metadata, "dev", OUTSIDE.hostIf]);
    for (const address of [OUTSIDE.internet, OUTSIDE.metadata]) {
        const route = spawnSync("ip", ["route", "get", address], { encoding: "utf8" }).stdout;
        assert.match(route, new RegExp(`dev ${OUTSIDE.hostIf}`), `${address} must be routed into the test bed's namespace only`);
    }
    spawn("ip", ["netns", "exec", OUTSIDE.netns, "python3", "-m", "http.server", "--bind", "0.0.0.0", "80"], { stdio: "ignore", detached: true }).unref();
}

/** Python that tries TCP connections and prints `PROBE <name> <result>` for each. */
function probeCode(targets: Array<[string, string, number]>): string {
    return [
        "import errno, socket",
        "def probe(host, port):",
        "    try:",
        "        socket.create_connection((host, port), timeout=5).close(); return 'open'",
        "    except OSError as e:",
        // REJECT answers "host unreachable" (the firewall); "refused" is a closed port.
        "        return {errno.EHOSTUNREACH: 'firewalled', errno.ECONNREFUSED: 'closed'}.get(e.errno, type(e).__name__)",
        ...targets.map(([name, host, port]) => `print('PROBE ${name}', probe(${JSON.stringify(host)}, ${port}))`),
    ].join("\n");
}

function probeResults(out: string): Record<string, string> {
    return Object.fromEntries([...out.matchAll(/^PROBE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

function row(probe: string, result: string): void {
    rows.push(`| ${probe} | ${result} |`);
}

/** Milliseconds for the hub's /hub/health and for carol's server to answer. */
async function responsiveness(): Promise<{ hub: number; carol: number }> {
    const t0 = Date.now();
    const health = await hubRequest("GET", "/hub/health");
    const t1 = Date.now();
    const status = await hubRequest("GET", "/user/carol/api/status", { token: state.carol });
    const t2 = Date.now();
    assert.equal(health.status, 200);
    assert.equal(status.status, 200);
    return { hub: t1 - t0, carol: t2 - t1 };
}

describe("isolation and containment", { concurrency: 1 }, () => {
    before(() => {
        pulumi(["config", "set", "pidsLimit", String(PIDS)]);
        pulumi(["config", "set", "maxActiveServers", "2"]);
        pulumi(["config", "set", "maxConcurrentSpawns", "1"]);
        pulumi(["up", "--yes", "--skip-preview"]);
    });

    after(async () => {
        await closeBrowser();
        for (const key of ["pidsLimit", "maxActiveServers", "maxConcurrentSpawns"]) pulumi(["config", "rm", key], { allowFailure: true });
        pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
        console.log(`\n| probe from alice's server | result |\n|---|---|\n${rows.join("\n")}\n`);
    });

    step("1. user servers run with no capabilities, no new privileges, a process bound and no swap beyond memory", async () => {
        state.alice = await serverFor("alice");
        state.carol = await serverFor("carol");
        // Servers from an earlier suite run with the config they were started with: start anew.
        for (const [user, token] of [["alice", state.alice], ["carol", state.carol]]) {
            await stopServer(user, token);
            await startServer(user, token);
        }
        const host = inspect(`${PREFIX}-user-alice`).HostConfig;
        assert.deepEqual(host.CapDrop, ["ALL"]);
        assert.deepEqual(host.SecurityOpt, ["no-new-privileges:true"]);
        assert.equal(host.PidsLimit, PIDS);
        assert.equal(host.MemorySwap, host.Memory, "no swap beyond the memory limit");
        assert.equal(host.OomScoreAdj, 500);
        assert.equal(host.Init, true, "an init reaps orphans");
        // cpuLimit 0.5: one thread per pool of the numerical libraries.
        assert.ok(inspect(`${PREFIX}-user-alice`).Config.Env.includes("OMP_NUM_THREADS=1"));
        // A set-uid root copy of cat, as an image might ship one: root owns /etc/shadow, so
        // only the ignored set-uid bit (no new privileges) keeps alice from reading it.
        docker(["exec", "-u", "0", `${PREFIX}-user-alice`, "sh", "-c", "cp /bin/cat /usr/local/bin/rootcat && chmod 4755 /usr/local/bin/rootcat"]);
        const out = await runInKernel("alice", state.alice, [
            "import os, socket",
            "status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)",
            "print('CAPS', status['CapEff'].strip(), status['CapBnd'].strip(), 'NONEWPRIVS', status['NoNewPrivs'].strip())",
            "try:",
            "    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print('RAW allowed')",
            "except PermissionError: print('RAW refused')",
            "print('SOCKET', os.path.exists('/var/run/docker.sock'))",
            "print('SETUID', 'read' if os.system('/usr/local/bin/rootcat /etc/shadow >/dev/null 2>&1') == 0 else 'refused')",
        ].join("\n"));
        assert.match(out, /CAPS 0000000000000000 0000000000000000 NONEWPRIVS 1/, out);
        assert.match(out, /RAW refused/, out);
        assert.match(out, /SOCKET False/, out);
        assert.match(out, /SETUID refused/, out);
        row("capabilities (CapEff, CapBnd)", "none");
        row("raw socket (needs NET_RAW)", "refused");
        row("a set-uid root binary reading /etc/shadow", "refused (set-uid ignored)");
        row("Docker socket", "absent");
    });

    step("2. the hub's API and carol's server with alice's rights only; Postgres out of reach", async () => {
        const out = await runInKernel("alice", state.alice!, [
            "import json, os, socket, urllib.request, urllib.error",
            "api = os.environ['JUPYTERHUB_API_URL']",
            "def call(method, path, token):",
            "    req = urllib.request.Request(api + path, method=method, headers={'Authorization': 'token ' + token} if token else {})",
            "    try: return urllib.request.urlopen(req, timeout=10).status",
            "    except urllib.error.HTTPError as e: return e.code",
            "mine = os.environ['JUPYTERHUB_API_TOKEN']",
            "print('OWN', call('GET', '/user', mine))",
            "print('OTHER', call('GET', '/users/carol', mine))",
            "print('SPAWN', call('POST', '/users/carol/server', mine))",
            "print('NOTOKEN', call('GET', '/users', None))",
            "try:",
            "    socket.create_connection(('" + PREFIX + "-postgres', 5432), timeout=5); print('PG reached')",
            "except OSError as e: print('PG', type(e).__name__)",
        ].join("\n"));
        assert.match(out, /OWN 200/, out);
        assert.match(out, /OTHER (403|404)/, out);
        assert.match(out, /SPAWN (403|404)/, out);
        assert.match(out, /NOTOKEN 403/, out);
        assert.match(out, /PG gaierror/, out);
        row("hub API, own user with the server's token", "allowed (200)");
        row("hub API, carol's record with alice's server token", `refused (${/OTHER (\d+)/.exec(out)![1]})`);
        row("hub API, start carol's server", `refused (${/SPAWN (\d+)/.exec(out)![1]})`);
        row("hub API without a token", "refused (403)");
        row("Postgres", "name does not resolve");
        const viaProxy = await hubRequest("GET", "/user/carol/api/status", { token: state.alice });
        assert.equal(viaProxy.status, 403, viaProxy.body);
        row("carol's server through the proxy with alice's token", "refused (403)");
    });

    step("3. network: alice reaches neither carol's server on any port, nor the host, nor cloud metadata; the outside and the hub she does", async () => {
        const users = inspect(`${PREFIX}-users`);
        const gateway: string = users.IPAM.Config[0].Gateway;
        const carolIp: string = inspect(`${PREFIX}-user-carol`).NetworkSettings.Networks[`${PREFIX}-users`].IPAddress;
        const hubIp: string = inspect(`${PREFIX}-hub`).NetworkSettings.Networks[`${PREFIX}-users`].IPAddress;
        // A service on the host that nobody published, on the users network's own address.
        const hostService = net.createServer((c) => c.end("host\n"));
        await new Promise<void>((r) => hostService.listen(0, gateway, r));
        const hostPort = (hostService.address() as net.AddressInfo).port;
        try {
            outsideUp();
            // Carol listens on a port of her own, besides her Jupyter server's 8888.
            await runInKernel("carol", state.carol!, "import subprocess; subprocess.Popen(['python3', '-m', 'http.server', '9999'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)");
            const targets: Array<[string, string, number]> = [
                ["carol-jupyter", carolIp, 8888],
                ["carol-9999", carolIp, 9999],
                ["host-service", gateway, hostPort],
                ["metadata", OUTSIDE.metadata, 80],
                ["internet", OUTSIDE.internet, 80],
                ["hub-api", hubIp, 8081],
            ];
            const alice = probeResults(await runInKernel("alice", state.alice!, probeCode(targets)));
            // Controls: the same targets answer whom the firewall lets through (the hub for
            // carol's ports and the host; a container off the users network for metadata).
            const hub = probeResults(docker(["exec", `${PREFIX}-hub`, "python3", "-c", probeCode(targets.slice(0, 3))]).stdout);
            const image = inspect(`${PREFIX}-user-alice`).Config.Image;
            const offUsers = probeResults(docker(["run", "--rm", "--network", testbed.network, "--entrypoint", "python3", image, "-c", probeCode([["metadata", OUTSIDE.metadata, 80]])]).stdout);
            console.log({ alice, hub, offUsers });
            assert.deepEqual(hub, { "carol-jupyter": "open", "carol-9999": "open", "host-service": "open" }, "the hub reaches carol's ports and the host (control)");
            assert.equal(offUsers.metadata, "open", "the metadata stand-in answers a container off the users network (control)");
            assert.deepEqual(alice, {
                "carol-jupyter": "firewalled",
                "carol-9999": "firewalled",
                "host-service": "firewalled",
                metadata: "firewalled",
                internet: "open",
                "hub-api": "open",
            });
            row("carol's Jupyter port (8888) directly", "refused (host unreachable; the hub reaches it)");
            row("a port carol opened herself (9999)", "refused (the hub reaches it)");
            row("a service on the Docker host, not published", "refused (the hub reaches it)");
            row("cloud metadata 169.254.169.254", "refused (a container off the users network reaches it)");
            row("an address outside the host (pip, git, a cluster)", "reached");
        } finally {
            hostService.close();
            outsideDown();
        }
    });

    step("4. a fork bomb in alice's server stops at its process bound; the hub and carol's server keep answering", async () => {
        const before = await responsiveness();
        // Bounded in count (2000 children) and time (the loop is killed after 15 s, each child
        // sleeps 10 s; bash retries refused forks, so the loop alone would last minutes).
        docker(["exec", "-d", "-u", "1000", `${PREFIX}-user-alice`, "timeout", "-s", "KILL", "15", "bash", "-c", "for i in $(seq 1 2000); do sleep 10 & done 2>/dev/null"]);
        await new Promise((r) => setTimeout(r, 5000));
        const during = await responsiveness();
        const pids = Number(pidsCgroup(`${PREFIX}-user-alice`, "pids.current"));
        const refusedForks = Number(/max (\d+)/.exec(pidsCgroup(`${PREFIX}-user-alice`, "pids.events"))?.[1] ?? 0);
        assert.ok(pids <= PIDS, `${pids} processes, more than the bound`);
        assert.ok(refusedForks > 0, "the bomb ran into the bound");
        console.log(`fork bomb: alice's server at ${pids} of ${PIDS} processes, ${refusedForks} forks refused; hub health ${before.hub} -> ${during.hub} ms, carol's server ${before.carol} -> ${during.carol} ms`);
        row("fork bomb (2000 children) in alice's server", `stopped at ${pids}/${PIDS} processes (${refusedForks} forks refused); hub ${during.hub} ms, carol ${during.carol} ms`);
        await waitFor("the bomb's children to end", async () => (Number(pidsCgroup(`${PREFIX}-user-alice`, "pids.current")) < 50 ? true : undefined), 90);
        assert.match(await runInKernel("alice", state.alice!, "print('ALIVE')"), /ALIVE/, "alice's server works again");
    });

    step("5. a memory hog in alice's server is killed inside it; her server, carol's and the hub go on", async () => {
        const hog = docker(["exec", "-u", "1000", `${PREFIX}-user-alice`, "python3", "-c", "b = b'x' * (3 * 1024 ** 3); print('ALLOCATED')"], { allowFailure: true });
        assert.notEqual(hog.status, 0, "3 GiB in a 1 GiB server");
        assert.doesNotMatch(hog.stdout, /ALLOCATED/);
        const after = await responsiveness();
        assert.ok(inspect(`${PREFIX}-user-alice`).State.Running, "alice's server runs on");
        assert.match(await runInKernel("alice", state.alice!, "print('ALIVE')"), /ALIVE/);
        row("3 GiB allocated in a 1 GiB server", `killed (exit ${hog.status}); hub ${after.hub} ms, carol ${after.carol} ms`);
    });

    step("6. bounds: a third running server and a second simultaneous start are refused with the hub's message", async () => {
        // admin logs in and takes a token, without a server.
        state.admin = await tokenWithoutServer("admin");
        const third = await hubRequest("POST", "/hub/api/users/admin/server", { token: state.admin });
        assert.equal(third.status, 429, third.body);
        assert.match(JSON.parse(third.body).message, /^Active user limit exceeded\. Try again in a few minutes\.$/);
        row("a third server with maxActiveServers 2", "refused at once (429, \"Active user limit exceeded\")");

        await stopServer("alice", state.alice!);
        await stopServer("carol", state.carol!);
        const [a, c] = await Promise.all([
            hubRequest("POST", "/hub/api/users/alice/server", { token: state.alice }),
            hubRequest("POST", "/hub/api/users/carol/server", { token: state.carol }),
        ]);
        const statuses = [a.status, c.status].sort();
        assert.equal(statuses[1], 429, `${a.status} ${a.body} / ${c.status} ${c.body}`);
        assert.ok([201, 202].includes(statuses[0]));
        const refused = a.status === 429 ? a : c;
        assert.match(JSON.parse(refused.body).message, /^Too many users trying to log in right now\. Try again in \d+ (seconds|minutes)\.$/);
        row("two starts at once with maxConcurrentSpawns 1", "second refused at once (429, \"Too many users trying to log in\")");
        const later = a.status === 429 ? "alice" : "carol";
        await startServer(later === "alice" ? "carol" : "alice", later === "alice" ? state.carol! : state.alice!);
        await startServer(later, later === "alice" ? state.alice! : state.carol!);
    });
});

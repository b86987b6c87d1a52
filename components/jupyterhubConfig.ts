// Renders jupyterhub_config.py from typed settings. Pure and deterministic: the same
// settings give the same bytes, and no secret is ever written into the file.
import { memoryBytes } from "../config";
import type { CommonConfig, KeycloakClient } from "../config";
import { dockerNames, labelMap, ROLES } from "./names";
import { env, py, PyExpr, PySet, PyValue } from "./pyLiteral";

/** Paths and names inside the hub container (the hub recipe's contract). */
export const HUB_PATHS = {
    config: "/srv/jupyterhub/jupyterhub_config.py",
    data: "/srv/jupyterhub/data",
    dockerSocket: "/var/run/docker.sock",
    // A tmpfs, empty at every container start: nothing of one container's run reaches the next.
    runtime: "/run/jupyterhub",
    // The entry point that checks the release and migrates the database (hub-start.py).
    start: "/srv/jupyterhub/hub-start.py",
    // Page templates over JupyterHub's own (templates/error.html).
    templates: "/srv/jupyterhub/templates",
    // Beside the config, which imports it (profiles, shared folders).
    spawnModule: "/srv/jupyterhub/pyiron_hub_spawn.py",
    // The service that reports activity of servers with running jobs.
    activityService: "/srv/jupyterhub/pyiron_hub_activity.py",
    // Shared folders as the hub mounts them, to give a new one to jovyan.
    shared: "/srv/jupyterhub/shared",
    // A swarm's storage (swarm.storagePath), where the hub makes homes and shared folders.
    storage: "/srv/jupyterhub/storage",
} as const;

/** The environment variables through which the hub gets its secrets. */
export const HUB_ENV = {
    dbUrl: "JUPYTERHUB_DB_URL",
    cookieSecret: "JPY_COOKIE_SECRET",
    cryptKey: "JUPYTERHUB_CRYPT_KEY",
    clientSecret: "OAUTH_CLIENT_SECRET",
    // The proxy reads the same variable (configurable-http-proxy's own name for it).
    proxyToken: "CONFIGPROXY_AUTH_TOKEN",
} as const;

/** The variable through which hub-start.py gets its settings (no secret). */
export const HUB_START_ENV = "PYIRON_HUB_START";

/** The variable through which user servers get the clusters (user-image/pyiron_hub_hpc.py). */
export const HPC_ENV = "PYIRON_HUB_HPC";

/**
 * The clusters as the start hook reads them: JSON with a fixed key order, so the
 * rendered file is deterministic. Holds no secret: host keys are public.
 */
export function hpcSettings(hpc: NonNullable<CommonConfig["hpc"]>): string {
    return JSON.stringify({
        clusters: hpc.clusters.map((c) => ({
            name: c.name,
            host: c.host,
            port: c.port,
            hostKeys: c.hostKeys,
            // Only when set, so a stack without jump hosts renders as before.
            ...(c.jumpHost ? { jumpHost: { host: c.jumpHost.host, port: c.jumpHost.port, hostKeys: c.jumpHost.hostKeys } } : {}),
            username: c.username,
            remotePath: c.remotePath,
            configDir: c.configDir,
            partitions: c.partitions.map((p) => ({
                name: p.name,
                cores: p.cores,
                runTime: p.runTime,
                memoryGB: p.memory === undefined ? null : Math.ceil(memoryBytes(p.memory) / 1024 ** 3),
            })),
        })),
    });
}

/** The proxy container's ports: where users' requests arrive, and its routing API. */
export const PROXY_PORTS = { public: 8000, api: 8001 } as const;
/** Port of the hub API that user servers call back to. */
export const HUB_API_PORT = 8081;
/** Home of the pyiron images' jovyan user, where each user's volume is mounted. */
export const USER_HOME = "/home/jovyan";

/** The stack config's keys that jupyterhub_config.py is made of, typed by the schema. */
export type RenderedKeys =
    | "namePrefix" | "images" | "memLimit" | "cpuLimit" | "pidsLimit" | "maxActiveServers" | "maxConcurrentSpawns" | "idleTimeout"
    | "admins" | "allowAll" | "allowedUsers" | "allowedGroups" | "hpc"
    | "profiles" | "sharedFolders" | "keepServersWithRunningJobs" | "extraConfig" | "swarm";

/** What jupyterhub_config.py is rendered from: those keys, plus what the deployment decides. */
export interface JupyterhubConfigInputs extends Pick<CommonConfig, RenderedKeys> {
    publicUrl: string;
    /** The endpoints of whichever Keycloak logs users in (production or trial). */
    keycloak: KeycloakClient;
}

type Section = Array<[string, PyValue]>;

// Seconds: a first pull of a multi-GB pyiron image or a cold JupyterLab start easily
// passes DockerSpawner's defaults (60 s / 30 s).
const START_TIMEOUT = 600;
// Above the hub's and the database's 0: under host memory pressure user servers go first.
export const USER_OOM_SCORE_ADJ = 500;
const HTTP_TIMEOUT = 300;
/** Seconds between two rounds of the idle culler. */
export const CULL_EVERY = 60;
/** The module beside the config with the spawn rules and a swarm's spawner (HUB_PATHS.spawnModule). */
const SPAWN_MODULE_NAME = "pyiron_hub_spawn";
/** The hub service that keeps servers with running jobs from being culled (pyiron_hub_activity.py). */
export const JOB_ACTIVITY_SERVICE = "job-activity";

/** The Keycloak end-session URL that brings the user back to the hub. */
export function logoutRedirectUrl(s: Pick<JupyterhubConfigInputs, "publicUrl" | "keycloak">): string {
    const q = new URLSearchParams({ client_id: s.keycloak.clientId, post_logout_redirect_uri: `${s.publicUrl}/hub/` });
    return `${s.keycloak.logoutUrl}?${q.toString()}`;
}

function hubSection(s: JupyterhubConfigInputs): Section {
    return [
        // Bounds that protect the host: JupyterHub refuses one more with a 429 and a message.
        ["active_server_limit", s.maxActiveServers],
        ["authenticator_class", "oauthenticator.generic.GenericOAuthenticator"],
        // Where the proxy container listens; TLS ends before it, at the front.
        ["bind_url", `http://0.0.0.0:${PROXY_PORTS.public}`],
        // Keep user servers running while the hub restarts for a config change.
        ["cleanup_servers", false],
        // How often the hub reads activity from the proxy and checks its routes: a proxy
        // restarted with an empty table (a crash) has every route back within a minute.
        ["last_activity_interval", 60],
        ["concurrent_spawn_limit", s.maxConcurrentSpawns],
        ["cookie_secret", new PyExpr(`bytes.fromhex(${env(HUB_ENV.cookieSecret).code})`)],
        ["db_url", env(HUB_ENV.dbUrl)],
        // User servers reach the hub API by the hub's container name.
        ["hub_connect_ip", dockerNames(s.namePrefix).hubContainer],
        ["hub_ip", "0.0.0.0"],
        ["hub_port", HUB_API_PORT],
        ["load_roles", [
            {
                name: "idle-culler",
                scopes: ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                services: ["idle-culler"],
            },
            ...(s.keepServersWithRunningJobs ? [{
                name: JOB_ACTIVITY_SERVICE,
                scopes: ["list:users", "read:servers", "admin:server_state", "users:activity"],
                services: [JOB_ACTIVITY_SERVICE],
            }] : []),
        ]],
        ["public_url", `${s.publicUrl}/`],
        ["services", [
            {
                name: "idle-culler",
                // Every minute, so a server goes within about a minute of its timeout.
                command: ["python3", "-m", "jupyterhub_idle_culler", `--timeout=${s.idleTimeout}`, `--cull-every=${CULL_EVERY}`],
            },
            ...(s.keepServersWithRunningJobs ? [{ name: JOB_ACTIVITY_SERVICE, command: ["python3", HUB_PATHS.activityService] }] : []),
        ]],
        // A swarm's spawner is the program's own, set where it is imported (swarmLines).
        ...(s.swarm ? [] : [["spawner_class", "dockerspawner.DockerSpawner"] as [string, PyValue]]),
        ["template_paths", [HUB_PATHS.templates]],
    ];
}

/** Thread-pool sizes of OpenMP, OpenBLAS and MKL for a server limited to `cpuLimit` CPUs. */
export function threadEnvironment(cpuLimit: number): Record<string, string> {
    const threads = String(Math.max(1, Math.ceil(cpuLimit)));
    return { MKL_NUM_THREADS: threads, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads };
}

function spawnerSection(s: JupyterhubConfigInputs): Section {
    const names = dockerNames(s.namePrefix);
    // No prototype: a label is a key like any other (the schema refuses odd ones too).
    const allowed: { [label: string]: string } = Object.create(null);
    for (const { label, image } of s.images) {
        allowed[label] = image;
    }
    return [
        // Insertion order is the order of the spawn form. With profiles, the spawn rules
        // decide per user (spawnRulesLines).
        ...(s.profiles.length === 0 ? [["allowed_images", allowed] as [string, PyValue]] : []),
        ["cpu_limit", s.cpuLimit],
        ["environment", {
            // Only with hpc: the clusters, for the start hook of the images' HPC layer.
            ...(s.hpc ? { [HPC_ENV]: hpcSettings(s.hpc) } : {}),
            // Numerical libraries size their thread pools to the host's cores, not to the
            // server's CPU limit: more threads than that only queue, and count against
            // pidsLimit. A user can still set other values in a notebook.
            ...threadEnvironment(s.cpuLimit),
        }],
        // Labels let `pulumi destroy` find the user servers it must stop.
        ["extra_create_kwargs", { labels: labelMap(s.namePrefix, ROLES.userServer) }],
        // A user's damage stays in their server: no capabilities (a notebook needs none),
        // no gain of privileges through set-uid files, a bound on processes, no swap beyond
        // the memory limit, and the host's OOM killer takes user servers before the hub.
        // An init reaps orphaned processes: zombies would count against the bound for good.
        // (A swarm's services take what they can of it in swarmLines.)
        ...(s.swarm ? [] : [["extra_host_config", {
            cap_drop: ["ALL"],
            init: true,
            memswap_limit: s.memLimit,
            oom_score_adj: USER_OOM_SCORE_ADJ,
            pids_limit: s.pidsLimit,
            security_opt: ["no-new-privileges:true"],
        }] as [string, PyValue]]),
        ["http_timeout", HTTP_TIMEOUT],
        ["image", s.images[0].image],
        ["mem_limit", s.memLimit],
        ["network_name", names.usersNetwork],
        ["notebook_dir", USER_HOME],
        ["prefix", names.userContainerPrefix],
        // A swarm's nodes hold every image already (components/swarmImages.ts).
        ["pull_policy", s.swarm ? "skip" : "ifnotpresent"],
        // The container goes, the home volume stays: the next spawn gets a fresh image.
        ["remove", true],
        ["start_timeout", START_TIMEOUT],
        ["use_internal_ip", true],
        ["volumes", { [names.homeVolume("{username}")]: USER_HOME }],
    ];
}

/** True when anything of the config depends on a user's Keycloak groups. */
export function usesGroups(s: Pick<JupyterhubConfigInputs, "allowedGroups" | "profiles" | "sharedFolders">): boolean {
    return s.allowedGroups.length > 0 || s.profiles.some((p) => p.groups) || s.sharedFolders.some((f) => f.groups);
}

/** Where the hub mounts a shared folder (to give a new one to jovyan). */
export function hubSharedPath(name: string): string {
    return `${HUB_PATHS.shared}/${name}`;
}

/**
 * Profiles and shared folders: the data SpawnRules (pyiron_hub_spawn.py) decides from, as
 * Python literals, and the hooks it provides. Nothing when the stack uses neither, so such
 * a stack renders as before.
 */
function spawnRulesLines(s: JupyterhubConfigInputs): string[] {
    if (s.profiles.length === 0 && s.sharedFolders.length === 0) {
        return [];
    }
    const names = dockerNames(s.namePrefix);
    const images: { [label: string]: string } = Object.create(null);
    for (const { label, image } of s.images) {
        images[label] = image;
    }
    const profiles: PyValue = s.profiles.length === 0 ? null : s.profiles.map((p) => {
        const cpu = p.cpuLimit ?? s.cpuLimit;
        return {
            name: p.name,
            groups: p.groups ?? null,
            images: p.images,
            mem_limit: p.memLimit ?? s.memLimit,
            cpu_limit: cpu,
            environment: threadEnvironment(cpu),
        };
    });
    const folders: PyValue = s.sharedFolders.map((f) => ({
        volume: names.sharedVolume(f.name),
        path: f.mountPath,
        read_only: f.readOnly,
        groups: f.groups ?? null,
    }));
    const lines = [
        "",
        "# Profiles by Keycloak group and shared folders: pyiron_hub_spawn.py, beside this file",
        ...(s.swarm ? [] : SPAWN_MODULE_PATH),
        `from ${SPAWN_MODULE_NAME} import SpawnRules`,
        "",
        "spawn_rules = SpawnRules(",
        `    images=${py(images)},`,
        `    profiles=${py(profiles)},`,
        `    shared_folders=${py(folders)},`,
        ")",
    ];
    if (s.profiles.length > 0) {
        lines.push(
            "c.DockerSpawner.allowed_images = spawn_rules.allowed_images",
            "c.DockerSpawner.options_form = spawn_rules.options_form",
        );
    }
    lines.push("c.Spawner.pre_spawn_hook = spawn_rules.pre_spawn_hook");
    return lines;
}

/** The config finds the spawn module beside it. */
const SPAWN_MODULE_PATH = ["import sys", "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))"];

/**
 * A swarm: user servers as services on the nodes the placement allows, reached by name on
 * the overlay (DNS round robin: no virtual IP, which needs IPVS on every node), with what a
 * service takes of the one-host bounds, and volumes in the storage every node mounts.
 */
function swarmLines(s: JupyterhubConfigInputs): string[] {
    if (!s.swarm) {
        return [];
    }
    return [
        "",
        "# A swarm: user servers as services on its nodes, their volumes in storage every node mounts",
        ...SPAWN_MODULE_PATH,
        `from ${SPAWN_MODULE_NAME} import PyironSwarmSpawner`,
        "c.JupyterHub.spawner_class = PyironSwarmSpawner",
        ...emit("PyironSwarmSpawner", "Bounds a service takes, where it may run, where its volumes live", [
            // No capabilities; an init reaps orphaned processes. Swarm services take no
            // oom_score_adj, swap bound or no-new-privileges (README, Several hosts).
            ["extra_container_spec", { cap_drop: ["ALL"], init: true }],
            ["extra_endpoint_spec", { mode: "dnsrr" }],
            ["extra_placement_spec", { constraints: s.swarm.placement }],
            ["hub_storage_path", HUB_PATHS.storage],
            ["pids_limit", s.pidsLimit],
            ["storage_path", s.swarm.storagePath],
        ]).slice(1),
    ];
}

/** The admin's own Python, after everything generated, in a section of its own. */
function extraConfigLines(s: JupyterhubConfigInputs): string[] {
    if (s.extraConfig === undefined || s.extraConfig.trim() === "") {
        return [];
    }
    return [
        "",
        "# ---- extraConfig: written by the hub's admins in the stack config, not generated ----",
        ...s.extraConfig.split("\n"),
        "# ---- end of extraConfig ----",
    ];
}

function authenticatorSection(s: JupyterhubConfigInputs): Section {
    return [
        ["admin_users", new PySet(s.admins)],
        // Keycloak is the only way in: skip the hub's own "Sign in with" page.
        ["auto_login", true],
        ["enable_auth_state", true],
    ];
}

function oauthSection(s: JupyterhubConfigInputs): Section {
    const lines: Section = [
        ["authorize_url", s.keycloak.authorizeUrl],
        ["client_id", s.keycloak.clientId],
        ["client_secret", env(HUB_ENV.clientSecret)],
        ["enable_pkce", true],
        ["login_service", "Keycloak"],
        ["logout_redirect_url", logoutRedirectUrl(s)],
        ["oauth_callback_url", s.keycloak.callbackUrl],
        ["refresh_user_hook", new PyExpr("keep_login_while_keycloak_is_down")],
        ["scope", ["openid", "profile", "email"]],
        ["token_url", s.keycloak.tokenUrl],
        ["userdata_url", s.keycloak.userdataUrl],
        ["username_claim", "preferred_username"],
        ["validate_server_cert", true],
    ];
    if (s.allowAll) {
        lines.push(["allow_all", true]);
    }
    if (s.allowedUsers.length > 0) {
        lines.push(["allowed_users", new PySet(s.allowedUsers)]);
    }
    if (s.allowedGroups.length > 0) {
        lines.push(["allowed_groups", new PySet(s.allowedGroups)]);
    }
    if (usesGroups(s)) {
        lines.push(
            // Keycloak sends "/group" when "full group path" is on; compare without it.
            ["auth_state_groups_key", new PyExpr('lambda auth_state: [g.lstrip("/") for g in auth_state["oauth_user"].get("groups", [])]')],
            ["manage_groups", true],
            // Groups as Keycloak has them now, not as at the last login, decide each spawn.
            ["refresh_pre_spawn", true],
        );
    }
    return lines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * OAuthenticator refreshes each login through Keycloak every 5 minutes (auth_refresh_age);
 * with Keycloak unreachable that refresh raises, and the hub then refuses every request of
 * the user, to the running server too. This hook keeps a login that was valid while
 * Keycloak cannot be reached at all; a Keycloak that answers decides as usual.
 */
const KEYCLOAK_DOWN_HOOK = [
    "",
    "# Keycloak unreachable: keep logins as they are, so running servers stay usable.",
    "async def keep_login_while_keycloak_is_down(authenticator, user, auth_state):",
    "    import asyncio",
    "    import urllib.parse",
    "    url = urllib.parse.urlsplit(authenticator.userdata_url)",
    "    port = url.port or (443 if url.scheme == \"https\" else 80)",
    "    try:",
    "        _, writer = await asyncio.wait_for(asyncio.open_connection(url.hostname, port), 5)",
    "        writer.close()",
    "        return None  # reachable: OAuthenticator refreshes the login",
    "    except (OSError, asyncio.TimeoutError) as e:",
    "        authenticator.log.warning(\"Keycloak at %s:%s unreachable (%s): %s keeps the current login\", url.hostname, port, e, user.name)",
    "        return True",
];

function emit(cls: string, comment: string, section: Section): string[] {
    return [``, `# ${comment}`, ...section.map(([trait, value]) => `c.${cls}.${trait} = ${py(value)}`)];
}

/** The full jupyterhub_config.py. */
export function renderJupyterhubConfig(s: JupyterhubConfigInputs): string {
    if (s.images.length === 0) {
        throw new Error("at least one image is needed");
    }
    const lines = [
        "# Generated by pyiron-jupyterhub from the Pulumi stack config: do not edit here.",
        "# Change the stack config and run `pulumi up`. Secrets come from the environment.",
        "import os",
        "",
        "c = get_config()  # noqa: F821",
        ...emit("JupyterHub", "Hub: database, user servers that outlive a hub restart, idle culler", hubSection(s)),
        ...emit("ConfigurableHTTPProxy", "The proxy runs in a container of its own and keeps routing while the hub restarts", [
            ["api_url", `http://${dockerNames(s.namePrefix).proxyContainer}:${PROXY_PORTS.api}`],
            ["auth_token", env(HUB_ENV.proxyToken)],
            ["should_start", false],
        ]),
        ...emit("Spawner", "Every user server opens JupyterLab", [["default_url", "/lab"]]),
        ...emit("DockerSpawner", "User servers: image choice, limits, network and home volume", spawnerSection(s)),
        ...emit("Authenticator", "Admins; auth state is encrypted with JUPYTERHUB_CRYPT_KEY", authenticatorSection(s)),
        ...KEYCLOAK_DOWN_HOOK,
        ...emit("GenericOAuthenticator", "Keycloak login and who may log in", oauthSection(s)),
        ...swarmLines(s),
        ...spawnRulesLines(s),
        ...extraConfigLines(s),
    ];
    return lines.join("\n") + "\n";
}

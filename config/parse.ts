// Cross-field rules and the pure parser: raw stack config in, a typed config or a
// ConfigError listing every problem out. No I/O.
import { z } from "zod";
import { realmEndpoints } from "./keycloak";
import { dockerNames } from "../components/names";
import { ConfigError, describeIssue, rmCommand, setCommand } from "./messages";
import { CLIENT_SECRET_KEY, configSchema, trialConfigSchema } from "./schema";
import { CommonConfig, ParsedConfig, ProductionConfig, TrialConfig } from "./types";

function check<S extends z.ZodType>(schema: S, raw: Record<string, unknown>, mode: "production" | "trial", problems: string[]): z.output<S> {
    const result = schema.safeParse(raw, { reportInput: true });
    if (!result.success) {
        throw new ConfigError([...problems, ...result.error.issues.flatMap((i) => describeIssue(i, mode))]);
    }
    return result.data;
}

/** Rules both modes share: networks the hub joins, build args only where they are used. */
function commonRules(c: CommonConfig, problems: string[]) {
    const own = dockerNames(c.namePrefix);
    for (const [i, n] of c.hubExtraNetworks.entries()) {
        if ([own.usersNetwork, own.databaseNetwork, own.keycloakNetwork].includes(n)) {
            problems.push(`hubExtraNetworks[${i}]: ${JSON.stringify(n)} is one of this stack's own networks, which the hub joins already. Fix: ${rmCommand(`hubExtraNetworks[${i}]`)}`);
        }
    }
    if (c.hubImage !== undefined && Object.keys(c.hubBuildArgs).length > 0) {
        problems.push(`hubBuildArgs: is only used to build the hub recipe, and hubImage names a prebuilt image. Fix: ${rmCommand("hubBuildArgs")}, or: ${rmCommand("hubImage")}`);
    }
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
    if (trial.port === trial.keycloakPort) {
        problems.push(`trial.keycloakPort: is the hub's port too. Fix: pulumi config set --path trial.keycloakPort ${trial.port === 8180 ? 8181 : 8180}`);
    }
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { ...common, mode: "trial", trial, publicUrl: `http://localhost:${trial.port}` };
}

function parseProduction(raw: Record<string, unknown>): ProductionConfig {
    const problems: string[] = [];
    const { mode: _, [CLIENT_SECRET_KEY]: clientSecret, keycloak: k, ...rest } = check(configSchema, raw, "production", problems);
    loginRules(rest, problems);
    commonRules(rest, problems);
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
    for (const name of ["realmUrl", "authorizeUrl", "tokenUrl", "userdataUrl", "logoutUrl"] as const) {
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
    return { ...rest, mode: "production", keycloak, clientSecret };
}

/**
 * Validates raw stack config (keys without the project prefix, values as Pulumi hands
 * them over: strings, or parsed JSON for objects and lists). Pure: no I/O.
 */
export function parseConfig(raw: Record<string, unknown>): ParsedConfig {
    return raw.mode === "trial" ? parseTrial(raw) : parseProduction(raw);
}

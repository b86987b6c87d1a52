// Keycloak's OpenID Connect endpoints, in one table: the config derives them from a
// realm URL, the trial Keycloak from its own, and the migration reads them back.

/** The endpoint each authenticator setting points at, under `<realm>/protocol/openid-connect/`. */
export const OIDC_ENDPOINTS = {
    authorizeUrl: "auth",
    tokenUrl: "token",
    userdataUrl: "userinfo",
    logoutUrl: "logout",
} as const;

export type EndpointName = keyof typeof OIDC_ENDPOINTS;
export const OIDC_PATH = "/protocol/openid-connect/";

/** Every endpoint of a realm (Keycloak 17+ URLs: no `/auth` prefix is added). */
export function realmEndpoints(realmUrl: string): Record<EndpointName, string> {
    const out = {} as Record<EndpointName, string>;
    for (const [name, path] of Object.entries(OIDC_ENDPOINTS) as Array<[EndpointName, string]>) {
        out[name] = `${realmUrl}${OIDC_PATH}${path}`;
    }
    return out;
}

/** The realm URL of an endpoint URL, if it has Keycloak's shape for that endpoint. */
export function realmOf(url: string, endpoint: EndpointName): string | undefined {
    const suffix = `${OIDC_PATH}${OIDC_ENDPOINTS[endpoint]}`;
    return url.endsWith(suffix) ? url.slice(0, -suffix.length) : undefined;
}

/** The endpoints and client the hub's authenticator uses. */
export interface KeycloakClient extends Record<EndpointName, string> {
    clientId: string;
    callbackUrl: string;
}

// The realm a trial stack imports into its bundled Keycloak (the test bed loads the
// same into its own): one confidential client for the hub, a groups claim, and the
// users. Pure; the caller keeps the result secret, since it holds the client secret
// and the users' passwords.

export const TRIAL_REALM = "pyiron";
export const TRIAL_CLIENT_ID = "jupyterhub";

export interface TrialRealmArgs {
    /** The hub's public URL, e.g. http://localhost:8000 */
    hubUrl: string;
    clientSecret: string;
    users: ReadonlyArray<{ username: string; password: string; groups?: readonly string[] }>;
    /** Groups of the realm (none by default). */
    groups?: readonly string[];
    /** Put Keycloak's full group paths ("/name") into the claim, as some realms do. */
    fullGroupPath?: boolean;
}

export function trialRealm(args: TrialRealmArgs): object {
    return {
        realm: TRIAL_REALM,
        enabled: true,
        // A trial on one machine: no e-mail round trips, no password rules to trip over.
        registrationAllowed: false,
        clients: [
            {
                clientId: TRIAL_CLIENT_ID,
                protocol: "openid-connect",
                publicClient: false,
                secret: args.clientSecret,
                standardFlowEnabled: true,
                directAccessGrantsEnabled: false,
                redirectUris: [`${args.hubUrl}/hub/oauth_callback`],
                webOrigins: [args.hubUrl],
                attributes: { "post.logout.redirect.uris": `${args.hubUrl}/*` },
                protocolMappers: [
                    {
                        name: "groups",
                        protocol: "openid-connect",
                        protocolMapper: "oidc-group-membership-mapper",
                        config: {
                            "claim.name": "groups",
                            "full.path": String(args.fullGroupPath ?? false),
                            "id.token.claim": "true",
                            "access.token.claim": "true",
                            "userinfo.token.claim": "true",
                        },
                    },
                ],
            },
        ],
        groups: (args.groups ?? []).map((name) => ({ name })),
        users: args.users.map(({ username, password, groups }) => ({
            username,
            enabled: true,
            email: `${username}@trial.localhost`,
            emailVerified: true,
            firstName: username,
            lastName: "Trial",
            credentials: [{ type: "password", value: password, temporary: false }],
            groups: (groups ?? []).map((g) => `/${g}`),
        })),
    };
}

import * as pulumi from "@pulumi/pulumi";
import type { KeycloakClient, StackConfig } from "../config";
import { TrialKeycloak } from "./trialKeycloak";

/** Who logs users in: the only thing that differs between a production and a trial stack. */
export interface Identity {
    /** The endpoints and client id the hub's authenticator uses. */
    client: KeycloakClient;
    /** The client's secret, handed to the hub through its environment only. */
    clientSecret: pulumi.Input<string>;
    /** Networks the hub must join to reach this Keycloak. */
    networks: pulumi.Input<string>[];
}

/**
 * A production stack's identity comes from its config; a trial stack's from the
 * Keycloak it brings along, which is returned too for the stack outputs.
 */
export function identityFor(config: StackConfig): { identity: Identity; trial?: TrialKeycloak } {
    if (config.mode === "production") {
        return { identity: { client: config.keycloak, clientSecret: config.clientSecret, networks: [] } };
    }
    const trial = new TrialKeycloak("trial-keycloak", {
        namePrefix: config.namePrefix,
        image: config.trial.keycloakImage,
        port: config.trial.keycloakPort,
        hubUrl: config.publicUrl,
        usernames: [...new Set([...config.admins, ...config.trial.users])],
    });
    return { identity: trial.identity, trial };
}

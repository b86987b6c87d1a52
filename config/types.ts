// The types of the validated config, derived from the schema: one declaration each.
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { KeycloakClient } from "./keycloak";
import type { CLIENT_SECRET_KEY, configSchema, trialSchema } from "./schema";

/** Documentation attached to every field; the README table is rendered from it. */
export interface FieldDoc {
    /** Why the key exists and what it does. */
    description: string;
    /** The type as a user types it in `pulumi config set`. */
    type: string;
    /** A value that works, used in "how to fix" hints. */
    example: string;
    /** Set with `--path` (objects and lists). */
    path?: boolean;
    /** The default as the docs state it, where it depends on the mode. */
    defaultText?: string;
}

/** Where a production hub's certificate comes from. */
export type TlsSource =
    | { kind: "files"; keyPath: string; certPath: string }
    | { kind: "acme"; email: string; directory: string; caRoot?: string };

/** The keys both modes share, validated and with defaults applied. */
export type CommonConfig = Omit<
    z.output<typeof configSchema>,
    "mode" | "publicUrl" | "tls" | "keycloak" | typeof CLIENT_SECRET_KEY
>;

/**
 * A production stack: your Keycloak, your certificate. `Secret` is the client secret's
 * form: a string where the config is parsed, a secret Output once it is loaded.
 */
export interface ProductionConfig<Secret = string> extends CommonConfig {
    mode: "production";
    publicUrl: string;
    tls: TlsSource;
    keycloak: KeycloakClient & { realmUrl: string; allowInsecureHttp: boolean };
    clientSecret: Secret;
}

/** A trial stack: a bundled Keycloak and plain HTTP on loopback. */
export interface TrialConfig extends CommonConfig {
    mode: "trial";
    /** http://localhost:<trial.port> */
    publicUrl: string;
    trial: z.output<typeof trialSchema>;
}

/** Config as the pure parser returns it: validated, defaults applied, endpoints derived. */
export type ParsedConfig = ProductionConfig<string> | TrialConfig;

/** Config as the program sees it: the client secret is a secret Output from the read on. */
export type StackConfig = ProductionConfig<pulumi.Output<string>> | TrialConfig;

// The stack config: schema (with docs), types, reference, messages, parser and loader,
// one module each. Everything else imports from here.
export { configReference, ReferenceRow } from "./reference";
export { KeycloakClient, OIDC_ENDPOINTS, OIDC_PATH, realmEndpoints, realmOf } from "./keycloak";
export { dockerHost, loadConfig, projectKeys } from "./load";
export { HUB_VERSION_NAMES, HUB_VERSIONS, HubVersion, hubVersionOfRevision } from "./hubVersions";
export { ConfigError, rmCommand, setCommand, show, showKey } from "./messages";
export { commandLine, pulumiCommand, shellWord } from "./shell";
export { parseConfig } from "./parse";
export { BOUNDS, canonicalUrl, CLIENT_SECRET_KEY, configSchema, CONTROL, DEFAULT_IMAGES, memoryBytes, PROJECT, RETIRED_IMAGES, trialConfigSchema } from "./schema";
export { CommonConfig, FieldDoc, ParsedConfig, ProductionConfig, StackConfig, TlsSource, TrialConfig } from "./types";

// Pulumi mocks that record every registered resource with the options a user relies
// on (dependencies, retain-on-delete, delete-before-replace). Unknown resource types and
// any provider function call fail the test.
import * as pulumi from "@pulumi/pulumi";

/** Values the mocked random provider returns; a test looks for them in plain outputs. */
export const MOCK_SECRETS = {
    password: "mockDbPassword0123456789abcdefXYZ",
    cookie: "c0".repeat(32),
    crypt: "cc".repeat(32),
} as const;

export interface Recorded {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    inputs: Record<string, any>;
    dependencies: string[];
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when a recorded input value is marked secret. */
export function isSecret(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** The value inside a secret marker (or the value itself). */
export function reveal<T = any>(value: unknown): T {
    return (isSecret(value) ? (value as { value: unknown }).value : value) as T;
}

const KNOWN_TYPES = new Set([
    "docker:index/network:Network",
    "docker:index/volume:Volume",
    "docker:index/container:Container",
    "docker:index/remoteImage:RemoteImage",
    "random:index/randomPassword:RandomPassword",
    "random:index/randomBytes:RandomBytes",
    "pulumi-nodejs:dynamic:Resource",
]);

function state(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case "docker:index/remoteImage:RemoteImage":
            return { ...inputs, imageId: `sha256:${reveal<string>(inputs.name)}` };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: MOCK_SECRETS.password };
        case "random:index/randomBytes:RandomBytes":
            return { ...inputs, hex: name.includes("cookie") ? MOCK_SECRETS.cookie : MOCK_SECRETS.crypt };
        default:
            return inputs;
    }
}

/** Installs the mocks; the returned list fills as resources register. */
export function installMocks(config: Record<string, string>, secretKeys: string[]): Recorded[] {
    const recorded: Recorded[] = [];
    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                if (!args.custom) {
                    return { id: undefined, state: {} };
                }
                if (!KNOWN_TYPES.has(args.type)) {
                    throw new Error(`unexpected resource type ${args.type} (${args.name})`);
                }
                return { id: `${args.name}-id`, state: state(args.type, args.name, args.inputs) };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                throw new Error(`unexpected provider call ${args.token}`);
            },
        },
        "pyiron-jupyterhub",
        "test",
        false,
    );
    pulumi.runtime.setAllConfig(config, secretKeys);
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        register(req, (err: any, res: any) => {
            if (!err) {
                recorded.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: res.getUrn(),
                    custom: req.getCustom(),
                    inputs: pulumi.runtime.deserializeProperties(req.getObject()),
                    dependencies: req.getDependenciesList(),
                    retainOnDelete: req.getRetainondelete(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                });
            }
            callback(err, res);
        });
    };
    return recorded;
}

/** Resolves once an output has its value (mock outputs always do). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

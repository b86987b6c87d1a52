// Pulumi mocks that record every registered resource with the options a user relies
// on (dependencies, retain-on-delete, delete-before-replace). Unknown resource types and
// any provider function call fail the test.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * The value the mocked random provider gives the resource of that name: distinct per
 * resource and recognisable, so a test can tell which secret reached which input.
 */
export function mockSecret(resourceName: string): string {
    const digest = crypto.createHash("sha256").update(resourceName).digest("hex");
    return `mock${resourceName.replace(/[^A-Za-z0-9]/g, "")}${digest.slice(0, 8)}`;
}

/** The hex a mocked RandomBytes of that name gives (hex, like the real one). */
export function mockHex(resourceName: string): string {
    return crypto.createHash("sha256").update(`bytes:${resourceName}`).digest("hex");
}

/** Every secret value the mocks handed out so far, by resource name. */
export const mockedSecrets = new Map<string, string>();

export interface Recorded {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    inputs: Record<string, any>;
    dependencies: string[];
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    replaceOnChanges: string[];
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
            mockedSecrets.set(name, mockSecret(name));
            return { ...inputs, result: mockSecret(name) };
        case "random:index/randomBytes:RandomBytes":
            mockedSecrets.set(name, mockHex(name));
            return { ...inputs, hex: mockHex(name) };
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
                    replaceOnChanges: req.getReplaceonchangesList(),
                });
            }
            callback(err, res);
        });
    };
    return recorded;
}

/** Resolves once every registration and output the program started has settled. */
export async function settled(): Promise<void> {
    // Internal to the SDK (the runtime drains the same queue before it disconnects).
    const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
    if (!wait) {
        throw new Error("@pulumi/pulumi no longer exposes runtime.waitForRPCs; update test/mocks.ts");
    }
    await wait();
}

/**
 * Runs the whole program (index.ts) once more with this stack config and returns what
 * it registered. Mocks must be installed; `recorded` is the list installMocks returned.
 */
export async function runProgram(recorded: Recorded[], config: Record<string, string>, secretKeys: string[]): Promise<Recorded[]> {
    recorded.length = 0;
    pulumi.runtime.setAllConfig(config, secretKeys);
    const index = require.resolve("../index");
    delete require.cache[index];
    require(index);
    await settled();
    return recorded.splice(0);
}

/** The one resource of that type and name; fails the test listing what there is. */
export function one(recorded: Recorded[], type: string, name: string): Recorded {
    const found = recorded.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${recorded.map((r) => r.name).join(", ")}`);
    }
    return found[0];
}

/** Resolves once an output has its value (mock outputs always do). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

// The virtualenvs test/setup-python.sh makes: one per JupyterHub release of the hub recipe.
import * as os from "node:os";
import * as path from "node:path";
import { HubVersion } from "../config";

const BASE = process.env.PYIRON_HUB_VENVS ?? path.join(os.homedir(), ".cache", "pyiron-jupyterhub");

/** The Python with the hub's exact packages of a release (default: the stack default's). */
export function hubPython(version: HubVersion = "5.5"): string {
    return path.join(BASE, `venv-${version}`, "bin", "python");
}

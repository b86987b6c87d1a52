// Docker labels on everything this project creates, so that an admin can list it with
// `docker ps --filter label=org.pyiron-jupyterhub.deployment=<namePrefix>`.
import { DEPLOYMENT_LABEL, ROLE_LABEL } from "./hubConfig";

export function deploymentLabels(namePrefix: string, role: string): Array<{ label: string; value: string }> {
    return [
        { label: DEPLOYMENT_LABEL, value: namePrefix },
        { label: ROLE_LABEL, value: role },
    ];
}

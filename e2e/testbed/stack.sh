#!/usr/bin/env bash
# Step 6: the test stack. Its config (Pulumi.testbed.yaml, not tracked by git) points
# the program at the test bed's images, Keycloak and certificate. Written anew each
# time, so a run starts from known config; the stack's encryption salt is kept.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
tb() { node -p "require('$E2E_DIR/testbed.json').$1"; }
stack=$(tb stack)
file="$PROJECT_DIR/Pulumi.$stack.yaml"
hub="https://$(tb hub.host):$(tb hub.port)"
realm="http://$(tb keycloak.host):$(tb keycloak.port)/realms/$(tb keycloak.realm)"

# The keys the test stack and the HPC stack share: the test bed's hub, Keycloak and TLS.
production_keys() {
    cat <<YAML
  pyiron-jupyterhub:publicUrl: $hub
  pyiron-jupyterhub:httpsPort: "$(tb hub.port)"
  pyiron-jupyterhub:httpPort: "$(tb hub.httpPort)"
  pyiron-jupyterhub:bindAddress: 127.0.0.1
  pyiron-jupyterhub:tls:
    keyPath: $TESTBED_DIR/tls/hub.key
    certPath: $TESTBED_DIR/tls/hub.crt
  pyiron-jupyterhub:keycloak:
    realmUrl: $realm
    clientId: $(tb keycloak.clientId)
    allowInsecureHttp: true
  pyiron-jupyterhub:hubExtraNetworks:
    - $(tb network)
  pyiron-jupyterhub:admins:
    - admin
YAML
}
hub_keys() {
    cat <<YAML
  pyiron-jupyterhub:memLimit: 1G
  pyiron-jupyterhub:cpuLimit: "0.5"
  pyiron-jupyterhub:postgresImage: postgres:15
  pyiron-jupyterhub:hubBuildArgs:
    PIP_ARGS: --no-index
YAML
}

cd "$PROJECT_DIR"
pulumi stack select --create "$stack" --non-interactive >/dev/null
salt=$(grep '^encryptionsalt:' "$file" || true)
cat >"$file" <<YAML
${salt}
config:
$(production_keys)
  pyiron-jupyterhub:allowedUsers:
    - alice
  pyiron-jupyterhub:allowedGroups:
    - pyiron-users
  pyiron-jupyterhub:images:
    - label: pyiron_base
      image: pyiron/base:$(tb pyironTag)
    - label: pyiron_atomistics
      image: pyiron/pyiron:$(tb pyironTag)
    - label: pyiron_md
      image: pyiron/md:$(tb pyironTag)
$(hub_keys)
YAML
pulumi config set --stack "$stack" --secret keycloakClientSecret "$(tb keycloak.clientSecret)"
log "test stack $stack: $file"

# The trial stack, as Pulumi.trial.yaml ships it, on the test bed's images.
trial_stack=$(tb trial.stack)
trial_file="$PROJECT_DIR/Pulumi.$trial_stack.yaml"
pulumi stack select --create "$trial_stack" --non-interactive >/dev/null
trial_salt=$(grep '^encryptionsalt:' "$trial_file" || true)
cat >"$trial_file" <<YAML
${trial_salt}
config:
  pyiron-jupyterhub:mode: trial
  pyiron-jupyterhub:namePrefix: $(tb trial.namePrefix)
  pyiron-jupyterhub:trial:
    port: "$(tb trial.hubPort)"
    keycloakPort: "$(tb trial.keycloakPort)"
    keycloakImage: quay.io/keycloak/keycloak:$KEYCLOAK_VERSION
  pyiron-jupyterhub:images:
    - label: pyiron_base
      image: pyiron/base:$(tb pyironTag)
    - label: pyiron_atomistics
      image: pyiron/pyiron:$(tb pyironTag)
  pyiron-jupyterhub:postgresImage: postgres:15
  pyiron-jupyterhub:hubBuildArgs:
    PIP_ARGS: --no-index
YAML
# The HPC stack: the test stack's hub, other names, the pyiron_base stand-in only, and
# the test bed's SLURM cluster with the login node's host key pinned.
hpc_stack=$(tb hpc.stack)
hpc_file="$PROJECT_DIR/Pulumi.$hpc_stack.yaml"
pulumi stack select --create "$hpc_stack" --non-interactive >/dev/null
hpc_salt=$(grep '^encryptionsalt:' "$hpc_file" || true)
login=$(tb cluster.login)
host_key=$(docker exec "$login" cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)
cat >"$hpc_file" <<YAML
${hpc_salt}
config:
  pyiron-jupyterhub:namePrefix: $(tb hpc.namePrefix)
$(production_keys)
  pyiron-jupyterhub:allowedUsers:
    - alice
    - bob
  pyiron-jupyterhub:images:
    - label: pyiron_base
      image: pyiron/base:$(tb pyironTag)
$(hub_keys)
  pyiron-jupyterhub:hpc:
    pipArgs: --no-index
    clusters:
      - name: $(tb hpc.cluster)
        host: $login
        hostKeys:
          - $host_key
        partitions:
          - name: $(tb cluster.partition)
            cores: 1
            runTime: 600
YAML
pulumi config set --stack "$hpc_stack" --secret keycloakClientSecret "$(tb keycloak.clientSecret)"
pulumi stack select "$stack" --non-interactive >/dev/null
log "trial stack $trial_stack: $trial_file; HPC stack $hpc_stack: $hpc_file"

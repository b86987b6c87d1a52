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

cd "$PROJECT_DIR"
pulumi stack select --create "$stack" --non-interactive >/dev/null
salt=$(grep '^encryptionsalt:' "$file" || true)
cat >"$file" <<YAML
${salt}
config:
  pyiron-jupyterhub:publicUrl: $hub
  pyiron-jupyterhub:httpsPort: "$(tb hub.port)"
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
  pyiron-jupyterhub:memLimit: 1G
  pyiron-jupyterhub:cpuLimit: "0.5"
  pyiron-jupyterhub:postgresImage: postgres:15
  pyiron-jupyterhub:hubBuildArgs:
    PIP_ARGS: --no-index
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
pulumi stack select "$stack" --non-interactive >/dev/null
log "trial stack $trial_stack: $trial_file"

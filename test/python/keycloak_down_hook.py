"""Calls the generated config's refresh_user_hook through a real GenericOAuthenticator.

Prints the hook's answer as JSON. Usage: keycloak_down_hook.py CONFIG_FILE
"""
import asyncio
import json
import os
import sys
from types import SimpleNamespace

from traitlets.config import PyFileConfigLoader

from oauthenticator.generic import GenericOAuthenticator

os.environ.setdefault("JUPYTERHUB_DB_URL", "postgresql://jupyterhub:x@db:5432/jupyterhub")
os.environ.setdefault("JPY_COOKIE_SECRET", "00" * 32)
os.environ.setdefault("JUPYTERHUB_CRYPT_KEY", "00" * 32)
os.environ.setdefault("OAUTH_CLIENT_SECRET", "not-a-secret")
os.environ.setdefault("CONFIGPROXY_AUTH_TOKEN", "11" * 32)

directory, name = os.path.split(os.path.abspath(sys.argv[1]))
authenticator = GenericOAuthenticator(config=PyFileConfigLoader(name, path=directory).load_config())
hook = authenticator.refresh_user_hook
answer = asyncio.run(hook(authenticator, SimpleNamespace(name="alice"), {"token_response": {}}))
print(json.dumps(answer))

"""Load a generated jupyterhub_config.py with the hub's real packages.

Fails (exit 1) on any section or key that the configured classes do not define, and
on any value their traits reject. Usage: check_hub_config.py CONFIG_FILE
"""
import os
import sys
from types import SimpleNamespace

from traitlets import TraitError
from traitlets.config import Config, PyFileConfigLoader

from dockerspawner import DockerSpawner
from jupyterhub.app import JupyterHub
from jupyterhub.auth import Authenticator
from jupyterhub.proxy import ConfigurableHTTPProxy
from jupyterhub.spawner import Spawner
from oauthenticator.generic import GenericOAuthenticator

CLASSES = {c.__name__: c for c in (JupyterHub, ConfigurableHTTPProxy, Spawner, DockerSpawner, Authenticator, GenericOAuthenticator)}

# The hub gets its secrets from the environment; the config only reads them.
os.environ.setdefault("JUPYTERHUB_DB_URL", "postgresql://jupyterhub:x@db:5432/jupyterhub")
os.environ.setdefault("JPY_COOKIE_SECRET", "00" * 32)
os.environ.setdefault("JUPYTERHUB_CRYPT_KEY", "00" * 32)
os.environ.setdefault("OAUTH_CLIENT_SECRET", "not-a-secret")
os.environ.setdefault("CONFIGPROXY_AUTH_TOKEN", "11" * 32)


def problems_of(path):
    directory, name = os.path.split(os.path.abspath(path))
    config = PyFileConfigLoader(name, path=directory).load_config()
    problems = []
    for section, values in config.items():
        cls = CLASSES.get(section)
        if cls is None:
            problems.append(f"c.{section}: not a class this hub configures")
            continue
        traits = cls.class_traits(config=True)
        for key in values:
            if key not in traits:
                problems.append(f"c.{section}.{key}: {section} has no such configurable trait")
            elif traits[key].metadata.get("deprecated") or "deprecated" in (traits[key].help or "").lower()[:80]:
                problems.append(f"c.{section}.{key}: deprecated")
    if problems:
        return problems
    # Instantiate with the config so that every trait validates its value.
    for name, cls in CLASSES.items():
        try:
            kwargs = {"user": SimpleNamespace(name="checker", id=1, url="/user/checker/")} if issubclass(cls, Spawner) else {}
            obj = cls(config=Config(config), **kwargs)
            for key in config.get(name, {}):
                getattr(obj, key)
        except TraitError as e:
            problems.append(f"c.{name}: {e}")
    return problems


def main():
    problems = problems_of(sys.argv[1])
    for p in problems:
        print(p)
    print(f"{sys.argv[1]}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

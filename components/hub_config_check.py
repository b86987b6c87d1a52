"""Loads a jupyterhub_config.py with the hub's own packages, as the hub would.

Run before the hub is replaced (in a throwaway container of the hub image: no network, no
secrets) and by the unit tests. Fails (exit 1) when the file does not compile or raises
while it loads, on a section that is no class this hub configures, on a key the class
does not define or has deprecated, and on a value its trait rejects. Problems in the
admin's extraConfig section are given with its own line numbers.
Usage: hub_config_check.py CONFIG_FILE
"""
import os
import sys
import traceback
from types import SimpleNamespace

from traitlets import TraitError
from traitlets.config import Config, Configurable, PyFileConfigLoader

from dockerspawner import DockerSpawner, SwarmSpawner
from jupyterhub.app import JupyterHub
from jupyterhub.auth import Authenticator
from jupyterhub.crypto import CryptKeeper
from jupyterhub.proxy import ConfigurableHTTPProxy
from jupyterhub.spawner import Spawner
from oauthenticator.generic import GenericOAuthenticator

CONFIGURED = (JupyterHub, ConfigurableHTTPProxy, Spawner, DockerSpawner, SwarmSpawner, Authenticator, GenericOAuthenticator, CryptKeeper)
# A section may name a configured class or any configurable class it inherits from.
CLASSES = {k.__name__: k for c in CONFIGURED for k in c.mro() if isinstance(k, type) and issubclass(k, Configurable) and k is not Configurable}
EXTRA_MARK = "# ---- extraConfig:"
EXTRA_END = "# ---- end of extraConfig"

# The hub gets its secrets from the environment; here they are placeholders.
os.environ.setdefault("JUPYTERHUB_DB_URL", "postgresql://jupyterhub:x@db:5432/jupyterhub")
os.environ.setdefault("JPY_COOKIE_SECRET", "00" * 32)
os.environ.setdefault("JUPYTERHUB_CRYPT_KEY", "00" * 32)
os.environ.setdefault("OAUTH_CLIENT_SECRET", "not-a-secret")
os.environ.setdefault("CONFIGPROXY_AUTH_TOKEN", "11" * 32)


def where(path, lineno):
    """A line of the file, as the admin knows it: in extraConfig, or generated."""
    with open(path) as f:
        lines = f.read().split("\n")
    mark = next((i + 1 for i, line in enumerate(lines) if line.startswith(EXTRA_MARK)), None)
    if mark is not None and lineno is not None and lineno > mark:
        return f"extraConfig line {lineno - mark}"
    return f"line {lineno} of the generated config"


def origin(path, section, key=None):
    """`extraConfig line N: ` when the setting is made in extraConfig, else nothing."""
    with open(path) as f:
        lines = f.read().split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith(EXTRA_MARK)), None)
    if start is None:
        return ""
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(EXTRA_END)), len(lines))
    needle = f"c.{section}.{key or ''}"
    hit = next((i for i in range(start + 1, end) if needle in lines[i]), None)
    return "" if hit is None else f"extraConfig line {hit - start}: "


def load(path):
    directory, name = os.path.split(os.path.abspath(path))
    try:
        return PyFileConfigLoader(name, path=directory).load_config(), []
    except SyntaxError as e:
        return None, [f"{where(path, e.lineno)}: does not compile: {e.msg}"]
    except Exception as e:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) == os.path.abspath(path)]
        at = where(path, frames[-1].lineno) if frames else "while loading"
        return None, [f"{at}: raises {type(e).__name__}: {e}"]


def problems_of(path):
    config, problems = load(path)
    if config is None:
        return problems
    # The config imports the program's spawner module (beside it) for a swarm's spawner.
    swarm_spawner = getattr(sys.modules.get("pyiron_hub_spawn"), "PyironSwarmSpawner", None)
    configured = CONFIGURED + ((swarm_spawner,) if swarm_spawner is not None else ())
    classes = {**CLASSES, **({swarm_spawner.__name__: swarm_spawner} if swarm_spawner is not None else {})}
    for section, values in config.items():
        cls = classes.get(section)
        if cls is None:
            problems.append(f"{origin(path, section)}c.{section}: not a class this hub configures ({', '.join(c.__name__ for c in configured)}, or a base class of one)")
            continue
        traits = cls.class_traits(config=True)
        for key in values:
            if key not in traits:
                problems.append(f"{origin(path, section, key)}c.{section}.{key}: {section} has no such configurable trait")
            elif traits[key].metadata.get("deprecated") or "deprecated" in (traits[key].help or "").lower()[:80]:
                problems.append(f"{origin(path, section, key)}c.{section}.{key}: deprecated")
    if problems:
        return problems
    # Instantiate with the config so that every trait validates its value.
    for cls in configured:
        try:
            kwargs = {"user": SimpleNamespace(name="checker", id=1, url="/user/checker/")} if issubclass(cls, Spawner) else {}
            obj = cls(config=Config(config), **kwargs)
            for section in config:
                if section in classes and issubclass(cls, classes[section]):
                    for key in config[section]:
                        getattr(obj, key)
        except TraitError as e:
            problems.append(f"c.{cls.__name__}: {e}")
    return problems


def main():
    problems = problems_of(sys.argv[1])
    for p in problems:
        print(p)
    print(f"{sys.argv[1]}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

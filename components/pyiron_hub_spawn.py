"""Spawn rules of the stack config: profiles by Keycloak group, and shared folders; and
the spawner of a swarm stack, whose volumes live in storage every node mounts.

The generated jupyterhub_config.py imports this module (it sits beside the config) and
hands it the stack config's images, profiles and shared folders. The hub, not the form,
decides: a spawn of an image the user's profiles do not offer is refused here, whatever
the request says.
"""

import hashlib
import html
import json
import os
import stat

from docker.types import DriverConfig, Mount
from dockerspawner import SwarmSpawner
from tornado import web
from traitlets import Integer, Unicode


def cpus(n):
    return f"{n:g} CPU" + ("" if n == 1 else "s")


def group_names(user):
    return {g.name for g in user.groups}


def requested_image(spawner):
    """The image the request that starts the server names; None when it names none.

    JupyterHub then reuses the options of the user's last start, which may name an
    image their profiles no longer offer.
    """
    handler = getattr(spawner, "handler", None)
    request = getattr(handler, "request", None)
    if request is None:
        return None
    # The spawn page takes options from the query too.
    if handler.get_query_argument("image", None) is not None:
        return handler.get_query_argument("image")
    if request.method != "POST":
        return None
    body = (request.body or b"").strip()
    if body.startswith(b"{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed.get("image") if isinstance(parsed, dict) else None
    return handler.get_body_argument("image", None)


class SpawnRules:
    def __init__(self, images, profiles, shared_folders):
        # images: label -> image reference, in the stack config's order.
        # profiles: [{"name", "groups" (None: everyone), "images", "mem_limit", "cpu_limit", "environment"}]
        #   in the stack config's order; None when the stack has no profiles.
        # shared_folders: [{"volume", "path", "read_only", "groups" (None: everyone)}]
        self.images = images
        self.profiles = profiles
        self.shared_folders = shared_folders

    def offers(self, user):
        """label -> the profile that decides its limits: the first of the user's profiles offering it."""
        groups = group_names(user)
        offers = {}
        for profile in self.profiles or []:
            if profile["groups"] is None or groups.intersection(profile["groups"]):
                for label in profile["images"]:
                    offers.setdefault(label, profile)
        return offers

    def allowed_images(self, spawner):
        if self.profiles is None:
            return dict(self.images)
        return {label: self.images[label] for label in self.offers(spawner.user)}

    def options_form(self, spawner):
        """The image choice, with each image's limits; no form for a single choice."""
        choices = [(label, f" ({p['name']}: {p['mem_limit']} memory, {cpus(p['cpu_limit'])})") for label, p in self.offers(spawner.user).items()]
        if len(choices) <= 1:
            return ""
        options = "\n".join(
            f'<option value="{html.escape(label)}"{" selected" if i == 0 else ""}>{html.escape(label + note)}</option>'
            for i, (label, note) in enumerate(choices)
        )
        return (
            '<label for="image">Select an image:</label>\n'
            f'<select class="form-control" name="image" required autofocus>\n{options}\n</select>'
        )

    def pre_spawn_hook(self, spawner):
        user = spawner.user
        if self.profiles is not None:
            offers = self.offers(user)
            if not offers:
                raise web.HTTPError(403, f"No profile of this hub is open to {user.name}'s groups, so there is no image to start. Ask an admin to add you to a group.")
            label = spawner.user_options.get("image") or next(iter(offers))
            if not isinstance(label, str):
                raise web.HTTPError(400, "The image must be given by its label, a string.")
            if label not in offers:
                if requested_image(spawner) is not None:
                    raise web.HTTPError(403, f"The image {label!r} is not offered to {user.name}: choose one of {', '.join(offers)}.")
                # A last choice no longer offered (groups or profiles changed): the first image offered.
                label = next(iter(offers))
            # DockerSpawner resolves the label against allowed_images, which gives the same set.
            spawner.user_options = {**spawner.user_options, "image": label}
            profile = offers[label]
            spawner.mem_limit = profile["mem_limit"]
            spawner.cpu_limit = profile["cpu_limit"]
            spawner.extra_host_config = {**spawner.extra_host_config, "memswap_limit": profile["mem_limit"]}
            spawner.environment = {**spawner.environment, **profile["environment"]}
        groups = group_names(user)
        # The configured volumes (the home, and any of extraConfig's), taken once: the
        # spawner object lives on, and a folder of a group the user left must not stay.
        if not hasattr(spawner, "_pyiron_base_volumes"):
            spawner._pyiron_base_volumes = dict(spawner.volumes)
        volumes = dict(spawner._pyiron_base_volumes)
        for folder in self.shared_folders:
            if folder["groups"] is None or groups.intersection(folder["groups"]):
                # Admins get read-only folders read-write, to fill them.
                mode = "ro" if folder["read_only"] and not user.admin else "rw"
                volumes[folder["volume"]] = {"bind": folder["path"], "mode": mode}
        spawner.volumes = volumes


class PyironSwarmSpawner(SwarmSpawner):
    """User servers as swarm services. Each named volume (the home, a shared folder) is
    the directory of that name in storage that every node mounts at `storage_path`: the
    node's local driver binds it, so a server finds the same files on whichever node it
    lands, and a new home is filled from the image like a volume on one host."""

    storage_path = Unicode(config=True, help="The storage directory, as every node mounts it.")
    hub_storage_path = Unicode(config=True, help="The same directory, as the hub mounts it.")
    pids_limit = Integer(0, config=True, help="Most processes and threads of a server (0: no bound).")

    @property
    def mounts(self):
        mounts = []
        for source, bind in self.volume_binds.items():
            read_only = bind["mode"] == "ro"
            if source.startswith("/"):
                # A host path (extraConfig's): the same path on whichever node.
                mounts.append(Mount(target=bind["bind"], source=source, type="bind", read_only=read_only))
                continue
            device = f"{self.storage_path.rstrip('/')}/{source}"
            driver = DriverConfig("local", {"type": "none", "o": "bind", "device": device})
            # Named by its directory too: Docker reuses a node's volume of the same name as
            # it is, so a plain name would give a node's old local volume (from one host)
            # or a former storagePath's directory instead of this one.
            name = f"{source}-{hashlib.sha256(device.encode()).hexdigest()[:12]}"
            mounts.append(Mount(target=bind["bind"], source=name, type="volume", read_only=read_only, driver_config=driver))
        return mounts

    def make_storage_dirs(self):
        """A node binds only a directory that exists: the hub makes each one first."""
        for source in self.volume_binds:
            if source.startswith("/"):
                continue
            path = os.path.join(self.hub_storage_path, source)
            try:
                os.mkdir(path)
            except FileExistsError:
                # Never through a link planted in the storage: the node would bind its target.
                if stat.S_ISLNK(os.lstat(path).st_mode):
                    raise web.HTTPError(500, f"{source} in the swarm's storage is a symbolic link; an admin must replace it with a directory.")
            except OSError as e:
                raise web.HTTPError(
                    500,
                    f"The hub cannot make {source} in the swarm's storage ({e.strerror}). "
                    "An admin must give the hub's node write access to swarm.storagePath as root "
                    "(for NFS: no_root_squash for that host).",
                )

    async def start(self):
        # Swarm service names (the server's, and its DNS name) have at most 63 characters.
        if len(self.object_name) > 63:
            raise web.HTTPError(
                400,
                f"The name {self.user.name} is too long for a server on this hub's swarm "
                f"({self.object_name} has {len(self.object_name)} of at most 63 characters). Ask an admin.",
            )
        self.make_storage_dirs()
        return await super().start()

    def docker(self, method, *args, **kwargs):
        # docker-py's Resources has no process bound; the Engine API has.
        if method == "create_service" and self.pids_limit:
            resources = kwargs["task_template"].setdefault("Resources", {})
            resources.setdefault("Limits", {})["Pids"] = self.pids_limit
        return super().docker(method, *args, **kwargs)

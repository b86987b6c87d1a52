"""PyironSwarmSpawner (components/pyiron_hub_spawn.py): a swarm's user servers and their volumes."""
import asyncio
import os
import sys
import tempfile
import unittest
from types import SimpleNamespace

from docker.types import ContainerSpec, Resources, TaskTemplate
from tornado import web
from traitlets.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "components"))
from pyiron_hub_spawn import PyironSwarmSpawner, SpawnRules  # noqa: E402

STORAGE = "/srv/pyiron-storage"
FOLDERS = [{"volume": "hub-shared-potentials", "path": "/home/jovyan/shared/potentials", "read_only": True, "groups": None}]


def spawner(hub_storage, volumes=None, admin=False):
    user = SimpleNamespace(name="ann", id=1, url="/user/ann/", admin=admin, groups=[])
    config = Config()
    config.DockerSpawner.volumes = volumes or {"hub-home-{username}": "/home/jovyan"}
    config.PyironSwarmSpawner.storage_path = STORAGE
    config.PyironSwarmSpawner.hub_storage_path = hub_storage
    config.PyironSwarmSpawner.pids_limit = 512
    return PyironSwarmSpawner(config=config, user=user)


def run(call):
    """Awaits what the spawner's docker() returns (a future of the running loop)."""

    async def main():
        return await call()

    return asyncio.run(main())


class Mounts(unittest.TestCase):
    def test_the_home_is_its_directory_in_the_storage_bound_by_the_node(self):
        s = spawner("/unused")
        [home] = s.mounts
        self.assertEqual(home["Type"], "volume")
        self.assertRegex(home["Source"], r"^hub-home-ann-[0-9a-f]{12}$")
        self.assertEqual(home["Target"], "/home/jovyan")
        self.assertFalse(home["ReadOnly"])
        # Not NoCopy: a new home is filled from the image, as a volume on one host is.
        self.assertNotIn("NoCopy", home["VolumeOptions"])
        self.assertEqual(
            home["VolumeOptions"]["DriverConfig"],
            {"Name": "local", "Options": {"type": "none", "o": "bind", "device": f"{STORAGE}/hub-home-ann"}},
        )

    def test_a_volume_is_named_by_its_directory_so_no_node_reuses_another(self):
        # A node's old local volume of the plain name (one host), or one bound to a former
        # storage path, would be reused by Docker as it is.
        [a] = spawner("/unused").mounts
        s = spawner("/unused")
        s.storage_path = "/srv/other-storage"
        [b] = s.mounts
        self.assertNotEqual(a["Source"], "hub-home-ann")
        self.assertNotEqual(a["Source"], b["Source"])
        self.assertEqual(a["Source"], spawner("/unused").mounts[0]["Source"], "the same on every node and every spawn")

    def test_shared_folders_of_the_spawn_rules_come_from_the_storage_too_read_only_kept(self):
        s = spawner("/unused")
        SpawnRules({"base": "pyiron/base:1"}, None, FOLDERS).pre_spawn_hook(s)
        shared = next(m for m in s.mounts if m["Target"] == "/home/jovyan/shared/potentials")
        self.assertTrue(shared["ReadOnly"])
        self.assertEqual(shared["VolumeOptions"]["DriverConfig"]["Options"]["device"], f"{STORAGE}/hub-shared-potentials")

    def test_a_host_path_of_extra_config_stays_a_bind_of_that_path(self):
        s = spawner("/unused", {"hub-home-{username}": "/home/jovyan", "/opt/potentials": {"bind": "/opt/potentials", "mode": "ro"}})
        bind = next(m for m in s.mounts if m["Target"] == "/opt/potentials")
        self.assertEqual((bind["Type"], bind["Source"], bind["ReadOnly"]), ("bind", "/opt/potentials", True))
        self.assertNotIn("VolumeOptions", bind)


class StorageDirectories(unittest.TestCase):
    def test_the_hub_makes_each_volume_directory_before_a_node_binds_it(self):
        with tempfile.TemporaryDirectory() as hub_storage:
            s = spawner(hub_storage, {"hub-home-{username}": "/home/jovyan", "/opt/potentials": "/opt/potentials"})
            SpawnRules({"base": "pyiron/base:1"}, None, FOLDERS).pre_spawn_hook(s)
            s.make_storage_dirs()
            self.assertEqual(sorted(os.listdir(hub_storage)), ["hub-home-ann", "hub-shared-potentials"])
            # Again (the next spawn): nothing changes, nothing fails.
            s.make_storage_dirs()

    def test_a_link_planted_in_the_storage_is_not_followed(self):
        with tempfile.TemporaryDirectory() as hub_storage, tempfile.TemporaryDirectory() as elsewhere:
            os.symlink(elsewhere, os.path.join(hub_storage, "hub-home-ann"))
            with self.assertRaises(web.HTTPError) as e:
                spawner(hub_storage).make_storage_dirs()
            self.assertIn("symbolic link", e.exception.log_message)
            self.assertEqual(os.listdir(elsewhere), [])

    def test_a_name_too_long_for_a_swarm_service_is_refused_before_anything_is_made(self):
        with tempfile.TemporaryDirectory() as hub_storage:
            s = spawner(hub_storage)
            s.user.name = "jean-pierre.dupont@physik.uni-example.de"
            s.prefix = "pyiron-hub-user"

            def no_docker(*args, **kwargs):
                raise AssertionError("the spawner reached Docker")

            s._docker = no_docker
            with self.assertRaises(web.HTTPError) as e:
                run(lambda: s.start())
            self.assertEqual(e.exception.status_code, 400)
            self.assertIn("at most 63 characters", e.exception.log_message)
            self.assertEqual(os.listdir(hub_storage), [])

    def test_storage_the_hub_cannot_write_gives_the_admin_a_cause(self):
        with tempfile.TemporaryDirectory() as d:
            blocked = os.path.join(d, "file")
            open(blocked, "w").close()
            s = spawner(blocked)
            with self.assertRaises(web.HTTPError) as e:
                s.make_storage_dirs()
            self.assertIn("swarm.storagePath", e.exception.log_message)
            self.assertIn("hub-home-ann", e.exception.log_message)


class ServiceSpec(unittest.TestCase):
    def test_the_process_bound_reaches_the_service_limits(self):
        s = spawner("/unused")
        seen = {}
        s._docker = lambda method, *args, **kwargs: seen.update(method=method, kwargs=kwargs)
        template = TaskTemplate(container_spec=ContainerSpec(image="pyiron/base:1"), resources=Resources(mem_limit=2**30, cpu_limit=10**9))
        run(lambda: s.docker("create_service", task_template=template, name="hub-ann"))
        limits = seen["kwargs"]["task_template"]["Resources"]["Limits"]
        self.assertEqual(limits, {"MemoryBytes": 2**30, "NanoCPUs": 10**9, "Pids": 512})

    def test_other_calls_go_through_unchanged(self):
        s = spawner("/unused")
        seen = {}
        s._docker = lambda method, *args, **kwargs: seen.update(method=method, args=args)
        run(lambda: s.docker("inspect_service", "abc"))
        self.assertEqual(seen, {"method": "inspect_service", "args": ("abc",)})


if __name__ == "__main__":
    unittest.main()

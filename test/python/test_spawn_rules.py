"""SpawnRules (components/pyiron_hub_spawn.py) as the hub calls it, with users of given groups."""
import asyncio
import os
import sys
import unittest
from types import SimpleNamespace

from tornado import web
from traitlets.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "components"))
from dockerspawner import DockerSpawner  # noqa: E402
from pyiron_hub_spawn import SpawnRules  # noqa: E402

IMAGES = {"pyiron_base": "pyiron/base:1", "pyiron_atomistics": "pyiron/pyiron:1", "pyiron_md": "pyiron/md:1"}
THREADS4 = {"OMP_NUM_THREADS": "4"}
PROFILES = [
    {"name": "dft", "groups": ["dft"], "images": ["pyiron_atomistics", "pyiron_base"], "mem_limit": "8G", "cpu_limit": 4, "environment": THREADS4},
    {"name": "students", "groups": None, "images": ["pyiron_base"], "mem_limit": "2G", "cpu_limit": 1, "environment": {"OMP_NUM_THREADS": "1"}},
]
FOLDERS = [
    {"volume": "hub-shared-potentials", "path": "/home/jovyan/shared/potentials", "read_only": True, "groups": None},
    {"volume": "hub-shared-dft", "path": "/home/jovyan/shared/dft", "read_only": False, "groups": ["dft"]},
]
HOME = {"hub-home-{username}": "/home/jovyan"}


def handler(method="POST", body=b"", form=None, query=None):
    """The handler of a request that starts a server, as the hub hands it to the spawner."""
    form, query = form or {}, query or {}
    return SimpleNamespace(
        request=SimpleNamespace(method=method, body=body),
        get_body_argument=lambda name, default=None: form.get(name, default),
        get_query_argument=lambda name, default=None: query.get(name, default),
    )


def spawner(groups, options=None, admin=False, profiles=PROFILES, handler=None):
    user = SimpleNamespace(name="ann", id=1, url="/user/ann/", admin=admin, groups=[SimpleNamespace(name=g) for g in groups])
    rules = SpawnRules(IMAGES, profiles, FOLDERS)
    config = Config()
    config.DockerSpawner.allowed_images = rules.allowed_images
    config.DockerSpawner.mem_limit = "1G"
    config.DockerSpawner.cpu_limit = 0.5
    config.DockerSpawner.extra_host_config = {"memswap_limit": "1G", "pids_limit": 2048}
    config.DockerSpawner.environment = {"OMP_NUM_THREADS": "1", "OTHER": "kept"}
    config.DockerSpawner.volumes = HOME
    s = DockerSpawner(config=config, user=user)
    s.user_options = dict(options or {})
    s.handler = handler
    return s, rules


class Profiles(unittest.TestCase):
    def test_a_group_member_is_offered_every_image_of_her_profiles_in_order(self):
        s, rules = spawner(["dft"])
        self.assertEqual(list(rules.allowed_images(s)), ["pyiron_atomistics", "pyiron_base"])
        form = rules.options_form(s)
        self.assertIn('<option value="pyiron_atomistics" selected>pyiron_atomistics (dft: 8G memory, 4 CPUs)</option>', form)

    def test_others_get_only_what_everyone_gets_and_no_form_for_one_choice(self):
        s, rules = spawner(["physics"])
        self.assertEqual(rules.allowed_images(s), {"pyiron_base": "pyiron/base:1"})
        self.assertEqual(rules.options_form(s), "")

    def test_the_chosen_image_takes_its_profile_limits(self):
        s, rules = spawner(["dft"], {"image": "pyiron_base"})
        rules.pre_spawn_hook(s)
        # The first profile offering pyiron_base to her is dft.
        self.assertEqual((s.mem_limit, s.cpu_limit), (8 * 1024**3, 4))
        self.assertEqual(s.extra_host_config, {"memswap_limit": "8G", "pids_limit": 2048})
        self.assertEqual(s.environment["OMP_NUM_THREADS"], "4")
        self.assertEqual(s.environment["OTHER"], "kept")

    def test_a_forbidden_image_is_refused_by_the_hub_whatever_the_request(self):
        requests = (
            handler(body=b'{"image": "pyiron_atomistics"}'),  # API, whatever the Content-Type
            handler(body=b"image=pyiron_atomistics", form={"image": "pyiron_atomistics"}),  # the form
            handler(method="GET", query={"image": "pyiron_atomistics"}),  # /hub/spawn?image=
        )
        for h in requests:
            s, rules = spawner(["physics"], {"image": "pyiron_atomistics"}, handler=h)
            with self.assertRaises(web.HTTPError) as e:
                rules.pre_spawn_hook(s)
            self.assertEqual(e.exception.status_code, 403)
        # And DockerSpawner itself refuses a label outside the user's set.
        with self.assertRaises(web.HTTPError):
            asyncio.run(s.check_allowed("pyiron_atomistics"))

    def test_a_last_choice_no_longer_offered_falls_back_to_the_first_offered(self):
        # The hub reuses the last start's options when a request names none.
        for h in (None, handler(body=b""), handler(method="GET")):
            s, rules = spawner(["physics"], {"image": "pyiron_atomistics"}, handler=h)
            rules.pre_spawn_hook(s)
            self.assertEqual(s.user_options["image"], "pyiron_base")
            self.assertEqual(s.mem_limit, 2 * 1024**3)

    def test_no_image_chosen_gets_the_first_offered_not_the_global_default(self):
        s, rules = spawner(["physics"])
        rules.pre_spawn_hook(s)
        self.assertEqual(s.user_options["image"], "pyiron_base")
        self.assertEqual(asyncio.run(s.check_allowed(s.user_options["image"])), "pyiron/base:1")

    def test_an_image_that_is_no_label_is_refused(self):
        s, rules = spawner(["dft"], {"image": ["pyiron_base"]}, handler=handler(body=b'{"image": ["pyiron_base"]}'))
        with self.assertRaises(web.HTTPError) as e:
            rules.pre_spawn_hook(s)
        self.assertEqual(e.exception.status_code, 400)

    def test_a_user_of_no_profile_is_refused_with_a_message(self):
        s, rules = spawner(["physics"], profiles=PROFILES[:1])
        with self.assertRaises(web.HTTPError) as e:
            rules.pre_spawn_hook(s)
        self.assertIn("No profile", e.exception.log_message)


class SharedFolders(unittest.TestCase):
    def test_everyone_gets_the_common_folder_read_only_and_group_folders_only_in_the_group(self):
        s, rules = spawner(["physics"])
        rules.pre_spawn_hook(s)
        self.assertEqual(s.volumes, {**HOME, "hub-shared-potentials": {"bind": "/home/jovyan/shared/potentials", "mode": "ro"}})
        s, rules = spawner(["dft"])
        rules.pre_spawn_hook(s)
        self.assertEqual(s.volumes["hub-shared-dft"], {"bind": "/home/jovyan/shared/dft", "mode": "rw"})

    def test_keeps_volumes_extra_config_adds_and_drops_a_folder_of_a_group_the_user_left(self):
        s, rules = spawner(["dft"])
        s.volumes = {**HOME, "datasets": {"bind": "/srv/datasets", "mode": "ro"}}
        rules.pre_spawn_hook(s)
        self.assertIn("hub-shared-dft", s.volumes)
        s.user.groups = []
        rules.pre_spawn_hook(s)
        self.assertEqual(set(s.volumes), {"hub-home-{username}", "datasets", "hub-shared-potentials"})

    def test_admins_get_read_only_folders_read_write_to_fill_them(self):
        s, rules = spawner(["physics"], admin=True)
        rules.pre_spawn_hook(s)
        self.assertEqual(s.volumes["hub-shared-potentials"]["mode"], "rw")
        self.assertNotIn("hub-shared-dft", s.volumes)


if __name__ == "__main__":
    unittest.main(verbosity=2)

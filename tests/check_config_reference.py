"""configs/default.ini against the key table in src/core/config.c, the one
place keys and defaults are defined: `dupgraph config` prints every key with
its default (from that table); default.ini must show every key, and loading
default.ini must give exactly those defaults outside [input] (whose keys are
alternatives: default.ini names one, the demo manifest, and the others in a
comment)."""
import configparser
import os
import re
import subprocess
import unittest

import dgtest

DEFAULT_INI = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
INPUT_KEYS = ("embeddings", "manifest", "dir")


def ini(text):
    c = configparser.ConfigParser(interpolation=None)
    c.read_string(text)
    return c


def dupgraph_config(*args):
    return subprocess.run([dgtest.DUPGRAPH, "config", *args], check=True, capture_output=True, text=True).stdout


class ConfigReference(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.defaults = ini(dupgraph_config())
        cls.loaded = ini(dupgraph_config("-c", DEFAULT_INI))
        with open(DEFAULT_INI) as f:
            cls.text = f.read()

    def test_every_key_is_shown_in_default_ini(self):
        keys = [(s, k) for s in self.defaults.sections() for k in self.defaults[s]]
        keys += [("input", k) for k in INPUT_KEYS]
        self.assertGreater(len(keys), 30)
        for section, key in keys:
            with self.subTest(key=f"{section}.{key}"):
                # `key = value` in its section, or `; key = ...` (a commented choice), or
                # named in a comment of [input]
                part = self.text.split(f"[{section}]", 1)[1].split("\n[", 1)[0]
                self.assertRegex(part, rf"(?m)^[;#]?\s*{key}\s*=|^[;#].*\b{key}\b",
                                 f"configs/default.ini does not show {section}.{key}")

    def test_default_ini_values_are_the_table_defaults(self):
        self.assertEqual(self.loaded.sections(), self.defaults.sections())
        for section in self.defaults.sections():
            if section == "input":
                continue
            with self.subTest(section=section):
                self.assertEqual(dict(self.loaded[section]), dict(self.defaults[section]),
                                 f"configs/default.ini [{section}] differs from the defaults in src/core/config.c")

    def test_no_key_outside_the_table(self):
        for section in ini(self.text).sections():
            for key in ini(self.text)[section]:
                self.assertTrue(key in self.defaults[section] or (section == "input" and key in INPUT_KEYS),
                                f"{section}.{key}")

    def test_a_changed_value_shows(self):
        # the check can fail: a value that differs from the table is seen
        changed = ini(dupgraph_config("-c", DEFAULT_INI, "--set", "pairs.block=512"))
        self.assertNotEqual(dict(changed["pairs"]), dict(self.defaults["pairs"]))


if __name__ == "__main__":
    dgtest.main()

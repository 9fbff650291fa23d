"""configs/default.ini and the README against the key table in src/core/config.c,
the one place each key, its default, its accepted names and its help are
written.  `dupgraph config --defaults` prints the reference from that table;
configs/default.ini must be that text byte for byte, loading it must give the
defaults, it must show every key the parser accepts and no other, and every
key the README names must exist (with the values it shows accepted)."""
import configparser
import difflib
import os
import re
import subprocess
import unittest

import dgtest

DEFAULT_INI = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
README = os.path.join(dgtest.SOURCE_ROOT, "README.md")
REGENERATE = "regenerate it: build/dupgraph config --defaults > configs/default.ini"


def ini(text):
    c = configparser.ConfigParser(interpolation=None)
    c.read_string(text)
    return c


def dupgraph_config(*args, check=True):
    return subprocess.run([dgtest.DUPGRAPH, "config", *args], check=check, capture_output=True, text=True)


def keys_of(text):
    """(section, key) of every `key = value` line and every commented-out
    `; key = PATH` line (the input keys, which have no default)."""
    keys, section = [], None
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^(?:; )?(\w+) = (\S.*)$", line)
        if m and section and (not line.startswith(";") or m.group(2) == "PATH"):
            keys.append((section, m.group(1)))
    return keys


class ConfigReference(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reference = dupgraph_config("--defaults").stdout
        cls.defaults = dupgraph_config().stdout  # the canonical text of the defaults
        with open(DEFAULT_INI) as f:
            cls.text = f.read()

    def test_default_ini_is_the_generated_reference(self):
        if self.text != self.reference:
            diff = "".join(difflib.unified_diff(self.text.splitlines(True), self.reference.splitlines(True),
                                                "configs/default.ini", "dupgraph config --defaults", n=1))
            self.fail(f"configs/default.ini is not the reference printed from the key table; {REGENERATE}\n{diff}")

    def test_the_reference_loads_to_the_defaults(self):
        loaded = dupgraph_config("-c", DEFAULT_INI).stdout
        self.assertEqual(loaded, self.defaults, "loading configs/default.ini does not give the table's defaults")

    def test_every_key_once_and_no_other(self):
        shown = keys_of(self.reference)
        self.assertEqual(len(shown), len(set(shown)), "a key is shown twice")
        inputs = [k for s, k in shown if s == "input" and f"; {k} = PATH" in self.reference]
        self.assertEqual(sorted(inputs), ["dir", "embeddings", "manifest", "shards"])
        # the keys the parser knows: the canonical text holds every key but the
        # two inputs not chosen
        known = set()
        for k in inputs:
            c = ini(dupgraph_config("--set", f"input.{k}=x").stdout)
            known |= {(s, key) for s in c.sections() for key in c[s]}
        self.assertGreater(len(known), 30)
        self.assertEqual(set(shown), known)

    def test_every_key_has_help(self):
        lines = self.reference.splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^(; )?\w+ = ", line):
                with self.subTest(line=line):
                    self.assertTrue(lines[i - 1].startswith("; ") and not re.match(r"^; \w+ = ", lines[i - 1]),
                                    f"no help above '{line}'")

    def test_an_unknown_key_is_refused(self):
        # the keys above are the parser's: one not in the table is refused
        proc = dupgraph_config("--set", "pairs.nosuch=1", check=False)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("unknown key pairs.nosuch", proc.stderr)

    def test_readme_names_only_table_keys_with_accepted_values(self):
        with open(README) as f:
            readme = f.read()
        sections = {s for s, _ in keys_of(self.reference)}
        known = set(keys_of(self.reference))
        mentions = re.findall(r"`(\w+)\.(\w+)(?: = ([^`]*))?`", readme)
        files = {"c", "h", "py", "md", "ini", "json", "txt", "csv", "sh", "h5", "ipynb", "build", "pc"}
        named = [(s, k, v) for s, k, v in mentions if s in sections and k not in files]  # not job.c
        self.assertGreater(len(named), 20)
        for section, key, value in named:
            with self.subTest(key=f"{section}.{key}", value=value):
                self.assertTrue((section, key) in known, f"README.md names {section}.{key}, not a key of the table")
                # a concrete value (not a placeholder such as PATH, STAGE:COUNT, a | b, cluster_<c>)
                if value and not re.search(r"[|<]|^[A-Z_:]+$", value):
                    proc = dupgraph_config("--set", f"{section}.{key}={value}", check=False)
                    self.assertEqual(proc.returncode, 0, f"README.md shows {section}.{key} = {value}: {proc.stderr}")
        self.assertIn("dupgraph config --defaults", readme)


if __name__ == "__main__":
    dgtest.main()

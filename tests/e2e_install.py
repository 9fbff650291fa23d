"""The installed library: `meson install` into a staging folder puts
libdupgraph (shared and static), the public headers and dupgraph.pc in
place; a program written against them alone (tests/install/run_vectors.c),
built with `pkg-config dupgraph` the way a user would, runs the job on
vectors in memory under mpirun with 1, 2 and 4 ranks, linked shared and
static, and finds the planted copies with the same output each time."""
import os
import subprocess
import unittest

import h5py
import numpy as np

import dgtest
from dgtools import output

BUILD = os.environ.get("DG_BUILD_ROOT", os.path.join(dgtest.SOURCE_ROOT, "build"))
PROGRAM = os.path.join(dgtest.SOURCE_ROOT, "tests", "install", "run_vectors.c")
N, COPIES = 4000, 200


def sh(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return proc.stdout


class InstalledLibrary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("install")
        cls.stage = os.path.join(cls.dir, "stage")
        sh(["meson", "install", "-C", BUILD, "--destdir", cls.stage, "--no-rebuild", "--quiet"])
        pcs = [os.path.join(root, f) for root, _, files in os.walk(cls.stage) for f in files if f == "dupgraph.pc"]
        assert len(pcs) == 1, pcs
        # the staged tree stands where the prefix would be: the .pc file as a
        # relocated install would have it (prefix= is its first variable)
        with open(pcs[0]) as f:
            lines = f.read().splitlines()
        assert lines[0].startswith("prefix="), lines[0]
        pc_dir = os.path.join(cls.dir, "pkgconfig")
        os.makedirs(pc_dir)
        with open(os.path.join(pc_dir, "dupgraph.pc"), "w") as f:
            f.write("\n".join([f"prefix={cls.stage}{lines[0][len('prefix='):]}", *lines[1:]]) + "\n")
        cls.pc_env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
        cls.pkg_config = ["pkg-config"]
        cls.libdir = sh([*cls.pkg_config, "--variable=libdir", "dupgraph"], cls.pc_env).strip()

    def build(self, static):
        exe = os.path.join(self.dir, "run_vectors_static" if static else "run_vectors")
        flags = sh([*self.pkg_config, "--cflags", "--libs", *(["--static"] if static else []), "dupgraph"],
                   self.pc_env).split()
        if static:  # the archive, not the shared object beside it
            flags = [f if f != "-ldupgraph" else os.path.join(self.libdir, "libdupgraph.a") for f in flags]
        sh(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", PROGRAM, "-o", exe, *flags])
        return exe

    def run_program(self, exe, ranks, name):
        out = os.path.join(self.dir, name)
        env = dict(os.environ, **dgtest.MPI_ENV, LD_LIBRARY_PATH=self.libdir)
        sh(["mpirun", "-np", str(ranks), "-x", "LD_LIBRARY_PATH", exe, out], env)
        return out

    def test_headers_and_libraries_are_installed(self):
        inc = os.path.join(sh([*self.pkg_config, "--variable=includedir", "dupgraph"], self.pc_env).strip(), "dupgraph")
        self.assertEqual(sorted(os.listdir(inc)),
                         ["common.h", "config.h", "context.h", "dupgraph.h", "items.h", "job.h", "version.h"])
        for name in ("libdupgraph.a", "libdupgraph.so"):
            self.assertTrue(os.path.exists(os.path.join(self.libdir, name)), name)
        with open(os.path.join(inc, "version.h")) as f:
            version = sh([dgtest.DUPGRAPH, "--version"]).split()[1]
            self.assertIn(f'#define DG_VERSION "{version}"', f.read())

    def test_program_finds_planted_copies_on_1_2_4_ranks_shared_and_static(self):
        shared, static = self.build(False), self.build(True)
        # the shared build really loads the installed .so
        self.assertIn(self.libdir, sh(["ldd", shared], dict(os.environ, LD_LIBRARY_PATH=self.libdir)))
        planted = {(i, N - 1 - i) for i in range(COPIES)}
        first = None
        for exe, ranks in ((shared, 1), (shared, 2), (shared, 4), (static, 2)):
            res = output.read(self.run_program(exe, ranks, f"out_{os.path.basename(exe)}_{ranks}.h5"))
            with self.subTest(exe=os.path.basename(exe), ranks=ranks):
                self.assertEqual(len(res.items["status"]), N)
                edges = set(zip(res.src.tolist(), res.dst.tolist()))
                self.assertLessEqual(planted, edges)  # every copy found
                self.assertEqual(int(np.count_nonzero(res.items["keep"] == 0)), COPIES)
                if first is None:
                    first = res
                else:
                    np.testing.assert_array_equal(res.src, first.src)
                    np.testing.assert_array_equal(res.dst, first.dst)
                    np.testing.assert_array_equal(res.items["component"], first.items["component"])


if __name__ == "__main__":
    dgtest.main()

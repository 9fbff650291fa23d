"""Provenance and load for the benchmark scripts: the machine (CPU model,
cores, memory, libraries), the git state and the binary a result comes from,
how busy the machine is, and a meter around a timed part.

    info = machine.describe()                   # CPU model, cores, RAM, mpirun, python, numpy, BLAS
    state = machine.git_state(ROOT)             # commit, branch, dirty files, dirty sources
    with machine.Meter() as m:
        subprocess.run(...)
    m.record()  # wall s, our CPU s, other processes' CPU s and share, load before/after
"""
import datetime
import hashlib
import os
import platform
import re
import shlex
import subprocess
import sys
import time

# the files the binary is built from: a change there makes a result's binary differ
SOURCE_PREFIXES = ("src/", "include/")
SOURCE_FILES = ("meson.build", "meson_options.txt")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def the_command(root, entry_env=None):
    """How this script was started, as one would type it in the project folder
    (entry_env: an environment variable a wrapper sets to its own name)."""
    entry = (entry_env and os.environ.get(entry_env)) or os.path.relpath(os.path.abspath(sys.argv[0]), root)
    return " ".join([entry] + [shlex.quote(v) for v in sys.argv[1:]])


# ---- provenance: git, binary, machine ------------------------------------------

def git(root, *args, strip=True):
    p = subprocess.run(["git", "-C", root] + list(args), capture_output=True, text=True)
    return (p.stdout.strip() if strip else p.stdout) if p.returncode == 0 else None


def git_state(root):
    """HEAD and whether tracked files differ from it; the sources the binary is
    built from are flagged on their own (a shared checkout changes elsewhere)."""
    porcelain = git(root, "status", "--porcelain", "--untracked-files=no", strip=False) or ""
    changed = [line[3:] for line in porcelain.splitlines() if line.strip()]  # "XY path": keep the leading space
    sources = [p for p in changed if p.startswith(SOURCE_PREFIXES) or p in SOURCE_FILES]
    return {"commit": git(root, "rev-parse", "HEAD"), "short": git(root, "rev-parse", "--short", "HEAD"),
            "branch": git(root, "rev-parse", "--abbrev-ref", "HEAD"), "dirty": bool(changed),
            "dirty_files": changed, "dirty_sources": bool(sources), "dirty_source_files": sources}


def binary_state(root, binary):
    """The binary's hash and time, and whether ninja would rebuild it."""
    path = os.path.join(root, binary)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    state = {"path": binary, "sha256": digest,
             "mtime_utc": datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
             .strftime("%Y-%m-%dT%H:%M:%SZ")}
    build = os.path.dirname(path)
    if os.path.exists(os.path.join(build, "build.ninja")):
        p = subprocess.run(["ninja", "-C", build, "-n"], capture_output=True, text=True)
        state["build_up_to_date"] = p.returncode == 0 and "no work to do" in p.stdout
    return state


def blas_library():
    """The OpenBLAS file numpy really calls (resolved through alternatives)."""
    try:
        import numpy.core._multiarray_umath as mu
        out = subprocess.run(["ldd", mu.__file__], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "libopenblas" in line:
                return os.path.realpath(line.split("=>")[-1].split("(")[0].strip())
        return "libblas.so.3 (not OpenBLAS?)"
    except (ImportError, OSError):
        return "unknown"


def describe(libraries=True):
    """The machine: kernel, architecture, CPU model, logical CPUs and physical
    cores, AVX-512, RAM, mpirun's version; with libraries, python, numpy,
    h5py and the BLAS numpy calls."""
    info = {"kernel": f"{platform.system()} {platform.release()} {platform.version()}",
            "arch": platform.machine(), "logical_cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        info["cpu_model"] = m.group(1).strip() if m else platform.processor() or None
        cores = set(re.findall(r"^physical id\s*:\s*(\d+)\n(?:.*\n)*?core id\s*:\s*(\d+)", text, re.M))
        info["physical_cores"] = len(cores) or None
        flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
        if flags:
            info["avx512f"] = "avx512f" in flags.group(1).split()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"MemTotal:\s*(\d+) kB", f.read())
        info["ram_bytes"] = int(m.group(1)) * 1024 if m else None
    except OSError:
        pass
    p = subprocess.run(["mpirun", "--version"], capture_output=True, text=True)
    info["mpirun"] = p.stdout.splitlines()[0] if p.returncode == 0 and p.stdout else None
    if libraries:
        import h5py
        import numpy as np
        info.update(python=platform.python_version(), numpy=np.__version__, h5py=h5py.__version__,
                    blas=blas_library())
    return info


def mpi_env(threads=1):
    """The environment for mpirun: OpenBLAS threads, and running as root allowed."""
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return env


# ---- machine load -------------------------------------------------------------

def cpu_busy_seconds():
    """Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(t) for t in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Meter:
    """Wall seconds of a part, the CPU this process used (itself and its
    finished children), the CPU other processes used meanwhile (machine busy
    time minus ours) and the load average before and after."""

    def __enter__(self):
        self.load_before = list(os.getloadavg())
        self.busy, self.own, self.t = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t
        self.used = own_cpu_seconds() - self.own
        self.foreign = max(0.0, (cpu_busy_seconds() - self.busy) - self.used)
        self.load_after = list(os.getloadavg())
        return False

    def record(self):
        cores = os.cpu_count() or 1
        s = self.seconds if self.seconds > 0 else float("nan")
        return {"wall_seconds": self.seconds, "own_cpu_seconds": self.used, "other_cpu_seconds": self.foreign,
                "other_cores": self.foreign / s, "other_cpu_share": self.foreign / (s * cores),
                "load_before": self.load_before, "load_after": self.load_after}

    def note(self):
        r = self.record()
        return (f"other processes used {r['other_cpu_seconds']:.1f} CPU-s = {100 * r['other_cpu_share']:.0f}% of the "
                f"CPU during these {self.seconds:.1f} s; load {self.load_before[0]:.2f} -> {self.load_after[0]:.2f}")


def wait_idle(max_wait, say=None):
    """Waits (up to max_wait s) until the machine is less than 10% busy over 1 s;
    returns the last busy fraction (said through say if still busy)."""
    t_end = time.monotonic() + max_wait
    while True:
        b0, t0 = cpu_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        busy = (cpu_busy_seconds() - b0) / ((time.monotonic() - t0) * (os.cpu_count() or 1))
        if busy < 0.10 or time.monotonic() >= t_end:
            break
    if busy >= 0.10 and say:
        say(f"  (machine still {100 * busy:.0f}% busy after waiting {max_wait:.0f} s: figures may be disturbed)")
    return busy

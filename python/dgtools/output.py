"""Reading a dupgraph output file (README.md "Output file": format "dupgraph",
versions 1 to 3) with h5py and numpy.

    out = output.read("build/demo.h5")
    out.items["status"], out.items["component"], out.items["keep"]   # numpy arrays by id
    out.src, out.dst, out.sim                                          # the edges, src < dst
    out.forest                     # graph.edges = forest: the edges are a spanning forest of the
                                   # pairs (same components and keeps as all mode), not every pair
    out.attrs["n_edges"], out.attrs["seconds_pairs"]                   # python int / float / str
    out.config["pairs"]["threshold"], out.threshold                    # the stored config, typed
    out.settings["cluster_k"], out.settings["embedder"]                # the run's settings
    out.usable                                                         # status ok or ok_with_warning

The stored config is the job's canonical INI text (src/config.c
dg_config_to_text: "[section]" and "key = value" lines, no comments); its
values are typed by their look: true/false -> bool, whole numbers -> int,
other numbers -> float, anything else (auto, none, paths, names) -> str.

The settings the run used (threshold, K, C, m, keep policy, mode, embedder)
are root attributes of their own from format 3 on (SETTINGS); `settings` and
`threshold` take them from there, and only for files of format 1 and 2 from
the config text (K from /centroids, mode and embedder then unknown: None).
"""
import configparser
import re

import h5py
import numpy as np

FORMAT = "dupgraph"
# 2 added the filter columns and the status "filtered"; 3 the typed settings
# (mode, embedder, pairs_threshold, cluster_k/_clusterings/_probes, graph_keep); 4 the
# column /edges/verify and the verify attributes (verification of candidate pairs)
FORMAT_VERSIONS = (1, 2, 3, 4)

# The typed settings of format 3 -> where files of format 1 and 2 keep them in
# the config text (None: only in the typed attribute, or in the datasets).
SETTINGS = {"mode": None, "embedder": None, "pairs_threshold": ("pairs", "threshold"), "cluster_k": None,
            "cluster_clusterings": ("cluster", "clusterings"), "cluster_probes": ("cluster", "probes"),
            "graph_keep": ("graph", "keep")}

# dg_status values (include/dupgraph/common.h), used when the status column
# is a plain int8 rather than an HDF5 enum.  6 was named "not_jpeg" before PNG
# and WebP were read; files keep their own enum names (status_names).
STATUS_NAMES = ["ok", "ok_with_warning", "missing", "unreadable", "empty", "corrupt", "not_image",
                "unsupported", "too_large", "bad_vector", "filtered"]
STATUS = {name: code for code, name in enumerate(STATUS_NAMES)}
USABLE = ("ok", "ok_with_warning")

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.I)


class FormatError(ValueError):
    """The file is not a dupgraph output file this reader understands."""


def text(value):
    """An attribute's string value as str (h5py gives bytes for fixed-length strings)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def typed(value):
    """A config value as bool, int, float or str, by its look."""
    v = value.strip()
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    if _INT.fullmatch(v):
        return int(v)
    if _FLOAT.fullmatch(v):
        return float(v)
    return v


def parse_config(ini):
    """The stored config text as {section: {key: typed value}}."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read_string(ini or "")
    return {s: {k: typed(v) for k, v in cp.items(s)} for s in cp.sections()}


def read_attrs(f):
    """Root attributes of an open h5py file as python values (str, int, float)."""
    out = {}
    for k, v in f.attrs.items():
        v = text(v)
        out[k] = v.item() if isinstance(v, np.generic) else v
    return out


def check_format(path, attrs):
    fmt = text(attrs.get("format"))
    if fmt != FORMAT:
        raise FormatError(f"{path}: not a dupgraph output file (format attribute is {fmt!r}, expected {FORMAT!r})")
    version = attrs.get("format_version")
    if version is None or int(version) not in FORMAT_VERSIONS:
        raise FormatError(f"{path}: dupgraph output format version {version}, "
                          f"this reader reads versions {FORMAT_VERSIONS[0]} to {FORMAT_VERSIONS[-1]}")


def settings(attrs, config, centroids_shape=None):
    """{name: value} of SETTINGS: the typed attributes when the file has them,
    else the config text's values (cluster_k from the /centroids shape when
    the file has one; None where neither says)."""
    out = {"graph_edges": text(attrs.get("graph_edges", "all"))}  # format 4; every pair before it
    if all(name in attrs for name in SETTINGS):
        return {**out, **{name: attrs[name] for name in SETTINGS}}
    for name, where in SETTINGS.items():
        out[name] = config.get(where[0], {}).get(where[1]) if where else None
    if centroids_shape is not None and len(centroids_shape) == 3:
        out["cluster_k"] = int(centroids_shape[1])
    return out


def usable(status):
    """Mask of the items whose status is ok or ok_with_warning (codes 0 and 1)."""
    status = np.asarray(status)
    return (status == STATUS["ok"]) | (status == STATUS["ok_with_warning"])


def status_names(dset):
    """Category names indexed by status code: from the HDF5 enum if the column is one."""
    enum = h5py.check_enum_dtype(dset.dtype)
    if not enum:
        return list(STATUS_NAMES)
    names = [f"status_{v}" for v in range(max(enum.values()) + 1)]
    for name, value in enum.items():
        names[value] = name
    return names


def decode_paths(paths):
    """/items/path values (bytes) as str, undecodable bytes kept as surrogates."""
    return [p.decode("utf-8", "surrogateescape") if isinstance(p, bytes) else p for p in paths]


class Output:
    """One output file read into numpy arrays (see the module docstring)."""

    def __init__(self, path, attrs, items, edges, embeddings=None, status_names=None, centroids_shape=None):
        self.path = str(path)
        self.attrs = attrs
        self.items = items
        self.src, self.dst, self.sim = edges
        self.embeddings = embeddings
        self.status_names = status_names or list(STATUS_NAMES)
        self.config = parse_config(attrs.get("config", ""))
        self.settings = settings(attrs, self.config, centroids_shape)

    @property
    def n(self):
        return int(self.attrs.get("n_items", len(next(iter(self.items.values()), ()))))

    @property
    def threshold(self):
        """pairs.threshold of the run (the float32 the job compared against, from format 3 on)."""
        t = self.settings["pairs_threshold"]
        return float("nan") if t is None else float(t)

    @property
    def usable(self):
        return usable(self.items["status"])

    @property
    def forest(self):
        """True when /edges is a spanning forest of the pairs (graph.edges = forest)."""
        return self.settings["graph_edges"] == "forest"

    def setting(self, section, key, default=None):
        return self.config.get(section, {}).get(key, default)

    def edge_dict(self):
        """{(src, dst): sim} of every stored edge."""
        return {(int(a), int(b)): float(s) for a, b, s in zip(self.src, self.dst, self.sim)}

    def paths(self):
        return decode_paths(self.items["path"]) if "path" in self.items else []


def read(path, items=None, embeddings=False, check=True):
    """Reads an output file.  items: the /items columns to read (default all);
    embeddings: also read /embeddings if the run stored it; check: refuse a
    file of another format or version (FormatError)."""
    with h5py.File(path, "r") as f:
        attrs = read_attrs(f)
        if check:
            check_format(path, attrs)
        group = f["items"]
        keys = list(group) if items is None else list(items)
        cols = {k: group[k][:] for k in keys}
        names = status_names(group["status"]) if "status" in group else None
        edges = tuple(f["edges"][k][:] for k in ("src", "dst", "sim"))
        emb = f["embeddings"][:] if embeddings and "embeddings" in f else None
        shape = f["centroids"].shape if "centroids" in f else None
    return Output(path, attrs, cols, edges, emb, names, shape)


def read_edges(path):
    """(src, dst, sim) of an output file."""
    with h5py.File(path, "r") as f:
        return tuple(f["edges"][k][:] for k in ("src", "dst", "sim"))


def edge_dict(path):
    """{(src, dst): sim} of an output file's edges."""
    src, dst, sim = read_edges(path)
    return {(int(a), int(b)): float(s) for a, b, s in zip(src, dst, sim)}


def read_items(path, keys=None):
    """The /items columns (default all) as {name: numpy array}."""
    with h5py.File(path, "r") as f:
        group = f["items"]
        return {k: group[k][:] for k in (group if keys is None else keys)}

"""A dupgraph output file as pandas DataFrames (the notebook's reader;
jobs/notebooks/dupgraph_reader.py re-exports it).

Only Debian's python3-h5py, python3-numpy and python3-pandas are needed
(run with /usr/bin/python3).  The file layout is README.md's "Output file"
(format "dupgraph", the versions in FORMAT_VERSIONS); a file of another
format or version is refused with FormatError.

    from dgtools import frame        # or, in jobs/notebooks: import dupgraph_reader
    res = frame.load("build/demo.h5")
    res.items        # one row per item, index = id: path (str), status (name),
                     # status_code, width, height, component, keep (bool),
                     # usable (bool), cluster_0 .. cluster_{C-1}
    res.edges        # src, dst, sim, verify: each duplicate pair once, src < dst
                     # (verify: the verifier's score, NaN when the edge stood
                     # on its similarity alone; format 4)
    res.forest       # graph.edges = forest: res.edges is then a spanning forest
                     # of the pairs, not every pair; components and keeps are
                     # the same as all mode's, the edge counts are not
    res.components   # one row per component of usable items, largest first:
                     # size, kept (id), kept_path, edges, sim_min, sim_max
                     # (edges and similarities of the stored edges only)
    res.attrs        # root attributes (counts, seed, ranks, seconds_<stage>, ...)
    res.threshold    # pairs.threshold of the run
    res.verify_threshold     # verify.threshold of the run (NaN: not verified)
    res.verify_agree         # (verify.agree_above, agree_threshold), None when off
    res.removed_at(0.95)    # items a higher threshold would remove
    res.removed_at(verify=0.8)   # ... or a higher verifier threshold
    res.threshold_table()   # both, in steps, as the report's "around the threshold"
    res.write_keep_list("keep.txt")
"""
import h5py
import numpy as np
import pandas as pd

from . import components as comps
from .output import FORMAT, FORMAT_VERSIONS, STATUS_NAMES, USABLE, FormatError  # noqa: F401
from .output import check_format, parse_config, read_attrs, status_names, text

__all__ = ["FORMAT", "FORMAT_VERSIONS", "STATUS_NAMES", "USABLE", "FormatError", "Result", "load"]


def _read_items(group):
    cols = {}
    for key, dset in group.items():
        if dset.dtype.kind == "S":  # path, and key / url / caption of shard input
            cols[key] = dset.asstr(errors="surrogateescape")[:]
        elif key == "cluster":
            clusters = dset[:]
            for c in range(clusters.shape[1]):
                cols[f"cluster_{c}"] = clusters[:, c]
        elif dset.ndim == 1:
            cols[key] = dset[:]
    items = pd.DataFrame(cols)
    codes = items.pop("status").astype(np.int8)
    names = status_names(group["status"])
    valid = (codes >= 0) & (codes < len(names))
    items["status_code"] = codes
    items["status"] = pd.Categorical.from_codes(np.where(valid, codes, -1), categories=names)
    items["usable"] = items["status"].isin(USABLE).to_numpy()
    items["keep"] = items["keep"].astype(bool)
    front = ["path", "status", "status_code", "usable", "width", "height", "component", "keep"]
    order = [c for c in front if c in items] + [c for c in items if c not in front and c != "id"]
    return items.set_index(pd.Index(items["id"].to_numpy(), name="id"))[order]


def _components(items, edges):
    usable = items[items["usable"]]
    groups = usable.groupby("component")
    comp = pd.DataFrame({"size": groups.size()})
    kept = usable[usable["keep"]]
    comp["kept"] = pd.Series(kept.index.to_numpy(), index=kept["component"].to_numpy()).reindex(comp.index)
    comp["kept"] = comp["kept"].fillna(-1).astype(np.int64)
    paths = items["path"] if "path" in items else pd.Series("", index=items.index)
    comp["kept_path"] = paths.reindex(comp["kept"].to_numpy()).fillna("").to_numpy()
    by = items["component"].to_numpy()[edges["src"].to_numpy()] if len(edges) else np.zeros(0, np.int64)
    stats = edges.assign(component=by).groupby("component")["sim"].agg(["size", "min", "max"])
    comp["edges"] = stats["size"].reindex(comp.index).fillna(0).astype(np.int64)
    comp["sim_min"] = stats["min"].reindex(comp.index)
    comp["sim_max"] = stats["max"].reindex(comp.index)
    comp.index.name = "component"
    return comp.sort_values(["size"], ascending=False, kind="stable")


class Result:
    """An output file loaded into DataFrames (see the module docstring)."""

    def __init__(self, path, attrs, items, edges):
        self.path = str(path)
        self.attrs = attrs
        self.items = items
        self.edges = edges
        self.components = _components(items, edges)
        self.config = parse_config(attrs.get("config", ""))  # {section: {key: typed value}}
        # the typed attribute (format 3), else the config text of older files
        self.threshold = float(attrs["pairs_threshold"]) if "pairs_threshold" in attrs else \
            float(self.config.get("pairs", {}).get("threshold", float("nan")))
        self.verify_threshold = float(attrs["verify_threshold"]) if int(attrs.get("verify_enabled", 0)) \
            else float("nan")
        # verify.agree_above and agree_threshold (files since session 13; off: agree_above 1 or absent)
        agree = float(attrs.get("verify_agree_above", float("nan"))) if int(attrs.get("verify_enabled", 0)) \
            else float("nan")
        self.verify_agree = (agree, float(attrs["verify_agree_threshold"])) if agree < 1.0 else None
        self.forest = text(attrs.get("graph_edges", "all")) == "forest"

    def __repr__(self):
        a = self.attrs
        return (f"<dupgraph result {self.path}: {a.get('n_items')} items ({a.get('n_failed')} failed), "
                f"{a.get('n_edges')} edges, {a.get('n_components')} components, {a.get('n_removed')} removed, "
                f"threshold {self.threshold:g}>")

    def summary(self):
        """The headline counts as a Series."""
        a = self.attrs
        usable = int(self.items["usable"].sum())
        groups = self.components[self.components["size"] >= 2]
        return pd.Series({
            "items": int(a["n_items"]), "usable": usable, "failed": int(a["n_failed"]),
            "edges": int(a["n_edges"]), "edges are": "a spanning forest" if self.forest else "every pair",
            "components": int(a["n_components"]),
            "duplicate groups": len(groups), "items in groups": int(groups["size"].sum()),
            "removed": int(a["n_removed"]),
            "removed %": 100.0 * int(a["n_removed"]) / usable if usable else 0.0,
            "threshold": self.threshold,
        }, dtype=object)

    def stage_seconds(self):
        return pd.Series({k[len("seconds_"):]: float(v) for k, v in self.attrs.items() if k.startswith("seconds_")})

    def removed_at(self, threshold=None, verify=None):
        """Items that would be removed with only the stored edges of sim >=
        threshold (default: the run's) and, for edges the verifier scored,
        verify >= verify (default: the run's verify.threshold); an edge with
        NaN verify stood on its similarity alone and stays, and one the run
        took through verify.agree_above (self.verify_agree: sim >= it and
        verify >= verify.agree_threshold) stays at any verify.  Usable items
        minus the components they form.  Edges below the run's thresholds are
        not stored, so looser rules cannot be answered.  In forest mode
        (self.forest) the run's own rule gives all mode's count exactly; a
        stricter one counts only the forest's edges that pass it, a lower
        bound on all mode's (every pair passing it joins at least as much)."""
        threshold = self.threshold if threshold is None else threshold
        if threshold < self.threshold - 1e-7:
            raise ValueError(f"edges below the run's threshold {self.threshold:g} are not stored")
        if verify is not None and verify < self.verify_threshold - 1e-7:
            raise ValueError(f"edges the verifier scored below {self.verify_threshold:g} are not stored")
        # float32, as the job compares
        keep = self.edges["sim"].to_numpy() >= np.float32(threshold)
        if verify is not None and "verify" in self.edges:
            v = self.edges["verify"].to_numpy()
            passed = np.isnan(v) | (v >= np.float32(verify))
            if self.verify_agree:
                s = self.edges["sim"].to_numpy()
                passed |= (s >= np.float32(self.verify_agree[0])) & (v >= np.float32(self.verify_agree[1]))
            keep &= passed
        e = self.edges[keep]
        usable = self.items["usable"].to_numpy()
        label = comps.labels(len(self.items), e["src"].to_numpy(), e["dst"].to_numpy())
        return comps.removed(label, usable)

    def threshold_table(self, step=0.05, steps=8):
        """Removed items under the run's rule and stricter ones, as
        `dupgraph report` shows them: rows (kind, value, removed, removed %,
        vs the run, exact) for stricter similarities, then, for a verified
        run, stricter verifier scores.  exact is False where the count is
        only a lower bound on all mode's: stricter rows of a forest-mode file
        (see removed_at)."""
        usable = int(self.items["usable"].sum())
        base = self.removed_at()
        rows = []
        kinds = [("similarity", self.threshold)]
        if not np.isnan(self.verify_threshold):
            kinds.append(("verifier", self.verify_threshold))
        for kind, start in kinds:
            for k in range(steps + 1):
                value = np.float32(start) + np.float32(k * step)  # the report's float arithmetic
                if k and value >= 1.0:
                    break
                value = float(value)
                n = self.removed_at(value) if kind == "similarity" else self.removed_at(verify=value)
                rows.append({"kind": kind, "value": round(value, 4), "removed": n,
                             "removed %": 100.0 * n / usable if usable else 0.0, "vs the run": n - base,
                             "exact": not self.forest or k == 0})
        return pd.DataFrame(rows)

    def member_paths(self, component):
        """The usable members of one component, kept item first."""
        members = self.items[(self.items["component"] == component) & self.items["usable"]]
        return members.sort_values("keep", ascending=False, kind="stable")[["path", "keep"]]

    def keep_list(self):
        """Paths of the kept items in id order (ids for embedding input, as
        `dupgraph export --keep-list` writes them)."""
        kept = self.items[self.items["keep"] & self.items["usable"]]
        paths = kept["path"] if "path" in kept else pd.Series("", index=kept.index)
        return [p if p else str(i) for i, p in zip(kept.index, paths)]

    def write_keep_list(self, out):
        lines = self.keep_list()
        with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.writelines(line + "\n" for line in lines)
        return len(lines)

    def embeddings(self):
        """The N x D embeddings if the run stored them (output.embeddings = float32), else None."""
        with h5py.File(self.path, "r") as f:
            return f["embeddings"][:] if "embeddings" in f else None


def load(path):
    """Loads an output file; FormatError if it is not dupgraph format version 1."""
    with h5py.File(path, "r") as f:
        attrs = read_attrs(f)
        check_format(path, attrs)
        items = _read_items(f["items"])
        edges = pd.DataFrame({k: f["edges"][k][:] for k in ("src", "dst", "sim", "verify") if k in f["edges"]})
    return Result(path, attrs, items, edges)

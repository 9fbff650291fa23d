"""Connected components of a duplicate graph and the items each keeps, as the
job computes them (src/graph.c), with numpy only.

    label = components.labels(n, src, dst)      # label = lowest id of the component
    keep = components.keep(label, usable)       # graph.keep = first
    keep = components.keep(label, usable, "central", centrality)
    components.removed(label, usable)           # usable items minus the components they form
"""
import numpy as np


def labels(n, src, dst):
    """Component label of each of n nodes under the edges (src[i], dst[i]): the
    lowest id of its component.  Min-label propagation along the edges with
    pointer jumping; every label is an id of the same component and only
    decreases, so at the fixed point each component carries its lowest id."""
    label = np.arange(n, dtype=np.int64)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    while True:
        low = np.minimum(label[src], label[dst])
        before = label.copy()
        np.minimum.at(label, src, low)
        np.minimum.at(label, dst, low)
        np.minimum.at(label, before, label)  # hook the old roots too
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label, before):
            return label


def keep_first(label, usable):
    """graph.keep = first: the lowest usable id of each component (the label)."""
    label = np.asarray(label)
    return np.asarray(usable, dtype=bool) & (label == np.arange(len(label)))


def keep_central(label, usable, centrality):
    """graph.keep = central: in each component the usable item of highest
    centrality (similarity to its home centroid), ties to the lower id, NaN
    counting as -inf."""
    label = np.asarray(label)
    usable = np.asarray(usable, dtype=bool)
    c = np.where(np.isnan(centrality), -np.inf, np.asarray(centrality, dtype=np.float64))
    ids = np.flatnonzero(usable)
    order = ids[np.lexsort((ids, -c[ids], label[ids]))]  # by label, best first
    first = np.ones(len(order), dtype=bool)
    first[1:] = label[order[1:]] != label[order[:-1]]
    keep = np.zeros(len(label), dtype=bool)
    keep[order[first]] = True
    return keep


def keep(label, usable, policy="first", centrality=None):
    if policy == "first":
        return keep_first(label, usable)
    if policy == "central":
        if centrality is None:
            raise ValueError("the central keep policy needs centralities")
        return keep_central(label, usable, centrality)
    raise ValueError(f"unknown keep policy {policy!r}")


def count(label, usable):
    """Number of components formed by the usable items."""
    return int(np.unique(np.asarray(label)[np.asarray(usable, dtype=bool)]).size)


def removed(label, usable):
    """Items a job with these components removes: usable items minus components."""
    return int(np.asarray(usable, dtype=bool).sum()) - count(label, usable)

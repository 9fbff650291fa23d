#!/usr/bin/python3
"""Turns a folder of .npy embedding shards into one HDF5 file for input.embeddings.

Precomputed CLIP-style embeddings are published as many .npy shards
(img_emb_0000.npy, img_emb_0001.npy, ... each N_i x D, float16 or float32)
with metadata files beside them (metadata_0000.parquet or .csv: url, caption,
key ...).  This writes OUT.h5 holding

  /embeddings           a virtual dataset (VDS), sum N_i x D, over the shards in
                        sorted file-name order: row ids follow file order, then
                        row order
  /shards/NNNN          one dataset per shard (the VDS's sources)
  /shards/path, /shards/rows   the .npy files and their row counts
  /metadata/{url, caption, key}  the metadata columns, as UTF-8 strings, when
                        metadata files are given (one per shard, same rows)

--mode external (the default) copies no vector: each /shards/NNNN is a
contiguous dataset with HDF5 external storage pointing at the .npy file's data
(after its header), by absolute path, so the .npy files must stay where they
are.  --mode copy writes each shard once into its own HDF5 file
(OUT_shards/NNNN.h5, one copy, read from the .npy through a memory map in
blocks), and the VDS points at those, so the .npy files can go.

    npy_to_h5.py SHARD_DIR OUT.h5 [--pattern 'img_emb_*.npy']
                 [--metadata-pattern 'metadata_*.parquet'] [--mode external|copy]

Metadata: parquet needs pyarrow or fastparquet behind pandas (Debian 12 has
neither); CSV always works.
"""
import argparse
import glob
import os
import sys

import h5py
import numpy as np

BLOCK_BYTES = 64 << 20
METADATA_COLUMNS = ("url", "caption", "key")


def npy_layout(path):
    """(dtype, shape, data offset) of a .npy file, checked to be a C-order
    N x D float16/float32 array that external storage can point at."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        offset = f.tell()
    if len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
        sys.exit(f"npy_to_h5: {path}: shape {shape}, expected N x D with N, D >= 1")
    if dtype not in (np.dtype("<f2"), np.dtype("<f4")):
        sys.exit(f"npy_to_h5: {path}: dtype {dtype}, expected little-endian float16 or float32")
    if fortran:
        sys.exit(f"npy_to_h5: {path}: Fortran-order array; external storage needs C order")
    size = os.path.getsize(path)
    need = offset + shape[0] * shape[1] * dtype.itemsize
    if size < need:
        sys.exit(f"npy_to_h5: {path}: {size} bytes, the header promises {need} (truncated?)")
    return dtype, shape, offset


def read_metadata(path):
    import pandas as pd
    if path.endswith(".parquet"):
        try:
            return pd.read_parquet(path)
        except ImportError as e:
            sys.exit(f"npy_to_h5: {path}: pandas cannot read parquet here ({e}); convert the metadata to CSV")
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def write_metadata(out, paths, shapes):
    frames = [read_metadata(p) for p in paths]
    for p, df, shape in zip(paths, frames, shapes):
        if len(df) != shape[0]:
            sys.exit(f"npy_to_h5: {p}: {len(df)} metadata rows, its shard has {shape[0]}")
    columns = [c for c in METADATA_COLUMNS if all(c in df.columns for df in frames)]
    string = h5py.string_dtype("utf-8")
    for c in columns:
        values = [str(v) for df in frames for v in df[c].tolist()]
        out.create_dataset(f"/metadata/{c}", data=np.array(values, dtype=object), dtype=string)
    return columns


def copy_shard(src, dst, dtype, shape):
    """One copy: the .npy read through a memory map, written in blocks."""
    x = np.load(src, mmap_mode="r")
    rows = max(1, BLOCK_BYTES // (shape[1] * dtype.itemsize))
    with h5py.File(dst, "w") as f:
        d = f.create_dataset("/embeddings", shape=shape, dtype=dtype)
        for lo in range(0, shape[0], rows):
            d[lo:lo + rows] = x[lo:lo + rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shard_dir")
    ap.add_argument("out")
    ap.add_argument("--pattern", default="*.npy", help="shard file names inside SHARD_DIR (glob, sorted)")
    ap.add_argument("--metadata-pattern", default=None,
                    help="metadata files inside SHARD_DIR (glob, sorted; one per shard), e.g. 'metadata_*.csv'")
    ap.add_argument("--mode", choices=("external", "copy"), default="external")
    ap.add_argument("--dataset", default="/embeddings", help="the virtual dataset's name (input.dataset)")
    a = ap.parse_args()

    shards = sorted(glob.glob(os.path.join(a.shard_dir, a.pattern)))
    if not shards:
        sys.exit(f"npy_to_h5: no file matches {os.path.join(a.shard_dir, a.pattern)}")
    layouts = [npy_layout(p) for p in shards]
    d = layouts[0][1][1]
    for p, (_, shape, _) in zip(shards, layouts):
        if shape[1] != d:
            sys.exit(f"npy_to_h5: {p}: D = {shape[1]}, the first shard {shards[0]} has D = {d}")
    # float16 only when every shard is: HDF5 converts each source to the VDS's type
    dtype = np.dtype("<f2") if all(l[0] == np.dtype("<f2") for l in layouts) else np.dtype("<f4")
    rows = [l[1][0] for l in layouts]
    total = sum(rows)

    out_abs = os.path.abspath(a.out)
    shard_dir_out = os.path.splitext(out_abs)[0] + "_shards"
    if a.mode == "copy":
        os.makedirs(shard_dir_out, exist_ok=True)
    tmp = out_abs + ".tmp"
    with h5py.File(tmp, "w") as out:
        layout = h5py.VirtualLayout(shape=(total, d), dtype=dtype)
        lo = 0
        for i, (path, (sdtype, shape, offset)) in enumerate(zip(shards, layouts)):
            name = f"/shards/{i:06d}"
            if a.mode == "external":
                nbytes = shape[0] * shape[1] * sdtype.itemsize
                out.create_dataset(name, shape=shape, dtype=sdtype,
                                   external=[(os.path.abspath(path), offset, nbytes)])
                source = h5py.VirtualSource(".", name, shape=shape, dtype=sdtype)
            else:
                copy_path = os.path.join(shard_dir_out, f"{i:06d}.h5")
                copy_shard(path, copy_path, sdtype, shape)
                # relative to the VDS file's folder, where HDF5 looks for sources
                rel = os.path.relpath(copy_path, os.path.dirname(out_abs))
                source = h5py.VirtualSource(rel, "/embeddings", shape=shape, dtype=sdtype)
            layout[lo:lo + shape[0]] = source
            lo += shape[0]
        out.create_virtual_dataset(a.dataset, layout)
        out.create_dataset("/shards/path", data=np.array([os.path.abspath(p) for p in shards], dtype=object),
                           dtype=h5py.string_dtype("utf-8"))
        out.create_dataset("/shards/rows", data=np.array(rows, dtype=np.int64))
        columns = []
        if a.metadata_pattern:
            meta = sorted(glob.glob(os.path.join(a.shard_dir, a.metadata_pattern)))
            if len(meta) != len(shards):
                sys.exit(f"npy_to_h5: {len(meta)} metadata files match {a.metadata_pattern}, "
                         f"expected one per shard ({len(shards)})")
            columns = write_metadata(out, meta, [l[1] for l in layouts])
        out.attrs["generator"] = "dupgraph jobs/npy_to_h5.py"
        out.attrs["mode"] = a.mode
    os.replace(tmp, out_abs)

    copied = sum(os.path.getsize(os.path.join(shard_dir_out, f"{i:06d}.h5")) for i in range(len(shards))) \
        if a.mode == "copy" else 0
    print(f"npy_to_h5: {len(shards)} shards, {total} x {d} {dtype.name} -> {a.out}:{a.dataset} (virtual dataset)")
    if a.mode == "external":
        print("npy_to_h5: mode external: no vector copied; /shards/* point at the .npy files by absolute path "
              "(keep them in place)")
    else:
        print(f"npy_to_h5: mode copy: each shard written once under {shard_dir_out} "
              f"({copied / 1048576:.1f} MiB); the .npy files are no longer needed")
    print(f"npy_to_h5: metadata columns: {', '.join(columns) if columns else 'none'}")
    print(f"npy_to_h5: run with --set input.embeddings={a.out} --set input.dataset={a.dataset}")


if __name__ == "__main__":
    main()

"""Session-13 probe: the verification signatures of a manifest's files, as
the job makes them (dg_signature_of_file through BUILD/libdupgraph.so), one
DG_SIG_BYTES record per line of the manifest, for verify_time.c.

    /usr/bin/python3 signatures_of_manifest.py BUILD MANIFEST OUT
"""
import ctypes
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import native  # noqa: E402

SIG_BYTES = 4 + 32 * 32  # DG_SIG_BYTES (src/input/signature.h)


def main():
    build, manifest, out = sys.argv[1:4]
    lib = ctypes.CDLL(os.path.abspath(os.path.join(build, "libdupgraph.so")))
    dec, err = native._Decoder(), native._Err()
    if lib.dg_decoder_init(ctypes.byref(dec), ctypes.c_int64(0), native.DESC_SIZE, ctypes.byref(err)) != 0:
        raise SystemExit(f"dg_decoder_init: {err.msg.decode()}")
    with open(manifest) as f, open(out, "wb") as o:
        for path in filter(None, f.read().split("\n")):
            sig, res = (ctypes.c_uint8 * SIG_BYTES)(), native._Result()
            lib.dg_signature_of_file(ctypes.byref(dec), os.fsencode(path), sig, ctypes.byref(res))
            o.write(bytes(sig))
    lib.dg_decoder_free(ctypes.byref(dec))


if __name__ == "__main__":
    main()

"""The built-in descriptor of image files through the job's own library
(ctypes over BUILD/libdupgraph.so): files decoded exactly as `dupgraph run`
decodes them (libjpeg-turbo at the smallest scale with both sides >=
DG_DESC_SIZE, an EXIF orientation applied), boxed by dg_content_box,
described by dg_descriptor and quantised by dg_descriptor_quantise, so a
script sees the very vectors the job's projection is learned from; and the
decoded pixels themselves.

    with native.Describer("build") as d:
        q = d.describe(paths, flip=True)   # n x DESC_DIM float64, quantised
    with native.Decoder("build", min_side=1 << 20) as d:
        rgb = d.decode(path)               # h x w x 3 uint8, as the job sees the file

The structures below mirror src/input/decode.h; the library's own sizes
(dg_decoder_bytes, dg_decode_result_bytes) are checked when it is loaded.
"""
import ctypes
import os

import numpy as np

DESC_SIZE = 64      # DG_DESC_SIZE (src/input/descriptor.h)
DESC_DIM = 195      # DG_DESC_DIM
DESC_QUANT = 32767.0  # DG_DESC_QUANT (src/input/pca.h)
BOX_LEN = 8         # DG_BOX_LEN (src/input/descriptor.h): content box, watermark box
USABLE = (0, 1)  # DG_ST_OK, DG_ST_OK_WITH_WARNING (include/dupgraph/common.h)


class _Pixels(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int), ("h", ctypes.c_int), ("rgb", ctypes.c_void_p)]


class _Decoder(ctypes.Structure):  # dg_decoder (src/input/decode.h)
    _fields_ = [("tj", ctypes.c_void_p), ("max_pixels", ctypes.c_int64), ("min_side", ctypes.c_int),
                ("file", ctypes.c_void_p), ("file_cap", ctypes.c_size_t), ("pix", ctypes.c_void_p),
                ("pix_cap", ctypes.c_size_t), ("turned", ctypes.c_void_p), ("turned_cap", ctypes.c_size_t)]


class _Result(ctypes.Structure):  # dg_decode_result
    _fields_ = [("status", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int),
                ("image", _Pixels), ("msg", ctypes.c_char * 256), ("seconds_read", ctypes.c_double),
                ("seconds_decode", ctypes.c_double)]


class _Err(ctypes.Structure):
    _fields_ = [("msg", ctypes.c_char * 512), ("code", ctypes.c_int)]


def load_library(build):
    """BUILD/libdupgraph.so, its decoder structures checked against the mirrors above."""
    lib = ctypes.CDLL(os.path.abspath(os.path.join(build, "libdupgraph.so")))
    lib.dg_decoder_bytes.restype = lib.dg_decode_result_bytes.restype = ctypes.c_size_t
    for name, mirror in (("dg_decoder_bytes", _Decoder), ("dg_decode_result_bytes", _Result)):
        if getattr(lib, name)() != ctypes.sizeof(mirror):
            raise RuntimeError(f"{build}/libdupgraph.so: {name}() = {getattr(lib, name)()}, but native.py's "
                               f"{mirror.__name__} has {ctypes.sizeof(mirror)} bytes: update it from src/input/decode.h")
    return lib


class Decoder:
    """The job's decoder (dg_decoder) reducing to the smallest scale with both sides >= min_side."""

    def __init__(self, build, min_side=DESC_SIZE):
        self.lib = load_library(build)
        self.dec = _Decoder()
        err = _Err()
        if self.lib.dg_decoder_init(ctypes.byref(self.dec), ctypes.c_int64(0), min_side, ctypes.byref(err)) != 0:
            raise RuntimeError(f"dg_decoder_init: {err.msg.decode()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.lib.dg_decoder_free(ctypes.byref(self.dec))

    def result(self, path):
        """dg_decode_file's result (valid until the next call); ValueError on a file the job could not use."""
        res = _Result()
        self.lib.dg_decode_file(ctypes.byref(self.dec), os.fsencode(path), ctypes.byref(res))
        if res.status not in USABLE:
            raise ValueError(f"{path}: not usable ({res.msg.decode(errors='replace')})")
        return res

    def decode(self, path):
        """The file's pixels as the job decodes them: h x w x 3 uint8 (a copy)."""
        res = self.result(path)
        n = res.image.w * res.image.h * 3
        px = np.frombuffer((ctypes.c_uint8 * n).from_address(res.image.rgb), dtype=np.uint8)
        return px.reshape(res.image.h, res.image.w, 3).copy()


class Describer(Decoder):
    def __init__(self, build):
        super().__init__(build, DESC_SIZE)

    def describe(self, paths, flip=True):
        """Quantised descriptors (q / DESC_QUANT) of the files; ValueError on a file the job could not use."""
        out = np.zeros((len(paths), DESC_DIM))
        raw = (ctypes.c_float * DESC_DIM)()
        q = (ctypes.c_int16 * DESC_DIM)()
        box = (ctypes.c_int * BOX_LEN)()
        for i, path in enumerate(paths):
            res = self.result(path)
            self.lib.dg_content_box(ctypes.byref(res.image), box)
            self.lib.dg_descriptor(ctypes.byref(res.image), box, int(flip), raw)
            self.lib.dg_descriptor_quantise(raw, q)
            out[i] = np.frombuffer(q, dtype=np.int16) / DESC_QUANT
        return out

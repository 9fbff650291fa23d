"""The notebook's reader: dgtools.frame (python/dgtools/frame.py), which reads a
dupgraph output file into pandas DataFrames; kept here so that explore.ipynb
and `import dupgraph_reader` from this folder work without installing anything.

    import dupgraph_reader
    res = dupgraph_reader.load("build/demo.h5")
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from dgtools.frame import FormatError, Result, load  # noqa: E402,F401

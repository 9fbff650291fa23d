"""dgtools: the one Python package the scripts, the tests and the notebook
share for dupgraph's outputs (Debian's /usr/bin/python3 with python3-h5py and
python3-numpy; dgtools.frame also needs python3-pandas).

    output      read an output file: items, edges, root attributes and the
                stored config as typed values; the format check
    components  connected components of an edge list (label = lowest id)
                and the keep policies (first, central), as the job computes them
    summary     read the JSON summary the job writes with output.summary = PATH,
                and the few figures only its log holds (k-means and plan lines)
    machine     provenance and load: CPU, cores, memory, git state, the binary,
                busy CPU of the machine, a meter around a timed part
    bench       the printed report kept for a file, the Wilson interval
    frame       an output file as pandas DataFrames (the notebook's reader;
                jobs/notebooks/dupgraph_reader.py re-exports it)
    imagebench  the real-photo benchmarks' shared parts: Debian photo packages,
                a dg-mkbench corpus's truth.csv, pair precision / recall / F1
    quality     the held-out quality benchmark: the scene list and its fixed
                tune / held-out split, the tune-only threshold choice, pHash

Nothing is installed: a script finds the package with one line relative to
its own file, e.g. from jobs/ or tests/:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
"""

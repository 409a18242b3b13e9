"""Writes an .h5ad whose uns nests DEPTH dict levels (uns/l/l/.../l/leaf = 1). usage: make_deep.py OUT DEPTH"""
import sys

import h5py
import numpy as np

out, depth = sys.argv[1], int(sys.argv[2])
enc = lambda o, t, v: o.attrs.update({"encoding-type": t, "encoding-version": v})
with h5py.File(out, "w") as f:
    enc(f, "anndata", "0.1.0")
    enc(f.create_dataset("X", data=np.arange(4, dtype=np.float32).reshape(2, 2)), "array", "0.2.0")
    for name in ("obs", "var"):
        d = f.create_group(name)
        enc(d, "dataframe", "0.2.0")
        d.attrs["_index"] = "_index"
        d.attrs["column-order"] = np.array([], dtype=np.float64)
        enc(d.create_dataset("_index", data=np.array(["a", "b"], dtype=object), dtype=h5py.string_dtype()), "string-array", "0.2.0")
    g = f.create_group("uns")
    enc(g, "dict", "0.1.0")
    for _ in range(depth):
        g = g.create_group("l")
        enc(g, "dict", "0.1.0")
    enc(g.create_dataset("leaf", data=np.int64(1)), "numeric-scalar", "0.2.0")

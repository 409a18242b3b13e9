"""Writes a small AnnData with anndata, then re-encodes its datasets with one HDF5 compression filter via h5py.

usage: make_filtered.py OUT.h5ad FILTER   (lzf also writes OUT.h5ad.strings.h5ad)   (FILTER: lzf, blosc, blosc-zstd, lz4, bz2, zstd, bshuf)
Numeric datasets always get the filter; string datasets too, except with lzf (see lzf_strings below) and blosc.
Prints the filters h5py could not apply (no plugin installed) as JSON: {"unavailable": [...]}.
"""
import json
import sys

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

out, name = sys.argv[1], sys.argv[2]


def filter_kwargs(name):
    if name == "lzf":
        return {"compression": "lzf"}
    import hdf5plugin

    return dict({
        "blosc": hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE),
        "blosc-zstd": hdf5plugin.Blosc(cname="zstd", clevel=5, shuffle=hdf5plugin.Blosc.BITSHUFFLE),
        "lz4": hdf5plugin.LZ4(),
        "bz2": hdf5plugin.BZip2(),
        "zstd": hdf5plugin.Zstd(),
        "bshuf": hdf5plugin.Bitshuffle(),
    }[name])


rng = np.random.default_rng(7)
n, m = 40, 12
X = rng.poisson(1.5, size=(n, m)).astype(np.float32)
obs = pd.DataFrame(
    {
        "cell_type": pd.Categorical(rng.choice(["B", "T", "NK"], n)),
        "score": rng.normal(size=n),
        "n_genes": rng.integers(0, 1000, n).astype(np.int32),
        "donor": [f"donor{i % 3}" for i in range(n)],
    },
    index=[f"cell{i}" for i in range(n)],
)
var = pd.DataFrame({"mean": X.mean(0).astype(np.float64)}, index=[f"gene{j}" for j in range(m)])
a = anndata.AnnData(X=X, obs=obs, var=var)
a.layers["counts"] = sp.csr_matrix(X * (X > 1))
a.obsm["X_pca"] = rng.normal(size=(n, 3))
a.uns["colors"] = np.array(["#ff0000", "#00ff00", "#0000ff"], dtype=object)
a.uns["params"] = {"k": 15, "alpha": np.arange(5, dtype=np.int64)}
a.raw = a
a.write_h5ad(out)

kw = filter_kwargs(name)
unavailable = []
with h5py.File(out, "a") as f:
    paths = []
    f.visititems(lambda p, o: paths.append(p) if isinstance(o, h5py.Dataset) else None)
    for p in paths:
        d = f[p]
        if d.ndim == 0 or d.size == 0:
            continue
        is_str = h5py.check_string_dtype(d.dtype) is not None
        if is_str and name in ("lzf", "blosc", "blosc-zstd"):
            continue  # lzf: see below; blosc: Debian's blosc plugin crashes (SIGFPE) on variable-length strings
        data, attrs, dtype = d[()], dict(d.attrs), d.dtype
        del f[p]
        try:
            nd = f.create_dataset(p, data=data, dtype=dtype, chunks=True, **kw)
        except ValueError:
            unavailable.append(name)
            break
        for k, v in attrs.items():
            nd.attrs[k] = v
if name == "lzf" and not unavailable:
    # a copy with an LZF string array written the way h5py >= 3 writes one (no chunk size recorded)
    import shutil

    shutil.copyfile(out, out + ".strings.h5ad")
    with h5py.File(out + ".strings.h5ad", "a") as f:
        s = f["uns"].create_dataset("lzf_strings", data=np.array(["a", "bb", "ccc"], dtype=object), dtype=h5py.string_dtype(), compression="lzf")
        s.attrs["encoding-type"] = "string-array"
        s.attrs["encoding-version"] = "0.2.0"
json.dump({"unavailable": sorted(set(unavailable))}, sys.stdout)

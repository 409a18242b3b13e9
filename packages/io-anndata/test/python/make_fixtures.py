"""Builds .h5ad files in layouts that anndata 0.8 can no longer write (0.7 and pre-0.7), plus LZF/unknown-filter
and deliberately malformed files, with h5py only. Usage: make_fixtures.py OUT_DIR. Prints a JSON manifest."""
import json
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
n_obs, n_vars = 12, 6
dense = rng.poisson(0.8, size=(n_obs, n_vars)).astype(np.float32)
indptr = [0]
indices, data = [], []
for r in range(n_obs):
    nz = np.nonzero(dense[r])[0]
    indices.extend(nz.tolist())
    data.extend(dense[r, nz].tolist())
    indptr.append(len(indices))
indptr = np.array(indptr, dtype=np.int64)
indices = np.array(indices, dtype=np.int32)
data = np.array(data, dtype=np.float32)
obs_names = np.array([f"cell{i}" for i in range(n_obs)], dtype=object)
var_names = np.array([f"gene{i}" for i in range(n_vars)], dtype=object)
codes = (np.arange(n_obs) % 3).astype(np.int8)
codes[1] = -1
cats = np.array(["B", "T", "NK"], dtype=object)
score = np.linspace(0, 1, n_obs)
pca = rng.normal(size=(n_obs, 3))
str_dt = h5py.special_dtype(vlen=str)

# anndata 0.7 layout
with h5py.File(f"{out}/v07.h5ad", "w") as f:
    g = f.create_group("X")
    g.attrs["encoding-type"] = "csr_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = (n_obs, n_vars)
    g["data"], g["indices"], g["indptr"] = data, indices, indptr
    for name, names, with_cols in (("obs", obs_names, True), ("var", var_names, False)):
        d = f.create_group(name)
        d.attrs["_index"] = "index"
        d.attrs["encoding-type"] = "dataframe"
        d.attrs["encoding-version"] = "0.1.0"
        d.create_dataset("index", data=names.astype(str_dt), dtype=str_dt)
        if with_cols:
            d.attrs["column-order"] = np.array(["cell_type", "score"], dtype=object).astype(str_dt)
            c = d.create_dataset("__categories/cell_type", data=cats, dtype=str_dt)
            c.attrs["ordered"] = True
            d["cell_type"] = codes
            d["cell_type"].attrs["categories"] = c.ref
            d["score"] = score
        else:
            d.attrs["column-order"] = np.array([], dtype=np.float64)
    f.create_group("obsm")["X_pca"] = pca
    u = f.create_group("uns")
    u["title"] = "v07"
    u.create_group("params")["k"] = np.int64(5)

# pre-0.7 layout (compound obs/var/obsm, h5sparse X, categories in uns)
with h5py.File(f"{out}/v06.h5ad", "w") as f:
    g = f.create_group("X")
    g.attrs["h5sparse_format"] = "csr"
    g.attrs["h5sparse_shape"] = (n_obs, n_vars)
    g["data"], g["indices"], g["indptr"] = data, indices, indptr
    obs = np.zeros(n_obs, dtype=[("index", "S10"), ("cell_type", "i1"), ("score", "f8"), ("is_doublet", "?"), ("n_genes", "<i8")])
    obs["index"] = [s.encode() for s in obs_names]
    obs["cell_type"] = np.where(codes < 0, 0, codes)
    obs["score"] = score
    obs["is_doublet"] = np.arange(n_obs) % 3 == 0
    obs["n_genes"] = np.arange(n_obs) * 7
    f["obs"] = obs
    var = np.zeros(n_vars, dtype=[("index", "S10"), ("mean", "f4")])
    var["index"] = [s.encode() for s in var_names]
    var["mean"] = dense.mean(axis=0)
    f["var"] = var
    obsm = np.zeros(n_obs, dtype=[("X_pca", "f8", (3,))])
    obsm["X_pca"] = pca
    f["obsm"] = obsm
    f.create_group("layers")["counts"] = dense
    u = f.create_group("uns")
    u["cell_type_categories"] = np.array([b"B", b"T", b"NK"])
    u["note"] = "legacy"

# modern layout with LZF-compressed X
with h5py.File(f"{out}/lzf.h5ad", "w") as f:
    f.attrs["encoding-type"] = "anndata"
    f.attrs["encoding-version"] = "0.1.0"
    x = f.create_dataset("X", data=dense, compression="lzf", chunks=(4, n_vars))
    x.attrs["encoding-type"] = "array"
    x.attrs["encoding-version"] = "0.2.0"
    for name, names in (("obs", obs_names), ("var", var_names)):
        d = f.create_group(name)
        d.attrs.update({"_index": "_index", "encoding-type": "dataframe", "encoding-version": "0.2.0"})
        d.attrs["column-order"] = np.array([], dtype=np.float64)
        i = d.create_dataset("_index", data=names.astype(str_dt), dtype=str_dt, compression="lzf")
        i.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})
    u = f.create_group("uns")
    u.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
    a = u.create_group("weird")
    a.attrs.update({"encoding-type": "awkward-array", "encoding-version": "0.1.0"})
    b = u.create_dataset("future", data=np.arange(3))
    b.attrs.update({"encoding-type": "some-future-encoding", "encoding-version": "9.9.9"})
    u["kept"] = np.arange(3)
    u["kept"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})

# a dataset whose filter (id 40000) is not available anywhere
with h5py.File(f"{out}/unknown-filter.h5ad", "w") as f:
    f.attrs["encoding-type"] = "anndata"
    f.attrs["encoding-version"] = "0.1.0"
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((4, n_vars))
    dcpl.set_filter(40000, h5py.h5z.FLAG_OPTIONAL, ())
    space = h5py.h5s.create_simple((n_obs, n_vars))
    dsid = h5py.h5d.create(f.id, b"X", h5py.h5t.NATIVE_FLOAT, space, dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, dense)
    f["X"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    for name, names in (("obs", obs_names), ("var", var_names)):
        d = f.create_group(name)
        d.attrs.update({"_index": "_index", "encoding-type": "dataframe", "encoding-version": "0.2.0"})
        d.attrs["column-order"] = np.array([], dtype=np.float64)
        i = d.create_dataset("_index", data=names.astype(str_dt), dtype=str_dt)
        i.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})


def modern(path, x_writer, obs_codes=codes, with_x=True):
    with h5py.File(path, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        if with_x:
            x_writer(f)
        for name, names in (("obs", obs_names), ("var", var_names)):
            d = f.create_group(name)
            d.attrs.update({"_index": "_index", "encoding-type": "dataframe", "encoding-version": "0.2.0"})
            i = d.create_dataset("_index", data=names.astype(str_dt), dtype=str_dt)
            i.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})
            if name == "obs":
                d.attrs["column-order"] = np.array(["ct"], dtype=object).astype(str_dt)
                c = d.create_group("ct")
                c.attrs.update({"encoding-type": "categorical", "encoding-version": "0.2.0", "ordered": False})
                c["codes"] = obs_codes
                c.create_dataset("categories", data=cats, dtype=str_dt)
            else:
                d.attrs["column-order"] = np.array([], dtype=np.float64)


def csr_writer(ip=indptr, ix=indices, dt=data, shape=(n_obs, n_vars)):
    def w(f):
        g = f.create_group("X")
        g.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": shape})
        g["data"], g["indices"], g["indptr"] = dt, ix, ip
    return w


bad_ip = indptr.copy()
bad_ip[3], bad_ip[4] = bad_ip[4], bad_ip[3] - 1
modern(f"{out}/bad-indptr.h5ad", csr_writer(ip=bad_ip))
short_ip = indptr[:-2]
modern(f"{out}/short-indptr.h5ad", csr_writer(ip=short_ip))
bad_ix = indices.copy()
bad_ix[0] = n_vars + 5
modern(f"{out}/bad-indices.h5ad", csr_writer(ix=bad_ix))
modern(f"{out}/bad-shape.h5ad", csr_writer(shape=(n_obs + 1, n_vars)))
bad_codes = codes.copy()
bad_codes[2] = 7
modern(f"{out}/bad-codes.h5ad", csr_writer(), obs_codes=bad_codes)
modern(f"{out}/no-x.h5ad", None, with_x=False)
modern(f"{out}/good.h5ad", csr_writer())
modern(f"{out}/skippable.h5ad", csr_writer())
with h5py.File(f"{out}/skippable.h5ad", "a") as f:
    u = f.create_group("uns")
    u.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
    a = u.create_group("ragged")
    a.attrs.update({"encoding-type": "awkward-array", "encoding-version": "0.1.0"})
    o = f.create_group("obsm")
    o.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
    p = o.create_dataset("X_old", data=pca)
    p.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})

json.dump({"n_obs": n_obs, "n_vars": n_vars, "dense": dense.ravel().tolist(), "codes": codes.tolist(),
           "categories": cats.tolist(), "score": score.tolist(), "pca": pca.ravel().tolist(),
           "obs_names": obs_names.tolist(), "var_names": var_names.tolist()}, sys.stdout)

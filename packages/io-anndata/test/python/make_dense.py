"""Writes an .h5ad with a dense gzip X (row-major chunks as h5py picks them) and prints X as JSON.
usage: make_dense.py OUT N_OBS N_VARS"""
import json
import sys

import anndata
import numpy as np

out, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.random.default_rng(3).poisson(2.0, size=(n, m)).astype(np.float32)
anndata.AnnData(X=X).write_h5ad(out, compression="gzip")
json.dump([float(v) for v in X.ravel()], sys.stdout)

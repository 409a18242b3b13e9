"""Writes an HDF5 file that is not AnnData (no X/obs/var, no encoding attributes). usage: make_plain_h5.py OUT"""
import sys

import h5py
import numpy as np

with h5py.File(sys.argv[1], "w") as f:
    f["measurements"] = np.arange(10.0)
    f.create_group("meta").attrs["source"] = "instrument"

"""Prints the JSON list of every group/dataset path in an HDF5 file (h5py)."""
import json
import sys

import h5py

names = []
with h5py.File(sys.argv[1], "r") as f:
    f.visit(names.append)
json.dump(names, sys.stdout)

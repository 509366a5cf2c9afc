"""CuPy prototypes of the plugins, one module per op, named by the op key (plugins/<key>/).

Each module is written against an array module `xp` (NumPy or CuPy), so the same prototype
runs on the CPU (used to execute plugin nodes without a GPU) and on the GPU, and provides:

    forward(xp, inputs, outputs, attrs)        writes results into preallocated outputs
    native(ext, inputs, outputs, attrs, stream) calls the op's trtplug._native binding

An ordinary package installed as trtplug.pyplugins (a source checkout is installed editable by
scripts/setup.sh). A plugin project keeps the same layout in its own pyplugins/ folder, loaded
from its path by trtplug.project_modules.
"""

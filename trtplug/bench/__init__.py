"""`trtplug bench`: timing of each op's CUDA launcher, CuPy prototype and torch equivalent on a GPU."""

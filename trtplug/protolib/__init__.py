"""Array-module-generic (NumPy or CuPy) building blocks shared by several pyplugins prototypes."""

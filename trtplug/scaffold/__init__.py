"""`trtplug new`: scaffold an op (spec, CUDA kernel + launcher, IPluginV3 adapter, pybind11 binding,
CuPy prototype) inside the trtplug repository or a standalone plugin project.

    describe   OpDescription from an ONNX schema, command-line flags or a small TOML file
    names      op key, plugin and C++/Python names, and why a name is refused
    elementwise  the naive kernel expressions of the elementwise ops scaffolded with a body
    plan       where the files go and the template context of each
    render     Jinja2 templates (templates/) -> file contents
    write      atomic writes that never overwrite without --force; --dry-run diffs
"""

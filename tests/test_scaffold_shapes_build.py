"""One real build of a `trtplug new --project` holding one op of each shape the scaffold writes:
optional inputs and outputs (LayerNormalization), two outputs of different types with a shape
input (TopK), a data-dependent output with a size tensor (NonZero), a variadic input (Sum), and
a described op mixing them all. The generated sources compile and link; the ops load; parity skips each as "not
implemented yet"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.build_helpers import CUDA_ARCH, pytest_code, require_toolchain, run_python
from tests.conftest import require_built
from tests.test_scaffold_shapes import MIXED, OPS, new_op_args
from trtplug import native
from trtplug.cli import main
from trtplug.registry import load_registry

pytestmark = pytest.mark.slow  # a real scikit-build-core/CMake build (minutes)

PACKAGE = "shapeops"
KEYS = [*sorted(OPS), "mixed"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project source folder, folder the wheel was installed into)."""
    require_toolchain()
    pytest.importorskip("scikit_build_core", reason="scikit-build-core builds plugin projects")
    base = tmp_path_factory.mktemp("project")
    project, site = base / PACKAGE, base / "site"
    for key, source in OPS.items():
        assert main(new_op_args(key, source, project)) == 0
    description = base / "mixed.toml"
    description.write_text(MIXED)
    assert main(["new", "mixed", "--spec-file", str(description), "--project", str(project)]) == 0
    headers = native.build_info().get("tensorrt_include_dir", "")
    cmd = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", "-q"]
    cmd += ["--target", str(site), str(project), f"-Cbuild-dir={base / 'build'}"]
    cmd += [f"-Ccmake.define.CMAKE_CUDA_ARCHITECTURES={CUDA_ARCH}"]
    cmd += [f"-Ccmake.define.TensorRT_INCLUDE_DIR={headers}"] if headers else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return project, site


def run_with(site: Path, code: str, cwd: Path):
    return run_python(code, cwd=cwd, env={"PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"})


def test_every_binding_is_built(installed, tmp_path: Path) -> None:
    _, site = installed
    done = run_with(site, f"import {PACKAGE}._native as m\nprint(sorted(m.ops))\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert str(sorted(KEYS)) in done.stdout


def test_plugin_library_registers_every_op(installed) -> None:
    project, site = installed
    library = site / PACKAGE / f"lib{PACKAGE}_plugins.so"
    if not library.is_file():
        pytest.skip("no TensorRT headers at build time: the plugin library was not built")
    host = native.plugin_host_module()
    require_built("trtplug._plugin_host", host is not None, native.native_status()["plugin_host"])
    creators = {c["name"]: c for c in host.PluginLibrary(str(library)).creators()}
    specs = {s.plugin.name: s for s in load_registry([project / "plugins"]) if s.key in KEYS}
    assert set(creators) == set(specs)
    for name, spec in specs.items():
        assert [f["name"] for f in creators[name]["fields"]] == [a.name for a in spec.attributes]


def test_project_parity_skips_every_op_as_not_implemented_yet(installed) -> None:
    project, site = installed
    done = run_with(site, pytest_code("-q", "-rs", "-k", "numpy-float32", "tests"), cwd=project)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" not in done.stdout and " failed" not in done.stdout, done.stdout[-3000:]
    for op_type in ("LayerNormalization", "TopK", "NonZero", "Sum", "Mixed"):
        assert f"not implemented yet: {op_type}: kernel not implemented yet" in done.stdout


def test_variadic_binding_checks_the_count_of_its_arrays(installed, tmp_path: Path) -> None:
    """Sum's binding takes 1..64 arrays for data_0 (the glue's range): checked before any array is
    read, so no GPU is needed to see it refuse 0 and 65."""
    _, site = installed
    code = f"import {PACKAGE}._native as m\n"
    for given in ("[]", "[None] * 65"):
        code += f"try:\n    m.sum({given}, [None])\nexcept ValueError as exc:\n    print(exc)\n"
    done = run_with(site, code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sum: inputs 'data_0[0]' is required" in done.stdout
    assert "sum: 65 inputs given, the op takes at most 64" in done.stdout


def test_installed_scaffolds_register_as_prototype_plugins(installed, tmp_path: Path) -> None:
    """Issue 19: every scaffold, the variadic Sum included, registers with TensorRT(-RTX) as a
    prototype plugin without further code; Sum's creator makes a plugin that takes 3 tensors."""
    pytest.importorskip("tensorrt_rtx", reason="pip install tensorrt-rtx to register prototype plugins")
    _, site = installed
    code = (
        "import tensorrt_rtx as trt\n"
        "from trtplug import protoplugin\n"
        f"print(sorted(protoplugin.register(trt, keys={KEYS!r}).items()))\n"
        "creator = trt.get_plugin_registry().get_creator('TrtplugSum', '1', protoplugin.NAMESPACE)\n"
        "plugin = creator.create_plugin('s', trt.PluginFieldCollection([]), trt.TensorRTPhase.BUILD)\n"
        "print('sum types', plugin.get_output_data_types([trt.DataType.HALF] * 3) == [trt.DataType.HALF])\n"
    )
    done = run_with(site, code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert str(sorted((key, "registered") for key in KEYS)) in done.stdout, done.stdout
    assert "sum types True" in done.stdout

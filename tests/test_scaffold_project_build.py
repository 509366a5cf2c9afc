"""`trtplug new --project`: a standalone plugin project with a TODO op (Hardmax) and an
elementwise one (Softsign), built and installed as a wheel through scikit-build-core against
this trtplug's CMake helpers (one build for the module, sm_90 only). trtplug then finds the
ops through the entry point, the bindings in <package>._native and the plugins in
lib<package>_plugins.so; the project's own tests pass Softsign and skip Hardmax as "not
implemented yet"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.build_helpers import CUDA_ARCH, FAKE_ARRAY, cli, pytest_code, require_toolchain, run_python
from tests.conftest import require_built
from trtplug import native
from trtplug.cli import main
from trtplug.registry import load_registry

pytestmark = pytest.mark.slow  # a real scikit-build-core/CMake build (minutes)

PACKAGE = "myops"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project source folder, folder the wheel was installed into)."""
    require_toolchain()
    pytest.importorskip("scikit_build_core", reason="scikit-build-core builds plugin projects")
    base = tmp_path_factory.mktemp("project")
    project, site = base / PACKAGE, base / "site"
    assert main(["new", "hardmax", "--from", "ai.onnx::Hardmax", "--project", str(project)]) == 0
    assert main(["new", "softsign", "--from", "ai.onnx::Softsign", "--project", str(project)]) == 0
    headers = native.build_info().get("tensorrt_include_dir", "")
    cmd = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", "-q"]
    cmd += ["--target", str(site), str(project), f"-Cbuild-dir={base / 'build'}"]
    cmd += [f"-Ccmake.define.CMAKE_CUDA_ARCHITECTURES={CUDA_ARCH}"]
    cmd += [f"-Ccmake.define.TensorRT_INCLUDE_DIR={headers}"] if headers else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return project, site


def run_with(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_python(code, cwd=cwd, env={"PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"})


def test_installed_layout(installed) -> None:
    _, site = installed
    package = site / PACKAGE
    assert (package / "plugins" / "hardmax" / "spec.toml").is_file()
    assert (package / "pyplugins" / "softsign.py").is_file()
    assert list(package.glob("_native*.so"))
    entry_points = next(site.glob(f"{PACKAGE}-*.dist-info")) / "entry_points.txt"
    assert "[trtplug.plugins]" in entry_points.read_text()


def test_trtplug_finds_the_ops_through_the_entry_point(installed, tmp_path: Path) -> None:
    _, site = installed
    done = run_with(site, cli("list", "--json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ops = {op["op"]: op for op in json.loads(done.stdout)["ops"]}
    assert {"fast_gelu", "hardmax", "softsign"} <= set(ops)
    assert ops["softsign"]["spec"] == str(site / PACKAGE / "plugins" / "softsign" / "spec.toml")
    assert ops["softsign"]["implementations"]["cuda"] != f"{PACKAGE}._native is not available: not built"


def test_project_binding_is_importable(installed, tmp_path: Path) -> None:
    _, site = installed
    code = FAKE_ARRAY + (
        f"import {PACKAGE}._native as m\nprint(sorted(m.ops))\n"
        "try:\n    m.hardmax([FakeDeviceArray((2, 3))], [FakeDeviceArray((2, 3))], {'axis': 7})\n"
        "except RuntimeError as e:\n    print(e)\n"
    )
    done = run_with(site, code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "['hardmax', 'softsign']" in done.stdout
    assert "hardmax: kernel not implemented yet (plugins/hardmax/hardmax.cu)" in done.stdout
    assert "Hardmax: kernel not implemented yet" in done.stderr


def test_project_plugin_library_matches_its_specs(installed) -> None:
    project, site = installed
    library = site / PACKAGE / f"lib{PACKAGE}_plugins.so"
    if not library.is_file():
        pytest.skip("no TensorRT headers at build time: the plugin library was not built")
    host = native.plugin_host_module()
    require_built("trtplug._plugin_host", host is not None, native.native_status()["plugin_host"])
    creators = {c["name"]: c for c in host.PluginLibrary(str(library)).creators()}
    specs = {s.plugin.name: s for s in load_registry([project / "plugins"]) if s.key in ("hardmax", "softsign")}
    assert set(creators) == set(specs)
    for name, spec in specs.items():
        assert [f["name"] for f in creators[name]["fields"]] == [a.name for a in spec.attributes]


def test_project_tests_pass_elementwise_and_skip_the_todo_op(installed) -> None:
    project, site = installed
    selected = "numpy-float32-odd] or numpy-float16-one]"  # exact case ids: 2 per op
    done = run_with(site, pytest_code("-q", "-rs", "-k", selected, "tests"), cwd=project)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed, 2 skipped" in done.stdout, done.stdout[-3000:]
    assert "not implemented yet: Hardmax: kernel not implemented yet" in done.stdout

"""`check_model`: load and validate the model, pick parser or static mode, attach covering plugins."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from trtplug.check.backend import choose_backend
from trtplug.check.findings import CheckReport, Finding
from trtplug.check.walk import NodeSite, add_spec_types
from trtplug.errors import TrtplugError
from trtplug.graph_rewrites.opset_repair import raise_opset_for_newer_ops
from trtplug.model_io import load_valid_model
from trtplug.onnx_common import domain_label


def _no_progress(total: int, nodes: int) -> Callable[[int], None]:
    return lambda n: None


def check_model(
    path: str | os.PathLike[str],
    static: bool = False,
    trt_version: str = "10",
    backend: str = "auto",
    plugin_dirs: Iterable[str] = (),
    whole_model: bool = True,
    progress: Callable[[int, int], Callable[[int], None]] = _no_progress,
    timeout_s: float = 120.0,
    verify_covers: bool = True,
) -> CheckReport:
    """Every node TensorRT rejects in the model at `path`, with reasons and covering plugins.

    A plugin covers a node only when `trtplug rewrite` can replace it (`_verify_covers`);
    `verify_covers=False` stops at the op type (the rewrite's own target query needs no more)."""
    from trtplug.registry import load_registry

    registry = load_registry(plugin_dirs)
    model_path = Path(path)
    model = add_spec_types(load_valid_model(model_path), registry)
    opset_note = raise_opset_for_newer_ops(model)  # as rewrite reads it (torch's opset-18 DeformConv)
    chosen = None if static else choose_backend(backend)
    if not static and chosen is None and backend != "auto":
        raise TrtplugError(f"--backend {backend}: the {backend} Python package is not importable here")
    report = CheckReport(model=str(path), mode="parser" if chosen else "static", engine="")
    report.notes += [opset_note] if opset_note else []

    def covering(site: NodeSite) -> str | None:
        spec = registry.covering(site.node.domain, site.node.op_type, site.opset)
        return spec.plugin.name if spec else None

    if chosen:
        from trtplug.check.parser_mode import findings_from, run_parser_check

        pairs = run_parser_check(
            model, model_path, report, chosen, progress, whole_model, timeout_s, _plugin_domains(registry)
        )
        report.findings = findings_from(pairs, covering)
        _mark_plugin_library_ops(report.findings, chosen)
        _mark_trtplug_plugin_nodes(report.findings, registry)
        said = {part for f in report.findings for part in f.reason.split("; ")}
        report.findings += [  # the model does not import, for a reason tied to no node (e.g. an input's dtype)
            Finding("(whole model)", "-", "-", reason, "whole-model parse", None)
            for reason in dict.fromkeys(report.stats.pop("whole_model_unplaced", []))
            if reason not in said
        ]
        report.nodes = len(pairs)
        if verify_covers:
            _verify_covers(report, model_path, registry)
        return report
    if not static:
        report.notes.append("no TensorRT parser is importable (tensorrt, tensorrt_rtx): static mode")
    from trtplug.check.static import resolve_version, run_static_check

    report.engine = f"static data, TensorRT {resolve_version(trt_version)}"
    sites = run_static_check(model, model_path, trt_version, report)
    report.nodes = len(sites)
    report.findings = [
        _static_finding(s, reason, plugin, covering(s)) for s, reason, plugin in sites if reason or plugin
    ]
    _mark_trtplug_plugin_nodes(report.findings, registry)
    if verify_covers:
        _verify_covers(report, model_path, registry)
    return report


def _verify_covers(report: CheckReport, model_path: Path, registry) -> None:
    """A plugin that covers a rejected node's op type but cannot take this node does not cover it:
    the rewrite would leave it and TensorRT would still reject it (graph_rewrites/dry_run.py)."""
    covered = {f.node: f for f in report.findings if f.plugin and f.kind == "rejected"}
    if not covered:
        return
    from trtplug.graph_rewrites.dry_run import nodes_left

    try:
        left = nodes_left(model_path, registry)
    except Exception as exc:  # check's verdict stands on the parser's; say what could not be confirmed
        report.notes.append(f"covering plugins not confirmed by a dry rewrite ({type(exc).__name__}: {exc})")
        return
    for node, (op_type, reason) in left.items():
        finding = covered.get(node)
        if finding is None or op_type != finding.op_type:
            continue
        finding.reason += f"; {finding.plugin} cannot take this node ({reason}): rewrite leaves it"
        finding.plugin = None


def _plugin_domains(registry) -> set[str]:
    """Where `trtplug rewrite` puts plugin nodes: each plugin's namespace, the prototypes' one."""
    from trtplug.protoplugin.plugin import NAMESPACE as PROTOTYPE_NAMESPACE

    return {spec.plugin.namespace for spec in registry} | {PROTOTYPE_NAMESPACE}


def _mark_trtplug_plugin_nodes(findings: list[Finding], registry) -> None:
    """A node `trtplug rewrite` wrote (a registered plugin's name in a trtplug domain), checked in
    the rewritten model: no parser imports it until the plugins are registered, which is the
    deployment's step, not a gap. It counts as covered by itself, and the reason says how to load it."""
    from trtplug.protoplugin.plugin import NAMESPACE as PROTOTYPE_NAMESPACE

    names = {spec.plugin.name for spec in registry}
    domains = _plugin_domains(registry)
    for finding in findings:
        if finding.op_type not in names or finding.domain not in domains:
            continue
        finding.plugin = finding.op_type
        finding.kind = "trtplug-plugin"
        loading = (
            "register the prototype plugins (trtplug.protoplugin.register, or python -m trtplug.protoplugin TOOL)"
            if finding.domain == PROTOTYPE_NAMESPACE
            else "load trtplug's plugin library (trtexec --staticPlugins=PATH, IPluginRegistry.load_library; PATH: "
            "trtplug.native.plugin_library_path())"
        )
        finding.reason = f"a trtplug plugin node: it imports once you {loading}; the parser said: {finding.reason}"


def _mark_plugin_library_ops(findings: list[Finding], backend: str) -> None:
    """A parser rejection of an op TensorRT imports through its plugin library: TensorRT-RTX has no
    such library; with TensorRT, loading it is the fix. TensorRT-RTX's rejection of an op TensorRT
    imports natively but TensorRT-RTX's importer builds from a plugin it does not ship (NonZero) says so."""
    from trtplug.check.static import library_plugin_of, rtx_plugin_of

    for finding in findings:
        plugin = library_plugin_of(finding.op_type)
        rtx_plugin = rtx_plugin_of(finding.op_type)
        if rtx_plugin is not None and backend == "tensorrt_rtx":
            finding.kind = "not-in-rtx"
            finding.reason += (
                f" (TensorRT imports {finding.op_type} natively; TensorRT-RTX's importer asks for a "
                f"{rtx_plugin} plugin creator, which TensorRT-RTX does not ship)"
            )
        if plugin is None:
            continue
        if backend == "tensorrt_rtx":
            finding.kind = "not-in-rtx"
            finding.reason += (
                f" (TensorRT imports {finding.op_type} through its plugin library, libnvinfer_plugin: {plugin}; "
                "TensorRT-RTX ships no plugin library)"
            )
        else:
            finding.kind = "plugin-library"
            finding.reason += f" (load TensorRT's plugin library, libnvinfer_plugin: {plugin}, before parsing)"


def _static_finding(site: NodeSite, reason: str | None, library_plugin: str | None, covering: str | None) -> Finding:
    domain = domain_label(site.node.domain)
    if reason:
        return Finding(site.path, site.node.op_type, domain, reason, "static data", covering)
    note = (
        f"imports only with TensorRT's plugin library loaded (libnvinfer_plugin: {library_plugin}): call "
        "initLibNvInferPlugins (Python: tensorrt.init_libnvinfer_plugins) before parsing; TensorRT-RTX has no "
        "such library"
    )
    return Finding(site.path, site.node.op_type, domain, note, "static data", covering, "plugin-library")

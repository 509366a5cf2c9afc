"""The parity HTML report: a summary per op/impl/dtype with its error histogram, then every case.

Histograms sum the per-element |actual - expected| decade counts of all cases and outputs of a
group, so a user sees at a glance whether errors sit well under the tolerance or crowd it.
Requires matplotlib (pip install 'trtplug[report]'); the file is written atomically.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trtplug.errors import TrtplugError
from trtplug.fileio import atomic_write_text
from trtplug.parity.compare import ERROR_BIN_LABELS

_STYLE = """
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 2em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; font-size: 13px; }
.pass { background: #e6f4e6; } .fail, .error { background: #f8d7d7; } .skip { color: #777; }
.group { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
"""


def require_matplotlib() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TrtplugError("--html needs matplotlib (pip install 'trtplug[report]')") from None
    return plt


def _histogram_png(plt: Any, counts: Sequence[int], title: str) -> str:
    fig, ax = plt.subplots(figsize=(5, 2.4), dpi=80)
    colors = ["#4c72b0"] * (len(counts) - 1) + ["#c44e52"]
    ax.bar(range(len(counts)), [max(c, 0) for c in counts], color=colors, log=any(counts))
    ax.set_xticks(range(len(counts)), ERROR_BIN_LABELS, rotation=60, fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("elements", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _groups(results: Sequence[Any]) -> dict[tuple[str, str, str], tuple[list[int], Counter]]:
    groups: dict[tuple[str, str, str], tuple[list[int], Counter]] = defaultdict(
        lambda: ([0] * len(ERROR_BIN_LABELS), Counter())
    )
    for r in results:
        hist, statuses = groups[(r.op, r.impl, r.dtype)]
        statuses[r.status] += 1
        for c in r.comparisons:
            for i, n in enumerate(c.error_histogram):
                hist[i] += n
    return groups


def _case_rows(results: Sequence[Any]) -> str:
    rows = []
    for r in results:
        worst = max(r.comparisons, key=lambda c: c.max_abs, default=None)
        numbers = (
            [f"{worst.max_abs:.3g}", f"{worst.max_rel:.3g}", worst.mismatches, f"{worst.min_atol_to_pass:.3g}"]
            if worst
            else ["-"] * 4
        )
        detail = r.detail.splitlines()[0] if r.detail else ""
        cells = [r.op, r.impl, r.dtype, r.case, r.status, *numbers, detail]
        text = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        rows.append(f'<tr class="{r.status}">{text}</tr>')
    return "\n".join(rows)


def render_html(results: Sequence[Any], seed: int) -> str:
    plt = require_matplotlib()
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>trtplug parity</title><style>{_STYLE}</style>"]
    counts = Counter(r.status for r in results)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "error", "skip"))
    parts.append(f"</head><body><h1>trtplug parity</h1><p>seed {seed}: {summary}</p><h2>Error histograms</h2>")
    for (op, impl, dtype), (hist, statuses) in sorted(_groups(results).items()):
        label = f"{op} / {impl} / {dtype}"
        status = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        if sum(hist):
            image = f'<img alt="{html.escape(label)}" src="data:image/png;base64,{_histogram_png(plt, hist, label)}">'
        else:
            image = "<p>(no compared elements)</p>"
        parts.append(f'<div class="group"><b>{html.escape(label)}</b> ({html.escape(status)})<br>{image}</div>')
    headers = ["op", "impl", "dtype", "case", "status", "max abs", "max rel", "mismatches", "min atol", "detail"]
    parts.append("<h2>Cases</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr>")
    parts.append(_case_rows(results) + "</table></body></html>")
    return "\n".join(parts)


def write_html(path: Path, results: Sequence[Any], seed: int) -> None:
    """Renders first, then writes atomically: a failed render leaves no file behind."""
    text = render_html(results, seed)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise TrtplugError(f"{path}: cannot write the HTML report: {exc.strerror or exc}") from None

"""Rules for the C++/CUDA sources that load into foreign processes (Python with torch, CuPy and
ONNX Runtime; TensorRT applications): no iostreams. An ostringstream formatting a float attribute
in the generated glue's value check crashed the GPU machine's Python (a segfault inside the C++
runtime's locale code) for every op with a float attribute rule; snprintf needs no locale."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STREAMS = re.compile(
    r"#include\s*<(sstream|iostream|fstream|ostream|istream)>|std::(o|i)?stringstream|std::cout|std::cerr"
)


def native_sources() -> list[Path]:
    roots = [ROOT / "plugins", ROOT / "cmake" / "templates", ROOT / "trtplug" / "scaffold"]
    suffixes = {".h", ".cpp", ".cu", ".cuh", ".in"}
    return [p for root in roots for p in root.rglob("*") if p.is_file() and p.suffix in suffixes]


def test_native_sources_use_no_iostreams():
    sources = native_sources()
    assert len(sources) > 100, "the source walk found the plugins"
    offenders = [str(p.relative_to(ROOT)) for p in sources if STREAMS.search(p.read_text(errors="replace"))]
    assert offenders == [], f"iostreams in native code (use snprintf / std::to_string): {offenders}"

"""cmake/generate_op_glue.py: every spec's header compiles, and its validate() reports exactly
what trtplug/attr_rules.py reports for the same values (same rule, same wording)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trtplug.attr_rules import spec_value_problems
from trtplug.spec import load_spec, load_specs

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "cmake" / "generate_op_glue.py"
SPECS = sorted((ROOT / "plugins").glob("*/spec.toml"))
GXX = shutil.which("g++")

RULED_SPEC = """
[plugin]
name = "TrtplugRuled"
version = "1"
namespace = "trtplug"

[[replaces]]
domain = "example"
op_type = "Ruled"
since_version = 1

[[attributes]]
name = "mode"
type = "string"
default = "linear"
choices = ["linear", "cubic"]

[[attributes]]
name = "axis"
type = "int"
default = -2147483648
default_means_absent = true
min = -4
max = 3

[[attributes]]
name = "sizes"
type = "ints"
default = [1, 1]
min = 1
min_length = 2
max_length = 3

[[attributes]]
name = "levels"
type = "ints"
default = [0]
choices = [0, 2, 4]

[[attributes]]
name = "alpha"
type = "float"
default = 0.5
max = 1.5

[[attributes]]
name = "pads"
type = "ints"
default = []
length_of = "sizes"
length_factor = 2

[[inputs]]
name = "X"
type = "float32"

[[outputs]]
name = "Y"
type = "float32"
shape = "same_as:X"

[tolerances.float32]
atol = 0
rtol = 0

[reference]
kind = "numpy"
"""

# (attribute values, in C++ syntax for the program and in Python for attr_rules)
CASES = [
    ({}, {}),
    ({"mode": '"cubic"'}, {"mode": "cubic"}),
    ({"mode": '"nearest"'}, {"mode": "nearest"}),
    ({"axis": "INT32_MIN"}, {"axis": -(2**31)}),
    ({"axis": "-5"}, {"axis": -5}),
    ({"axis": "4"}, {"axis": 4}),
    ({"sizes": "{1}"}, {"sizes": [1]}),
    ({"sizes": "{1, 2, 3, 4}"}, {"sizes": [1, 2, 3, 4]}),
    ({"sizes": "{2, 0}"}, {"sizes": [2, 0]}),
    ({"levels": "{0, 4, 3}"}, {"levels": [0, 4, 3]}),
    ({"alpha": "2.0F"}, {"alpha": 2.0}),
    ({"mode": '"x"', "alpha": "2.0F"}, {"mode": "x", "alpha": 2.0}),
    ({"pads": "{0, 0, 1, 1}"}, {"pads": [0, 0, 1, 1]}),
    ({"pads": "{0, 0, 1}"}, {"pads": [0, 0, 1]}),
    ({"sizes": "{2, 2, 2}", "pads": "{0, 0, 1, 1}"}, {"sizes": [2, 2, 2], "pads": [0, 0, 1, 1]}),
]


def generate(spec: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GENERATOR), str(spec), str(out)], capture_output=True, text=True, timeout=60
    )


def test_every_spec_generates_a_compiling_header(tmp_path):
    includes = []
    for spec in SPECS:
        out = tmp_path / f"{spec.parent.name}_glue.h"
        result = generate(spec, out)
        assert result.returncode == 0, result.stderr
        text = out.read_text()
        for op in load_specs(spec):  # one namespace per op; an op family's folder holds several
            glue = text[text.index(f"namespace glue_{op.key}\n") : text.index(f"}} // namespace glue_{op.key}")]
            assert f'kName = "{op.plugin.name}"' in glue
        includes.append(f'#include "{out}"')
    if GXX is None:
        pytest.skip("no g++ to compile the generated headers")
    source = tmp_path / "all.cpp"
    source.write_text("\n".join(includes) + "\nint main() { return 0; }\n")
    compiled = subprocess.run(
        [GXX, "-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'plugins'}", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stderr


def test_generated_counts_and_fields_follow_the_spec(tmp_path):
    spec_path = tmp_path / "ruled" / "spec.toml"
    spec_path.parent.mkdir()
    spec_path.write_text(RULED_SPEC)
    out = tmp_path / "ruled_glue.h"
    assert generate(spec_path, out).returncode == 0
    text = out.read_text()
    assert "kMinInputs = 1;" in text and "kMaxInputs = 1;" in text and "kNbOutputs = 1;" in text
    order = [text.index(f'v("{a.name}", {a.name});') for a in load_spec(spec_path).attributes]
    assert order == sorted(order)  # the visitor walks fields in spec order
    assert "std::vector<int32_t> sizes{1, 1};" in text and 'std::string mode{"linear"};' in text


@pytest.mark.skipif(GXX is None, reason="no g++ to compile the generated validate()")
def test_validate_matches_attr_rules_wording(tmp_path):
    spec_path = tmp_path / "ruled" / "spec.toml"
    spec_path.parent.mkdir()
    spec_path.write_text(RULED_SPEC)
    assert generate(spec_path, tmp_path / "ruled_glue.h").returncode == 0
    body = []
    for cpp_values, _ in CASES:
        body.append("    {\n        glue_ruled::Params p;")
        body += [f"        p.{name} = {value};" for name, value in cpp_values.items()]
        body.append('        std::cout << glue_ruled::validate(p) << "\\n";\n    }')
    program = tmp_path / "run.cpp"
    program.write_text(
        '#include <iostream>\n#include "ruled_glue.h"\nusing namespace trtplug;\nint main()\n{\n'
        + "\n".join(body)
        + "\n}\n"
    )
    exe = tmp_path / "run"
    build = [GXX, "-std=c++17", f"-I{ROOT / 'plugins'}", f"-I{tmp_path}", str(program), "-o", str(exe)]
    compiled = subprocess.run(build, capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stderr
    printed = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30).stdout.split("\n")[:-1]
    spec = load_spec(spec_path)
    expected = [(spec_value_problems(spec, values) or [""])[0] for _, values in CASES]
    assert printed == expected
    assert sum(bool(line) for line in printed) == 11  # the bad cases really are refused


def test_bad_spec_is_one_line_error_and_no_header(tmp_path):
    spec_path = tmp_path / "broken" / "spec.toml"
    spec_path.parent.mkdir()
    spec_path.write_text(RULED_SPEC.replace('type = "string"', 'type = "tensor"'))
    out = tmp_path / "broken_glue.h"
    result = generate(spec_path, out)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "attribute 'mode'" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_family_header_has_one_namespace_per_member(tmp_path):
    """Each member's glue carries its own identity and counts (BitwiseNot is unary)."""
    out = tmp_path / "bitwise_glue.h"
    assert generate(ROOT / "plugins" / "bitwise" / "spec.toml", out).returncode == 0
    text = out.read_text()
    assert text.count("#pragma once") == 1
    counts = {}
    for op in load_specs(ROOT / "plugins" / "bitwise" / "spec.toml"):
        glue = text[text.index(f"namespace glue_{op.key}\n") : text.index(f"}} // namespace glue_{op.key}")]
        assert f'kName = "{op.plugin.name}"' in glue and f'kVersion = "{op.plugin.version}"' in glue
        counts[op.key] = glue.count("kMaxInputs = 2;")
    assert counts == {"bitwise_and": 1, "bitwise_or": 1, "bitwise_xor": 1, "bitwise_not": 0}


def test_binding_inputs_are_the_plugin_inputs_without_folded_ones(tmp_path):
    """STFT folds frame_step (between signal and window) into a field: the binding takes
    [signal, window], as the prototype and the plugin do (the parity suite passes that list)."""
    out = tmp_path / "stft_glue.h"
    assert generate(ROOT / "plugins" / "stft" / "spec.toml", out).returncode == 0
    text = out.read_text()
    names = text[text.index("kInputNames[] = {") :].split("}", 1)[0]
    assert names.endswith('{"signal", "window"'), names
    spec = load_spec(ROOT / "plugins" / "stft" / "spec.toml")
    assert [t.name for t in spec.plugin_inputs] == ["signal", "window"]

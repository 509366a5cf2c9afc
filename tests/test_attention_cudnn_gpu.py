"""The attention core's cuDNN prefill backend (plugins/common/attention_cudnn*.cpp) on a GPU:
TRTPLUG_ATTENTION_PREFILL=cudnn through trtplug._native.attention_bsnh (the core on BSNH or
packed-QKV views) against the core's float32 reference (trtplug.protolib.attention, the one the
GroupQueryAttention prototype computes with, tied to ONNX Runtime by the parity suite): fp16 and
bf16, causal and not, GQA 1 and 4, head 64/128, 1, 17 and 4099 query rows; per-batch key lengths
(cuDNN's padding mask, a batch with no key included) and causal from position 0 (a first prompt);
the GroupQueryAttention launcher's first prompt with right-padded batches. Outputs are poisoned
with NaN first, and every case asserts which backend ran (last_prefill_backend). Skips, with
the reason, where this build has no cuDNN backend or libcudnn.so.9 does not load."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from tests.attention_core_run import run_core

pytestmark = pytest.mark.gpu
TOL = {"float16": 4e-3, "bfloat16": 5e-2}


def point_at_a_wheel_library(variable: str, package: str, patterns: tuple[str, ...]) -> None:
    """Sets `variable` (unless already set) to the first file matching `patterns` (in order) under an
    installed nvidia wheel `package`. Done at collection, before any launch loads a library:
    - TRTPLUG_CUDNN_LIBRARY: the nvidia-cudnn wheel's libcudnn.so.9 (torch's), not on the loader
      path unless torch was imported;
    - CUDNN_FRONTEND_CUDART_LIB_NAME: cudnn-frontend dlopen's libcudart.so.13/.12 itself, and the
      static runtime trtplug links is no file it can open."""
    if os.environ.get(variable):
        return
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return
    for root in (spec.submodule_search_locations or []) if spec else []:
        for pattern in patterns:
            found = sorted(Path(root).glob(pattern))
            if found:
                os.environ[variable] = str(found[0])
                return


point_at_a_wheel_library("TRTPLUG_CUDNN_LIBRARY", "nvidia.cudnn", ("lib/libcudnn.so.9",))
point_at_a_wheel_library("CUDNN_FRONTEND_CUDART_LIB_NAME", "nvidia", ("*/lib/libcudart.so.13", "*/lib/libcudart.so.12"))


@pytest.fixture
def cudnn(ext, monkeypatch):
    """The module, with TRTPLUG_ATTENTION_PREFILL=cudnn; skips (printing why) without cuDNN."""
    if not hasattr(ext, "cudnn_attention_available"):
        pytest.fail("trtplug._native predates the cuDNN backend: rebuild it")
    if not ext.cudnn_attention_compiled():
        pytest.skip("built without cuDNN headers (TRTPLUG_CUDNN_INCLUDE_DIRS, scripts/fetch: .cache/cudnn-headers)")
    if not ext.cudnn_attention_available():
        pytest.skip("libcudnn.so.9 cannot be loaded (see the trtplug log line on stderr)")
    monkeypatch.setenv("TRTPLUG_ATTENTION_PREFILL", "cudnn")
    return ext


CASES = [  # (seq, batch): 4099 rows crosses every tile edge; one batch keeps the reference small
    (1, 3),
    (17, 2),
    (4099, 1),
]


@pytest.mark.parametrize("layout", ["separate", "packed"])
@pytest.mark.parametrize(("heads", "kv_heads"), [(8, 8), (8, 2)])
@pytest.mark.parametrize("head", [64, 128])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("seq", "batch"), CASES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cudnn_prefill_matches_the_reference(cp, cudnn, seed, dtype, seq, batch, causal, head, heads, kv_heads, layout):
    rng = np.random.default_rng([seed, seq, head, heads, kv_heads])
    packed = layout == "packed"
    # separate K/V: more keys than queries (causal: cuDNN's bottom-right diagonal, as the core's)
    kv_len = seq if packed else seq + 5
    got, want = run_core(cp, cudnn, rng, dtype, batch, seq, kv_len, heads, kv_heads, head, causal, packed)
    assert cudnn.last_prefill_backend() == "cudnn"
    np.testing.assert_allclose(got, want, atol=TOL[dtype], rtol=TOL[dtype])


def test_cudnn_takes_an_explicit_scale(cp, cudnn, seed):
    got, want = run_core(cp, cudnn, np.random.default_rng(seed), "float16", 2, 33, 40, 4, 2, 64, False, False, 0.3)
    assert cudnn.last_prefill_backend() == "cudnn"
    np.testing.assert_allclose(got, want, atol=TOL["float16"], rtol=TOL["float16"])


PADDED = [  # (seq, kv_len, kv_valid per batch): ragged key lengths, a batch with no key at all
    (40, 40, [40, 33, 1, 0]),
    (300, 301, [301, 17, 300]),
]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("head", [64, 128])
@pytest.mark.parametrize(("seq", "kv_len", "kv_valid"), PADDED)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cudnn_key_lengths(cp, cudnn, seed, dtype, seq, kv_len, kv_valid, head, causal):
    """Per-batch key lengths as cuDNN's padding mask; causal only from position 0 (query i at key
    i: a first prompt, cuDNN's top-left diagonal), so every causal row keeps key 0 there."""
    valid = np.array(kv_valid, np.int32)
    if causal:
        valid = np.maximum(valid, 1)
    lengths = (valid, np.zeros_like(valid) if causal else None)
    rng = np.random.default_rng([seed, seq, head])
    got, want = run_core(cp, cudnn, rng, dtype, len(valid), seq, kv_len, 8, 2, head, causal, False, lengths=lengths)
    assert cudnn.last_prefill_backend() == "cudnn"
    np.testing.assert_allclose(got, want, atol=TOL[dtype], rtol=TOL[dtype])


def test_causal_with_query_starts_runs_the_kernels(cp, cudnn, seed):
    """Causal with per-batch starts not known to be zero (a chunk after a past): the kernels."""
    valid, starts = np.array([60, 50], np.int32), np.array([20, 10], np.int32)
    rng = np.random.default_rng(seed)
    got, want = run_core(cp, cudnn, rng, "float16", 2, 40, 64, 4, 4, 64, True, False, lengths=(valid, starts))
    assert cudnn.last_prefill_backend() == "kernel"
    np.testing.assert_allclose(got, want, atol=TOL["float16"], rtol=TOL["float16"])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(("seq", "past", "backend"), [(64, 0, "cudnn"), (301, 0, "cudnn"), (64, 100, "kernel")])
def test_group_query_attention_prompt_on_cudnn(cp, cudnn, seed, dtype, seq, past, backend):
    """The GroupQueryAttention launcher: a first prompt (no past; batches right-padded by the
    ragged totals) goes to cuDNN with its key lengths, a chunk after a past to the kernels."""
    from tests.test_group_query_attention_gpu import run_rounded_prompt

    got, want = run_rounded_prompt(cp, cudnn, np.random.default_rng([seed, seq]), dtype, seq, past, 128, -1)
    assert cudnn.last_prefill_backend() == backend
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, atol=TOL[dtype], rtol=TOL[dtype], err_msg=f"output {i}")


@pytest.mark.parametrize(("mode", "backend"), [(None, "cudnn"), ("kernel", "kernel"), ("auto", "cudnn")])
def test_the_switch_picks_the_backend(cp, cudnn, monkeypatch, seed, mode, backend):
    """kernel: the hand-written kernels; unset or auto: cuDNN from 32 query rows (a prefill)."""
    if mode is None:
        monkeypatch.delenv("TRTPLUG_ATTENTION_PREFILL")
    else:
        monkeypatch.setenv("TRTPLUG_ATTENTION_PREFILL", mode)
    got, want = run_core(cp, cudnn, np.random.default_rng(seed), "float16", 2, 64, 64, 8, 2, 128, True, False)
    assert cudnn.last_prefill_backend() == backend
    np.testing.assert_allclose(got, want, atol=TOL["float16"], rtol=TOL["float16"])


def test_inapplicable_problems_run_the_kernels_even_under_cudnn(cp, cudnn, seed):
    """Causal with more queries than keys (the first rows see no key): cuDNN is never asked."""
    rng = np.random.default_rng(seed)
    got, want = run_core(cp, cudnn, rng, "float16", 1, 70, 40, 4, 4, 64, True, False)
    assert cudnn.last_prefill_backend() == "kernel"
    np.testing.assert_allclose(got, want, atol=TOL["float16"], rtol=TOL["float16"])


def test_the_rules_are_exposed(cudnn):
    assert cudnn.cudnn_attention_inapplicable({"dtype": "float16", "q_len": 64, "head_dim": 128}) is None
    assert "float16 or bfloat16" in cudnn.cudnn_attention_inapplicable({"dtype": "float32"})
    assert cudnn.cudnn_attention_inapplicable({"causal": True, "q_len": 4, "kv_len": 9}) is None
    assert "qLen <= kvLen" in cudnn.cudnn_attention_inapplicable({"causal": True, "q_len": 9, "kv_len": 4})
    assert "aligned" in cudnn.cudnn_attention_inapplicable({"misalign_bytes": 2})
    assert cudnn.cudnn_attention_inapplicable({"kv_valid": True, "q_start": True}) is None
    first_prompt = {"causal": True, "kv_valid": True, "q_start": True, "q_start_zero": True}
    assert cudnn.cudnn_attention_inapplicable(first_prompt) is None
    assert "position 0" in cudnn.cudnn_attention_inapplicable({**first_prompt, "q_start_zero": False})
    assert "NaN" in cudnn.cudnn_attention_inapplicable({"kv_valid": True, "zero_fully_masked_rows": False})

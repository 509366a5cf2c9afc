"""Models in the shapes real exporters and optimizers emit, built with onnx.helper (random weights,
no downloads): what users bring to `check`, `rewrite` and `parity --model`.

- genai_decoder: ONNX Runtime GenAI's model builder, one Llama/Qwen-style decoder layer: the
  default-domain SimplifiedLayerNormalization, MatMulNBits (int4) projections, GroupQueryAttention
  with past/present KV cache and rotary inside, SkipSimplifiedLayerNormalization, a SiLU MLP.
- ort_bert: ONNX Runtime's transformer optimizer on BERT: EmbedLayerNormalization over input_ids and
  token_type_ids (a 2-row table), the fused com.microsoft Attention, SkipLayerNormalization, FastGelu.
- dynamo_block: torch.onnx dynamo at opset 23: RMSNormalization and ai.onnx Attention.
- roi_align_head, deform_conv_block, stft_block: a RoiAlign box head (torchvision), a
  DeformConv2d block and an STFT front end (torchaudio), each with its neighbours.
- torchscript_stft: torch.onnx's TorchScript exporter (opset 17) on torch.stft, node for node as
  torch 2.14 writes it: Constant frame_step/window/frame_length and a [batch, length] signal.
- genai_builder_decoder: genai_decoder behind the builder's attention-mask subgraph: seqlens_k =
  ReduceSum(attention_mask) - 1 and total_sequence_length = Shape(attention_mask)[1], as
  onnxruntime-genai 0.18's builder writes them.
- ort_fp16_skip_layer_norm: ONNX Runtime's optimizer with convert_float_to_float16(keep_io_types=True):
  float32 inputs and outputs, Casts around fp16 SkipLayerNormalization and BiasGelu, a MatMul after
  them, and value_info that types each tensor without a shape, as that converter writes it.
- dynamo_llama_rotary: torch.onnx dynamo (opset 23) on transformers' Llama attention: rotary
  caches [1, S, H / 2] shared by the batch, which ONNX Runtime 1.30 refuses for batch > 1.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32, I32, I64 = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64
MS = "com.microsoft"


class Weights:
    def __init__(self, seed: int = 0) -> None:
        self.rng, self.tensors = np.random.default_rng(seed), []

    def add(self, name: str, value: np.ndarray) -> str:
        self.tensors.append(numpy_helper.from_array(value, name))
        return name

    def normal(self, name: str, shape: tuple[int, ...], scale: float = 0.1) -> str:
        return self.add(name, (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def gamma(self, name: str, size: int) -> str:
        return self.add(name, (1 + 0.1 * self.rng.standard_normal(size)).astype(np.float32))

    def int4_linear(self, prefix: str, k: int, n: int, block: int = 32) -> list[str]:
        """MatMulNBits weights: packed 4-bit blocks [N, K/block, block/2] and per-block scales."""
        packed = self.rng.integers(0, 256, (n, k // block, block // 2), dtype=np.uint8)
        scales = (self.rng.random(n * (k // block)) * 0.02 + 0.005).astype(np.float32)
        return [self.add(f"{prefix}_q4", packed), self.add(f"{prefix}_scales", scales)]


def io(name: str, elem: int = F32, shape=None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def _model(nodes, inputs, outputs, weights: Weights, opset: int, ms: bool = True) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "exported", inputs, outputs, initializer=weights.tensors)
    opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(MS, 1)] if ms else [])
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def _nbits(x: str, y: str, weights: list[str], k: int, n: int) -> onnx.NodeProto:
    """The builder's int4 CPU projection: accuracy_level 4 lets ONNX Runtime quantize A to int8."""
    attrs = {"K": k, "N": n, "bits": 4, "block_size": 32, "accuracy_level": 4}
    return helper.make_node("MatMulNBits", [x, *weights], [y], domain=MS, name=y, **attrs)


GENAI = {"hidden": 64, "heads": 4, "kv_heads": 2, "head": 16, "ffn": 128, "max_pos": 64}


def genai_decoder() -> onnx.ModelProto:
    hidden, heads, kv, head, ffn = (GENAI[k] for k in ("hidden", "heads", "kv_heads", "head", "ffn"))
    w = Weights(1)
    inv = 1 / 10000 ** (np.arange(head // 2) / (head // 2))
    angles = np.outer(np.arange(GENAI["max_pos"]), inv)
    caches = [
        w.add("cos_cache", np.cos(angles).astype(np.float32)),
        w.add("sin_cache", np.sin(angles).astype(np.float32)),
    ]
    nodes = [
        helper.make_node(
            "SimplifiedLayerNormalization", ["x", w.gamma("ln1", hidden)], ["h"], epsilon=1e-6, name="ln1"
        ),
        _nbits("h", "q", w.int4_linear("q", hidden, heads * head), hidden, heads * head),
        _nbits("h", "k", w.int4_linear("k", hidden, kv * head), hidden, kv * head),
        _nbits("h", "v", w.int4_linear("v", hidden, kv * head), hidden, kv * head),
        helper.make_node(
            "GroupQueryAttention",
            ["q", "k", "v", "past_key", "past_value", "seqlens_k", "total_sequence_length", *caches],
            ["attn", "present_key", "present_value"],
            domain=MS,
            num_heads=heads,
            kv_num_heads=kv,
            do_rotary=1,
            name="gqa",
        ),
        _nbits("attn", "o", w.int4_linear("o", heads * head, hidden), heads * head, hidden),
        helper.make_node(
            "SkipSimplifiedLayerNormalization",
            ["o", "x", w.gamma("ln2", hidden)],
            ["h2", "", "", "residual"],
            domain=MS,
            epsilon=1e-6,
            name="skip_ln2",
        ),
        _nbits("h2", "gate", w.int4_linear("gate", hidden, ffn), hidden, ffn),
        _nbits("h2", "up", w.int4_linear("up", hidden, ffn), hidden, ffn),
        helper.make_node("Sigmoid", ["gate"], ["gate_sig"], name="silu_sigmoid"),
        helper.make_node("Mul", ["gate", "gate_sig"], ["gate_act"], name="silu_mul"),
        helper.make_node("Mul", ["gate_act", "up"], ["mlp_in"], name="mlp_mul"),
        _nbits("mlp_in", "down", w.int4_linear("down", ffn, hidden), ffn, hidden),
        helper.make_node("Add", ["down", "residual"], ["y"], name="residual_add"),
    ]
    cache = ["batch", kv, "past", head]
    inputs = [
        io("x", shape=["batch", "seq", hidden]),
        io("past_key", shape=cache),
        io("past_value", shape=cache),
        io("seqlens_k", I32, ["batch"]),
        io("total_sequence_length", I32, []),
    ]
    return _model(nodes, inputs, decoder_outputs(hidden, kv, head, "total"), w, 21)


def decoder_outputs(hidden: int, kv: int, head: int, rows: str) -> list[onnx.ValueInfoProto]:
    """A decoder layer's y [batch, seq, hidden] and its present caches [batch, kv, rows, head]."""
    present = ["batch", kv, rows, head]
    y = io("y", shape=["batch", "seq", hidden])
    return [y, io("present_key", shape=present), io("present_value", shape=present)]


def attention_mask_nodes() -> list[onnx.NodeProto]:
    """seqlens_k = ReduceSum(attention_mask) - 1 and total_sequence_length = Shape(attention_mask)[1],
    both int32, node for node as onnxruntime-genai 0.18's builder writes them."""
    one_vec, one = "/model/constants/INT64/[1]", "/model/constants/INT64/1"
    return [
        helper.make_node("Constant", [], [one_vec], value=numpy_helper.from_array(np.array([1], np.int64))),
        helper.make_node("Constant", [], [one], value=numpy_helper.from_array(np.array(1, np.int64))),
        helper.make_node("ReduceSum", ["attention_mask", one_vec], ["mask_sum"], keepdims=0),
        helper.make_node("Sub", ["mask_sum", one_vec], ["seqlens_k64"]),
        helper.make_node("Cast", ["seqlens_k64"], ["seqlens_k"], to=TensorProto.INT32),
        helper.make_node("Shape", ["attention_mask"], ["mask_shape"]),
        helper.make_node("Gather", ["mask_shape", one], ["total64"], axis=0),
        helper.make_node("Cast", ["total64"], ["total_sequence_length"], to=TensorProto.INT32),
    ]


def genai_builder_decoder() -> onnx.ModelProto:
    """genai_decoder with its seqlens_k and total_sequence_length inputs computed from an
    attention_mask input [batch, total] (int64), as the builder does."""
    model = genai_decoder()
    graph = model.graph
    nodes = attention_mask_nodes() + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [i for i in graph.input if i.name not in ("seqlens_k", "total_sequence_length")]
    del graph.input[:]
    graph.input.extend([*kept, io("attention_mask", I64, ["batch", "total"])])
    return model


def genai_decoder_inputs(batch: int = 1, seq: int = 5, past: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """A consistent decode step: seqlens_k is total - 1 and the caches hold `past` tokens."""
    rng = np.random.default_rng(seed)
    cache = (batch, GENAI["kv_heads"], past, GENAI["head"])
    return {
        "x": rng.standard_normal((batch, seq, GENAI["hidden"])).astype(np.float32),
        "past_key": rng.standard_normal(cache).astype(np.float32),
        "past_value": rng.standard_normal(cache).astype(np.float32),
        "seqlens_k": np.full(batch, past + seq - 1, np.int32),
        "total_sequence_length": np.array(past + seq, np.int32),
    }


def ort_bert(hidden: int = 32, heads: int = 4, vocab: int = 40, max_pos: int = 16, int64_ids: bool = False):
    """int64_ids: int64 graph inputs cast to int32 before EmbedLayerNormalization, as the optimizer
    writes them for a torch export (the ids reach the op's table inputs through a Cast)."""
    w = Weights(2)
    names = ("input_ids", "token_type_ids", "attention_mask")
    read = {n: f"{n}_int32" if int64_ids else n for n in names}
    casts = [helper.make_node("Cast", [n], [read[n]], to=I32, name=f"cast_{n}") for n in names if int64_ids]
    embed_inputs = [
        read["input_ids"],
        read["token_type_ids"],
        w.normal("word_emb", (vocab, hidden)),
        w.normal("pos_emb", (max_pos, hidden)),
        w.normal("type_emb", (2, hidden)),
        w.gamma("emb_gamma", hidden),
        w.normal("emb_beta", (hidden,)),
        read["attention_mask"],
    ]
    nodes = [
        *casts,
        helper.make_node(
            "EmbedLayerNormalization", embed_inputs, ["emb", "mask_index"], domain=MS, epsilon=1e-12, name="embed"
        ),
        helper.make_node(
            "Attention",
            ["emb", w.normal("qkv_w", (hidden, 3 * hidden)), w.normal("qkv_b", (3 * hidden,)), "mask_index"],
            ["ctx"],
            domain=MS,
            num_heads=heads,
            name="attention",
        ),
        helper.make_node("MatMul", ["ctx", w.normal("out_w", (hidden, hidden))], ["proj"], name="attn_out"),
        helper.make_node(
            "SkipLayerNormalization",
            ["proj", "emb", w.gamma("ln1_g", hidden), w.normal("ln1_b", (hidden,)), w.normal("out_b", (hidden,))],
            ["ln1"],
            domain=MS,
            epsilon=1e-12,
            name="skip_ln1",
        ),
        helper.make_node("MatMul", ["ln1", w.normal("ffn_w1", (hidden, 4 * hidden))], ["ffn_h"], name="ffn1"),
        helper.make_node("FastGelu", ["ffn_h", w.normal("ffn_b1", (4 * hidden,))], ["ffn_act"], domain=MS, name="gelu"),
        helper.make_node("MatMul", ["ffn_act", w.normal("ffn_w2", (4 * hidden, hidden))], ["ffn_out"], name="ffn2"),
        helper.make_node(
            "SkipLayerNormalization",
            ["ffn_out", "ln1", w.gamma("ln2_g", hidden), w.normal("ln2_b", (hidden,))],
            ["y"],
            domain=MS,
            epsilon=1e-12,
            name="skip_ln2",
        ),
    ]
    ids = [io(n, I64 if int64_ids else I32, ["batch", "seq"]) for n in names]
    return _model(nodes, ids, [io("y", shape=["batch", "seq", hidden])], w, 17)


def dynamo_block(hidden: int = 32, heads: int = 4) -> onnx.ModelProto:
    """torch.onnx dynamo, opset 23: RMSNormalization, Q/K/V projections, 4-D ai.onnx Attention."""
    w = Weights(3)
    head = hidden // heads
    shape = w.add("bshd", np.array([0, 0, heads, head], np.int64))
    nodes = [helper.make_node("RMSNormalization", ["x", w.gamma("rms_w", hidden)], ["h"], epsilon=1e-6, name="rms")]
    for name in "qkv":
        nodes += [
            helper.make_node(
                "MatMul", ["h", w.normal(f"w{name}", (hidden, hidden))], [f"{name}_flat"], name=f"{name}_proj"
            ),
            helper.make_node("Reshape", [f"{name}_flat", shape], [f"{name}_bshd"], name=f"{name}_reshape"),
            helper.make_node("Transpose", [f"{name}_bshd"], [name], perm=[0, 2, 1, 3], name=f"{name}_transpose"),
        ]
    nodes += [
        helper.make_node("Attention", ["q", "k", "v"], ["attn"], is_causal=1, name="attention"),
        helper.make_node("Transpose", ["attn"], ["attn_bshd"], perm=[0, 2, 1, 3], name="attn_transpose"),
        helper.make_node(
            "Reshape", ["attn_bshd", w.add("bsh", np.array([0, 0, hidden], np.int64))], ["y"], name="merge"
        ),
    ]
    return _model(
        nodes, [io("x", shape=["batch", "seq", hidden])], [io("y", shape=["batch", "seq", hidden])], w, 23, ms=False
    )


def roi_align_head(channels: int = 8) -> onnx.ModelProto:
    """torchvision's box head: RoiAlign (opset 16, output 7x7, aligned) over a feature map, then Flatten."""
    w = Weights(4)
    nodes = [
        helper.make_node("Relu", ["features"], ["relu"], name="backbone_relu"),
        helper.make_node(
            "RoiAlign",
            ["relu", "rois", "batch_indices"],
            ["pooled"],
            output_height=7,
            output_width=7,
            sampling_ratio=2,
            spatial_scale=0.25,
            coordinate_transformation_mode="half_pixel",
            name="roi_align",
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", w.normal("fc", (channels * 49, 4))], ["y"], name="box_fc"),
    ]
    inputs = [
        io("features", shape=[1, channels, 32, 32]),
        io("rois", shape=["rois", 4]),
        io("batch_indices", I64, ["rois"]),
    ]
    return _model(nodes, inputs, [io("y", shape=["rois", 4])], w, 16, ms=False)


def deform_conv_block(channels: int = 4) -> onnx.ModelProto:
    """torchvision DeformConv2d exported at opset 19: a Conv predicting offsets, then DeformConv."""
    w = Weights(5)
    offsets = helper.make_node(
        "Conv", ["x", w.normal("off_w", (18, channels, 3, 3), 0.01)], ["offset"], pads=[1, 1, 1, 1], name="offset_conv"
    )
    deform = helper.make_node(
        "DeformConv",
        ["x", w.normal("w", (8, channels, 3, 3)), "offset", w.normal("b", (8,))],
        ["d"],
        pads=[1, 1, 1, 1],
        name="deform",
    )
    nodes = [offsets, deform, helper.make_node("Relu", ["d"], ["y"], name="relu")]
    return _model(nodes, [io("x", shape=[1, channels, 12, 12])], [io("y", shape=[1, 8, 12, 12])], w, 19, ms=False)


def stft_block(frame: int = 32, step: int = 8) -> onnx.ModelProto:
    """torchaudio's Spectrogram front end: STFT with an initializer window, then the power."""
    w = Weights(6)
    window = w.add("window", np.hanning(frame).astype(np.float32))
    step_t = w.add("frame_step", np.array(step, np.int64))
    nodes = [
        helper.make_node("STFT", ["signal", step_t, window], ["spec"], onesided=1, name="stft"),
        helper.make_node("Mul", ["spec", "spec"], ["sq"], name="square"),
        helper.make_node(
            "ReduceSum", ["sq", w.add("last", np.array([-1], np.int64))], ["power"], keepdims=0, name="power"
        ),
    ]
    frames = (256 - frame) // step + 1
    return _model(
        nodes, [io("signal", shape=[1, 256, 1])], [io("power", shape=[1, frames, frame // 2 + 1])], w, 17, ms=False
    )


def torchscript_stft(n_fft: int = 64, hop: int = 16, samples: int = 400) -> onnx.ModelProto:
    """torch.stft(x, n_fft, hop, window=hann, center=False, return_complex=False) exported with
    dynamo=False: ONNX defines a rank-3 signal, the exporter passes x [batch, length] as it is."""

    def constant(name: str, value: np.ndarray) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name), name=name)

    nodes = [
        constant("/Constant_output_0", np.array(hop, np.int64)),
        constant("/Constant_1_output_0", np.array(n_fft, np.int64)),
        constant("/Constant_2_output_0", np.hanning(n_fft + 1)[:-1].astype(np.float32)),
        helper.make_node(
            "STFT",
            ["x", "/Constant_output_0", "/Constant_2_output_0", "/Constant_1_output_0"],
            ["/STFT_output_0"],
            onesided=1,
            name="/STFT",
        ),
        helper.make_node("Transpose", ["/STFT_output_0"], ["6"], perm=[0, 2, 1, 3], name="/Transpose"),
    ]
    frames = (samples - n_fft) // hop + 1
    outputs = [io("6", shape=[2, n_fft // 2 + 1, frames, 2])]
    return _model(nodes, [io("x", shape=[2, samples])], outputs, Weights(7), 17, ms=False)


def dynamo_llama_rotary(heads: int = 4, head: int = 16, quantized: bool = False) -> onnx.ModelProto:
    """RotaryEmbedding on q [batch, heads, seq, head] with cos/sin [1, seq, head / 2] (the rotary
    module's output, computed once for the batch), then the attention scores' MatMul. quantized:
    a MatMulNBits projection beside it, as ONNX Runtime's MatMulNBitsQuantizer leaves in such a
    model (an op onnx.reference lacks)."""
    w = Weights(8)
    nodes = [
        helper.make_node("RotaryEmbedding", ["q", "cos", "sin"], ["q_rot"], num_heads=heads, name="rope_q"),
        helper.make_node("RotaryEmbedding", ["k", "cos", "sin"], ["k_rot"], num_heads=heads, name="rope_k"),
        helper.make_node("Transpose", ["k_rot"], ["k_t"], perm=[0, 1, 3, 2], name="k_t"),
        helper.make_node("MatMul", ["q_rot", "k_t"], ["scores"], name="scores"),
    ]
    qk = [io(n, shape=["batch", heads, "seq", head]) for n in ("q", "k")]
    caches = [io(n, shape=[1, "seq", head // 2]) for n in ("cos", "sin")]
    out = [io("scores", shape=["batch", heads, "seq", "seq"])]
    if not quantized:
        return _model(nodes, qk + caches, out, w, 23, ms=False)
    nodes.append(_nbits("h", "proj", w.int4_linear("proj", 64, 32), 64, 32))
    h, proj = io("h", shape=["batch", "seq", 64]), io("proj", shape=["batch", "seq", 32])
    return _model(nodes, [*qk, *caches, h], [*out, proj], w, 23)


def ort_fp16_skip_layer_norm(hidden: int = 32) -> onnx.ModelProto:
    """x, skip (float32) -> Cast fp16 -> SkipLayerNormalization, BiasGelu (fp16) -> Cast float32."""
    w = Weights(9)
    gamma = w.add("gamma", (1 + 0.1 * np.random.default_rng(9).standard_normal(hidden)).astype(np.float16))
    beta = w.add("beta", (0.1 * np.random.default_rng(10).standard_normal(hidden)).astype(np.float16))
    nodes = [
        helper.make_node("Cast", ["x"], ["x16"], to=TensorProto.FLOAT16, name="graph_input_cast0"),
        helper.make_node("Cast", ["skip"], ["skip16"], to=TensorProto.FLOAT16, name="graph_input_cast1"),
        helper.make_node("SkipLayerNormalization", ["x16", "skip16", gamma, beta], ["n16"], domain=MS, epsilon=1e-12),
        helper.make_node("BiasGelu", ["n16", beta], ["g16"], domain=MS),
        helper.make_node("MatMul", ["g16", w.add("w", (0.2 * np.eye(hidden)).astype(np.float16))], ["y16"]),
        helper.make_node("Cast", ["y16"], ["y"], to=TensorProto.FLOAT, name="graph_output_cast0"),
    ]
    inputs = [io(n, shape=["batch", "seq", hidden]) for n in ("x", "skip")]
    model = _model(nodes, inputs, [io("y", shape=["batch", "seq", hidden])], w, 17)
    shapeless = [helper.make_tensor_value_info(n, TensorProto.FLOAT16, None) for n in ("n16", "g16", "y16")]
    model.graph.value_info.extend(shapeless)
    return model

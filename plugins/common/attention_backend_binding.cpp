// trtplug._native helpers for the attention core's prefill backends (attention_cudnn.h): which
// backend the last launch took, whether cuDNN is built in and loads, the pure applicability
// rules, and a direct launch of the core on BSNH (or packed QKV) arrays for the backend tests.
#include "common/attention_core.h"
#include "common/attention_cudnn.h"
#include "common/binding.h"

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>

namespace py = pybind11;

namespace
{

using trtplug::AttentionProblem;

std::string backendName(int32_t backend)
{
    return backend == 3 ? "fp32-tensor-cores" : backend == 2 ? "cudnn" : backend == 1 ? "kernel" : "none";
}

//! A problem with fake, never-read pointers (16-byte aligned or not) for the applicability rules.
AttentionProblem ruleProblem(py::dict const& d)
{
    auto get = [&](char const* key, auto fallback) {
        return d.contains(key) ? d[key].cast<decltype(fallback)>() : fallback;
    };
    AttentionProblem p;
    p.dtype = trtplug::dtypeFromName(get("dtype", std::string("float16")));
    p.batch = get("batch", 1);
    p.qHeads = get("q_heads", 1);
    p.kvHeads = get("kv_heads", p.qHeads);
    p.qLen = get("q_len", 1);
    p.kvLen = get("kv_len", p.qLen);
    p.headDim = get("head_dim", 64);
    p.vHeadDim = get("v_head_dim", p.headDim);
    p.causal = get("causal", false);
    p.softcap = get("softcap", 0.0F);
    p.windowLeft = get("window", -1);
    p.smoothSoftmax = get("smooth_softmax", false);
    static int32_t const kFakeLengths[1] = {0};
    static uint8_t const kFakeBytes[32] = {};
    p.kvValid = get("kv_valid", false) ? kFakeLengths : nullptr;
    p.qStart = get("q_start", false) ? kFakeLengths : nullptr;
    p.qStartZero = get("q_start_zero", false);
    p.zeroFullyMaskedRows = get("zero_fully_masked_rows", true);
    p.mask.data = get("mask", false) ? kFakeBytes : nullptr;
    p.bias.data = get("bias", false) ? kFakeBytes : nullptr;
    p.headSink = get("head_sink", false) ? kFakeBytes : nullptr;
    auto const address = reinterpret_cast<uintptr_t>(kFakeBytes) + 16 - reinterpret_cast<uintptr_t>(kFakeBytes) % 16;
    void const* data = reinterpret_cast<void const*>(address + get("misalign_bytes", 0));
    int64_t const seq = get("seq_stride", int64_t{p.headDim});
    p.q = {data, seq * p.qLen, int64_t{0}, seq};
    p.k = {data, seq * p.kvLen, int64_t{0}, seq};
    p.v = p.k;
    p.out = {const_cast<void*>(data), seq * p.qLen, int64_t{0}, seq};
    return p;
}

//! Views of q [b, sq, hq, d] and k, v [b, skv, hk, d]; packed: q is [b, s, hq + 2 hk, d], k and v None.
AttentionProblem bsnhProblem(py::handle q, py::handle k, py::handle v, py::handle out, int kvHeads, bool causal,
    float scale)
{
    using trtplug::require;
    auto const qa = trtplug::toDeviceArray(q, "q", false);
    auto const oa = trtplug::toDeviceArray(out, "out", true);
    require(qa.shape.size() == 4 && oa.shape.size() == 4, "q and out must be 4-D [batch, seq, heads, dim]");
    bool const packed = k.is_none();
    AttentionProblem p;
    p.dtype = qa.dtype;
    p.batch = static_cast<int32_t>(qa.shape[0]);
    p.qLen = static_cast<int32_t>(qa.shape[1]);
    p.headDim = p.vHeadDim = static_cast<int32_t>(qa.shape[3]);
    p.kvHeads = kvHeads;
    p.causal = causal;
    p.scale = scale;
    p.qHeads = static_cast<int32_t>(oa.shape[2]);
    require(!packed || qa.shape[2] == p.qHeads + 2 * kvHeads, "packed q must hold q_heads + 2 * kv_heads heads");
    int64_t const d = p.headDim;
    p.q = {reinterpret_cast<void const*>(qa.ptr), qa.shape[1] * qa.shape[2] * d, d, qa.shape[2] * d};
    p.out = {reinterpret_cast<void*>(oa.ptr), oa.shape[1] * oa.shape[2] * d, d, oa.shape[2] * d};
    if (packed)
    {
        p.kvLen = p.qLen;
        auto const* base = static_cast<char const*>(p.q.data);
        size_t const elem = trtplug::dtypeSize(p.dtype);
        p.k = {base + elem * p.qHeads * d, p.q.batchStride, d, p.q.seqStride};
        p.v = {base + elem * (p.qHeads + kvHeads) * d, p.q.batchStride, d, p.q.seqStride};
        return p;
    }
    auto const ka = trtplug::toDeviceArray(k, "k", false);
    auto const va = trtplug::toDeviceArray(v, "v", false);
    require(ka.shape == va.shape && ka.shape.size() == 4 && ka.shape[2] == kvHeads, "k and v must be [b, skv, kv_heads, d]");
    p.kvLen = static_cast<int32_t>(ka.shape[1]);
    p.k = {reinterpret_cast<void const*>(ka.ptr), ka.shape[1] * ka.shape[2] * d, d, ka.shape[2] * d};
    p.v = {reinterpret_cast<void const*>(va.ptr), p.k.batchStride, d, p.k.seqStride};
    return p;
}

//! An optional [batch] int32 device array (None: null).
int32_t const* lengthsOf(py::handle lengths, char const* name, int32_t batch)
{
    if (lengths.is_none())
    {
        return nullptr;
    }
    auto const a = trtplug::toDeviceArray(lengths, name, false);
    trtplug::require(a.dtype == trtplug::DType::kINT32 && a.size == batch, "lengths must be int32 [batch]");
    return reinterpret_cast<int32_t const*>(a.ptr);
}

//! The caller's workspace (a device array of at least `bytes` bytes), or null when None.
void* givenWorkspace(py::handle workspace, size_t bytes)
{
    if (workspace.is_none())
    {
        return nullptr;
    }
    auto const a = trtplug::toDeviceArray(workspace, "workspace", true);
    auto const given = static_cast<size_t>(a.size) * trtplug::dtypeSize(a.dtype);
    trtplug::require(given >= bytes, "workspace holds " + std::to_string(given) + " bytes, the launch needs "
            + std::to_string(bytes));
    return reinterpret_cast<void*>(a.ptr);
}

void launchBsnh(py::handle q, py::handle k, py::handle v, py::handle out, int kvHeads, bool causal, float scale,
    py::handle kvValid, py::handle qStart, bool qStartZero, py::handle stream, py::handle workspace)
{
    AttentionProblem p = bsnhProblem(q, k, v, out, kvHeads, causal, scale);
    p.kvValid = lengthsOf(kvValid, "kv_valid", p.batch);
    p.qStart = lengthsOf(qStart, "q_start", p.batch);
    p.qStartZero = qStartZero;
    if (char const* problem = trtplug::attentionProblemError(p))
    {
        throw py::value_error(std::string("attention_bsnh: ") + problem);
    }
    cudaStream_t const s = trtplug::toStream(stream);
    size_t const bytes = trtplug::attentionWorkspaceSize(p);
    void* const given = givenWorkspace(workspace, bytes);
    void* scratch = given;
    if (given == nullptr && bytes > 0)
    {
        trtplug::checkCuda(cudaMallocAsync(&scratch, bytes, s), "attention_bsnh workspace");
    }
    cudaError_t const err = trtplug::launchAttention(p, scratch, s);
    if (given == nullptr && scratch != nullptr)
    {
        cudaFreeAsync(scratch, s);
    }
    trtplug::checkCuda(err, "attention_bsnh");
}

} // namespace

TRTPLUG_BINDING_HELPERS(attention_backend)
{
    m.def("cudnn_attention_compiled", &trtplug::cudnnAttentionCompiled, "whether this build has the cuDNN backend");
    m.def("cudnn_attention_available", &trtplug::cudnnAttentionAvailable, "whether libcudnn.so.9 loads");
    m.def("last_prefill_backend", [] { return backendName(trtplug::lastPrefillBackend()); },
        "'cudnn', 'fp32-tensor-cores' (the 3xTF32 float32 prefill), 'kernel' or 'none': what the last attention launch of this process ran");
    m.def("last_attention_copied_past", &trtplug::lastAttentionCopiedPast,
        "whether the last attention launch copied the past cache in its decode (PastCopy)");
    m.def(
        "cudnn_attention_inapplicable",
        [](py::dict const& problem) -> std::optional<std::string> {
            char const* why = trtplug::cudnnAttentionInapplicable(ruleProblem(problem));
            return why ? std::optional<std::string>(why) : std::nullopt;
        },
        "why cuDNN cannot run the described problem exactly as the core does (None: it can)");
    m.def(
        "attention_workspace_size",
        [](py::dict const& problem) {
            AttentionProblem const p = ruleProblem(problem);
            return std::make_pair(trtplug::attentionWorkspaceSize(p), trtplug::attentionWorkspaceBound(p));
        },
        "(size, bound) of the core's scratch for the described problem (TRTPLUG_ATTENTION_PREFILL read now)");
    m.def("attention_bsnh", &launchBsnh, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("out"),
        py::arg("kv_heads"), py::arg("causal") = false, py::arg("scale") = 0.0F, py::arg("kv_valid") = py::none(),
        py::arg("q_start") = py::none(), py::arg("q_start_zero") = false, py::arg("stream") = py::none(),
        py::arg("workspace") = py::none(),
        "the attention core on BSNH arrays (k, v None: q is packed [b, s, hq + 2 hk, d]); kv_valid and q_start: "
        "optional int32 [b] device arrays (AttentionProblem.kvValid/qStart), q_start_zero: q_start holds zeros; "
        "workspace: a device array of at least attention_workspace_size bytes, used as it is (None: a fresh one)");
}

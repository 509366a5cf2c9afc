#include "common/op_binding.h"
#include "common/stream_scratch.h"
#include "onnx_attention/onnx_attention.h"
#include "onnx_attention/op_glue.h"

#include <vector>

namespace
{

using namespace trtplug;

TensorShape shapeOf(OpCall<glue_onnx_attention::Params> const& call, DeviceArray const* a)
{
    TensorShape s;
    call.check(a == nullptr || TensorShape::from(a->shape, s), "inputs of rank above 8 are not supported");
    return s;
}

void checkOutput(OpCall<glue_onnx_attention::Params> const& call, size_t i, std::vector<int64_t> const& shape)
{
    DeviceArray const* out = call.outOrNull(i);
    call.check(out == nullptr || (out->dtype == call.in(0).dtype && out->shape == shape),
        std::string(glue_onnx_attention::kOutputNames[i]) + " must have Q's dtype and the shape the op gives");
}

} // namespace

//! ai.onnx Attention into [Y, present_key?, present_value?, qk_matmul_output?]; output shapes as
//! the op defines them (checked), scratch from stream-ordered memory.
TRTPLUG_OP_BINDING(onnx_attention)
{
    auto const& p = call.params;
    OnnxAttentionArgs a;
    a.dtype = call.in(0).dtype;
    call.check(a.dtype == DType::kFLOAT32 || a.dtype == DType::kFLOAT16 || a.dtype == DType::kBFLOAT16,
        "Q must be float32, float16 or bfloat16");
    call.check(call.in(1).dtype == a.dtype && call.in(2).dtype == a.dtype, "K and V must have Q's dtype");
    DeviceArray const* mask = call.inOrNull(3);
    a.shapes = {shapeOf(call, &call.in(0)), shapeOf(call, &call.in(1)), shapeOf(call, &call.in(2)),
        shapeOf(call, mask), shapeOf(call, call.inOrNull(4)), shapeOf(call, call.inOrNull(5)),
        shapeOf(call, call.inOrNull(6))};
    std::string const problem = onnxAttentionDims(a.shapes, p.q_num_heads, p.kv_num_heads, a.dims);
    call.check(problem.empty(), problem);
    if (mask != nullptr)
    {
        a.maskType = mask->dtype;
        call.check(a.maskType == DType::kBOOL || a.maskType == DType::kFLOAT32 || a.maskType == a.dtype,
            "attn_mask must be bool, float32 or Q's dtype");
    }
    for (int i = 4; i < 6; ++i)
    {
        call.check(!call.hasIn(i) || call.in(i).dtype == a.dtype, "past_key/past_value must have Q's dtype");
    }
    call.check(!call.hasIn(6) || call.in(6).dtype == DType::kINT64, "nonpad_kv_seqlen must be int64");
    OnnxAttentionDims const& d = a.dims;
    std::vector<int64_t> const y = d.rank3 ? std::vector<int64_t>{d.batch, d.qLen, int64_t{d.qHeads} * d.vHeadDim}
                                           : std::vector<int64_t>{d.batch, d.qHeads, d.qLen, d.vHeadDim};
    checkOutput(call, 0, y);
    checkOutput(call, 1, {d.batch, d.kvHeads, d.total(), d.headDim});
    checkOutput(call, 2, {d.batch, d.kvHeads, d.total(), d.vHeadDim});
    checkOutput(call, 3, {d.batch, d.qHeads, d.qLen, d.total()});
    auto ptr = [](DeviceArray const* x) { return x == nullptr ? nullptr : reinterpret_cast<void*>(x->ptr); };
    a.q = ptr(&call.in(0));
    a.k = ptr(&call.in(1));
    a.v = ptr(&call.in(2));
    a.mask = ptr(mask);
    a.pastKey = ptr(call.inOrNull(4));
    a.pastValue = ptr(call.inOrNull(5));
    a.nonpad = static_cast<int64_t const*>(ptr(call.inOrNull(6)));
    a.y = ptr(&call.out(0));
    a.presentKey = ptr(call.outOrNull(1));
    a.presentValue = ptr(call.outOrNull(2));
    a.qk = ptr(call.outOrNull(3));
    a.qkMode = p.qk_matmul_output_mode;
    a.scale = p.scale;
    a.softcap = p.softcap;
    a.causal = p.is_causal != 0;
    StreamScratch const scratch(onnxAttentionWorkspaceSize(a), call.stream);
    checkCuda(launchOnnxAttention(a, scratch.get(), call.stream), "onnx_attention");
}

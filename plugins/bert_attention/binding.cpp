#include "bert_attention/bert_attention.h"
#include "bert_attention/op_glue.h"
#include "common/op_binding.h"
#include "common/stream_scratch.h"

#include <vector>

namespace
{

using namespace trtplug;
using BertCall = OpCall<glue_bert_attention::Params>;

TensorShape shapeOf(BertCall const& call, size_t i)
{
    TensorShape s;
    call.check(!call.hasIn(i) || TensorShape::from(call.in(i).shape, s), "inputs of rank above 8 are not supported");
    return s;
}

void* pointer(DeviceArray const* a)
{
    return a == nullptr ? nullptr : reinterpret_cast<void*>(a->ptr);
}

void checkTypes(BertCall const& call, DType dtype)
{
    call.check(dtype == DType::kFLOAT32 || dtype == DType::kFLOAT16 || dtype == DType::kBFLOAT16,
        "input must be float32, float16 or bfloat16");
    for (size_t i : {1, 2, 4, 5})
    {
        call.check(!call.hasIn(i) || call.in(i).dtype == dtype,
            std::string(glue_bert_attention::kInputNames[i]) + " must have input's dtype");
    }
    call.check(!call.hasIn(3) || call.in(3).dtype == DType::kINT32, "mask_index must be int32");
}

void checkOutput(BertCall const& call, size_t i, std::vector<int64_t> const& shape)
{
    DeviceArray const* out = call.outOrNull(i);
    call.check(out == nullptr || (out->dtype == call.in(0).dtype && out->shape == shape),
        std::string(glue_bert_attention::kOutputNames[i]) + " must have input's dtype and the op's shape");
}

} // namespace

//! Attention into [output, present?]; output shapes as the op defines them (checked), scratch
//! from stream-ordered memory.
TRTPLUG_OP_BINDING(bert_attention)
{
    BertArgs a;
    a.dtype = call.in(0).dtype;
    checkTypes(call, a.dtype);
    a.shapes = {shapeOf(call, 0), shapeOf(call, 1), shapeOf(call, 2), shapeOf(call, 3), shapeOf(call, 4),
        shapeOf(call, 5)};
    std::string const problem = bertDims(
        a.shapes, call.params.num_heads, call.params.qkv_hidden_sizes, call.outOrNull(1) != nullptr, a.dims);
    call.check(problem.empty(), problem);
    BertDims const& d = a.dims;
    checkOutput(call, 0, {d.batch, d.seq, d.vHidden});
    checkOutput(call, 1, {2, d.batch, d.heads, d.total(), d.headDim()});
    a.input = pointer(&call.in(0));
    a.weights = pointer(&call.in(1));
    a.bias = pointer(call.inOrNull(2));
    a.maskIndex = static_cast<int32_t const*>(pointer(call.inOrNull(3)));
    a.past = pointer(call.inOrNull(4));
    a.attentionBias = pointer(call.inOrNull(5));
    a.output = pointer(&call.out(0));
    a.present = pointer(call.outOrNull(1));
    a.scale = call.params.scale;
    a.maskFilterValue = call.params.mask_filter_value;
    a.unidirectional = call.params.unidirectional != 0;
    StreamScratch const scratch(bertWorkspaceSize(a), call.stream);
    checkCuda(launchBertAttention(a, scratch.get(), call.stream), "bert_attention");
}

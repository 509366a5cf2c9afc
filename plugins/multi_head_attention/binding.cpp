#include "common/op_binding.h"
#include "common/stream_scratch.h"
#include "multi_head_attention/multi_head_attention.h"
#include "multi_head_attention/op_glue.h"

#include <vector>

namespace
{

using namespace trtplug;
using MhaCall = OpCall<glue_multi_head_attention::Params>;

TensorShape shapeOf(MhaCall const& call, size_t i)
{
    TensorShape s;
    call.check(!call.hasIn(i) || TensorShape::from(call.in(i).shape, s), "inputs of rank above 8 are not supported");
    return s;
}

void* pointer(DeviceArray const* a)
{
    return a == nullptr ? nullptr : reinterpret_cast<void*>(a->ptr);
}

void checkTypes(MhaCall const& call, DType dtype)
{
    call.check(dtype == DType::kFLOAT32 || dtype == DType::kFLOAT16 || dtype == DType::kBFLOAT16,
        "query must be float32, float16 or bfloat16");
    for (size_t i : {1, 2, 3, 5, 6, 7})
    {
        call.check(!call.hasIn(i) || call.in(i).dtype == dtype,
            std::string(glue_multi_head_attention::kInputNames[i]) + " must have query's dtype");
    }
    call.check(!call.hasIn(4) || call.in(4).dtype == DType::kINT32, "key_padding_mask must be int32");
}

void checkOutput(MhaCall const& call, size_t i, std::vector<int64_t> const& shape)
{
    DeviceArray const* out = call.outOrNull(i);
    call.check(out == nullptr || (out->dtype == call.in(0).dtype && out->shape == shape),
        std::string(glue_multi_head_attention::kOutputNames[i]) + " must have query's dtype and the op's shape");
}

} // namespace

//! MultiHeadAttention into [output, present_key?, present_value?, qk?]; output shapes as the op
//! defines them (checked), scratch from stream-ordered memory.
TRTPLUG_OP_BINDING(multi_head_attention)
{
    MhaArgs a;
    a.dtype = call.in(0).dtype;
    checkTypes(call, a.dtype);
    a.shapes = {shapeOf(call, 0), shapeOf(call, 1), shapeOf(call, 2), shapeOf(call, 3), shapeOf(call, 4),
        shapeOf(call, 5), shapeOf(call, 6), shapeOf(call, 7)};
    std::string const problem = mhaDims(a.shapes, call.params.num_heads, a.dims);
    call.check(problem.empty(), problem);
    MhaDims const& d = a.dims;
    checkOutput(call, 0, {d.batch, d.qLen, int64_t{d.heads} * d.vHeadDim});
    checkOutput(call, 1, {d.batch, d.heads, d.total(), d.headDim});
    checkOutput(call, 2, {d.batch, d.heads, d.total(), d.vHeadDim});
    checkOutput(call, 3, {d.batch, d.heads, d.qLen, d.total()});
    a.query = pointer(&call.in(0));
    a.key = pointer(call.inOrNull(1));
    a.value = pointer(call.inOrNull(2));
    a.bias = pointer(call.inOrNull(3));
    a.keyPadding = static_cast<int32_t const*>(pointer(call.inOrNull(4)));
    a.attentionBias = pointer(call.inOrNull(5));
    a.pastKey = pointer(call.inOrNull(6));
    a.pastValue = pointer(call.inOrNull(7));
    a.output = pointer(&call.out(0));
    a.presentKey = pointer(call.outOrNull(1));
    a.presentValue = pointer(call.outOrNull(2));
    a.qk = pointer(call.outOrNull(3));
    a.scale = call.params.scale;
    a.maskFilterValue = call.params.mask_filter_value;
    a.unidirectional = call.params.unidirectional != 0;
    StreamScratch const scratch(mhaWorkspaceSize(a), call.stream);
    checkCuda(launchMultiHeadAttention(a, scratch.get(), call.stream), "multi_head_attention");
}

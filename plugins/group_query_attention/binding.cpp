#include "common/op_binding.h"
#include "common/stream_scratch.h"
#include "group_query_attention/gqa_shapes.h"
#include "group_query_attention/op_glue.h"

namespace
{

using trtplug::DeviceArray;
using trtplug::DType;

//! Whether input i is absent: not given, or the 1-D empty stand-in (the plugin's "absent").
bool absent(trtplug::OpCall<trtplug::glue_group_query_attention::Params> const& call, size_t i)
{
    DeviceArray const* a = call.inOrNull(i);
    return a == nullptr || (i != 0 && a->shape == std::vector<int64_t>{0});
}

trtplug::GqaShape const* shapeOf(trtplug::OpCall<trtplug::glue_group_query_attention::Params> const& call, size_t i)
{
    return absent(call, i) ? nullptr : &call.in(i).shape;
}

void const* dataOf(trtplug::OpCall<trtplug::glue_group_query_attention::Params> const& call, size_t i)
{
    return absent(call, i) ? nullptr : reinterpret_cast<void const*>(call.in(i).ptr);
}

} // namespace

//! GroupQueryAttention into [output, present_key, present_value], whose shapes the caller
//! allocated (present rows: max(past rows, total_sequence_length), or the past's with
//! sliding_window_cache = 1); total_sequence_length is a
//! device int32 scalar (as the plugin receives its data copy).
TRTPLUG_OP_BINDING(group_query_attention)
{
    using namespace trtplug;
    DeviceArray const& q = call.in(0);
    call.check(q.dtype == DType::kFLOAT32 || q.dtype == DType::kFLOAT16 || q.dtype == DType::kBFLOAT16,
        "query must be float32, float16 or bfloat16");
    bool const quantized = call.params.kv_cache_bit_width == 8;
    DType const cache = quantized ? DType::kINT8 : q.dtype;
    for (size_t i : {1, 2, 7, 8, 10, 11})
    {
        call.check(shapeOf(call, i) == nullptr || call.in(i).dtype == q.dtype, "float inputs must have query's dtype");
    }
    for (size_t i : {3, 4})
    {
        call.check(shapeOf(call, i) == nullptr || call.in(i).dtype == cache,
            quantized ? "past_key/past_value must be int8 (kv_cache_bit_width = 8)" : "float inputs must have query's dtype");
    }
    for (size_t i : {12, 13})
    {
        call.check(shapeOf(call, i) == nullptr || call.in(i).dtype == DType::kFLOAT32, "k_scale/v_scale must be float32");
    }
    call.check(call.in(5).dtype == DType::kINT32, "seqlens_k must be int32");
    call.check(call.in(6).dtype == DType::kINT32 && call.in(6).size == 1, "total_sequence_length must be an int32 scalar");
    call.check(shapeOf(call, 9) == nullptr || call.in(9).dtype == DType::kINT64, "position_ids must be int64");
    call.check(call.hasOut(1) && call.hasOut(2), "present_key and present_value are always written");
    DeviceArray const& presentKey = call.out(1);
    GqaShapes shapes{shapeOf(call, 0), shapeOf(call, 1), shapeOf(call, 2), shapeOf(call, 3), shapeOf(call, 4),
        &call.in(5).shape, shapeOf(call, 7), shapeOf(call, 8), shapeOf(call, 9), shapeOf(call, 10), shapeOf(call, 11),
        presentKey.shape.size() == 4 ? presentKey.shape[2] : -1, shapeOf(call, 12), shapeOf(call, 13)};
    GqaArgs a{};
    a.dtype = q.dtype;
    std::string const problem = setGqaShapes(a, shapes, call.params);
    call.check(problem.empty(), problem);
    std::vector<int64_t> const outShape{a.batch, a.seqLen, int64_t{a.numHeads} * a.headSize};
    std::vector<int64_t> const cacheShape{a.batch, a.kvNumHeads, a.presentLen, a.headSize};
    call.check(call.out(0).shape == outShape && call.out(0).dtype == q.dtype, "output must be [B, S, num_heads * H]");
    call.check(presentKey.shape == cacheShape && call.out(2).shape == cacheShape && presentKey.dtype == cache
            && call.out(2).dtype == cache,
        "present_key/present_value must be [B, kv_num_heads, present rows, H] of past_key's dtype");
    a.query = dataOf(call, 0);
    a.key = dataOf(call, 1);
    a.value = dataOf(call, 2);
    a.pastKey = dataOf(call, 3);
    a.pastValue = dataOf(call, 4);
    a.seqlensK = reinterpret_cast<int32_t const*>(call.in(5).ptr);
    a.totalSeqLen = reinterpret_cast<int32_t const*>(call.in(6).ptr);
    a.cosCache = dataOf(call, 7);
    a.sinCache = dataOf(call, 8);
    a.positionIds = static_cast<int64_t const*>(dataOf(call, 9));
    a.bias = dataOf(call, 10);
    a.headSink = dataOf(call, 11);
    a.kScale = static_cast<float const*>(dataOf(call, 12));
    a.vScale = static_cast<float const*>(dataOf(call, 13));
    a.output = reinterpret_cast<void*>(call.out(0).ptr);
    a.presentKey = reinterpret_cast<void*>(presentKey.ptr);
    a.presentValue = reinterpret_cast<void*>(call.out(2).ptr);
    char const* error = gqaArgsError(a);
    call.check(error == nullptr, error ? error : "");
    StreamScratch scratch(gqaWorkspaceSize(a), call.stream);
    checkCuda(launchGroupQueryAttention(a, scratch.get(), call.stream), "group_query_attention");
}

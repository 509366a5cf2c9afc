#include "common/op_binding.h"
#include "embed_layer_norm/embed_layer_norm.h"
#include "embed_layer_norm/op_glue.h"

#include <string>

namespace
{

using trtplug::DeviceArray;
using trtplug::DType;
using trtplug::require;

constexpr char const* kOp = "embed_layer_norm";

//! An int32 (batch, seq) index array (or (1, seq) when `broadcast` is allowed); null if absent.
int32_t const* indexArray(DeviceArray const* given, char const* name, DeviceArray const& ids, bool broadcast = false)
{
    if (given == nullptr)
    {
        return nullptr;
    }
    DeviceArray const& a = *given;
    bool const shapeOk = a.shape == ids.shape || (broadcast && a.shape.size() == 2 && a.shape[0] == 1
                                                     && a.shape[1] == ids.shape[1]);
    require(a.dtype == DType::kINT32 && shapeOk, std::string(kOp) + ": " + name + " must be int32 of input_ids' shape");
    return reinterpret_cast<int32_t const*>(a.ptr);
}

//! A float table: 2-D (rows, hidden) of `dtype`, or 1-D (hidden) when rows is null.
void const* floatArray(DeviceArray const& a, char const* name, DType dtype, int64_t hidden, int64_t* rows)
{
    size_t const rank = rows != nullptr ? 2 : 1;
    require(a.dtype == dtype && a.shape.size() == rank && a.shape.back() == hidden,
        std::string(kOp) + ": " + name + (rows ? " must be (rows, hidden)" : " must be (hidden)")
            + " with word_embedding's dtype");
    if (rows != nullptr)
    {
        *rows = a.shape[0];
    }
    return reinterpret_cast<void const*>(a.ptr);
}

} // namespace

//! LayerNorm(word[ids] + position[pos] + segment[seg]) * gamma + beta into [output, mask_index?,
//! embedding_sum?].
TRTPLUG_OP_BINDING(embed_layer_norm)
{
    using namespace trtplug;
    DeviceArray const& ids = call.in(0);
    require(ids.dtype == DType::kINT32 && ids.shape.size() == 2, std::string(kOp) + ": input_ids must be int32 2-D");
    DeviceArray const& w = call.in(2);
    require(isFloatDType(w.dtype) && w.shape.size() == 2 && w.shape[1] >= 1,
        std::string(kOp) + ": word_embedding must be float32/float16 (vocabulary, hidden >= 1)");
    EmbedNormArgs a;
    a.dtype = w.dtype;
    a.batch = ids.shape[0];
    a.seq = ids.shape[1];
    a.hidden = w.shape[1];
    a.wordRows = w.shape[0];
    a.inputIds = reinterpret_cast<int32_t const*>(ids.ptr);
    a.wordEmbedding = reinterpret_cast<void const*>(w.ptr);
    a.segmentIds = indexArray(call.inOrNull(1), "segment_ids", ids);
    a.mask = indexArray(call.inOrNull(7), "mask", ids);
    a.positionIds = indexArray(call.inOrNull(8), "position_ids", ids, true);
    a.positionIdsBroadcast = a.positionIds != nullptr && call.in(8).shape[0] == 1;
    a.positionEmbedding = floatArray(call.in(3), "position_embedding", a.dtype, a.hidden, &a.positionRows);
    if (call.hasIn(4))
    {
        a.segmentEmbedding = floatArray(call.in(4), "segment_embedding", a.dtype, a.hidden, &a.segmentRows);
    }
    require(a.segmentIds == nullptr || a.segmentEmbedding != nullptr,
        std::string(kOp) + ": segment_ids needs segment_embedding");
    a.gamma = floatArray(call.in(5), "gamma", a.dtype, a.hidden, nullptr);
    a.beta = floatArray(call.in(6), "beta", a.dtype, a.hidden, nullptr);
    std::vector<int64_t> const tokens{a.batch, a.seq, a.hidden};
    for (size_t i = 0; i < 3; ++i)
    {
        if (!call.hasOut(i))
        {
            continue;
        }
        DeviceArray const& o = call.out(i);
        bool const ok = i == 1 ? o.dtype == DType::kINT32 && o.shape == std::vector<int64_t>{a.batch}
                               : o.dtype == a.dtype && o.shape == tokens;
        require(ok, std::string(kOp) + ": outputs[" + std::to_string(i) + "] has the wrong shape or dtype");
        if (i == 1)
        {
            a.maskIndex = reinterpret_cast<int32_t*>(o.ptr);
        }
        else
        {
            (i == 0 ? a.output : a.embeddingSum) = reinterpret_cast<void*>(o.ptr);
        }
    }
    a.epsilon = call.params.epsilon;
    checkCuda(launchEmbedLayerNorm(a, call.stream), kOp);
}

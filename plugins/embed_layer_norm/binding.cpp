#include "common/binding.h"
#include "embed_layer_norm/embed_layer_norm.h"

#include <string>

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

using trtplug::DeviceArray;
using trtplug::DType;
using trtplug::require;

constexpr char const* kOp = "embed_layer_norm";

//! An int32 (batch, seq) index array (or (1, seq) when `broadcast` is allowed); null if None.
int32_t const* indexArray(py::handle obj, char const* name, DeviceArray const& ids, bool broadcast = false)
{
    if (obj.is_none())
    {
        return nullptr;
    }
    DeviceArray const a = trtplug::toDeviceArray(obj, name, false);
    bool const shapeOk = a.shape == ids.shape || (broadcast && a.shape.size() == 2 && a.shape[0] == 1
                                                     && a.shape[1] == ids.shape[1]);
    require(a.dtype == DType::kINT32 && shapeOk, std::string(kOp) + ": " + name + " must be int32 of input_ids' shape");
    return reinterpret_cast<int32_t const*>(a.ptr);
}

//! A float table: 2-D (rows, hidden) of `dtype`, or 1-D (hidden) when rows is null.
void const* floatArray(py::handle obj, char const* name, DType dtype, int64_t hidden, int64_t* rows)
{
    DeviceArray const a = trtplug::toDeviceArray(obj, name, false);
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

void embedLayerNormArrays(py::handle inputIds, py::handle segmentIds, py::handle word, py::handle position,
    py::handle segment, py::handle gamma, py::handle beta, py::handle mask, py::handle positionIds,
    py::sequence outputs, float epsilon, py::handle stream)
{
    using namespace trtplug;
    DeviceArray const ids = toDeviceArray(inputIds, "input_ids", false);
    require(ids.dtype == DType::kINT32 && ids.shape.size() == 2, std::string(kOp) + ": input_ids must be int32 2-D");
    DeviceArray const w = toDeviceArray(word, "word_embedding", false);
    require((w.dtype == DType::kFLOAT32 || w.dtype == DType::kFLOAT16) && w.shape.size() == 2 && w.shape[1] >= 1,
        std::string(kOp) + ": word_embedding must be float32/float16 (vocabulary, hidden >= 1)");
    EmbedNormArgs a;
    a.dtype = w.dtype;
    a.batch = ids.shape[0];
    a.seq = ids.shape[1];
    a.hidden = w.shape[1];
    a.wordRows = w.shape[0];
    a.inputIds = reinterpret_cast<int32_t const*>(ids.ptr);
    a.wordEmbedding = reinterpret_cast<void const*>(w.ptr);
    a.segmentIds = indexArray(segmentIds, "segment_ids", ids);
    a.mask = indexArray(mask, "mask", ids);
    a.positionIds = indexArray(positionIds, "position_ids", ids, true);
    a.positionIdsBroadcast
        = a.positionIds != nullptr && toDeviceArray(positionIds, "position_ids", false).shape[0] == 1;
    a.positionEmbedding = floatArray(position, "position_embedding", a.dtype, a.hidden, &a.positionRows);
    if (!segment.is_none())
    {
        a.segmentEmbedding = floatArray(segment, "segment_embedding", a.dtype, a.hidden, &a.segmentRows);
    }
    require(a.segmentIds == nullptr || a.segmentEmbedding != nullptr,
        std::string(kOp) + ": segment_ids needs segment_embedding");
    a.gamma = floatArray(gamma, "gamma", a.dtype, a.hidden, nullptr);
    a.beta = floatArray(beta, "beta", a.dtype, a.hidden, nullptr);
    size_t const n = py::len(outputs);
    require(n >= 1 && n <= 3, std::string(kOp) + ": give 1 to 3 outputs (output, mask_index, embedding_sum)");
    std::vector<int64_t> const tokens{a.batch, a.seq, a.hidden};
    for (size_t i = 0; i < n; ++i)
    {
        DeviceArray const o = toDeviceArray(outputs[i], "outputs", true);
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
    a.epsilon = epsilon;
    checkCuda(launchEmbedLayerNorm(a, toStream(stream)), kOp);
}

} // namespace

TRTPLUG_BINDING(embed_layer_norm)
{
    m.def("embed_layer_norm", &embedLayerNormArrays,
        "LayerNorm(word[ids] + position[pos] + segment[seg]) * gamma + beta into outputs "
        "[output, mask_index?, embedding_sum?] (optional inputs None)",
        "input_ids"_a, "segment_ids"_a, "word_embedding"_a, "position_embedding"_a, "segment_embedding"_a, "gamma"_a,
        "beta"_a, "mask"_a, "position_ids"_a, "outputs"_a, "epsilon"_a = 1e-12F, "stream"_a = py::none());
}

// What TrtplugMoE's and TrtplugQMoE's IPluginV3 adapters share: the output (input's type and
// shape; input of rank 2 or 3) and the float types they run. Each adapter adds its formats,
// shape checks and launch.
#pragma once

#include "common/plugin_base.h"
#include "common/trt_dtype.h"

namespace trtplug
{

template <class Derived, class Glue>
class MoeFamilyPlugin : public GluePlugin<Derived, Glue>
{
public:
    using GluePlugin<Derived, Glue>::GluePlugin;
    using DataType = nvinfer1::DataType;

    static bool isSupported(DataType t) noexcept
    {
        return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
    }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(
            isSupported(in[0]), std::string("input must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    void outputShapes(Span<nvinfer1::DimsExprs const> in, Span<nvinfer1::DimsExprs const>,
        Span<nvinfer1::DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        TRTPLUG_ENSURE(in[0].nbDims == 2 || in[0].nbDims == 3, "input must have rank 2 or 3");
        out[0] = in[0];
    }
};

} // namespace trtplug

// The IPluginV3 adapter shared by the scatter ops (ScatterND, ScatterElements): inputs data (T),
// indices (int64), updates (T); output data's shape and type; T in float32, float16, bfloat16, int32,
// int64. An op's plugin.cpp supplies Traits and registers the instantiation:
//
//   struct Traits {
//       using Glue = glue_scatter_nd::Glue;         // identity, counts, Params (a string `reduction`)
//       static void check(Params const&, Dims const& data, Dims const& indices, Dims const& updates);
//       static cudaError_t launch(Params const&, DType, Span<Desc const> in, void const* const* inputs,
//                                 void* out, ScatterReduction, cudaStream_t);
//   };
#pragma once

#include "common/plugin_base.h"
#include "common/scatter_reduce.h"
#include "common/trt_dtype.h"

#include <string>

namespace trtplug
{

inline bool isScatterType(nvinfer1::DataType t) noexcept
{
    using nvinfer1::DataType;
    return isFloatOrBf16OrIndex(t);
}

// In place: the output is declared aliased to `data` through IPluginV3OneBuildV2 (TensorRT >= 10.3),
// which TensorRT honours when the engine is built with PreviewFeature::kALIASED_PLUGIN_IO_10_03;
// the launchers then skip their data -> output copy (they compare the pointers). Build with
// -DTRTPLUG_ALIASED_PLUGIN_IO=OFF for TensorRT 10.0-10.2 runtimes, which know only the V1 interface.
#ifndef TRTPLUG_ALIASED_PLUGIN_IO
#define TRTPLUG_ALIASED_PLUGIN_IO 1
#endif
#if TRTPLUG_ALIASED_PLUGIN_IO
using ScatterBuild = nvinfer1::IPluginV3OneBuildV2;
#else
using ScatterBuild = nvinfer1::IPluginV3OneBuild;
#endif

template <class Traits>
class ScatterPlugin : public GluePlugin<ScatterPlugin<Traits>, typename Traits::Glue, ScatterBuild>
{
    using Base = GluePlugin<ScatterPlugin<Traits>, typename Traits::Glue, ScatterBuild>;

public:
    using DataType = nvinfer1::DataType;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    using Base::Base;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isScatterType(in[0]),
            std::string("data must be float32, float16, bfloat16, int32 or int64, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in[1] == DataType::kINT64, std::string("indices must be int64, got ") + trtTypeName(in[1]));
        TRTPLUG_ENSURE(in[2] == in[0], std::string("updates must have data's type ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        out[0] = in[0];
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isScatterType(d.type) : pos == 1 ? d.type == DataType::kINT64 : d.type == inOut[0].desc.type;
    }

#if TRTPLUG_ALIASED_PLUGIN_IO
    //! Output 0 may share data's memory (read-modify-write): only the updates are written then.
    int32_t getAliasedInput(int32_t outputIndex) noexcept override { return outputIndex == 0 ? 0 : -1; }
#endif

    void shapeChanged(Span<Desc const> in, Span<Desc const>)
    {
        Traits::check(this->params(), in[0].dims, in[1].dims, in[2].dims);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        return Traits::launch(this->params(), dtype, in, inputs, outputs[0], reduction(), stream);
    }

private:
    //! Field 'reduction' as the launchers take it (its `choices` rule held at createPlugin).
    ScatterReduction reduction() const
    {
        ScatterReduction r{};
        scatterReductionFromName(this->params().reduction.c_str(), r);
        return r;
    }
};

} // namespace trtplug

// The IPluginV3 adapter shared by the integer elementwise ops (bitwise, shifts). An op's
// plugin.cpp supplies Traits, its generated glue plus the launcher, and registers the instantiation:
//
//   struct Traits : glue_bit_shift::Glue {                     // name, counts (arity), Params, validate()
//       static IntElementwiseFn launcher(Params const&);       // runs after validate()
//   };
//   using BitShiftPlugin = IntElementwisePlugin<Traits>;
//   TRTPLUG_REGISTER_PLUGIN(BitShiftPlugin);
//
// Shapes broadcast as ONNX defines (NumPy rules); types int32, int64 or uint8, all one type.
#pragma once

#include "common/int_elementwise.h"
#include "common/plugin_base.h"
#include "common/plugin_shapes.h"
#include "common/trt_dtype.h"

#include <algorithm>
#include <string>
#include <utility>

namespace trtplug
{

inline bool isIntElementwiseTrtType(nvinfer1::DataType t) noexcept
{
    using nvinfer1::DataType;
    return t == DataType::kINT32 || t == DataType::kINT64 || t == DataType::kUINT8;
}

template <class Traits>
class IntElementwisePlugin : public GluePlugin<IntElementwisePlugin<Traits>, Traits>
{
    using Base = GluePlugin<IntElementwisePlugin<Traits>, Traits>;
    static_assert(Traits::kMinInputs == Traits::kMaxInputs && Traits::kMaxInputs <= 2 && Traits::kNbOutputs == 1,
        "integer elementwise ops: one or two inputs, one output");

public:
    using DataType = nvinfer1::DataType;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    explicit IntElementwisePlugin(typename Traits::Params params)
        : Base(std::move(params))
        , mLauncher(Traits::launcher(this->params())) // after Base checked the spec's value rules
    {
    }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        checkTypes(in);
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        // Two symbolic dims broadcast to their max; shapeChanged rejects the pairs that do not broadcast.
        out[0] = in.size() == 1 ? in[0] : broadcastDims(in[0], in[1], expr);
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isIntElementwiseTrtType(d.type) : d.type == inOut[0].desc.type;
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const> out)
    {
        check(in[0].desc, in.size() == 2 ? &in[1].desc : nullptr, out[0].desc, false);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        check(in[0], in.size() == 2 ? &in[1] : nullptr, out[0], true);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        Broadcast shape;
        if (!toDType(in[0].type, dtype) || !broadcastOf(in[0], in.size() == 2 ? &in[1] : nullptr, shape))
        {
            return cudaErrorInvalidValue;
        }
        return mLauncher(dtype, inputs[0], in.size() == 2 ? inputs[1] : nullptr, outputs[0], shape, stream);
    }

private:
    static void checkTypes(Span<DataType const> in)
    {
        TRTPLUG_ENSURE(isIntElementwiseTrtType(in[0]),
            std::string("inputs must be int32, int64 or uint8, got ") + trtTypeName(in[0]));
        TRTPLUG_ENSURE(in.size() == 1 || in[1] == in[0],
            std::string("B must have A's type ") + trtTypeName(in[0]) + ", got " + trtTypeName(in[1]));
    }

    static bool broadcastOf(Desc const& a, Desc const* b, Broadcast& shape) noexcept
    {
        Desc const& other = b != nullptr ? *b : a;
        return makeBroadcast(a.dims.d, a.dims.nbDims, other.dims.d, other.dims.nbDims, shape);
    }

    static void check(Desc const& a, Desc const* b, Desc const& y, bool concrete)
    {
        DataType const types[2] = {a.type, b != nullptr ? b->type : a.type};
        checkTypes(Span<DataType const>{types, b != nullptr ? 2 : 1});
        TRTPLUG_ENSURE(y.type == a.type, "the output must have the inputs' type");
        if (concrete)
        {
            Broadcast shape;
            TRTPLUG_ENSURE(broadcastOf(a, b, shape), "input shapes do not broadcast");
            TRTPLUG_ENSURE(y.dims.nbDims == shape.outRank && std::equal(shape.outDims, shape.outDims + shape.outRank, y.dims.d),
                "the output does not have the broadcast shape of the inputs");
        }
    }

    IntElementwiseFn const mLauncher;
};

} // namespace trtplug

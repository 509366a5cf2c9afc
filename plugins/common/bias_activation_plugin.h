// The IPluginV3 adapter shared by the elementwise ops "Y = act(X [+ bias]) [+ skip]" (the GELU
// family, BiasAdd). Inputs by position: X (rank >= 1, float32/float16), bias (1-D, X's last
// dimension), skip (X's shape); all of X's type. Y has X's shape and type. An op supplies Traits,
// its generated glue (identity, counts, input names, Params, validate()) plus the launch, and
// registers the instantiation:
//
//   struct BiasAddTraits : glue_bias_add::Glue {
//       static cudaError_t launch(DType, ElementwiseArgs const&, Params const&, cudaStream_t);
//   };
//   using BiasAddPlugin = BiasActivationPlugin<BiasAddTraits>;
//   TRTPLUG_REGISTER_PLUGIN(BiasAddPlugin);
#pragma once

#include "common/elementwise.h"
#include "common/plugin_base.h"
#include "common/trt_dtype.h"

#include <string>

namespace trtplug
{

//! The first input is float32/float16 and every other input has its type; names[i] names input i.
inline void checkSameFloatTypes(Span<nvinfer1::DataType const> in, char const* const* names)
{
    TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
        std::string(names[0]) + " must be float32, float16 or bfloat16, got " + trtTypeName(in[0]));
    for (int32_t i = 1; i < in.size(); ++i)
    {
        TRTPLUG_ENSURE(in[i] == in[0], std::string(names[i]) + " must have " + names[0] + "'s type "
                + trtTypeName(in[0]) + ", got " + trtTypeName(in[i]));
    }
}

//! Linear format; position 0 float32/float16, every other position of position 0's type.
inline bool supportsSameFloatLinear(int32_t pos, Span<nvinfer1::DynamicPluginTensorDesc const> inOut) noexcept
{
    auto const& d = inOut[pos].desc;
    if (d.format != nvinfer1::TensorFormat::kLINEAR)
    {
        return false;
    }
    return pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type;
}

//! `bias` is 1-D with X's last dimension; symbolic (non-constant) dims are checked once known.
//! names[0] and names[1] name X and bias in messages.
inline void checkBiasExpr(nvinfer1::DimsExprs const& x, nvinfer1::DimsExprs const& bias, char const* const* names)
{
    std::string const name(names[1]);
    TRTPLUG_ENSURE(bias.nbDims == 1, name + " must be 1-D, got rank " + std::to_string(bias.nbDims));
    auto const* last = x.d[x.nbDims - 1];
    TRTPLUG_ENSURE(!last->isConstant() || !bias.d[0]->isConstant()
            || last->getConstantValue() == bias.d[0]->getConstantValue(),
        name + " length " + std::to_string(bias.d[0]->getConstantValue()) + " differs from " + names[0]
            + "'s last dimension " + std::to_string(last->getConstantValue()));
}

//! Concrete dims (-1: not yet known, matches anything): X rank >= 1, bias 1-D of X's last dim.
inline void checkBiasDims(nvinfer1::Dims const& x, nvinfer1::Dims const* bias, char const* const* names)
{
    TRTPLUG_ENSURE(x.nbDims >= 1, std::string(names[0]) + " must have rank >= 1, got rank " + std::to_string(x.nbDims));
    if (bias == nullptr)
    {
        return;
    }
    std::string const name(names[1]);
    TRTPLUG_ENSURE(bias->nbDims == 1, name + " must be 1-D, got rank " + std::to_string(bias->nbDims));
    int64_t const last = x.d[x.nbDims - 1];
    int64_t const len = bias->d[0];
    TRTPLUG_ENSURE(last < 0 || len < 0 || last == len,
        name + " length " + std::to_string(len) + " differs from " + names[0] + "'s last dimension "
            + std::to_string(last));
}

//! Concrete dims: `other` equals X dimension by dimension (-1 matches anything).
inline void checkSameDims(nvinfer1::Dims const& x, nvinfer1::Dims const& other, char const* otherName, char const* xName)
{
    bool same = x.nbDims == other.nbDims;
    for (int32_t i = 0; same && i < x.nbDims; ++i)
    {
        same = x.d[i] < 0 || other.d[i] < 0 || x.d[i] == other.d[i];
    }
    TRTPLUG_ENSURE(same, std::string(otherName) + " must have " + xName + "'s shape");
}

template <class Traits>
class BiasActivationPlugin : public GluePlugin<BiasActivationPlugin<Traits>, Traits>
{
    using Base = GluePlugin<BiasActivationPlugin<Traits>, Traits>;
    static constexpr bool kHasSkip = Traits::kMaxInputs == 3;
    static_assert(Traits::kMinInputs >= 1 && Traits::kMaxInputs <= 3 && Traits::kNbOutputs == 1,
        "inputs: X, bias, skip; one output");

public:
    using DataType = nvinfer1::DataType;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    using Base::Base;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        checkSameFloatTypes(in, Traits::kInputNames);
        out[0] = in[0];
    }

    void outputShapes(
        Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims >= 1,
            std::string(Traits::kInputNames[0]) + " must have rank >= 1, got rank " + std::to_string(x.nbDims));
        if (in.size() >= 2)
        {
            checkBiasExpr(x, in[1], Traits::kInputNames);
        }
        if constexpr (kHasSkip) // kInputNames has a third entry only then
        {
            if (in.size() == 3)
            {
                checkSkipExpr(x, in[2]);
            }
        }
        out[0] = x;
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        return supportsSameFloatLinear(pos, inOut);
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const> out)
    {
        Dims dims[3];
        DataType types[3];
        for (int32_t i = 0; i < in.size(); ++i)
        {
            dims[i] = in[i].desc.dims;
            types[i] = in[i].desc.type;
        }
        check(Span<Dims const>{dims, in.size()}, Span<DataType const>{types, in.size()}, out[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        Dims dims[3];
        DataType types[3];
        for (int32_t i = 0; i < in.size(); ++i)
        {
            dims[i] = in[i].dims;
            types[i] = in[i].type;
        }
        check(Span<Dims const>{dims, in.size()}, Span<DataType const>{types, in.size()}, out[0].type);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        ElementwiseArgs args;
        args.x = inputs[0];
        args.y = outputs[0];
        args.n = volume(in[0].dims);
        if (in.size() >= 2)
        {
            args.bias = inputs[1];
            args.biasLen = volume(in[1].dims);
        }
        args.skip = in.size() == 3 ? inputs[2] : nullptr;
        return Traits::launch(dtype, args, this->params(), stream);
    }

private:
    using Dims = nvinfer1::Dims;

    static void checkSkipExpr(DimsExprs const& x, DimsExprs const& skip)
    {
        std::string const name(Traits::kInputNames[2]);
        std::string const xName(Traits::kInputNames[0]);
        TRTPLUG_ENSURE(skip.nbDims == x.nbDims, name + " must have " + xName + "'s rank " + std::to_string(x.nbDims)
                + ", got " + std::to_string(skip.nbDims));
        for (int32_t i = 0; i < x.nbDims; ++i)
        {
            bool const known = x.d[i]->isConstant() && skip.d[i]->isConstant();
            TRTPLUG_ENSURE(!known || x.d[i]->getConstantValue() == skip.d[i]->getConstantValue(),
                name + " dimension " + std::to_string(i) + " is " + std::to_string(skip.d[i]->getConstantValue())
                    + ", " + xName + "'s is " + std::to_string(x.d[i]->getConstantValue()));
        }
    }

    static void check(Span<Dims const> dims, Span<DataType const> types, DataType y)
    {
        checkBiasDims(dims[0], dims.size() >= 2 ? &dims[1] : nullptr, Traits::kInputNames);
        if constexpr (kHasSkip)
        {
            if (dims.size() == 3)
            {
                checkSameDims(dims[0], dims[2], Traits::kInputNames[2], Traits::kInputNames[0]);
            }
        }
        checkSameFloatTypes(types, Traits::kInputNames);
        TRTPLUG_ENSURE(y == types[0], std::string("the output must have ") + Traits::kInputNames[0] + "'s type");
    }
};

} // namespace trtplug

// The IPluginV3 adapter shared by TrtplugSkipLayerNorm and TrtplugSkipSimplifiedLayerNorm
// (specs: plugins/skip_layer_norm/spec.toml, plugins/skip_simplified_layer_norm/spec.toml).
// Each op's plugin.cpp supplies its glue and Traits { kRms, launch } and registers the alias.
//
// Inputs: input (rank >= 2), skip (input's shape, or a suffix of it after leading 1s), gamma,
// then beta (LayerNorm form only) and bias, 1-D of the hidden size; an absent beta before a
// present bias arrives as an empty tensor (zero elements). Outputs, as many as the
// `num_outputs` field says (the rewrite sets it to the outputs the node uses): output,
// mean and inv_std_var (float32, hidden axis reduced to 1), input_skip_bias_sum.
#pragma once

#include "common/plugin_base.h"
#include "common/skip_norm.h"
#include "common/trt_dtype.h"

#include <string>

namespace trtplug
{

namespace skipnorm
{

inline std::string dimsText(nvinfer1::Dims const& d)
{
    std::string s = "(";
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        s += (i ? ", " : "") + std::to_string(d.d[i]);
    }
    return s + ")";
}

//! skip broadcasts into input when, aligned right, it is input's trailing dims after leading 1s
//! (so row r of input adds row r % skipRows of skip). -1 (not yet known) matches anything.
inline void checkSkip(nvinfer1::Dims const& x, nvinfer1::Dims const& skip)
{
    bool ok = skip.nbDims >= 2 && skip.nbDims <= x.nbDims;
    bool leading = true;
    for (int32_t i = 0; ok && i < skip.nbDims; ++i)
    {
        int64_t const s = skip.d[i];
        int64_t const d = x.d[x.nbDims - skip.nbDims + i];
        leading = leading && s == 1 && i < skip.nbDims - 1;
        ok = leading || s < 0 || d < 0 || s == d;
    }
    TRTPLUG_ENSURE(ok, "skip shape " + dimsText(skip) + " does not broadcast to input shape " + dimsText(x));
}

//! Concrete-shape checks of every input against `input` (dims < 0 are not known yet).
inline void checkDims(nvinfer1::Dims const* dims, int32_t count, char const* const* names)
{
    nvinfer1::Dims const& x = dims[0];
    TRTPLUG_ENSURE(x.nbDims >= 2, "input must have rank >= 2, got rank " + std::to_string(x.nbDims));
    int64_t const hidden = x.d[x.nbDims - 1];
    TRTPLUG_ENSURE(hidden != 0, "input's hidden (last) dimension must be >= 1, got 0");
    checkSkip(x, dims[1]);
    for (int32_t i = 2; i < count; ++i)
    {
        if (i > 2 && volume(dims[i]) == 0)
        {
            continue; // an absent optional input (empty tensor)
        }
        bool const ok = dims[i].nbDims == 1 && (hidden < 0 || dims[i].d[0] < 0 || dims[i].d[0] == hidden);
        TRTPLUG_ENSURE(ok, std::string(names[i]) + " must be 1-D of input's hidden size " + std::to_string(hidden)
                + ", got " + dimsText(dims[i]));
    }
}

} // namespace skipnorm

template <class Glue, class Traits>
class SkipNormPlugin : public GluePlugin<SkipNormPlugin<Glue, Traits>, Glue>
{
    using Base = GluePlugin<SkipNormPlugin<Glue, Traits>, Glue>;
    using DataType = nvinfer1::DataType;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;
    // Input positions: beta exists in the LayerNorm form only.
    static constexpr int32_t kBeta = Traits::kRms ? -1 : 3;
    static constexpr int32_t kBias = Traits::kRms ? 3 : 4;

public:
    static_assert(Glue::kMinInputs == 3 && Glue::kMaxInputs == kBias + 1 && Glue::kNbOutputs == 4,
        "the spec's inputs and outputs are the adapter's");
    // Identity, counts, fields and their value rules (num_outputs in 1..4): generated from the spec.
    using Base::Base;
    using Base::kMaxInputs;

    int32_t nbOutputs() const noexcept { return this->params().num_outputs; }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        checkTypes(in.data, in.size());
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = i == 1 || i == 2 ? DataType::kFLOAT : in[0];
        }
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder& expr) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims >= 2, "input must have rank >= 2, got rank " + std::to_string(x.nbDims));
        TRTPLUG_ENSURE(in[1].nbDims >= 2 && in[1].nbDims <= x.nbDims,
            "skip must have rank 2.." + std::to_string(x.nbDims) + ", got rank " + std::to_string(in[1].nbDims));
        for (int32_t i = 2; i < in.size(); ++i)
        {
            TRTPLUG_ENSURE(in[i].nbDims == 1,
                std::string(inputName(i)) + " must be 1-D, got rank " + std::to_string(in[i].nbDims));
        }
        for (int32_t i = 0; i < out.size(); ++i)
        {
            out[i] = x;
            if (i == 1 || i == 2)
            {
                out[i].d[x.nbDims - 1] = expr.constant(1); // per-row statistics
            }
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t nbInputs) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        int32_t const output = pos - nbInputs;
        if (output == 1 || output == 2)
        {
            return d.type == DataType::kFLOAT;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type;
    }

    void configure(Span<DynDesc const> in, Span<DynDesc const>) { checkInputs(in); }
    void shapeChanged(Span<Desc const> in, Span<Desc const>) { checkInputs(in); }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        SkipNormArgs a;
        if (!toDType(in[0].type, a.dtype))
        {
            return cudaErrorInvalidValue;
        }
        int32_t const nbOut = nbOutputs();
        a.input = inputs[0];
        a.skip = inputs[1];
        a.gamma = inputs[2];
        a.beta = kBeta >= 0 && in.size() > kBeta && volume(in[kBeta].dims) > 0 ? inputs[kBeta] : nullptr;
        a.bias = in.size() > kBias && volume(in[kBias].dims) > 0 ? inputs[kBias] : nullptr;
        a.output = outputs[0];
        a.mean = nbOut > 1 ? static_cast<float*>(outputs[1]) : nullptr;
        a.invStdVar = nbOut > 2 ? static_cast<float*>(outputs[2]) : nullptr;
        a.sum = nbOut > 3 ? outputs[3] : nullptr;
        nvinfer1::Dims const& x = in[0].dims;
        a.hidden = x.d[x.nbDims - 1];
        a.rows = a.hidden > 0 ? volume(x) / a.hidden : 0;
        a.skipRows = a.hidden > 0 ? volume(in[1].dims) / a.hidden : 0;
        a.epsilon = this->params().epsilon;
        return Traits::launch(a, stream);
    }

private:
    static constexpr char const* kInputNames[5]
        = {"input", "skip", "gamma", Traits::kRms ? "bias" : "beta", Traits::kRms ? "" : "bias"};

    static char const* inputName(int32_t i) { return i < 5 ? kInputNames[i] : "?"; }

    //! Concrete shapes and types of the inputs (configure: dims may still be -1).
    template <class D>
    static void checkInputs(Span<D const> in)
    {
        nvinfer1::Dims dims[kMaxInputs]{};
        DataType types[kMaxInputs]{};
        for (int32_t i = 0; i < in.size(); ++i)
        {
            dims[i] = descOf(in[i]).dims;
            types[i] = descOf(in[i]).type;
        }
        skipnorm::checkDims(dims, in.size(), kInputNames);
        checkTypes(types, in.size());
    }

    static void checkTypes(DataType const* types, int32_t count)
    {
        TRTPLUG_ENSURE(isFloatOrBf16(types[0]),
            std::string("input must be float32, float16 or bfloat16, got ") + trtTypeName(types[0]));
        for (int32_t i = 1; i < count; ++i)
        {
            TRTPLUG_ENSURE(types[i] == types[0], std::string(inputName(i)) + " must have input's type "
                    + trtTypeName(types[0]) + ", got " + trtTypeName(types[i]));
        }
    }
};

} // namespace trtplug

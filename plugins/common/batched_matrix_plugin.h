// The IPluginV3 adapter shared by the batched square-matrix ops (Det, Inverse): X (..., M, M)
// in float32, float16 or bfloat16, M <= kMaxMatrixDim; Y is one value per matrix (kPerMatrixScalar, Det)
// or X's shape (Inverse). An op's plugin.cpp supplies Traits and registers the instantiation:
//
//   struct Traits {
//       using Glue = glue_det::Glue; // identity and counts, generated from the spec
//       static constexpr bool kPerMatrixScalar = true;
//       static cudaError_t launch(DType, void const* x, void* y, int64_t batch, int32_t m, cudaStream_t);
//   };
#pragma once

#include "common/plugin_base.h"
#include "common/small_matrix.h"
#include "common/trt_dtype.h"

#include <string>

namespace trtplug
{

template <class Traits>
class BatchedMatrixPlugin : public GluePlugin<BatchedMatrixPlugin<Traits>, typename Traits::Glue>
{
    using Base = GluePlugin<BatchedMatrixPlugin<Traits>, typename Traits::Glue>;

public:
    using DataType = nvinfer1::DataType;
    using DimsExprs = nvinfer1::DimsExprs;
    using DynDesc = nvinfer1::DynamicPluginTensorDesc;
    using Desc = nvinfer1::PluginTensorDesc;

    using Base::Base;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("X must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        DimsExprs const& x = in[0];
        TRTPLUG_ENSURE(x.nbDims >= 2, "X must have rank >= 2 (..., M, M), got rank " + std::to_string(x.nbDims));
        auto const* rows = x.d[x.nbDims - 2];
        auto const* cols = x.d[x.nbDims - 1];
        if (rows->isConstant() && cols->isConstant())
        {
            checkSquare(rows->getConstantValue(), cols->getConstantValue());
        }
        out[0] = x;
        if (Traits::kPerMatrixScalar)
        {
            out[0].nbDims = x.nbDims - 2;
        }
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type);
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        nvinfer1::Dims const& x = in[0].dims;
        TRTPLUG_ENSURE(x.nbDims >= 2, "X must have rank >= 2");
        checkSquare(x.d[x.nbDims - 2], x.d[x.nbDims - 1]);
        TRTPLUG_ENSURE(in[0].type == out[0].type, "Y must have X's type");
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void*, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        nvinfer1::Dims const& x = in[0].dims;
        int64_t const m = x.d[x.nbDims - 1];
        int64_t const batch = volume(x) == 0 && m == 0 ? volume(out[0].dims) : (m == 0 ? 0 : volume(x) / (m * m));
        return Traits::launch(dtype, inputs[0], outputs[0], batch, static_cast<int32_t>(m), stream);
    }

private:

    static void checkSquare(int64_t rows, int64_t cols)
    {
        TRTPLUG_ENSURE(rows == cols,
            "X must hold square matrices, got " + std::to_string(rows) + " x " + std::to_string(cols));
        TRTPLUG_ENSURE(rows <= kMaxMatrixDim, "matrices above " + std::to_string(kMaxMatrixDim) + " x "
                + std::to_string(kMaxMatrixDim) + " are not supported, got " + std::to_string(rows));
    }
};

} // namespace trtplug

// Output-shape helpers for IPluginV3 adapters (getOutputShapes works on symbolic dims).
#pragma once

#include "common/plugin_log.h"

#include <NvInferRuntime.h>

#include <string>

namespace trtplug
{

//! Numpy-style broadcast of a and b: a constant 1 yields to the other dim, equal constants
//! stay, and two symbolic dims become max(a, b) (their equality is checked once known).
inline nvinfer1::DimsExprs broadcastDims(
    nvinfer1::DimsExprs const& a, nvinfer1::DimsExprs const& b, nvinfer1::IExprBuilder& expr)
{
    nvinfer1::DimsExprs out;
    out.nbDims = a.nbDims > b.nbDims ? a.nbDims : b.nbDims;
    for (int32_t i = 0; i < out.nbDims; ++i)
    {
        int32_t const ia = i - (out.nbDims - a.nbDims);
        int32_t const ib = i - (out.nbDims - b.nbDims);
        nvinfer1::IDimensionExpr const* da = ia >= 0 ? a.d[ia] : nullptr;
        nvinfer1::IDimensionExpr const* db = ib >= 0 ? b.d[ib] : nullptr;
        auto isOne = [](nvinfer1::IDimensionExpr const* d) {
            return d == nullptr || (d->isConstant() && d->getConstantValue() == 1);
        };
        if (isOne(da) || isOne(db))
        {
            out.d[i] = isOne(da) ? (db != nullptr ? db : da) : da;
            continue;
        }
        bool const bothConstant = da->isConstant() && db->isConstant();
        TRTPLUG_ENSURE(!bothConstant || da->getConstantValue() == db->getConstantValue(),
            "dims " + std::to_string(da->getConstantValue()) + " and " + std::to_string(db->getConstantValue())
                + " do not broadcast");
        out.d[i] = bothConstant ? da : expr.operation(nvinfer1::DimensionOperation::kMAX, *da, *db);
    }
    return out;
}

//! A 1-D shape holding x's last dim (1 for a scalar).
inline nvinfer1::DimsExprs lastDimOf(nvinfer1::DimsExprs const& x, nvinfer1::IExprBuilder& expr)
{
    nvinfer1::DimsExprs out;
    out.nbDims = 1;
    out.d[0] = x.nbDims > 0 ? x.d[x.nbDims - 1] : expr.constant(1);
    return out;
}

//! The element count of `x` as an expression (1 for a scalar).
inline nvinfer1::IDimensionExpr const* volumeExpr(nvinfer1::DimsExprs const& x, nvinfer1::IExprBuilder& expr)
{
    nvinfer1::IDimensionExpr const* n = expr.constant(1);
    for (int32_t i = 0; i < x.nbDims; ++i)
    {
        n = expr.operation(nvinfer1::DimensionOperation::kPROD, *n, *x.d[i]);
    }
    return n;
}

//! Declares plugin output `sizeIndex` a size tensor (0-D, the count of a data-dependent dim)
//! bounded by `upper`, and returns the expression to use as that dim. The auto-tuning value
//! is half the bound, as TensorRT's NonZero sample assumes.
inline nvinfer1::IDimensionExpr const* declareCount(nvinfer1::IExprBuilder& expr, nvinfer1::DimsExprs* outputs,
    int32_t sizeIndex, nvinfer1::IDimensionExpr const& upper)
{
    auto const* opt = expr.operation(nvinfer1::DimensionOperation::kCEIL_DIV, upper, *expr.constant(2));
    outputs[sizeIndex].nbDims = 0;
    nvinfer1::IDimensionExpr const* count = expr.declareSizeTensor(sizeIndex, *opt, upper);
    TRTPLUG_ENSURE(count != nullptr, "declareSizeTensor failed for output " + std::to_string(sizeIndex));
    return count;
}

} // namespace trtplug

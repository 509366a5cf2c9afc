// GatherBlockQuantized's shape rules (host code): the tensors of a call checked against the
// attributes, in ONNX Runtime's wording where it has one, and the flattened sizes the kernels use.
#include "gather_block_quantized/gather_block_quantized.h"

#include <string>

namespace trtplug
{
namespace
{

//! data's shape with the last axis in codes (8 / bits per byte).
TensorShape codesShape(TensorShape data, int32_t bits) noexcept
{
    data.d[data.rank - 1] *= 8 / bits;
    return data;
}

int64_t product(TensorShape const& s, int32_t from, int32_t to) noexcept
{
    int64_t n = 1;
    for (int32_t i = from; i < to; ++i)
    {
        n *= s.d[i];
    }
    return n;
}

std::string dims(TensorShape const& s)
{
    std::string text = "[";
    for (int32_t i = 0; i < s.rank; ++i)
    {
        text += (i ? ", " : "") + std::to_string(s.d[i]);
    }
    return text + "]";
}

bool sameShape(TensorShape const& a, TensorShape const& b) noexcept
{
    if (a.rank != b.rank)
    {
        return false;
    }
    for (int32_t i = 0; i < a.rank; ++i)
    {
        if (a.d[i] != b.d[i])
        {
            return false;
        }
    }
    return true;
}

//! scales: the codes' shape with the quantized axis counted in blocks.
TensorShape scalesShape(TensorShape const& codes, int32_t quantizeAxis, int32_t blockSize) noexcept
{
    TensorShape s = codes;
    s.d[quantizeAxis] = (codes.d[quantizeAxis] + blockSize - 1) / blockSize;
    return s;
}

//! zero_points: the scales packed along their last axis like the codes (rows padded to bytes).
TensorShape zeroPointsShape(TensorShape const& scales, int32_t bits) noexcept
{
    TensorShape z = scales;
    int32_t const perByte = 8 / bits;
    z.d[z.rank - 1] = (scales.d[z.rank - 1] + perByte - 1) / perByte;
    return z;
}

std::string checkAxes(glue_gather_block_quantized::Params const& p, int32_t rank)
{
    for (auto const& [name, axis] : {std::pair{"gather_axis", p.gather_axis}, {"quantize_axis", p.quantize_axis}})
    {
        if (axis < -rank || axis >= rank)
        {
            return std::string(name) + " " + std::to_string(axis) + " is out of range for data of rank "
                + std::to_string(rank);
        }
    }
    return "";
}

} // namespace

TensorShape gbqOutputShape(
    glue_gather_block_quantized::Params const& p, TensorShape const& data, TensorShape const& indices) noexcept
{
    TensorShape const codes = codesShape(data, p.bits);
    int32_t const gather = gbqAxis(p.gather_axis, data.rank);
    TensorShape out;
    auto push = [&out](int64_t d) {
        if (out.rank < TensorShape::kMaxRank)
        {
            out.d[out.rank++] = d;
        }
    };
    for (int32_t i = 0; i < gather; ++i)
    {
        push(codes.d[i]);
    }
    for (int32_t i = 0; i < indices.rank; ++i)
    {
        push(indices.d[i]);
    }
    for (int32_t i = gather + 1; i < codes.rank; ++i)
    {
        push(codes.d[i]);
    }
    return out;
}

std::string gbqCheckShapes(glue_gather_block_quantized::Params const& p, GbqShapes const& s, GbqProblem& out)
{
    int32_t const rank = s.data.rank;
    if (rank < 1)
    {
        return "data must have rank >= 1";
    }
    std::string const axes = checkAxes(p, rank);
    if (!axes.empty())
    {
        return axes;
    }
    if (rank - 1 + s.indices.rank > TensorShape::kMaxRank)
    {
        return "output rank " + std::to_string(rank - 1 + s.indices.rank) + " exceeds " + std::to_string(TensorShape::kMaxRank);
    }
    int32_t const gather = gbqAxis(p.gather_axis, rank);
    int32_t const quantize = gbqAxis(p.quantize_axis, rank);
    TensorShape const codes = codesShape(s.data, p.bits);
    TensorShape const scales = scalesShape(codes, quantize, p.block_size);
    if (!sameShape(s.scales, scales))
    {
        return "scales has shape " + dims(s.scales) + ", expected " + dims(scales) + " (data and scales do not match shapes)";
    }
    // Absent: rank 0, or an empty placeholder where the scales are not empty.
    bool const hasZeroPoints = s.zeroPoints.rank > 0 && (s.zeroPoints.volume() > 0 || scales.volume() == 0);
    if (hasZeroPoints && !sameShape(s.zeroPoints, zeroPointsShape(scales, p.bits)))
    {
        return "zero_points has shape " + dims(s.zeroPoints) + ", expected " + dims(zeroPointsShape(scales, p.bits));
    }
    TensorShape const expected = gbqOutputShape(p, s.data, s.indices);
    if (!sameShape(s.output, expected))
    {
        return "output has shape " + dims(s.output) + ", expected " + dims(expected);
    }
    out.outer = product(codes, 0, gather);
    out.axisLen = codes.d[gather];
    out.inner = product(codes, gather + 1, rank);
    out.count = s.indices.volume();
    out.quantLen = codes.d[quantize];
    out.quantInner = product(codes, quantize + 1, rank);
    out.blocks = scales.d[quantize];
    out.codesLast = codes.d[rank - 1];
    out.scalesLast = scales.d[rank - 1];
    out.zeroRowBytes = hasZeroPoints ? s.zeroPoints.d[rank - 1] : 0;
    out.bits = p.bits;
    out.blockSize = p.block_size;
    return "";
}

} // namespace trtplug

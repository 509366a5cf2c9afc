// GatherBlockQuantized launcher (com.microsoft GatherBlockQuantized): plain functions, no TensorRT
// types. The IPluginV3 adapter and the pybind11 binding both call them, so the kernel TensorRT runs
// is the kernel the tests run. output = dequant(data) gathered along gather_axis, where data packs
// 8 / bits codes per byte along its last axis and dequant(code) = (code - zp) * scale per block of
// block_size codes along quantize_axis (common/block_quant.cuh). Out-of-range indices give zeros.
// The embedding form (quantize_axis last, a row a multiple of 8 codes) moves 8 codes per thread:
// one load of `bits` bytes, 16-byte stores; other forms take one thread per output element.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "gather_block_quantized/gbq_problem.h"
#include "gather_block_quantized/op_glue.h" // glue_gather_block_quantized::Params: generated from the spec

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

namespace trtplug
{

//! The tensor shapes of one call; an absent zero_points is a rank-0 shape of volume 0.
struct GbqShapes
{
    TensorShape data, indices, scales, zeroPoints, output;
};

//! An axis attribute (negative: counted from the end) as an index into data's dims.
inline int32_t gbqAxis(int32_t axis, int32_t rank) noexcept
{
    return axis < 0 ? axis + rank : axis;
}

//! The flattened sizes of a call checked against the attributes (`out` filled, pointers left
//! alone); a one-line reason naming the tensor when a shape is wrong, else "".
std::string gbqCheckShapes(glue_gather_block_quantized::Params const& p, GbqShapes const& s, GbqProblem& out);

//! The output's dimensions for data and indices of these shapes (rank checked by gbqCheckShapes).
TensorShape gbqOutputShape(glue_gather_block_quantized::Params const& p, TensorShape const& data,
    TensorShape const& indices) noexcept;

//! output for `p`: valueType is the scales' and output's (float32, float16, bfloat16), indexType
//! the indices' (int32, int64).
cudaError_t launchGatherBlockQuantized(
    DType valueType, DType indexType, GbqProblem const& p, cudaStream_t stream) noexcept;

} // namespace trtplug

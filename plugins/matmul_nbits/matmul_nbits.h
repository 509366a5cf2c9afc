// MatMulNBits launcher (com.microsoft MatMulNBits): plain functions, no TensorRT types. The
// IPluginV3 adapter and the pybind11 binding both call them, so the kernel TensorRT runs is the
// kernel the tests run. Y[M, N] = A[M, K] @ dequant(B)^T (+ bias), computed in float32.
// M <= kNBitsGemvMaxRows (decode): a GEMV kernel reads the packed weights once (16-byte loads)
// and dequantizes in registers. Larger M: B dequantized into the workspace as A's type, then
// cuBLAS (plugins/common/gemm.h) on tensor cores; without cuBLAS the GEMV kernel tiles M. The
// common layout (no g_idx, K a multiple of the block, 16-byte rows and pointers) takes the
// bandwidth-bound GEMV and dequantize of matmul_nbits_fast.cuh (matmul_nbits.cu: fastPathFits).
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"
#include "matmul_nbits/op_glue.h" // glue_matmul_nbits::Params: the spec's attributes, generated at build time

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

constexpr int64_t kNBitsGemvMaxRows = 8;

//! One MatMulNBits call: the flattened sizes and the device pointers (optional ones null).
struct NBitsProblem
{
    int64_t m{0}; //!< rows of A: the product of its leading dims
    int64_t n{0};
    int64_t k{0};
    int32_t bits{4};
    int32_t blockSize{32};
    void const* a{nullptr};
    uint8_t const* b{nullptr};
    void const* scales{nullptr};
    void const* zeroPoints{nullptr};
    bool zeroPointsPacked{true}; //!< uint8 packed like B; false: A's float type, one per block
    int32_t const* gIdx{nullptr};
    void const* bias{nullptr};
    void* y{nullptr};
};

//! The tensor shapes of one call, absent optional inputs as rank-0 shapes of volume 0 (empty).
struct NBitsShapes
{
    TensorShape a, b, scales, zeroPoints, gIdx, bias, y;
};

//! Blocks along K: ceil(K / block_size).
inline int64_t nbitsBlocks(glue_matmul_nbits::Params const& p) noexcept
{
    return (static_cast<int64_t>(p.K) + p.block_size - 1) / p.block_size;
}

//! Sizes of a call (m, n, k, bits, block size) checked against the attributes; a one-line
//! reason naming the tensor when a shape is wrong, else "". `zeroPointsPacked` says whether
//! zero_points (when given) are uint8.
std::string nbitsCheckShapes(
    glue_matmul_nbits::Params const& p, NBitsShapes const& s, bool zeroPointsPacked, NBitsProblem& out);

//! Scratch bytes the launch needs for m rows (B dequantized as `dtype` when cuBLAS takes the call).
size_t nbitsWorkspaceBytes(DType dtype, int64_t m, int64_t n, int64_t k) noexcept;

//! Y for `p`; dtype is A's (float32, float16, bfloat16). `workspace` holds nbitsWorkspaceBytes.
cudaError_t launchMatMulNBits(
    DType dtype, NBitsProblem const& p, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept;

} // namespace trtplug

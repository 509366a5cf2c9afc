// QMoE launcher (com.microsoft QMoE: MoE on integer-quantized expert weights, spec.toml): plain
// functions, no TensorRT types, shared by the IPluginV3 adapter and the pybind11 binding. It runs
// MoE's pipeline (moe/moe_pipeline.cuh) with the weights dequantized as the GEMM tiles load them
// (moe/moe_weights.cuh's QuantWeights, or Mxfp4Weights for quant_type "fp4"),
// so no dequantized copy of the experts is ever written.
#pragma once

#include "moe/moe.h"
#include "qmoe/op_glue.h" // glue_qmoe::Params: the spec's attributes, generated at build time

#include <cstdint>
#include <string>

namespace trtplug
{

//! One projection's quantized weights: uint8 codes [E, N, K * bits / 8], scales of the run dtype,
//! optional packed uint8 zero points (null: 2^(bits - 1)). MXFP4 (QmoeProblem::mxfp4): E2M1 codes
//! [E, K, N / 2], uint8 E8M0 scales [E, N, K / 32], optional float32 global scales [E] (null: 1).
struct QmoeProjection
{
    void const* codes{nullptr};
    void const* scales{nullptr};
    void const* zeroPoints{nullptr};
    int32_t bits{4};
    void const* globalScales{nullptr};
};

struct QmoeProblem
{
    MoeProblem moe; //!< sizes, attributes, input/router/bias/output pointers (its fc* unused)
    QmoeProjection fc1, fc2, fc3;
    int64_t blockSize{0}; //!< 0: one scale per column
    bool mxfp4{false};    //!< quant_type "fp4": MXFP4 weights (blocks of 32)
};

//! The tensor shapes of one call; absent optional inputs as empty shapes. `moe` holds the weights
//! as stored (packed bytes along the last axis).
struct QmoeShapes
{
    MoeShapes moe;
    TensorShape fc1Scales, fc2Scales, fc3Scales, fc1Zero, fc2Zero, fc3Zero, routerWeights;
    TensorShape fc1Global, fc2Global; //!< MXFP4's per-expert global scales
};

//! Bytes of `codes` packed codes of `bits` bits (a zero-point row: its last byte padded).
inline int64_t qmoePackedBytes(int64_t codes, int32_t bits) noexcept
{
    return (codes * bits + 7) / 8;
}

//! Sizes and attributes checked, into `out` (pointers still to set); else a one-line reason naming
//! the tensor or attribute.
std::string qmoeCheckShapes(glue_qmoe::Params const& p, QmoeShapes const& s, QmoeProblem& out);

//! output for `p` (dtype: input's, scales' and biases'); `workspace` holds moeWorkspaceBytes(p.moe).
cudaError_t launchQmoe(DType dtype, QmoeProblem const& p, void* workspace, size_t workspaceBytes,
    cudaStream_t stream) noexcept;

} // namespace trtplug

// QMoE's host-side checks: the packed weights unpacked to MoE's logical shapes (checked by
// moeCheckShapes), then the scales, zero points and router_weights against them. Plain C++ (a .cu
// only so the build globs it with the kernels).
#include "qmoe/qmoe.h"

namespace trtplug
{
namespace
{

int32_t bitsOf(int32_t override, int32_t all) noexcept
{
    return override != 0 ? override : all;
}

//! The packed weights as logical [E, N, K] (K = bytes * 8 / bits).
TensorShape unpacked(TensorShape s, int32_t bits) noexcept
{
    if (s.rank == 3)
    {
        s.d[2] = s.d[2] * 8 / bits;
    }
    return s;
}

//! One projection's scales and zero points for its [E, n, depth] weights.
std::string checkProjection(char const* fc, int64_t e, int64_t n, int64_t depth, int64_t blockSize, int32_t bits,
    TensorShape const& scales, TensorShape const& zero)
{
    std::string const name(fc);
    if (blockSize > 0 && depth % blockSize != 0)
    {
        return name + "_experts_weights' input size " + std::to_string(depth) + " is not a multiple of block_size "
            + std::to_string(blockSize);
    }
    if (blockSize == 0)
    {
        std::string const p = scales.expect(name + "_scales", {e, n});
        return !p.empty() || zero.rank == 0 ? p : zero.expect(name + "_zero_points", {e, qmoePackedBytes(n, bits)});
    }
    int64_t const blocks = depth / blockSize;
    std::string const p = scales.expect(name + "_scales", {e, n, blocks});
    return !p.empty() || zero.rank == 0 ? p : zero.expect(name + "_zero_points", {e, n, qmoePackedBytes(blocks, bits)});
}

//! MXFP4 codes [E, K, N / 2] as logical [E, N, K].
TensorShape mxfp4Logical(TensorShape s) noexcept
{
    if (s.rank == 3)
    {
        int64_t const k = s.d[1];
        s.d[1] = s.d[2] * 2;
        s.d[2] = k;
    }
    return s;
}

//! quant_type "fp4" (MXFP4): E2M1 codes [E, K, N / 2], E8M0 scales [E, N, K / 32], optional float32
//! global scales [E]; no zero points, no fc3, 4 bits, blocks of 32.
std::string checkMxfp4(glue_qmoe::Params const& p, QmoeShapes const& s, QmoeProblem& out)
{
    constexpr int64_t kBlock = 32;
    out.mxfp4 = true;
    out.blockSize = kBlock;
    out.fc1.bits = out.fc2.bits = out.fc3.bits = 4;
    if (p.expert_weight_bits != 4 || (p.fc1_expert_weight_bits != 0 && p.fc1_expert_weight_bits != 4)
        || (p.fc2_expert_weight_bits != 0 && p.fc2_expert_weight_bits != 4)
        || (p.fc3_expert_weight_bits != 0 && p.fc3_expert_weight_bits != 4))
    {
        return "quant_type 'fp4' takes 4-bit weights only (expert_weight_bits and fc*_expert_weight_bits 4)";
    }
    if (p.block_size != 0 && p.block_size != kBlock)
    {
        return "quant_type 'fp4' takes block_size 32 (MXFP4), got " + std::to_string(p.block_size);
    }
    if (s.fc1Zero.rank > 0 || s.fc2Zero.rank > 0 || s.fc3Zero.rank > 0)
    {
        return "quant_type 'fp4' takes no zero points";
    }
    if (s.moe.fc3.rank > 0 || s.fc3Scales.rank > 0)
    {
        return "quant_type 'fp4' with fc3_experts_weights is not supported (no fc3 global scale input)";
    }
    MoeShapes logical = s.moe;
    logical.fc1 = mxfp4Logical(s.moe.fc1);
    logical.fc2 = mxfp4Logical(s.moe.fc2);
    std::string problem = moeCheckShapes(moeAttrs(p), logical, out.moe);
    if (!problem.empty())
    {
        return problem + " (MXFP4 codes [E, K, N / 2] read as [E, N, K])";
    }
    MoeProblem const& m = out.moe;
    if (m.hidden % kBlock != 0 || m.inter % kBlock != 0)
    {
        return "quant_type 'fp4' needs hidden size " + std::to_string(m.hidden) + " and inter size "
            + std::to_string(m.inter) + " to be multiples of 32";
    }
    problem = s.fc1Scales.expect("fc1_scales", {m.experts, m.fc1Cols, m.hidden / kBlock});
    if (problem.empty())
        problem = s.fc2Scales.expect("fc2_scales", {m.experts, m.hidden, m.inter / kBlock});
    if (problem.empty() && s.fc1Global.rank > 0)
        problem = s.fc1Global.expect("fc1_global_scale", {m.experts});
    if (problem.empty() && s.fc2Global.rank > 0)
        problem = s.fc2Global.expect("fc2_global_scale", {m.experts});
    if (problem.empty() && s.routerWeights.rank > 0)
        problem = s.routerWeights.expect("router_weights", {m.tokens, m.experts});
    return problem;
}

} // namespace

std::string qmoeCheckShapes(glue_qmoe::Params const& p, QmoeShapes const& s, QmoeProblem& out)
{
    if (p.quant_type == "fp4")
    {
        return checkMxfp4(p, s, out);
    }
    if (s.fc1Global.rank > 0 || s.fc2Global.rank > 0)
    {
        return "fc1_global_scale and fc2_global_scale are only taken with quant_type 'fp4'";
    }
    out.fc1.bits = bitsOf(p.fc1_expert_weight_bits, p.expert_weight_bits);
    out.fc2.bits = bitsOf(p.fc2_expert_weight_bits, p.expert_weight_bits);
    out.fc3.bits = bitsOf(p.fc3_expert_weight_bits, p.expert_weight_bits);
    out.blockSize = p.block_size;
    MoeShapes logical = s.moe;
    logical.fc1 = unpacked(s.moe.fc1, out.fc1.bits);
    logical.fc2 = unpacked(s.moe.fc2, out.fc2.bits);
    logical.fc3 = unpacked(s.moe.fc3, out.fc3.bits);
    std::string problem = moeCheckShapes(moeAttrs(p), logical, out.moe);
    if (!problem.empty())
    {
        return problem + " (codes unpacked at " + std::to_string(out.fc1.bits) + "/" + std::to_string(out.fc2.bits)
            + "/" + std::to_string(out.fc3.bits) + " bits for fc1/fc2/fc3)";
    }
    MoeProblem const& m = out.moe;
    if (m.hasFc3 && s.fc3Scales.rank == 0)
    {
        return "fc3_experts_weights is given without fc3_scales";
    }
    problem = checkProjection("fc1", m.experts, m.fc1Cols, m.hidden, out.blockSize, out.fc1.bits, s.fc1Scales, s.fc1Zero);
    if (problem.empty())
    {
        problem = checkProjection("fc2", m.experts, m.hidden, m.inter, out.blockSize, out.fc2.bits, s.fc2Scales, s.fc2Zero);
    }
    if (problem.empty() && m.hasFc3)
    {
        problem = checkProjection("fc3", m.experts, m.inter, m.hidden, out.blockSize, out.fc3.bits, s.fc3Scales, s.fc3Zero);
    }
    if (problem.empty() && s.routerWeights.rank > 0)
    {
        problem = s.routerWeights.expect("router_weights", {m.tokens, m.experts});
    }
    return problem;
}

} // namespace trtplug

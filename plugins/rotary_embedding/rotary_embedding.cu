// RotaryEmbedding shapes -> RotaryProblem, and its launch over the shared rotary kernel.
#include "rotary_embedding/rotary_embedding.h"

#include <algorithm>

namespace trtplug
{
namespace
{

//! Heads and head size of the input: [B, N, S, H] directly; [B, S, hidden] split by num_heads,
//! or without it into heads of 2 * cos_cache's last dim (as ONNX Runtime does).
std::string setHeads(RotaryProblem& p, RotaryEmbeddingShapes const& s, RotaryEmbeddingAttrs const& a)
{
    int64_t const* x = s.input;
    if (s.rank == 4)
    {
        p.batch = static_cast<int32_t>(x[0]);
        p.heads = static_cast<int32_t>(x[1]);
        p.seqLen = static_cast<int32_t>(x[2]);
        p.headDim = static_cast<int32_t>(x[3]);
        return {};
    }
    if (s.rank != 3)
    {
        return "input must be 3-D [batch, seq, hidden] or 4-D [batch, heads, seq, head], got rank "
            + std::to_string(s.rank);
    }
    if (a.mrope && a.numHeads <= 0)
    {
        return "num_heads must be greater than 0 for a 3-D input";
    }
    int64_t const halfCache = s.cosRank > 0 ? s.cos[s.cosRank - 1] : 0;
    int64_t const heads = a.numHeads > 0 ? a.numHeads : (halfCache > 0 ? x[2] / (2 * halfCache) : 0);
    if (heads <= 0 || x[2] % heads != 0)
    {
        return "input hidden size " + std::to_string(x[2]) + " is not a multiple of num_heads "
            + std::to_string(heads) + " (num_heads 0: heads of 2 * cos_cache's last dim)";
    }
    p.batch = static_cast<int32_t>(x[0]);
    p.seqLen = static_cast<int32_t>(x[1]);
    p.heads = static_cast<int32_t>(heads);
    p.headDim = static_cast<int32_t>(x[2] / heads);
    return {};
}

//! Strides of the input (and the same-shaped output) as a [B, N, S, H] view.
void setViews(RotaryProblem& p, int32_t rank)
{
    int64_t const h = p.headDim;
    bool const bnsh = rank == 4;
    p.in.batchStride = int64_t{p.heads} * p.seqLen * h;
    p.in.headStride = bnsh ? int64_t{p.seqLen} * h : h;
    p.in.seqStride = bnsh ? h : int64_t{p.heads} * h;
    p.out.batchStride = p.in.batchStride;
    p.out.headStride = p.in.headStride;
    p.out.seqStride = p.in.seqStride;
}

//! M-RoPE positions: [3, B, S], stream k's [B, S] block k * B * S elements in.
std::string setStreams(RotaryProblem& p, RotaryEmbeddingShapes const& s)
{
    if (!(s.posRank == 3 && s.pos[0] == 3 && s.pos[1] == p.batch && s.pos[2] == p.seqLen))
    {
        return "position_ids must be [3, batch, seq] = [3, " + std::to_string(p.batch) + ", "
            + std::to_string(p.seqLen) + "]";
    }
    int32_t const* sec = p.mropeSection;
    if (sec[0] < 0 || sec[1] < 0 || sec[2] < 0 || sec[0] + sec[1] + sec[2] != p.rotaryDim / 2)
    {
        return "sum of mrope_section must equal rotary_embedding_dim / 2 (" + std::to_string(p.rotaryDim / 2) + ")";
    }
    p.posBatchStride = p.seqLen;
    p.posSeqStride = 1;
    p.posStreamStride = int64_t{p.batch} * p.seqLen;
    return {};
}

//! Position form and caches: [maxPos, rot / 2] indexed by position_ids [B, S] or offset [1];
//! without position_ids, per-token caches [B, S, rot / 2].
std::string setPositions(RotaryProblem& p, RotaryEmbeddingShapes const& s)
{
    int64_t const half = p.rotaryDim / 2;
    if (s.posRank == 0)
    {
        // [1, seq, rot / 2] serves every batch entry: torch.onnx exports transformers' Llama so.
        bool const shared = s.cosRank == 3 && s.cos[0] == 1;
        bool const perToken = s.cosRank == 3 && (s.cos[0] == p.batch || shared) && s.cos[1] == p.seqLen && s.cos[2] == half;
        p.cachePerToken = true;
        p.cacheSharedByBatch = shared;
        return perToken ? std::string{} : "without position_ids, cos_cache/sin_cache must be [batch or 1, seq, "
                "rotary_embedding_dim / 2] = [" + std::to_string(p.batch) + ", " + std::to_string(p.seqLen)
                + ", " + std::to_string(half) + "]";
    }
    if (s.cosRank != 2 || s.cos[1] != half)
    {
        return "cos_cache/sin_cache must be [max_position, rotary_embedding_dim / 2 = " + std::to_string(half) + "]";
    }
    p.maxPosition = s.cos[0];
    if (p.mrope)
    {
        return setStreams(p, s);
    }
    bool const offset = s.posRank == 1 && s.pos[0] == 1;
    if (!offset && !(s.posRank == 2 && s.pos[0] == p.batch && s.pos[1] == p.seqLen))
    {
        return "position_ids must be [batch, seq] = [" + std::to_string(p.batch) + ", " + std::to_string(p.seqLen)
            + "] or a single offset [1]";
    }
    p.positionOffset = offset;
    p.posBatchStride = offset ? 0 : p.seqLen;
    p.posSeqStride = offset ? 0 : 1;
    return {};
}

} // namespace

std::string setRotaryEmbeddingGeometry(
    RotaryProblem& p, RotaryEmbeddingShapes const& shapes, RotaryEmbeddingAttrs const& attrs)
{
    std::string problem = setHeads(p, shapes, attrs);
    if (!problem.empty())
    {
        return problem;
    }
    p.rotaryDim = attrs.rotaryDim > 0 ? attrs.rotaryDim : p.headDim;
    if (p.rotaryDim % 2 != 0 || p.rotaryDim > p.headDim || p.rotaryDim <= 0)
    {
        return "rotary_embedding_dim " + std::to_string(p.rotaryDim) + " must be even, > 0 and <= the head size "
            + std::to_string(p.headDim);
    }
    p.interleaved = attrs.interleaved;
    p.mrope = attrs.mrope;
    std::copy(attrs.mropeSection, attrs.mropeSection + 3, p.mropeSection);
    p.mropeInterleaved = attrs.mropeInterleaved;
    p.cacheScale = attrs.scale;
    setViews(p, shapes.rank);
    return setPositions(p, shapes);
}

cudaError_t launchRotaryEmbedding(RotaryProblem p, DType dtype, void const* input, void* output, void const* cos,
    void const* sin, int64_t const* positionIds, cudaStream_t stream) noexcept
{
    p.dtype = dtype;
    p.in.data = input;
    p.out.data = output;
    p.cosCache = cos;
    p.sinCache = sin;
    p.positionIds = positionIds;
    p.preferTokenGrid = true;
    return launchRotary(p, stream);
}

} // namespace trtplug

// com.microsoft Attention's shape rules: projection sizes, past and the mask_index form (host code).
#include "bert_attention/bert_attention.h"
#include "common/attention_layout.h"

#include <limits>

namespace trtplug
{
namespace
{

//! [Dq, Dk, Dv] from qkv_hidden_sizes (or equal thirds of the weights' columns), checked.
std::string projectionOf(BertShapes const& s, int64_t n, std::vector<int32_t> const& sizes, BertDims& d)
{
    if (s.input.rank != 3 || s.weights.rank != 2 || s.weights.d[0] != s.input.d[2])
    {
        return "input must be [B, S, D] and weights [D, Dq + Dk + Dv]";
    }
    int64_t const cols = s.weights.d[1];
    if (sizes.empty() && cols % 3 != 0)
    {
        return "weights' second axis must divide by 3 without qkv_hidden_sizes";
    }
    int64_t const q = sizes.empty() ? cols / 3 : sizes.size() == 3 ? sizes[0] : -1;
    int64_t const k = sizes.empty() ? q : sizes.size() == 3 ? sizes[1] : -1;
    int64_t const v = sizes.empty() ? q : sizes.size() == 3 ? sizes[2] : -1;
    if (q <= 0 || v <= 0 || q != k || q % n != 0 || v % n != 0 || q + k + v != cols)
    {
        return "qkv_hidden_sizes must be 3 positive multiples of num_heads (Q's = K's) summing to weights' columns";
    }
    if (s.bias.rank != 0 && !s.bias.is({cols}))
    {
        return "bias must be [Dq + Dk + Dv]";
    }
    d.qHidden = static_cast<int32_t>(q);
    d.vHidden = static_cast<int32_t>(v);
    d.width = static_cast<int32_t>(s.input.d[2]);
    return "";
}

std::string maskOf(TensorShape const& m, BertDims& d)
{
    int64_t const b = d.batch;
    int64_t const t = d.total();
    if (m.rank == 0)
    {
        d.mask = BertMask::kNone;
    }
    else if (m.is({b}))
    {
        d.mask = BertMask::kLengths;
    }
    else if (m.is({2 * b}))
    {
        d.mask = BertMask::kEndStart;
    }
    else if (m.is({b, t}))
    {
        d.mask = BertMask::kRaw2d;
    }
    else if (m.is({b, d.seq, t}))
    {
        d.mask = BertMask::kRaw3d;
    }
    else if (m.rank == 4 && m.d[0] == b && m.d[1] == 1 && m.d[2] == m.d[3] && m.d[2] >= t
        && m.d[2] <= std::numeric_limits<int32_t>::max())
    {
        d.mask = BertMask::kMegatron;
        d.maskSide = static_cast<int32_t>(m.d[2]);
    }
    else
    {
        return "mask_index must be [B], [2B], [B, T], [B, S, T] or [B, 1, M, M] with M >= T (T = past + S)";
    }
    return "";
}

//! The core's own limits (head sizes, batch and head counts), checked before any launch.
std::string coreLimits(BertDims const& d)
{
    AttentionProblem p;
    p.batch = d.batch;
    p.qHeads = d.heads;
    p.kvHeads = d.heads;
    p.qLen = d.seq;
    p.kvLen = d.total();
    p.headDim = d.headDim();
    p.vHeadDim = d.vHeadDim();
    char const* problem = attentionShapeError(p);
    return problem == nullptr ? "" : problem;
}

} // namespace

int32_t BertDims::maskRows() const noexcept
{
    switch (mask)
    {
    case BertMask::kLengths:
    case BertMask::kEndStart:
    case BertMask::kRaw2d: return 1;
    case BertMask::kRaw3d:
    case BertMask::kMegatron: return seq;
    case BertMask::kNone: break;
    }
    return 0;
}

std::string bertDims(
    BertShapes const& s, int32_t numHeads, std::vector<int32_t> const& qkvSizes, bool present, BertDims& d)
{
    d = BertDims{};
    if (numHeads <= 0)
    {
        return "num_heads must be positive";
    }
    std::string problem = projectionOf(s, numHeads, qkvSizes, d);
    if (!problem.empty())
    {
        return problem;
    }
    int64_t constexpr kMax = std::numeric_limits<int32_t>::max();
    int64_t const batch = s.input.d[0];
    int64_t const seq = s.input.d[1];
    int64_t const past = s.past.rank == 0 ? 0 : s.past.d[3];
    int64_t const head = d.qHidden / numHeads;
    if (s.past.rank != 0 && (!s.past.is({2, batch, numHeads, past, head}) || d.vHidden != d.qHidden))
    {
        return "past must be [2, B, num_heads, P, head] with equal Q, K and V hidden sizes";
    }
    if (present && d.vHidden != d.qHidden)
    {
        return "present needs equal Q, K and V hidden sizes";
    }
    if (batch > kMax || seq + past > kMax || batch * seq > kMax)
    {
        return "batch and sequence lengths must fit in int32";
    }
    d.heads = numHeads;
    d.batch = static_cast<int32_t>(batch);
    d.seq = static_cast<int32_t>(seq);
    d.pastLen = static_cast<int32_t>(past);
    problem = maskOf(s.maskIndex, d);
    TensorShape const& ab = s.attentionBias;
    if (problem.empty() && ab.rank != 0
        && (ab.rank != 4 || !scoreShapeBroadcasts(ab, batch, numHeads, seq) || ab.d[3] != d.total()))
    {
        problem = "attention_bias must be [B or 1, num_heads or 1, S, T]";
    }
    return problem.empty() ? coreLimits(d) : problem;
}

} // namespace trtplug

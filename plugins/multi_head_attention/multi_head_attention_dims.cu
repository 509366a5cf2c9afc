// MultiHeadAttention's shape rules: which layout the inputs use and what they mean (host code).
#include "common/attention_layout.h"
#include "multi_head_attention/multi_head_attention.h"

#include <limits>

namespace trtplug
{
namespace
{

//! Layout, lengths and head sizes from query, key and value.
std::string layoutOf(MhaShapes const& s, int64_t n, MhaDims& d, int64_t (&dims)[6])
{
    TensorShape const& q = s.query;
    TensorShape const& k = s.key;
    int64_t& batch = dims[0];
    int64_t& qLen = dims[1];
    int64_t& kvLen = dims[2];
    int64_t& head = dims[3];
    int64_t& vHead = dims[4];
    if (q.rank == 5)
    {
        d.layout = MhaLayout::kPackedQkv;
        batch = q.d[0], qLen = q.d[1], kvLen = q.d[1], head = q.d[4], vHead = q.d[4];
        bool const ok = q.d[2] == n && q.d[3] == 3 && k.rank == 0 && s.value.rank == 0;
        return ok ? "" : "packed QKV query must be [batch, seq, num_heads, 3, head] with no key or value";
    }
    if (q.rank != 3 || q.d[2] % n != 0)
    {
        return "query must be [batch, seq, num_heads * head] or packed QKV [batch, seq, num_heads, 3, head]";
    }
    batch = q.d[0], qLen = q.d[1], head = q.d[2] / n;
    if (k.rank == 5)
    {
        d.layout = MhaLayout::kPackedKv;
        kvLen = k.d[1], vHead = head;
        bool const ok = k.is({batch, kvLen, n, 2, head}) && s.value.rank == 0;
        return ok ? "" : "packed KV key must be [batch, kv_seq, num_heads, 2, head] with no value";
    }
    if (k.rank == 4)
    {
        d.layout = MhaLayout::kBnshCache;
        kvLen = k.d[2], vHead = s.value.rank == 4 ? s.value.d[3] : 0;
        bool const ok = k.is({batch, n, kvLen, head}) && s.value.is({batch, n, kvLen, vHead});
        return ok ? "" : "BNSH key/value must be [batch, num_heads, kv_seq, head]";
    }
    d.layout = MhaLayout::kSeparate;
    kvLen = k.rank == 3 ? k.d[1] : 0, vHead = s.value.rank == 3 ? s.value.d[2] / n : 0;
    bool const ok = k.is({batch, kvLen, n * head}) && s.value.rank == 3 && s.value.is({batch, kvLen, n * vHead});
    return ok ? "" : "key and value must be [batch, kv_seq, num_heads * head] (or packed/BNSH forms)";
}

std::string optionalInputs(MhaShapes const& s, MhaDims& d)
{
    int64_t const n = d.heads;
    int64_t const t = d.total();
    if (s.bias.rank != 0 && !s.bias.is({n * (2 * d.headDim + d.vHeadDim)}))
    {
        return "bias must be [num_heads * (2 * head + v_head)]";
    }
    if (s.pastKey.rank != 0 || s.pastValue.rank != 0)
    {
        bool const ok = d.layout != MhaLayout::kBnshCache && s.pastKey.is({d.batch, n, d.pastLen, d.headDim})
            && s.pastValue.is({d.batch, n, d.pastLen, d.vHeadDim});
        if (!ok)
        {
            return "past_key/past_value must be [batch, num_heads, past, head] (not with a BNSH key)";
        }
    }
    TensorShape const& m = s.keyPadding;
    d.padding = m.rank == 0 ? MhaKeyPadding::kNone
        : m.is({d.batch})  ? MhaKeyPadding::kLengths
        : m.is({d.batch, t}) ? MhaKeyPadding::kMask2d
        : m.is({d.batch, d.qLen, t}) ? MhaKeyPadding::kMask3d
                                    : MhaKeyPadding::kNone;
    if (m.rank != 0 && d.padding == MhaKeyPadding::kNone)
    {
        return "key_padding_mask must be [batch], [batch, total_seq] or [batch, seq, total_seq]";
    }
    TensorShape const& ab = s.attentionBias;
    if (ab.rank != 0 && !(ab.rank == 4 && scoreShapeBroadcasts(ab, d.batch, n, d.qLen) && ab.d[3] == t))
    {
        return "attention_bias must be [batch or 1, num_heads or 1, seq, total_seq]";
    }
    return "";
}

} // namespace

std::string mhaDims(MhaShapes const& s, int32_t numHeads, MhaDims& d)
{
    if (numHeads < 1)
    {
        return "num_heads must be >= 1";
    }
    int64_t dims[6]{};
    d = MhaDims{};
    d.heads = numHeads;
    std::string const problem = layoutOf(s, numHeads, d, dims);
    if (!problem.empty())
    {
        return problem;
    }
    dims[5] = s.pastKey.rank == 4 ? s.pastKey.d[2] : 0;
    for (int64_t x : dims)
    {
        if (x < 0 || x > std::numeric_limits<int32_t>::max() / 2)
        {
            return "a dimension exceeds INT32_MAX / 2";
        }
    }
    d.batch = static_cast<int32_t>(dims[0]);
    d.qLen = static_cast<int32_t>(dims[1]);
    d.newLen = static_cast<int32_t>(dims[2]);
    d.headDim = static_cast<int32_t>(dims[3]);
    d.vHeadDim = static_cast<int32_t>(dims[4]);
    d.pastLen = static_cast<int32_t>(dims[5]);
    return optionalInputs(s, d);
}

} // namespace trtplug

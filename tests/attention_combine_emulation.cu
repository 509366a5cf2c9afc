// Host emulation of the tensor-core decode's fused split-KV combine (plugins/common/attention_combine.cuh):
// a launch's blocks (split, kvHead, b) finish in a random order; each stores its split's partial
// (max, sum, accumulator: exact softmax states of its keys, rounded to float) at partialSlot and
// counts itself on groupCounter; the one lastOfGroup names merges the group's rows (groupRowPlace)
// as combineRow does: a warp's 32 lanes emulated, laneSplitStats, the xor-butterfly max, then
// weighLaneSplits and the butterfly sum in the kernel's order, the accumulators in split order.
// Checked against a float64 softmax attention over the valid keys, with: the splits' key ranges
// (splitChunk) tile-aligned, disjoint and covering the keys; every partial slot written once and
// inside the workspace; every output row written once; the counters back to zero (a second launch
// without the memset gives the same bits). Built and run by tests/test_attention_combine_emulation.py
// where nvcc exists (no GPU needed).
#include "common/attention_combine.cuh"
#include "common/attention_flash.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace trtplug;
using namespace trtplug::attention;

namespace
{

int failures = 0;
int cases = 0;

void fail(char const* what, AttentionProblem const& p, int32_t splits)
{
    if (++failures <= 20)
    {
        std::printf("FAIL %s: batch %d qHeads %d kvHeads %d qLen %d kvLen %d dim %d splits %d\n", what, p.batch,
            p.qHeads, p.kvHeads, p.qLen, p.kvLen, p.vHeadDim, splits);
    }
}

//! One decode problem's data: logits per (query row, key) and values per (b, kvHead, key, d).
struct Case
{
    AttentionProblem p;
    int32_t splits;
    std::vector<int32_t> valid;   //!< per batch
    std::vector<float> logits;    //!< [rows, kvLen]
    std::vector<float> values;    //!< [batch, kvHeads, kvLen, dim]

    int64_t rows() const { return static_cast<int64_t>(p.batch) * p.qHeads * p.qLen; }
    float value(int32_t b, int32_t kvHead, int32_t key, int32_t d) const
    {
        return values[((static_cast<int64_t>(b) * p.kvHeads + kvHead) * p.kvLen + key) * p.vHeadDim + d];
    }
};

//! The workspace as the core carves it: stats, accumulators, then the counters; each partial
//! slot's writes counted, so that a collision or a slot past the end is seen.
struct Workspace
{
    std::vector<float> stats, acc;
    std::vector<unsigned int> counters;
    std::vector<int> slotWrites;
    Partials part;

    Workspace(Case const& c)
        : stats(2 * c.rows() * c.splits, NAN)
        , acc(c.rows() * c.splits * c.p.vHeadDim, NAN)
        , counters(static_cast<size_t>(c.p.batch) * c.p.kvHeads, 0xFFFFFFFFU)
        , slotWrites(c.rows() * c.splits, 0)
    {
        part.stats = stats.data();
        part.acc = acc.data();
        part.splits = c.splits;
        part.counters = counters.data();
    }
};

//! Split `split`'s keys [lo, hi) of batch b (decodeMmaKeyRange without causal or window bounds).
void splitKeys(Case const& c, int32_t b, int32_t split, int32_t& lo, int32_t& hi)
{
    int32_t const chunk = splitChunk(c.p.kvLen, c.splits, kFlashKeys);
    lo = split * chunk;
    hi = std::min(c.valid[b], (split + 1) * chunk);
}

//! Block (split, kvHead, b)'s partials: the exact softmax state of its keys for each group row.
void storePartials(Case const& c, Workspace& w, int32_t b, int32_t kvHead, int32_t split)
{
    int32_t lo = 0, hi = 0;
    splitKeys(c, b, split, lo, hi);
    int32_t const dim = c.p.vHeadDim;
    for (int32_t r = 0; r < rowsPerKvHead(c.p); ++r)
    {
        int32_t h = 0, i = 0;
        groupRowPlace(c.p, kvHead, r, h, i);
        int64_t const row = queryRowIndex(c.p, b, h, i);
        int64_t const slot = partialSlot(row, c.splits, split);
        if (h / (c.p.qHeads / c.p.kvHeads) != kvHead || i < 0 || i >= c.p.qLen)
        {
            return fail("a group row outside its KV head's query rows", c.p, c.splits);
        }
        if (slot < 0 || slot >= static_cast<int64_t>(w.slotWrites.size()) || w.slotWrites[slot]++ != 0)
        {
            return fail("a partial slot outside the workspace or written twice", c.p, c.splits);
        }
        double m = -INFINITY, l = 0.0;
        std::vector<double> acc(dim, 0.0);
        for (int32_t j = lo; j < hi; ++j)
        {
            m = std::max<double>(m, c.logits[row * c.p.kvLen + j]);
        }
        for (int32_t j = lo; j < hi; ++j)
        {
            double const e = std::exp(c.logits[row * c.p.kvLen + j] - m);
            l += e;
            for (int32_t d = 0; d < dim; ++d)
            {
                acc[d] += e * c.value(b, kvHead, j, d);
            }
        }
        w.stats[2 * slot] = static_cast<float>(m);
        w.stats[2 * slot + 1] = static_cast<float>(l);
        for (int32_t d = 0; d < dim; ++d)
        {
            w.acc[slot * dim + d] = static_cast<float>(acc[d]);
        }
    }
}

//! combineRow with its warp's lanes emulated: the same helpers and the same order of additions.
void combineRowOnHost(Case const& c, Partials const& part, int64_t row, float* out)
{
    float ms[32][2], w[32][2], m[32], l[32];
    for (int lane = 0; lane < 32; ++lane)
    {
        laneSplitStats(part.stats + 2 * partialSlot(row, part.splits, 0), part.splits, lane, ms[lane], w[lane]);
        m[lane] = fmaxf(ms[lane][0], ms[lane][1]);
    }
    for (int o = 16; o > 0; o >>= 1)
    {
        float next[32];
        for (int lane = 0; lane < 32; ++lane)
        {
            next[lane] = fmaxf(m[lane], m[lane ^ o]);
        }
        std::copy(next, next + 32, m);
    }
    for (int lane = 0; lane < 32; ++lane)
    {
        l[lane] = weighLaneSplits(ms[lane], w[lane], m[lane]);
    }
    for (int o = 16; o > 0; o >>= 1) // warpSum's butterfly
    {
        float next[32];
        for (int lane = 0; lane < 32; ++lane)
        {
            next[lane] = l[lane] + l[lane ^ o];
        }
        std::copy(next, next + 32, l);
    }
    int32_t const splits = m[0] == -INFINITY ? 0 : part.splits;
    float const* partial = part.acc + partialSlot(row, part.splits, 0) * c.p.vHeadDim;
    for (int32_t d = 0; d < c.p.vHeadDim; ++d)
    {
        int const lane = d % 32;
        float acc = 0.F;
        for (int32_t s = 0; s < splits; ++s)
        {
            acc += w[s % 32][s / 32] * partial[s * c.p.vHeadDim + d];
        }
        bool const empty = !(l[lane] > 0.F); // rowScale without a sink: inv = exp(m - m) / l
        out[d] = empty ? 0.F : acc * (1.F / l[lane]);
    }
}

//! One launch: blocks in a random order, each storing, counting and (if last) merging its group.
void launch(Case const& c, Workspace& w, std::vector<float>& out, std::vector<int>& rowWrites, std::mt19937& rng)
{
    std::vector<int64_t> blocks(static_cast<size_t>(c.splits) * c.p.kvHeads * c.p.batch);
    for (size_t k = 0; k < blocks.size(); ++k)
    {
        blocks[k] = static_cast<int64_t>(k);
    }
    std::shuffle(blocks.begin(), blocks.end(), rng);
    std::fill(w.slotWrites.begin(), w.slotWrites.end(), 0);
    for (int64_t const k : blocks)
    {
        int32_t const split = static_cast<int32_t>(k % c.splits);
        int32_t const kvHead = static_cast<int32_t>(k / c.splits % c.p.kvHeads);
        int32_t const b = static_cast<int32_t>(k / c.splits / c.p.kvHeads);
        storePartials(c, w, b, kvHead, split);
        unsigned int* counter = groupCounter(c.p, w.part, b, kvHead);
        if (!lastOfGroup((*counter)++, c.splits))
        {
            continue;
        }
        *counter = 0U;
        for (int32_t r = 0; r < rowsPerKvHead(c.p); ++r)
        {
            int32_t h = 0, i = 0;
            groupRowPlace(c.p, kvHead, r, h, i);
            int64_t const row = queryRowIndex(c.p, b, h, i);
            if (h / (c.p.qHeads / c.p.kvHeads) != kvHead || i < 0 || i >= c.p.qLen)
            {
                return fail("a group row outside its KV head's query rows", c.p, c.splits);
            }
            ++rowWrites[row];
            combineRowOnHost(c, w.part, row, out.data() + row * c.p.vHeadDim);
        }
    }
}

//! The splits' key ranges: whole 64-key tiles, disjoint, covering [0, kvLen) in order.
void checkSplitPlan(Case const& c)
{
    int32_t const chunk = splitChunk(c.p.kvLen, c.splits, kFlashKeys);
    if (chunk <= 0 || chunk % kFlashKeys != 0 || static_cast<int64_t>(chunk) * c.splits < c.p.kvLen
        || chunk >= (c.p.kvLen + c.splits - 1) / c.splits + kFlashKeys)
    {
        fail("split chunks not whole tiles covering the keys", c.p, c.splits);
    }
}

//! Float64 softmax attention of every row over its batch's valid keys (zeros without any).
std::vector<double> reference(Case const& c)
{
    std::vector<double> want(c.rows() * c.p.vHeadDim, 0.0);
    int32_t const group = c.p.qHeads / c.p.kvHeads;
    for (int64_t row = 0; row < c.rows(); ++row)
    {
        int32_t const b = static_cast<int32_t>(row / (static_cast<int64_t>(c.p.qHeads) * c.p.qLen));
        int32_t const h = static_cast<int32_t>(row / c.p.qLen % c.p.qHeads);
        double m = -INFINITY, l = 0.0;
        for (int32_t j = 0; j < c.valid[b]; ++j)
        {
            m = std::max<double>(m, c.logits[row * c.p.kvLen + j]);
        }
        for (int32_t j = 0; j < c.valid[b]; ++j)
        {
            double const e = std::exp(c.logits[row * c.p.kvLen + j] - m);
            l += e;
            for (int32_t d = 0; d < c.p.vHeadDim; ++d)
            {
                want[row * c.p.vHeadDim + d] += e * c.value(b, h / group, j, d);
            }
        }
        for (int32_t d = 0; l > 0.0 && d < c.p.vHeadDim; ++d)
        {
            want[row * c.p.vHeadDim + d] /= l;
        }
    }
    return want;
}

void runCase(Case const& c, std::mt19937& rng)
{
    ++cases;
    checkSplitPlan(c);
    Workspace w(c);
    std::fill(w.counters.begin(), w.counters.end(), 0U); // the launcher's memset
    std::vector<float> out(c.rows() * c.p.vHeadDim, NAN);
    std::vector<int> rowWrites(c.rows(), 0);
    launch(c, w, out, rowWrites, rng);
    if (std::any_of(rowWrites.begin(), rowWrites.end(), [](int n) { return n != 1; }))
    {
        return fail("an output row not merged exactly once", c.p, c.splits);
    }
    if (std::any_of(w.counters.begin(), w.counters.end(), [](unsigned int n) { return n != 0U; }))
    {
        return fail("a counter not back to zero", c.p, c.splits);
    }
    std::vector<double> const want = reference(c);
    for (size_t k = 0; k < out.size(); ++k)
    {
        if (!(std::fabs(out[k] - want[k]) <= 2e-5 * (1.0 + std::fabs(want[k]))))
        {
            std::printf("  at %zu: %.8g want %.8g\n", k, out[k], want[k]);
            return fail("the merged output differs from the float64 attention", c.p, c.splits);
        }
    }
    std::vector<float> again(out.size(), NAN);
    std::fill(rowWrites.begin(), rowWrites.end(), 0);
    launch(c, w, again, rowWrites, rng); // no memset: the counters as the last blocks left them
    if (again != out)
    {
        fail("a second launch on the reset counters differs", c.p, c.splits);
    }
}

Case makeCase(std::mt19937& rng, int32_t batch, int32_t qHeads, int32_t kvHeads, int32_t qLen, int32_t kvLen,
    int32_t dim, int32_t splits, std::vector<int32_t> valid, float spread)
{
    Case c{};
    c.p.batch = batch;
    c.p.qHeads = qHeads;
    c.p.kvHeads = kvHeads;
    c.p.qLen = qLen;
    c.p.kvLen = kvLen;
    c.p.headDim = c.p.vHeadDim = dim;
    c.splits = splits;
    c.valid = std::move(valid);
    std::normal_distribution<float> normal(0.F, 1.F);
    c.logits.resize(c.rows() * kvLen);
    for (float& x : c.logits)
    {
        x = spread * normal(rng);
    }
    c.values.resize(static_cast<size_t>(batch) * kvHeads * kvLen * dim);
    for (float& x : c.values)
    {
        x = normal(rng);
    }
    return c;
}

} // namespace

int main()
{
    std::mt19937 rng(20261207);
    // The decode of the GPU tests: batch 2, GQA 32/8, head 128, one new token, every key valid.
    for (int32_t const splits : {2, 8, 12, 64})
    {
        for (int32_t const kvLen : {1, 63, 64, 65, 8192})
        {
            runCase(makeCase(rng, 2, 32, 8, 1, kvLen, 128, splits, {kvLen, kvLen}, 1.F), rng);
        }
    }
    // Random decode shapes (at most kDecodeMaxRows rows per KV head), ragged valid lengths (none,
    // one key, all), logits spread wide enough that the splits' maxima differ by far.
    std::uniform_int_distribution<int> pick(0, 1 << 30);
    int32_t const lengths[] = {1, 63, 64, 65, 200, 1000, 3000};
    int32_t const splitCounts[] = {2, 3, 8, 12, 33, 64};
    for (int n = 0; n < 300; ++n)
    {
        int32_t const kvHeads = 1 << (pick(rng) % 3);
        int32_t const qLen = 1 + pick(rng) % 2;
        int32_t const group = 1 << (pick(rng) % (qLen == 1 ? 4 : 3));
        int32_t const batch = 1 + pick(rng) % 3;
        int32_t const kvLen = lengths[pick(rng) % 7];
        std::vector<int32_t> valid(batch);
        for (int32_t& v : valid)
        {
            int const kind = pick(rng) % 4;
            v = kind == 0 ? 0 : kind == 1 ? kvLen : kind == 2 ? 1 : pick(rng) % (kvLen + 1);
        }
        runCase(makeCase(rng, batch, group * kvHeads, kvHeads, qLen, kvLen, 32 * (1 + pick(rng) % 4),
                    splitCounts[pick(rng) % 6], valid, pick(rng) % 2 == 0 ? 1.F : 8.F),
            rng);
    }
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures == 0 ? 0 : 1;
}

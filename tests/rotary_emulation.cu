// Host emulation of the rotary kernel (plugins/common/rotary.cuh): launchRotary's choices (16-byte
// groups or one element, 32- or 64-bit indices) and every work unit of the grid run on the CPU,
// compared with a direct loop written from rotary.h's definition, for fp32/fp16/bf16, BNSH/BSNH/
// packed views, in place or not, interleaved or half-split, partial and zero rotary dims, every
// position form and out-of-cache positions; M-RoPE (both layouts, uneven and empty sections,
// scale, any stream out of the cache; the row grid and the token grid, rotary_tokens.cuh) against a
// loop from the prototype's definition (pyplugins/rotary_embedding.py); then RotaryEmbedding's shape -> problem mapping.
// Built and run by tests/test_rotary_emulation.py where nvcc exists (no GPU needed).
#include "common/rotary.cu"
#include "rotary_embedding/rotary_embedding.cu"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace trtplug;

namespace
{

int failures = 0;
int cases = 0;
constexpr float kPoison = 12345.F;

//! Cache row of token (b, s) as rotary.h defines it, or -1 outside the cache.
int64_t referenceRow(RotaryProblem const& p, int64_t b, int64_t s)
{
    if (p.cachePerToken)
    {
        return (p.cacheSharedByBatch ? 0 : b * p.seqLen) + s;
    }
    int64_t pos = (p.posStart ? p.posStart[b] : 0) + s;
    if (p.positionIds != nullptr)
    {
        pos = p.positionOffset ? p.positionIds[0] + s : p.positionIds[b * p.posBatchStride + s * p.posSeqStride];
    }
    return pos >= 0 && pos < p.maxPosition ? pos : -1;
}

//! `out` (the output buffer's values, in its layout) with every row written, in float32.
template <typename T>
void reference(RotaryProblem const& p, std::vector<float>& out)
{
    auto const* x = static_cast<T const*>(p.in.data);
    auto const* cosCache = static_cast<T const*>(p.cosCache);
    auto const* sinCache = static_cast<T const*>(p.sinCache);
    int const half = p.rotaryDim / 2;
    for (int64_t b = 0; b < p.batch; ++b)
        for (int64_t n = 0; n < p.heads; ++n)
            for (int64_t s = 0; s < p.seqLen; ++s)
            {
                int64_t const xi = b * p.in.batchStride + n * p.in.headStride + s * p.in.seqStride;
                int64_t const yi = b * p.out.batchStride + n * p.out.headStride + s * p.out.seqStride;
                int64_t const row = referenceRow(p, b, s);
                std::vector<float> r(p.headDim);
                for (int d = 0; d < p.headDim; ++d)
                {
                    r[d] = toFloat(x[xi + d]);
                }
                for (int i = 0; i < half && row >= 0; ++i)
                {
                    int const i0 = p.interleaved ? 2 * i : i;
                    int const i1 = p.interleaved ? 2 * i + 1 : i + half;
                    float const c = toFloat(cosCache[row * half + i]);
                    float const sn = toFloat(sinCache[row * half + i]);
                    r[i0] = toFloat(x[xi + i0]) * c - toFloat(x[xi + i1]) * sn;
                    r[i1] = toFloat(x[xi + i1]) * c + toFloat(x[xi + i0]) * sn;
                }
                std::copy(r.begin(), r.end(), out.begin() + yi);
            }
}

//! Every unit i < g.work of a grid (the row grid or M-RoPE's token grid), in order.
template <class Grid, class Unit>
void runUnits(Grid const& g, Unit unit)
{
    for (typename Grid::Index i = 0; i < g.work; ++i)
    {
        unit(i);
    }
}

template <typename T, int kVec, bool kWide>
void emulate(RotaryProblem const& p)
{
    using namespace rotary_detail;
    RotaryGrid<kWide> const g = rotaryGrid<kVec, kWide>(p);
    runUnits(g, [&](auto i) { rotaryUnit<T, kVec, kWide>(p, g, i); });
}

//! Heads per chunk of the token grid: 0 runs the row grid (main runs the M-RoPE cases with each).
int gTokenChunkHeads = 0;
//! Whether the single-stream cases take the token grid too (TRTPLUG_ROTARY_TOKENS=all).
bool gTokenAll = false;

//! The M-RoPE token grid (rotary_tokens.cuh) in chunks of gTokenChunkHeads heads, unit by unit.
template <typename T, int kVec, bool kWide>
void emulateTokens(RotaryProblem const& p)
{
    using namespace rotary_detail;
    TokenGrid<kWide> const g = tokenGrid<kVec, kWide>(p, std::min<int32_t>(gTokenChunkHeads, p.heads));
    runUnits(g, [&](auto i) { tokenUnit<T, kVec, kWide>(p, g, i); });
}

//! What launchRotary launches, run unit by unit; `wide` forces the 64-bit index path.
template <typename T>
void emulateLaunch(RotaryProblem const& p, bool wide)
{
    using namespace rotary_detail;
    constexpr int kVec = 16 / sizeof(T);
    if (rowCount(p) == 0 || unitsPerRow(p, 1) == 0)
    {
        return;
    }
    bool const groups = allowsGroups(p, kVec);
    if (groups && gTokenChunkHeads > 0 && (p.mrope || p.preferTokenGrid || gTokenAll) && p.heads > 1) // tokenGridApplies
    {
        wide ? emulateTokens<T, kVec, true>(p) : emulateTokens<T, kVec, false>(p);
    }
    else if (groups)
    {
        wide ? emulate<T, kVec, true>(p) : emulate<T, kVec, false>(p);
    }
    else
    {
        wide ? emulate<T, 1, true>(p) : emulate<T, 1, false>(p);
    }
}

//! How one case places its buffers: `misalign` elements past an aligned start (1: the
//! one-element path), output aliasing the input or not, 64-bit indices or not.
struct Placement
{
    int misalign{0};
    bool inPlace{false};
    bool wide{false};
};

//! Runs p (geometry and positions set; size elements in each view's buffer) on random data.
template <typename T>
void runCase(char const* name, RotaryProblem p, int64_t size, int64_t maxPos, Placement where)
{
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    auto const random = [&](int64_t n) {
        std::vector<T> v(n + 8);
        for (auto& e : v)
        {
            e = fromFloat<T>(normal(rng));
        }
        return v;
    };
    std::vector<T> inBuf = random(size);
    std::vector<T> outBuf(size + 8, fromFloat<T>(kPoison));
    int64_t const cacheRows = p.cachePerToken ? int64_t{p.cacheSharedByBatch ? 1 : p.batch} * p.seqLen : maxPos;
    std::vector<T> cosBuf = random(cacheRows * (p.rotaryDim / 2));
    std::vector<T> sinBuf = random(cacheRows * (p.rotaryDim / 2));
    T* in = inBuf.data() + where.misalign;
    T* out = where.inPlace ? in : outBuf.data() + where.misalign;
    p.in.data = in;
    p.out.data = out;
    p.cosCache = cosBuf.data() + where.misalign;
    p.sinCache = sinBuf.data() + where.misalign;
    p.maxPosition = maxPos;
    std::vector<float> expected(size);
    for (int64_t i = 0; i < size; ++i)
    {
        expected[i] = where.inPlace ? toFloat(in[i]) : kPoison;
    }
    reference<T>(p, expected);
    if (char const* err = rotaryProblemError(p))
    {
        std::printf("FAIL %s: %s\n", name, err);
        ++failures;
        return;
    }
    emulateLaunch<T>(p, where.wide);
    double worst = 0;
    for (int64_t i = 0; i < size; ++i)
    {
        double const e = std::fabs(toFloat(out[i]) - expected[i]) / (1 + std::fabs(expected[i]));
        worst = e <= worst ? worst : e; // NaN counts as worst
    }
    double const tol = sizeof(T) == 4 ? 1e-6 : 1e-2; // 16-bit outputs: one rounding
    if (!(worst <= tol))
    {
        std::printf("FAIL %s (%zu-byte elements): worst relative error %.2e\n", name, sizeof(T), worst);
        ++failures;
    }
    ++cases;
}

//! A [B, N, S, H] view: layout 0 BNSH, 1 BSNH, 2 the query part of packed QKV [B, S, (N + 4) H].
RotaryProblem viewOf(int layout, DType dtype, int rotaryDim, bool interleaved, int64_t& size)
{
    RotaryProblem p;
    p.dtype = dtype;
    p.batch = 2;
    p.heads = 3;
    p.seqLen = 5;
    p.headDim = 64;
    p.rotaryDim = rotaryDim;
    p.interleaved = interleaved;
    int64_t const h = p.headDim;
    int64_t const width = (layout == 2 ? p.heads + 4 : p.heads) * h;
    p.in.batchStride = p.seqLen * width;
    p.in.headStride = layout == 0 ? p.seqLen * h : h;
    p.in.seqStride = layout == 0 ? h : width;
    p.out.batchStride = p.in.batchStride;
    p.out.headStride = p.in.headStride;
    p.out.seqStride = p.in.seqStride;
    size = p.batch * p.seqLen * width;
    return p;
}

//! One case per layout, pairing, rotary dim, placement and position form (ids with one out of
//! range, per-batch starts, a single offset, per-token caches).
template <typename T, DType kType>
void suite()
{
    std::vector<int64_t> ids(10);
    for (int i = 0; i < 10; ++i)
    {
        ids[i] = i == 3 ? -8 : (i * 7) % 12;
    }
    std::vector<int32_t> starts = {3, 0};
    std::vector<int64_t> offset = {4};
    for (int layout = 0; layout < 3; ++layout)
        for (int interleaved = 0; interleaved < 2; ++interleaved)
            for (int rotaryDim : {64, 32, 8, 0})
                for (int variant = 0; variant < 8; ++variant)
                    for (int form = 0; form < 5; ++form)
                    {
                        Placement const where{variant & 1, (variant & 2) != 0, (variant & 4) != 0};
                        int64_t size = 0;
                        RotaryProblem p = viewOf(layout, kType, rotaryDim, interleaved != 0, size);
                        char name[160];
                        std::snprintf(name, sizeof name, "layout %d interleaved %d rot %d variant %d form %d", layout,
                            interleaved, rotaryDim, variant, form);
                        p.positionIds = form == 0 ? ids.data() : form == 2 ? offset.data() : nullptr;
                        p.posBatchStride = p.seqLen;
                        p.posStart = form == 1 ? starts.data() : nullptr;
                        p.positionOffset = form == 2;
                        p.cachePerToken = form >= 3;
                        p.cacheSharedByBatch = form == 4; // [1, S, rot / 2] caches (torch.onnx's Llama)
                        runCase<T>(name, p, size, form == 1 ? 7 : 12, where);
                    }
}

//! M-RoPE's stream of cache column c, written from the prototype (pyplugins/rotary_embedding.py
//! mrope_streams): chunks T * s0, H * s1, W * s2; interleaved: k = c % 3, stream k when k > 0 and
//! c < 3 * s[k], else T.
int referenceStream(int const (&sec)[3], bool interleaved, int c)
{
    if (!interleaved)
    {
        return c < sec[0] ? 0 : c < sec[0] + sec[1] ? 1 : 2;
    }
    int const k = c % 3;
    return k != 0 && c < 3 * sec[k] ? k : 0;
}

//! MRotaryEmbedding as the prototype defines it (mrope_caches, then the per-token rotation): x
//! [B, N, S, H] (rank 4) or [B, S, N * H] (rank 3), positions [3, B, S], caches [maxPos, half];
//! a token with any stream outside [0, maxPos) keeps cos 1, sin 0. Float32 of the row-major output.
template <typename T>
std::vector<float> mropeReference(std::vector<T> const& x, int rank, int B, int N, int S, int H, int rot,
    bool interleaved, int const (&sec)[3], bool layout1, float scale, std::vector<int64_t> const& pos,
    std::vector<T> const& cosC, std::vector<T> const& sinC, int64_t maxPos)
{
    int const half = rot / 2;
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size(); ++i)
    {
        y[i] = toFloat(x[i]);
    }
    for (int b = 0; b < B; ++b)
        for (int s = 0; s < S; ++s)
        {
            bool valid = true;
            for (int k = 0; k < 3; ++k)
            {
                int64_t const v = pos[(k * B + b) * S + s];
                valid = valid && v >= 0 && v < maxPos;
            }
            for (int n = 0; n < N; ++n)
            {
                int64_t const base = rank == 4 ? ((int64_t{b} * N + n) * S + s) * H : ((int64_t{b} * S + s) * N + n) * H;
                for (int i = 0; i < half; ++i)
                {
                    float c = 1.F;
                    float sn = 0.F;
                    if (valid)
                    {
                        int64_t const row = pos[(referenceStream(sec, layout1, i) * B + b) * S + s];
                        c = toFloat(cosC[row * half + i]) * scale;
                        sn = toFloat(sinC[row * half + i]) * scale;
                    }
                    int const i0 = interleaved ? 2 * i : i;
                    int const i1 = interleaved ? 2 * i + 1 : i + half;
                    float const a = toFloat(x[base + i0]);
                    float const bb = toFloat(x[base + i1]);
                    y[base + i0] = a * c - bb * sn;
                    y[base + i1] = bb * c + a * sn;
                }
            }
        }
    return y;
}

//! One MRotaryEmbedding case through the real shape -> problem mapping (setRotaryEmbeddingGeometry
//! with rotaryAttrs-like attributes) and launchRotary's unit grid. `bad`: -1 every position in the
//! cache, else stream `bad` of token (1, 2) outside it (maxPos, or -1 when `negative`).
template <typename T, DType kType>
void mropeCase(int rank, int H, int rot, bool interleaved, int const (&sec)[3], bool layout1, float scale,
    int bad, bool negative, Placement where)
{
    int const B = 2, N = 3, S = 5;
    int64_t const maxPos = 11;
    int const half = rot / 2;
    std::mt19937 rng(7 + bad);
    std::normal_distribution<float> normal;
    std::uniform_int_distribution<int64_t> position(0, maxPos - 1);
    int64_t const size = int64_t{B} * N * S * H;
    std::vector<T> inBuf(size + 8);
    for (auto& e : inBuf)
    {
        e = fromFloat<T>(normal(rng));
    }
    std::vector<T> cosBuf(maxPos * half + 8);
    std::vector<T> sinBuf(maxPos * half + 8);
    for (size_t i = 0; i < cosBuf.size(); ++i)
    {
        cosBuf[i] = fromFloat<T>(normal(rng));
        sinBuf[i] = fromFloat<T>(normal(rng));
    }
    std::vector<int64_t> pos(3 * B * S);
    for (auto& v : pos)
    {
        v = position(rng);
    }
    if (bad >= 0)
    {
        pos[(bad * B + 1) * S + 2] = negative ? -1 : maxPos;
    }
    std::vector<T> const x(inBuf.begin() + where.misalign, inBuf.begin() + where.misalign + size);
    std::vector<T> const cosC(cosBuf.begin() + where.misalign, cosBuf.begin() + where.misalign + maxPos * half);
    std::vector<T> const sinC(sinBuf.begin() + where.misalign, sinBuf.begin() + where.misalign + maxPos * half);
    std::vector<float> const expected
        = mropeReference<T>(x, rank, B, N, S, H, rot, interleaved, sec, layout1, scale, pos, cosC, sinC, maxPos);

    int64_t const x4[] = {B, N, S, H};
    int64_t const x3[] = {B, S, int64_t{N} * H};
    int64_t const cosShape[] = {maxPos, half};
    int64_t const posShape[] = {3, B, S};
    RotaryEmbeddingAttrs a{rank == 3 ? N : 0, rot, interleaved};
    a.mrope = true;
    std::copy(sec, sec + 3, a.mropeSection);
    a.mropeInterleaved = layout1;
    a.scale = scale;
    RotaryProblem p;
    char name[200];
    std::snprintf(name, sizeof name,
        "mrope rank %d H %d rot %d interleaved %d sec [%d %d %d] layout %d scale %g bad %d%s variant %d%d%d", rank, H,
        rot, interleaved, sec[0], sec[1], sec[2], layout1, scale, bad, negative ? "-" : "+", where.misalign,
        where.inPlace, where.wide);
    std::string const e = setRotaryEmbeddingGeometry(p, {rank, rank == 4 ? x4 : x3, 2, cosShape, 3, posShape}, a);
    if (!e.empty())
    {
        std::printf("FAIL %s: %s\n", name, e.c_str());
        ++failures;
        return;
    }
    std::vector<T> outBuf(size + 8, fromFloat<T>(kPoison));
    T* in = inBuf.data() + where.misalign;
    p.dtype = kType;
    p.in.data = in;
    p.out.data = where.inPlace ? in : outBuf.data() + where.misalign;
    p.cosCache = cosBuf.data() + where.misalign;
    p.sinCache = sinBuf.data() + where.misalign;
    p.positionIds = pos.data();
    if (char const* err = rotaryProblemError(p))
    {
        std::printf("FAIL %s: %s\n", name, err);
        ++failures;
        return;
    }
    emulateLaunch<T>(p, where.wide);
    T const* out = static_cast<T const*>(p.out.data);
    double worst = 0;
    for (int64_t i = 0; i < size; ++i)
    {
        double const err = std::fabs(toFloat(out[i]) - expected[i]) / (1 + std::fabs(expected[i]));
        worst = err <= worst ? worst : err;
    }
    double const tol = sizeof(T) == 4 ? 1e-6 : 1e-2;
    if (!(worst <= tol))
    {
        std::printf("FAIL %s (%zu-byte elements): worst relative error %.2e\n", name, sizeof(T), worst);
        ++failures;
    }
    ++cases;
}

//! M-RoPE over both layouts, even, uneven and empty sections, full and partial rotary dims (one
//! not a multiple of the 16-byte group), interleaved and half-split pairs, 3-D and 4-D inputs,
//! scale 1 and not, every position stream out of the cache (past the end or negative), and the
//! placements (misaligned, in place, 64-bit indices).
template <typename T, DType kType>
void mropeSuite()
{
    struct Dims
    {
        int H;
        int rot;
        int sec[4][3];
    };
    Dims const dims[] = {
        {64, 64, {{16, 8, 8}, {11, 11, 10}, {0, 16, 16}, {32, 0, 0}}}, // half 32
        {64, 24, {{4, 4, 4}, {5, 2, 5}, {0, 0, 12}, {6, 6, 0}}},       // half 12, partial
        {48, 40, {{10, 5, 5}, {7, 7, 6}, {0, 20, 0}, {2, 9, 9}}},      // half 20: not a multiple of 8
    };
    for (int rank : {4, 3})
        for (auto const& d : dims)
            for (auto const& sec : d.sec)
                for (int layout1 = 0; layout1 < 2; ++layout1)
                    for (int interleaved = 0; interleaved < 2; ++interleaved)
                        for (float scale : {1.F, 0.5F})
                            for (int bad = -1; bad < 3; ++bad)
                                for (int variant = 0; variant < 8; variant += (bad < 0 ? 1 : 3))
                                {
                                    Placement const where{variant & 1, (variant & 2) != 0, (variant & 4) != 0};
                                    mropeCase<T, kType>(rank, d.H, d.rot, interleaved != 0, sec, layout1 != 0,
                                        scale, bad, (variant & 1) != 0, where);
                                }
}

void expect(bool ok, char const* what, std::string const& detail)
{
    std::printf("%s %s %s\n", ok ? "ok  " : "FAIL", what, detail.c_str());
    failures += ok ? 0 : 1;
}

//! The token grid's head chunks: target / one chunk's units chunks, rounded down (Qwen3-VL's 32
//! heads of 128 at 512, 2048 and 8192 tokens, batch 4, 512 units a multiprocessor on 132).
void tokenChunks()
{
    RotaryProblem p;
    p.mrope = true;
    p.batch = 4;
    p.heads = 32;
    p.headDim = 128;
    p.rotaryDim = 128;
    int64_t const target = int64_t{512} * 132; // 67,584 units
    p.seqLen = 512;                            // 16k units a chunk (8 per row): 4 chunks
    int32_t const small = rotary_detail::tokenChunkHeads(p, 8, target);
    p.seqLen = 2048; // 65k units a chunk: one
    int32_t const medium = rotary_detail::tokenChunkHeads(p, 8, target);
    p.seqLen = 8; // 256 units a chunk: one head a chunk
    int32_t const tiny = rotary_detail::tokenChunkHeads(p, 8, target);
    expect(small == 8 && medium == 32 && tiny == 1, "token chunk heads",
        std::to_string(small) + " " + std::to_string(medium) + " " + std::to_string(tiny));
}

//! RotaryEmbedding's shapes -> problem: 3-D with num_heads, 4-D per-token caches, the offset
//! form with heads from the cache width, and a cache that does not fit.
void geometry()
{
    int64_t const x3[] = {2, 5, 24};
    int64_t const cos16[] = {16, 4};
    int64_t const ids[] = {2, 5};
    RotaryProblem p;
    std::string e = setRotaryEmbeddingGeometry(p, {3, x3, 2, cos16, 2, ids}, {3, 0, false});
    expect(e.empty() && p.batch == 2 && p.heads == 3 && p.seqLen == 5 && p.headDim == 8 && p.rotaryDim == 8
            && p.in.seqStride == 24 && p.in.headStride == 8 && p.maxPosition == 16 && p.posBatchStride == 5,
        "geometry 3-D", e);
    int64_t const x4[] = {2, 3, 7, 16};
    int64_t const perToken[] = {2, 7, 8};
    RotaryProblem q;
    e = setRotaryEmbeddingGeometry(q, {4, x4, 3, perToken, 0, nullptr}, {0, 0, true});
    expect(e.empty() && q.heads == 3 && q.headDim == 16 && q.cachePerToken && q.in.headStride == 112
            && q.in.seqStride == 16,
        "geometry 4-D per-token caches", e);
    int64_t const shared[] = {1, 7, 8};
    RotaryProblem u;
    e = setRotaryEmbeddingGeometry(u, {4, x4, 3, shared, 0, nullptr}, {0, 0, true});
    expect(e.empty() && u.cachePerToken && u.cacheSharedByBatch, "geometry per-token caches shared by the batch", e);
    int64_t const otherBatch[] = {3, 7, 8};
    RotaryProblem v;
    e = setRotaryEmbeddingGeometry(v, {4, x4, 3, otherBatch, 0, nullptr}, {0, 0, true});
    expect(!e.empty(), "geometry refuses per-token caches of another batch:", e);
    int64_t const x16[] = {2, 5, 16};
    int64_t const cos8[] = {8, 4};
    int64_t const one[] = {1};
    RotaryProblem r;
    e = setRotaryEmbeddingGeometry(r, {3, x16, 2, cos8, 1, one}, {0, 0, false});
    expect(e.empty() && r.heads == 2 && r.headDim == 8 && r.positionOffset, "geometry offset form", e);
    int64_t const cosOdd[] = {8, 3};
    RotaryProblem t;
    e = setRotaryEmbeddingGeometry(t, {3, x16, 2, cosOdd, 2, ids}, {2, 0, false});
    expect(!e.empty(), "geometry refuses a cache of the wrong width:", e);
}

} // namespace

int main()
{
    suite<float, DType::kFLOAT32>();
    suite<__half, DType::kFLOAT16>();
    suite<__nv_bfloat16, DType::kBFLOAT16>();
    gTokenAll = true; // the single-stream cases on the token grid, in chunks of 1 and 2 heads
    for (int chunkHeads : {1, 2})
    {
        gTokenChunkHeads = chunkHeads;
        suite<float, DType::kFLOAT32>();
        suite<__half, DType::kFLOAT16>();
        suite<__nv_bfloat16, DType::kBFLOAT16>();
    }
    gTokenAll = false;
    int const before = cases;
    for (int chunkHeads : {0, 1, 2, 3}) // the row grid, then the token grid in chunks of 1-3 of 3 heads
    {
        gTokenChunkHeads = chunkHeads;
        mropeSuite<float, DType::kFLOAT32>();
        mropeSuite<__half, DType::kFLOAT16>();
        mropeSuite<__nv_bfloat16, DType::kBFLOAT16>();
    }
    gTokenChunkHeads = 0;
    std::printf("mrope cases: %d\n", cases - before);
    geometry();
    tokenChunks();
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures != 0;
}

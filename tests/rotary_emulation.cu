// Host emulation of the rotary kernel (plugins/common/rotary.cuh): launchRotary's choices (16-byte
// groups or one element, 32- or 64-bit indices) and every work unit of the grid run on the CPU,
// compared with a direct loop written from rotary.h's definition, for fp32/fp16/bf16, BNSH/BSNH/
// packed views, in place or not, interleaved or half-split, partial and zero rotary dims, every
// position form and out-of-cache positions; then RotaryEmbedding's shape -> problem mapping.
// Built and run by tests/test_rotary_emulation.py where nvcc exists (no GPU needed).
#include "common/rotary.cu"
#include "rotary_embedding/rotary_embedding.cu"
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <random>
using namespace trtplug;

static int failures = 0;
static int cases = 0;

template <typename T> float tf(T v) { return toFloat(v); }

// Reference: fp32 math, one element at a time, from the header's definition.
template <typename T>
void reference(RotaryProblem const& p, std::vector<float>& out /* same layout as out view, pre-filled with out contents */)
{
    T const* x = static_cast<T const*>(p.in.data);
    T const* cosC = static_cast<T const*>(p.cosCache);
    T const* sinC = static_cast<T const*>(p.sinCache);
    int half = p.rotaryDim / 2;
    for (int b = 0; b < p.batch; ++b)
    for (int n = 0; n < p.heads; ++n)
    for (int s = 0; s < p.seqLen; ++s)
    {
        int64_t xi = b * p.in.batchStride + n * p.in.headStride + s * p.in.seqStride;
        int64_t yi = b * p.out.batchStride + n * p.out.headStride + s * p.out.seqStride;
        int64_t row;
        if (p.cachePerToken) row = int64_t(b) * p.seqLen + s;
        else {
            int64_t pos = p.positionIds ? (p.positionOffset ? p.positionIds[0] + s : p.positionIds[b * p.posBatchStride + s * p.posSeqStride])
                                        : (p.posStart ? p.posStart[b] : 0) + s;
            row = (pos >= 0 && pos < p.maxPosition) ? pos : -1;
        }
        std::vector<float> r(p.headDim);
        for (int d = 0; d < p.headDim; ++d) r[d] = tf(x[xi + d]);
        for (int i = 0; i < half && row >= 0; ++i) {
            int i0 = p.interleaved ? 2 * i : i, i1 = p.interleaved ? 2 * i + 1 : i + half;
            float c = tf(cosC[row * half + i]), sn = tf(sinC[row * half + i]);
            float a = tf(x[xi + i0]), bb = tf(x[xi + i1]);
            r[i0] = a * c - bb * sn; r[i1] = bb * c + a * sn;
        }
        for (int d = 0; d < p.headDim; ++d) out[yi + d] = r[d];
    }
}

template <typename T, int kVec, bool kWide>
void emulate(RotaryProblem const& p)
{
    using namespace rotary_detail;
    RotaryGrid<kWide> const g = rotaryGrid<kVec, kWide>(p);
    for (typename RotaryGrid<kWide>::Index i = 0; i < g.work; ++i)
    {
        rotaryUnit<T, kVec, kWide>(p, g, i);
    }
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
    if (groups && wide) emulate<T, kVec, true>(p);
    else if (groups) emulate<T, kVec, false>(p);
    else if (wide) emulate<T, 1, true>(p);
    else emulate<T, 1, false>(p);
}

template <typename T>
void runCase(char const* name, RotaryProblem p, int64_t inSize, int64_t outSize, int64_t maxPos, bool inPlace, int misalign, std::vector<int64_t> const* pos = nullptr, bool wide = false)
{
    std::mt19937 rng(1);
    std::normal_distribution<float> nd;
    std::vector<T> inBuf(inSize + 8), outBuf(outSize + 8);
    for (auto& v : inBuf) v = fromFloat<T>(nd(rng));
    for (auto& v : outBuf) v = fromFloat<T>(12345.f);
    int64_t cacheRows = p.cachePerToken ? int64_t(p.batch) * p.seqLen : maxPos;
    int half = p.rotaryDim / 2;
    std::vector<T> cosB(cacheRows * half + 8), sinB(cacheRows * half + 8);
    for (auto& v : cosB) v = fromFloat<T>(nd(rng));
    for (auto& v : sinB) v = fromFloat<T>(nd(rng));
    T* in = inBuf.data() + misalign;
    T* out = inPlace ? in : outBuf.data() + misalign;
    p.in.data = in; p.out.data = out; p.cosCache = cosB.data() + misalign; p.sinCache = sinB.data() + misalign;
    p.maxPosition = maxPos;
    if (pos) p.positionIds = pos->data();
    std::vector<float> expected(inPlace ? inSize : outSize);
    for (int64_t i = 0; i < (int64_t)expected.size(); ++i) expected[i] = inPlace ? tf(in[i]) : 12345.f;
    reference<T>(p, expected);
    char const* err = rotaryProblemError(p);
    if (err) { std::printf("FAIL %s: %s\n", name, err); ++failures; return; }
    emulateLaunch<T>(p, wide);
    double worst = 0;
    for (int64_t i = 0; i < (int64_t)expected.size(); ++i) {
        double e = std::fabs(tf(out[i]) - expected[i]) / (1 + std::fabs(expected[i]));
        if (!(e <= worst)) worst = e;
    }
    double tol = sizeof(T) == 4 ? 1e-6 : 1e-2;
    bool ok = worst <= tol;
    if (!ok) ++failures;
    if (!ok)
    {
        std::printf("FAIL %s %s worst %.2e\n", name, sizeof(T) == 4 ? "f32" : "16b", worst);
    }
    ++cases;
}

// [B, N, S, H] views: BNSH, BSNH and packed QKV (q part of [B, S, (N + 2 Nkv) * H]).
RotaryProblem problem(int B, int N, int S, int H, int rot, bool inter, int layout, int64_t& size)
{
    RotaryProblem p; p.batch = B; p.heads = N; p.seqLen = S; p.headDim = H; p.rotaryDim = rot; p.interleaved = inter;
    if (layout == 0) { p.in.batchStride = int64_t(N) * S * H; p.in.headStride = int64_t(S) * H; p.in.seqStride = H; size = int64_t(B) * N * S * H; }
    else if (layout == 1) { p.in.batchStride = int64_t(N) * S * H; p.in.headStride = H; p.in.seqStride = int64_t(N) * H; size = int64_t(B) * N * S * H; }
    else { int64_t w = int64_t(N + 2 * 2) * H; p.in.batchStride = S * w; p.in.headStride = H; p.in.seqStride = w; size = B * S * w; }
    p.out.batchStride = p.in.batchStride; p.out.headStride = p.in.headStride; p.out.seqStride = p.in.seqStride;
    p.dtype = DType::kFLOAT32;
    return p;
}

template <typename T, DType D>
void suite()
{
    for (int layout = 0; layout < 3; ++layout)
    for (int inter = 0; inter < 2; ++inter)
    for (int rot : {64, 32, 8, 0})
    for (int mis : {0, 1})
    for (int inPlace : {0, 1})
    for (int form = 0; form < 4; ++form)
    for (bool wide : {false, true})
    {
        int64_t size; int B = 2, N = 3, S = 5, H = 64;
        RotaryProblem p = problem(B, N, S, H, rot, inter, layout, size);
        p.dtype = D;
        std::vector<int64_t> pos(B * S);
        std::vector<int32_t> starts = {3, 0};
        std::vector<int64_t> offset = {4};
        for (int i = 0; i < B * S; ++i) pos[i] = (i * 7) % 12 - (i == 3 ? 20 : 0); // one out of range
        char name[160];
        std::snprintf(name, sizeof name, "layout%d inter%d rot%d mis%d inplace%d form%d wide%d", layout, inter, rot, mis, inPlace, form, int(wide));
        if (form == 0) { p.posBatchStride = S; p.posSeqStride = 1; runCase<T>(name, p, size, size, 12, inPlace, mis, &pos, wide); }
        else if (form == 1) { p.posStart = starts.data(); runCase<T>(name, p, size, size, 7, inPlace, mis, nullptr, wide); }
        else if (form == 2) { p.positionOffset = true; runCase<T>(name, p, size, size, 12, inPlace, mis, &offset, wide); }
        else { p.cachePerToken = true; runCase<T>(name, p, size, size, 0, inPlace, mis, nullptr, wide); }
    }
}

void geometry()
{
    RotaryProblem p;
    int64_t x[] = {2, 5, 24}, cos[] = {16, 4}, pos[] = {2, 5};
    RotaryEmbeddingShapes s{3, x, 2, cos, 2, pos};
    std::string e = setRotaryEmbeddingGeometry(p, s, {3, 0, false});
    bool ok = e.empty() && p.batch == 2 && p.heads == 3 && p.seqLen == 5 && p.headDim == 8 && p.rotaryDim == 8
        && p.in.seqStride == 24 && p.in.headStride == 8 && p.in.batchStride == 120 && p.maxPosition == 16 && p.posBatchStride == 5;
    std::printf("%s geometry bsh %s\n", ok ? "ok  " : "FAIL", e.c_str()); failures += !ok;
    RotaryProblem q;
    int64_t x4[] = {2, 3, 7, 16}, cpt[] = {2, 7, 8};
    RotaryEmbeddingShapes s4{4, x4, 3, cpt, 0, nullptr};
    e = setRotaryEmbeddingGeometry(q, s4, {0, 0, true});
    ok = e.empty() && q.heads == 3 && q.seqLen == 7 && q.headDim == 16 && q.cachePerToken && q.in.headStride == 112 && q.in.seqStride == 16;
    std::printf("%s geometry bnsh per token %s\n", ok ? "ok  " : "FAIL", e.c_str()); failures += !ok;
    RotaryProblem r;
    int64_t x3[] = {2, 5, 16}, c3[] = {8, 4}, off[] = {1};
    RotaryEmbeddingShapes s3{3, x3, 2, c3, 1, off};
    e = setRotaryEmbeddingGeometry(r, s3, {0, 0, false});
    ok = e.empty() && r.heads == 2 && r.headDim == 8 && r.positionOffset;
    std::printf("%s geometry offset, heads from cache %s\n", ok ? "ok  " : "FAIL", e.c_str()); failures += !ok;
    RotaryProblem t;
    int64_t c5[] = {8, 3};
    RotaryEmbeddingShapes s5{3, x3, 2, c5, 2, pos};
    e = setRotaryEmbeddingGeometry(t, s5, {2, 0, false});
    ok = !e.empty();
    std::printf("%s geometry refuses %s\n", ok ? "ok  " : "FAIL", e.c_str()); failures += !ok;
}

int main()
{
    suite<float, DType::kFLOAT32>();
    suite<__half, DType::kFLOAT16>();
    suite<__nv_bfloat16, DType::kBFLOAT16>();
    geometry();
    std::printf("cases: %d failures: %d\n", cases, failures);
    return failures != 0;
}

// LinearAttention: the token-by-token recurrence with each block holding a [dk, cols] slice of one
// (batch, kv head) state in registers, from past_state to present_state. Exact for decode (T = 1)
// and correct for prefill; a chunked (WY/UT) prefill would be faster for long prompts.
//
// Threads: 4 warps; in a warp, lane = rowGroup * colsPerWarp + col (colsPerWarp = 32 / tpc), so the
// tpc threads of one state column are lanes colsPerWarp apart (a reduction over dk is log2(tpc)
// xor shuffles) and consecutive lanes touch consecutive state columns in memory. A thread holds
// rows rowGroup + i * tpc (i < RPT): rows interleaved so that the threads' shared-memory reads of
// k and q hit distinct banks. The tokens' q, k, v, exp(decay) and beta are staged in shared memory
// (float32) a chunk at a time, so the walk over a chunk needs no barrier.
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "linear_attention/linear_attention.h"

#include <cmath>

namespace trtplug
{
namespace
{

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxChunk = 32;
constexpr size_t kDefaultShared = 48 << 10;
constexpr size_t kMaxShared = 227 << 10;

//! Launch shape: rows per thread (a template constant), threads per column and the chunk.
struct Config
{
    int tpc{1};         //!< threads per state column (a power of two <= 32)
    int colsPerWarp{32};
    int cols{128};      //!< state columns per block
    int paddedDk{0};    //!< tpc * RPT: shared-memory row stride of k, q and per-key decays
    int queries{1};     //!< query heads each state serves (G, or 1 for inverse GQA)
    int chunk{1};
    size_t shared{0};
};

struct Args
{
    LinearAttentionGeometry g;
    Config c;
    void const* query;
    void const* key;
    void const* value;
    void const* past;
    void const* decay;
    void const* beta;
    void* output;
    void* present;
};

//! Floats a token takes in shared memory: k, the queries, the decays, v of the block's columns, beta.
int tokenFloats(Config const& c, LinearAttentionGeometry const& g)
{
    return c.paddedDk * (1 + c.queries) + (g.decayPerKey ? c.paddedDk : 1) + c.cols + 1;
}

//! Sum over the tpc lanes of one column (lanes colsPerWarp apart); every lane gets the sum.
__device__ __forceinline__ float columnSum(float x, int colsPerWarp)
{
    for (int off = 16; off >= colsPerWarp; off >>= 1)
    {
        x += __shfl_xor_sync(0xffffffffu, x, off);
    }
    return x;
}

//! Shared-memory views of one staged chunk.
struct Stage
{
    float* k;     // [chunk][paddedDk]
    float* q;     // [chunk][queries][paddedDk]
    float* gate;  // [chunk][paddedDk or 1]: exp(decay)
    float* v;     // [chunk][cols]
    float* beta;  // [chunk]
};

__device__ Stage stageViews(float* base, Args const& a)
{
    Config const& c = a.c;
    int const gateWidth = a.g.decayPerKey ? c.paddedDk : 1;
    Stage s;
    s.k = base;
    s.q = s.k + c.chunk * c.paddedDk;
    s.gate = s.q + c.chunk * c.queries * c.paddedDk;
    s.v = s.gate + c.chunk * gateWidth;
    s.beta = s.v + c.chunk * c.cols;
    return s;
}

//! Loads tokens t0 .. t0 + n - 1 of (batch b, kv head h, the block's columns) into shared memory.
template <typename T>
__device__ void stageChunk(Stage const& s, Args const& a, int64_t b, int h, int col0, int64_t t0, int n)
{
    LinearAttentionGeometry const& g = a.g;
    Config const& c = a.c;
    int const keyHead = h / (g.kvHeads / g.keyHeads);
    for (int i = threadIdx.x; i < n * c.paddedDk; i += kThreads)
    {
        int const tt = i / c.paddedDk;
        int const row = i % c.paddedDk;
        int64_t const tok = b * g.tokens + t0 + tt;
        bool const in = row < g.dk;
        s.k[i] = in ? toFloat(static_cast<T const*>(a.key)[(tok * g.keyHeads + keyHead) * g.dk + row]) : 0.F;
        for (int j = 0; j < c.queries; ++j)
        {
            int const qh = g.qHeads >= g.kvHeads ? h * c.queries + j : h * g.qHeads / g.kvHeads;
            float const q = in ? toFloat(static_cast<T const*>(a.query)[(tok * g.qHeads + qh) * g.dk + row]) : 0.F;
            s.q[(tt * c.queries + j) * c.paddedDk + row] = q;
        }
        if (g.gated && g.decayPerKey)
        {
            s.gate[i] = in ? expf(toFloat(static_cast<T const*>(a.decay)[(tok * g.kvHeads + h) * g.dk + row])) : 0.F;
        }
    }
    for (int i = threadIdx.x; i < n * c.cols; i += kThreads)
    {
        int const tt = i / c.cols;
        int const col = col0 + i % c.cols;
        int64_t const tok = b * g.tokens + t0 + tt;
        s.v[i] = col < g.dv ? toFloat(static_cast<T const*>(a.value)[(tok * g.kvHeads + h) * g.dv + col]) : 0.F;
    }
    for (int tt = threadIdx.x; tt < n; tt += kThreads)
    {
        int64_t const tok = b * g.tokens + t0 + tt;
        if (g.gated && !g.decayPerKey)
        {
            s.gate[tt] = expf(toFloat(static_cast<T const*>(a.decay)[tok * g.kvHeads + h]));
        }
        if (g.delta)
        {
            s.beta[tt] = toFloat(static_cast<T const*>(a.beta)[g.betaPerHead ? tok * g.kvHeads + h : tok]);
        }
    }
}

template <typename T, typename S, int RPT>
__global__ void __launch_bounds__(kThreads) linearAttentionKernel(Args const a)
{
    extern __shared__ float shared[];
    LinearAttentionGeometry const& g = a.g;
    Config const& c = a.c;
    int64_t const tiles = (g.dv + c.cols - 1) / c.cols;
    int64_t const block = blockIdx.x;
    int const tile = static_cast<int>(block % tiles);
    int const h = static_cast<int>((block / tiles) % g.kvHeads);
    int64_t const b = block / tiles / g.kvHeads;
    int const lane = threadIdx.x % 32;
    int const rowGroup = lane / c.colsPerWarp;
    int const local = (threadIdx.x / 32) * c.colsPerWarp + lane % c.colsPerWarp; // column within the block
    int const col0 = tile * c.cols;
    int const col = col0 + local;
    bool const colIn = col < g.dv;
    int64_t const stateBase = (b * g.kvHeads + h) * static_cast<int64_t>(g.dk) * g.dv;

    float state[RPT];
#pragma unroll
    for (int i = 0; i < RPT; ++i)
    {
        int const row = rowGroup + i * c.tpc;
        bool const in = colIn && row < g.dk && a.past != nullptr;
        state[i] = in ? toFloat(static_cast<S const*>(a.past)[stateBase + static_cast<int64_t>(row) * g.dv + col]) : 0.F;
    }

    Stage const s = stageViews(shared, a);
    int const outWidth = (g.qHeads > g.kvHeads ? g.qHeads : g.kvHeads) * g.dv;
    for (int64_t t0 = 0; t0 < g.tokens; t0 += c.chunk)
    {
        int const n = static_cast<int>(g.tokens - t0 < c.chunk ? g.tokens - t0 : c.chunk);
        __syncthreads(); // the previous chunk's reads are done
        stageChunk<T>(s, a, b, h, col0, t0, n);
        __syncthreads();
        for (int tt = 0; tt < n; ++tt)
        {
            float const* k = s.k + tt * c.paddedDk;
            if (g.gated)
            {
                float const* gate = s.gate + tt * (g.decayPerKey ? c.paddedDk : 1);
#pragma unroll
                for (int i = 0; i < RPT; ++i)
                {
                    state[i] *= g.decayPerKey ? gate[rowGroup + i * c.tpc] : gate[0];
                }
            }
            float d = s.v[tt * c.cols + local];
            if (g.delta)
            {
                float r = 0.F;
#pragma unroll
                for (int i = 0; i < RPT; ++i)
                {
                    r = fmaf(state[i], k[rowGroup + i * c.tpc], r);
                }
                d = s.beta[tt] * (d - columnSum(r, c.colsPerWarp));
            }
#pragma unroll
            for (int i = 0; i < RPT; ++i)
            {
                state[i] = fmaf(k[rowGroup + i * c.tpc], d, state[i]);
            }
            int64_t const tok = b * g.tokens + t0 + tt;
            for (int j = 0; j < c.queries; ++j)
            {
                float const* q = s.q + (tt * c.queries + j) * c.paddedDk;
                float o = 0.F;
#pragma unroll
                for (int i = 0; i < RPT; ++i)
                {
                    o = fmaf(state[i], q[rowGroup + i * c.tpc], o);
                }
                o = columnSum(o, c.colsPerWarp);
                int const outHead = g.qHeads >= g.kvHeads ? h * c.queries + j : h;
                if (rowGroup == 0 && colIn)
                {
                    static_cast<T*>(a.output)[tok * outWidth + outHead * g.dv + col] = fromFloat<T>(g.scale * o);
                }
            }
        }
    }

#pragma unroll
    for (int i = 0; i < RPT; ++i)
    {
        int const row = rowGroup + i * c.tpc;
        if (colIn && row < g.dk)
        {
            static_cast<S*>(a.present)[stateBase + static_cast<int64_t>(row) * g.dv + col] = fromFloat<S>(state[i]);
        }
    }
}

int nextPowerOfTwo(int x)
{
    int p = 1;
    while (p < x)
    {
        p <<= 1;
    }
    return p;
}

//! The launch shape for dk rows (rpt rows a thread); false when even one token overflows shared memory.
bool configure(LinearAttentionGeometry const& g, int rpt, Config& c)
{
    c.tpc = nextPowerOfTwo((g.dk + rpt - 1) / rpt);
    c.colsPerWarp = 32 / c.tpc;
    c.cols = kWarps * c.colsPerWarp;
    c.paddedDk = c.tpc * rpt;
    c.queries = g.qHeads >= g.kvHeads ? g.qHeads / g.kvHeads : 1;
    size_t const perToken = sizeof(float) * static_cast<size_t>(tokenFloats(c, g));
    int64_t const fits = static_cast<int64_t>(kDefaultShared / perToken);
    c.chunk = static_cast<int>(fits < 1 ? 1 : fits > kMaxChunk ? kMaxChunk : fits);
    if (g.tokens < c.chunk)
    {
        c.chunk = g.tokens > 0 ? static_cast<int>(g.tokens) : 1;
    }
    c.shared = perToken * c.chunk;
    return c.shared <= kMaxShared;
}

template <typename T, typename S, int RPT>
cudaError_t launchTyped(Args a, cudaStream_t stream)
{
    if (!configure(a.g, RPT, a.c))
    {
        return cudaErrorNotSupported;
    }
    int64_t const blocks = a.g.batch * a.g.kvHeads * ((a.g.dv + a.c.cols - 1) / a.c.cols);
    if (blocks == 0)
    {
        return cudaSuccess;
    }
    if (blocks > INT32_MAX)
    {
        return cudaErrorInvalidConfiguration;
    }
    auto* const kernel = &linearAttentionKernel<T, S, RPT>;
    if (a.c.shared > kDefaultShared)
    {
        return launchLargeShared(kernel, dim3(static_cast<unsigned>(blocks)), kThreads, a.c.shared, stream, a);
    }
    kernel<<<static_cast<unsigned>(blocks), kThreads, a.c.shared, stream>>>(a);
    return cudaGetLastError();
}

} // namespace

std::string linearAttentionGeometry(glue_linear_attention::Params const& p, TensorShape const& query,
    TensorShape const& key, TensorShape const& value, TensorShape const* pastState, TensorShape const* decay,
    TensorShape const* beta, LinearAttentionGeometry& g)
{
    if (query.rank != 3 || key.rank != 3 || value.rank != 3)
    {
        return "query, key and value must be 3-D [B, T, heads * d]";
    }
    if (key.d[0] != query.d[0] || value.d[0] != query.d[0] || key.d[1] != query.d[1] || value.d[1] != query.d[1])
    {
        return "query, key and value must share batch and sequence length";
    }
    if (p.q_num_heads < 1 || p.kv_num_heads < 1 || p.state_window != 0)
    {
        return "q_num_heads and kv_num_heads must be >= 1, state_window 0";
    }
    g = LinearAttentionGeometry{};
    g.batch = query.d[0];
    g.tokens = query.d[1];
    g.qHeads = p.q_num_heads;
    g.kvHeads = p.kv_num_heads;
    int64_t const dk = query.d[2] / g.qHeads;
    int64_t const dv = value.d[2] / g.kvHeads;
    if (dk < 1 || query.d[2] != dk * g.qHeads || key.d[2] % dk != 0 || value.d[2] != dv * g.kvHeads)
    {
        return "query, key and value widths must be whole heads of d_k, d_k and d_v";
    }
    g.dk = static_cast<int32_t>(dk);
    g.dv = static_cast<int32_t>(dv);
    g.keyHeads = static_cast<int32_t>(key.d[2] / dk);
    int32_t const more = g.qHeads > g.kvHeads ? g.qHeads : g.kvHeads;
    int32_t const fewer = g.qHeads > g.kvHeads ? g.kvHeads : g.qHeads;
    if (g.keyHeads < 1 || g.kvHeads % g.keyHeads != 0 || more % fewer != 0)
    {
        return "kv_num_heads must be a multiple of the key heads, and the larger of q/kv heads of the smaller";
    }
    if (g.dk > kLinearAttentionMaxDk)
    {
        return "d_k above " + std::to_string(kLinearAttentionMaxDk) + " is not supported";
    }
    std::string const& rule = p.update_rule;
    if (rule != "linear" && rule != "gated" && rule != "delta" && rule != "gated_delta")
    {
        return "update_rule must be linear, gated, delta or gated_delta";
    }
    g.gated = rule == "gated" || rule == "gated_delta";
    g.delta = rule == "delta" || rule == "gated_delta";
    bool const hasDecay = !linearAttentionAbsent(decay);
    bool const hasBeta = !linearAttentionAbsent(beta);
    if ((g.gated && !hasDecay) || (g.delta && !hasBeta))
    {
        return "update_rule " + rule + " needs " + (g.gated && !hasDecay ? "decay" : "beta");
    }
    if (hasDecay)
    {
        bool const ok = decay->rank == 3 && decay->d[0] == g.batch && decay->d[1] == g.tokens;
        g.decayPerKey = ok && decay->d[2] == int64_t{g.kvHeads} * g.dk;
        if (!ok || (!g.decayPerKey && decay->d[2] != g.kvHeads))
        {
            return "decay must be [B, T, kv_num_heads] or [B, T, kv_num_heads * d_k]";
        }
    }
    if (hasBeta)
    {
        bool const ok = beta->rank == 3 && beta->d[0] == g.batch && beta->d[1] == g.tokens;
        g.betaPerHead = ok && beta->d[2] == g.kvHeads;
        if (!ok || (!g.betaPerHead && beta->d[2] != 1))
        {
            return "beta must be [B, T, kv_num_heads] or [B, T, 1]";
        }
    }
    if (!linearAttentionAbsent(pastState)
        && (pastState->rank != 4 || pastState->d[0] != g.batch || pastState->d[1] != g.kvHeads
            || pastState->d[2] != g.dk || pastState->d[3] != g.dv))
    {
        return "past_state must be [B, kv_num_heads, d_k, d_v]";
    }
    g.scale = p.scale != 0.F ? p.scale : 1.F / std::sqrt(static_cast<float>(g.dk));
    return "";
}

cudaError_t launchLinearAttention(DType dtype, DType stateType, LinearAttentionGeometry const& g, void const* query,
    void const* key, void const* value, void const* pastState, void const* decay, void const* beta, void* output,
    void* presentState, cudaStream_t stream) noexcept
{
    Args const a{g, Config{}, query, key, value, pastState, decay, beta, output, presentState};
    return forFloatOrBf16Type(dtype,
        [&](auto t)
        {
            return forFloatOrBf16Type(stateType,
                [&](auto s)
                {
                    using T = decltype(t);
                    using S = decltype(s);
                    return g.dk <= 64 ? launchTyped<T, S, 4>(a, stream) : launchTyped<T, S, 16>(a, stream);
                });
        });
}

} // namespace trtplug

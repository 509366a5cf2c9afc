// CausalConvWithState kernels. Every tensor is a (batch, positions, channels) grid, channels-first
// (positions contiguous) or channels-last (channels contiguous); v = [past | input] is the
// virtual sequence a channel's taps read. Memory-bound: each output element reads k inputs that
// its neighbours read too (L1 hits), so the traffic is the input, output and states once.
//   - channels-first, dilation 1, k <= 5, length a whole number of 16-byte vectors (every
//     prefill GenAI writes for LFM2 / Qwen3.5 with such lengths): a thread per 16-byte output
//     vector of one row, the k - 1 positions before it and the vector in registers; the thread
//     holding a row's last vector writes the row's present_state.
//   - channels-last with whole vectors of channels: a thread per 16-byte vector of channels.
//   - anything else (decode, odd lengths, unaligned views): a thread per element.
#include "causal_conv_with_state/causal_conv_with_state.h"

#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"

namespace trtplug
{
namespace
{

template <typename T>
struct ConvTensors
{
    T const* x;
    T const* w;
    T const* bias; // null: no bias
    T const* past; // null: zeros
    T* y;
    T* present;
};

//! Element (b, pos, c) of a grid with `len` positions.
template <bool kChannelsLast>
__device__ __forceinline__ int64_t offsetOf(int64_t b, int64_t pos, int64_t c, int64_t len, int64_t channels)
{
    return kChannelsLast ? (b * len + pos) * channels + c : (b * channels + c) * len + pos;
}

//! The (b, pos, c) of linear index i of a grid with `len` positions (inverse of offsetOf).
template <bool kChannelsLast>
__device__ __forceinline__ void gridIndex(
    int64_t i, int64_t len, int64_t channels, int64_t& b, int64_t& pos, int64_t& c)
{
    int64_t const inner = kChannelsLast ? channels : len;
    int64_t const row = i / inner;
    int64_t const fast = i - row * inner;
    int64_t const outer = kChannelsLast ? len : channels;
    b = row / outer;
    int64_t const slow = row - b * outer;
    pos = kChannelsLast ? slow : fast;
    c = kChannelsLast ? fast : slow;
}

__device__ __forceinline__ float activate(float v, bool silu)
{
    return silu ? v / (1.f + __expf(-v)) : v;
}

//! v[pos] of channel (b, c): the past state below g.state, the input from there.
template <typename T, bool kChannelsLast>
__device__ __forceinline__ T virtualAt(ConvTensors<T> const& t, CausalConvGeometry const& g, int64_t b, int64_t c,
    int64_t pos)
{
    if (pos >= g.state)
    {
        return t.x[offsetOf<kChannelsLast>(b, pos - g.state, c, g.length, g.channels)];
    }
    return t.past != nullptr ? t.past[offsetOf<kChannelsLast>(b, pos, c, g.state, g.channels)] : fromFloat<T>(0.f);
}

//! A thread per element: the outputs, then the present states (each grid in memory order).
template <typename T, bool kChannelsLast>
__global__ void causalConvElementKernel(ConvTensors<T> t, CausalConvGeometry g, bool silu)
{
    int64_t const outputs = g.batch * g.channels * g.length;
    int64_t const total = outputs + g.batch * g.channels * g.state;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x)
    {
        bool const isOutput = i < outputs;
        int64_t const j = isOutput ? i : i - outputs;
        int64_t b = 0;
        int64_t pos = 0;
        int64_t c = 0;
        gridIndex<kChannelsLast>(j, isOutput ? g.length : g.state, g.channels, b, pos, c);
        if (!isOutput)
        {
            t.present[j] = virtualAt<T, kChannelsLast>(t, g, b, c, g.length + pos);
            continue;
        }
        float acc = t.bias != nullptr ? toFloat(t.bias[c]) : 0.f;
        for (int64_t k = 0; k < g.taps; ++k) // tap order, as ONNX Runtime sums
        {
            acc += toFloat(t.w[c * g.taps + k]) * toFloat(virtualAt<T, kChannelsLast>(t, g, b, c, pos + k * g.dilation));
        }
        t.y[j] = fromFloat<T>(activate(acc, silu));
    }
}

//! Channels-last: a thread per 16-byte vector of V channels at one (b, pos), outputs then states.
template <typename T, int V>
__global__ void causalConvChannelsLastKernel(ConvTensors<T> t, CausalConvGeometry g, bool silu)
{
    using Vector = Vec<T, V>;
    int64_t const groups = g.channels / V;
    int64_t const outputs = g.batch * g.length * groups;
    int64_t const total = outputs + g.batch * g.state * groups;
    auto const load = [&](int64_t b, int64_t pos, int64_t c0) {
        if (pos >= g.state)
        {
            return *reinterpret_cast<Vector const*>(t.x + ((b * g.length + pos - g.state) * g.channels + c0));
        }
        Vector v{};
        if (t.past != nullptr)
        {
            v = *reinterpret_cast<Vector const*>(t.past + ((b * g.state + pos) * g.channels + c0));
        }
        return v; // zero-initialised: a zero bit pattern is +0 in every float type
    };
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x)
    {
        bool const isOutput = i < outputs;
        int64_t const j = isOutput ? i : i - outputs;
        int64_t const len = isOutput ? g.length : g.state;
        int64_t const row = j / groups;
        int64_t const c0 = (j - row * groups) * V;
        int64_t const b = row / len;
        int64_t const pos = row - b * len;
        if (!isOutput)
        {
            reinterpret_cast<Vector*>(t.present)[j] = load(b, g.length + pos, c0);
            continue;
        }
        float acc[V];
#pragma unroll
        for (int u = 0; u < V; ++u)
        {
            acc[u] = t.bias != nullptr ? toFloat(t.bias[c0 + u]) : 0.f;
        }
        for (int64_t k = 0; k < g.taps; ++k)
        {
            Vector const v = load(b, pos + k * g.dilation, c0);
#pragma unroll
            for (int u = 0; u < V; ++u)
            {
                acc[u] += toFloat(t.w[(c0 + u) * g.taps + k]) * toFloat(v.v[u]);
            }
        }
        Vector out;
#pragma unroll
        for (int u = 0; u < V; ++u)
        {
            out.v[u] = fromFloat<T>(activate(acc[u], silu));
        }
        reinterpret_cast<Vector*>(t.y)[j] = out;
    }
}

//! Channels-first, dilation 1, K taps: a thread per 16-byte vector of V positions of one row,
//! with the K - 1 positions before it (input, or past / zeros at the row's start) in registers.
template <typename T, int V, int K>
__global__ void causalConvRowVectorKernel(ConvTensors<T> t, CausalConvGeometry g, bool silu)
{
    using Vector = Vec<T, V>;
    constexpr int kState = K - 1;
    int64_t const perRow = g.length / V;
    int64_t const total = g.batch * g.channels * perRow;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x)
    {
        int64_t const row = i / perRow; // b * C + c
        int64_t const t0 = (i - row * perRow) * V;
        int64_t const c = row % g.channels;
        T const* xRow = t.x + row * g.length;
        float win[kState + V]; // v[t0 .. t0 + kState + V) in x's positions shifted by kState
#pragma unroll
        for (int s = 0; s < kState; ++s)
        {
            int64_t const p = t0 - kState + s;
            T const before = p >= 0 ? xRow[p]
                : t.past != nullptr ? t.past[row * kState + kState + p]
                                    : fromFloat<T>(0.f);
            win[s] = toFloat(before);
        }
        Vector const cur = *reinterpret_cast<Vector const*>(xRow + t0);
#pragma unroll
        for (int u = 0; u < V; ++u)
        {
            win[kState + u] = toFloat(cur.v[u]);
        }
        float w[K];
#pragma unroll
        for (int k = 0; k < K; ++k)
        {
            w[k] = toFloat(t.w[c * K + k]);
        }
        float const bias = t.bias != nullptr ? toFloat(t.bias[c]) : 0.f;
        Vector out;
#pragma unroll
        for (int u = 0; u < V; ++u)
        {
            float acc = bias;
#pragma unroll
            for (int k = 0; k < K; ++k)
            {
                acc += w[k] * win[u + k];
            }
            out.v[u] = fromFloat<T>(activate(acc, silu));
        }
        *reinterpret_cast<Vector*>(t.y + row * g.length + t0) = out;
        if (t0 + V == g.length) // the row's last vector: present_state = its last K - 1 inputs (V >= K - 1)
        {
#pragma unroll
            for (int s = 0; s < kState; ++s)
            {
                t.present[row * kState + s] = cur.v[V - kState + s];
            }
        }
    }
}

template <typename T, int V, int K>
cudaError_t launchRowVector(ConvTensors<T> const& t, CausalConvGeometry const& g, bool silu, cudaStream_t stream)
{
    int64_t const work = g.batch * g.channels * (g.length / V);
    causalConvRowVectorKernel<T, V, K><<<gridFor(work), kBlockThreads, 0, stream>>>(t, g, silu);
    return cudaGetLastError();
}

//! The row-vector kernel for this K, when it applies (else cudaErrorNotSupported).
template <typename T, int V>
cudaError_t tryRowVector(ConvTensors<T> const& t, CausalConvGeometry const& g, bool silu, cudaStream_t stream)
{
    bool const fits = !g.channelsLast && g.dilation == 1 && g.length > 0 && g.length % V == 0
        && isAligned(t.x, 16) && isAligned(t.y, 16);
    if (!fits)
    {
        return cudaErrorNotSupported;
    }
    switch (g.taps)
    {
    case 1: return launchRowVector<T, V, 1>(t, g, silu, stream);
    case 2: return launchRowVector<T, V, 2>(t, g, silu, stream);
    case 3: return launchRowVector<T, V, 3>(t, g, silu, stream);
    case 4: return launchRowVector<T, V, 4>(t, g, silu, stream);
    case 5: return launchRowVector<T, V, 5>(t, g, silu, stream);
    default: return cudaErrorNotSupported;
    }
}

template <typename T>
cudaError_t launchTyped(ConvTensors<T> const& t, CausalConvGeometry const& g, bool silu, cudaStream_t stream)
{
    constexpr int V = 16 / sizeof(T);
    cudaError_t const rows = tryRowVector<T, V>(t, g, silu, stream);
    if (rows != cudaErrorNotSupported)
    {
        return rows;
    }
    bool const channelVectors = g.channelsLast && g.channels % V == 0 && isAligned(t.x, 16) && isAligned(t.y, 16)
        && isAligned(t.past, 16) && isAligned(t.present, 16);
    if (channelVectors)
    {
        int64_t const work = g.batch * (g.length + g.state) * (g.channels / V);
        causalConvChannelsLastKernel<T, V><<<gridFor(work), kBlockThreads, 0, stream>>>(t, g, silu);
        return cudaGetLastError();
    }
    int64_t const work = g.batch * g.channels * (g.length + g.state);
    if (g.channelsLast)
    {
        causalConvElementKernel<T, true><<<gridFor(work), kBlockThreads, 0, stream>>>(t, g, silu);
    }
    else
    {
        causalConvElementKernel<T, false><<<gridFor(work), kBlockThreads, 0, stream>>>(t, g, silu);
    }
    return cudaGetLastError();
}

} // namespace

TensorShape causalConvStateShape(CausalConvGeometry const& g, TensorShape const& input)
{
    TensorShape s = input;
    s.d[g.channelsLast ? 1 : 2] = g.state;
    return s;
}

std::string causalConvGeometry(glue_causal_conv_with_state::Params const& p, TensorShape const& input,
    TensorShape const& weight, TensorShape const* bias, TensorShape const* pastState, CausalConvGeometry& g)
{
    g.channelsLast = p.channels_last != 0;
    if (g.channelsLast ? input.rank < 3 : input.rank != 3)
    {
        return g.channelsLast ? "input must be (batch, length, d1, ..., dn) with channels_last = 1"
                              : "input must be (batch, channels, length)";
    }
    g.batch = input.d[0];
    g.length = input.d[g.channelsLast ? 1 : 2];
    g.channels = input.d[1];
    if (g.channelsLast)
    {
        g.channels = 1;
        for (int32_t i = 2; i < input.rank; ++i)
        {
            g.channels *= input.d[i]; // the channel axes d1..dn
        }
    }
    if (weight.rank != 3 || weight.d[1] != 1 || weight.d[0] != g.channels || weight.d[2] < 1)
    {
        return "weight must be (channels, 1, k) with the input's " + std::to_string(g.channels) + " channels";
    }
    if (p.dilation < 1)
    {
        return "dilation must be at least 1";
    }
    g.taps = weight.d[2];
    g.dilation = p.dilation;
    g.state = (g.taps - 1) * g.dilation;
    if (bias != nullptr && bias->volume() != 0 && (bias->rank != 1 || bias->d[0] != g.channels))
    {
        return "bias must be (" + std::to_string(g.channels) + ")";
    }
    if (pastState != nullptr && pastState->volume() != 0)
    {
        TensorShape const want = causalConvStateShape(g, input);
        bool same = pastState->rank == want.rank;
        for (int32_t i = 0; same && i < want.rank; ++i)
        {
            same = pastState->d[i] == want.d[i];
        }
        if (!same)
        {
            return std::string("past_state must be ")
                + (g.channelsLast ? "(batch, (k - 1) * dilation, d1, ..., dn)" : "(batch, channels, (k - 1) * dilation)")
                + ", with (k - 1) * dilation = " + std::to_string(g.state);
        }
    }
    return "";
}

cudaError_t launchCausalConvWithState(DType dtype, glue_causal_conv_with_state::Params const& p,
    CausalConvGeometry const& g, void const* input, void const* weight, void const* bias, void const* pastState,
    void* output, void* presentState, cudaStream_t stream) noexcept
{
    if (g.batch * g.channels * (g.length + g.state) == 0)
    {
        return cudaSuccess; // nothing to write
    }
    bool const silu = p.activation != "none";
    return forFloatOrBf16Type(dtype, [&](auto tag) {
        using T = decltype(tag);
        ConvTensors<T> const t{static_cast<T const*>(input), static_cast<T const*>(weight),
            static_cast<T const*>(bias), static_cast<T const*>(pastState), static_cast<T*>(output),
            static_cast<T*>(presentState)};
        return launchTyped<T>(t, g, silu, stream);
    });
}

} // namespace trtplug

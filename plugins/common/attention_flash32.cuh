// The float32 prefill of the attention core on tensor cores, at float32 accuracy: the
// register-resident scheme of attention_flash.cuh (64 query rows of one head per block, 16 per
// warp, double-buffered K/V tiles, online softmax on the accumulators) with every product taken
// as three TF32 mma.sync m16n8k8 ("3xTF32"): x = big + small, both TF32, and
// a b ~ a_small b_big + a_big b_small + a_big b_big (the dropped small x small term is 2^-22 of the
// product), accumulated in float32. One TF32 product alone keeps 11 bits and misses the fp32
// tolerance (1e-4); the CUDA-core tile kernel (attention_kernels.cuh) this replaces for prefills
// ran at 0.08-0.17x torch's fp32 SDPA on the H200, which takes the same 3xTF32 route (CUTLASS
// OpMultiplyAddFastF32). Same rules as the 16-bit kernel (flashPrefillApplies: head 64/128; mask
// and bias tensors in an instance of their own). Included only through
// attention_flash_launch.cuh.
#pragma once

#include "common/attention_flash.cuh"

#include <cstdint>

namespace trtplug
{
namespace attention
{

//! Keys per K/V tile: 32 at head 128 keeps two blocks per SM (70 KB of tiles, ~170 registers).
template <int kD>
constexpr int kFlash32Keys = kD > 64 ? 32 : 64;

template <int kD>
constexpr size_t flash32SharedBytes()
{
    return static_cast<size_t>(4 * kFlash32Keys<kD>) * kFlashStride<kD> * sizeof(float); // 2 x K, 2 x V
}

//! Column c of an 8-key group of S holds key keyOfColumn(c) (c < 4: c, else c ^ 1). With tile rows
//! kD + 8 floats apart this puts the K pair reads of S = Q K^T and the V reads of O += P V (whose
//! k index t is P's column 2t, k index t + 4 its column 2t + 1) on 32 distinct banks.
__device__ __forceinline__ int keyOfColumn(int c)
{
    return c < 4 ? c : c ^ 1;
}

//! x as two TF32 operands: big = x rounded to TF32, small = the rest rounded to TF32.
struct Tf32Pair
{
    uint32_t big;
    uint32_t small;
};

//! kEachUse: volatile, so that the compiler splits the value where it is used instead of hoisting
//! the split out of the key loop (Q's split would double its 64 registers at head 128 and spill).
template <bool kEachUse = false>
__device__ __forceinline__ Tf32Pair splitTf32(float x)
{
    Tf32Pair r;
    if constexpr (kEachUse)
    {
        asm volatile("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r.big) : "f"(x));
    }
    else
    {
        asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r.big) : "f"(x));
    }
    float const rest = x - __uint_as_float(r.big);
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r.small) : "f"(rest));
    return r;
}

//! d += a (16x8, row) * b (8x8, col), TF32 operands, float32 accumulators.
__device__ __forceinline__ void mma1688(float (&d)[4], uint32_t const (&a)[4], uint32_t b0, uint32_t b1)
{
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

//! An A fragment of float32 values (a0..a3 as mma.sync m16n8k8 orders them), split.
struct SplitFragment
{
    uint32_t big[4];
    uint32_t small[4];
};

template <bool kEachUse = false>
__device__ __forceinline__ SplitFragment splitFragment(float a0, float a1, float a2, float a3)
{
    float const a[4] = {a0, a1, a2, a3};
    SplitFragment f;
#pragma unroll
    for (int e = 0; e < 4; ++e)
    {
        Tf32Pair const s = splitTf32<kEachUse>(a[e]);
        f.big[e] = s.big;
        f.small[e] = s.small;
    }
    return f;
}

//! d += a b at float32 accuracy: the small terms first, then the big product.
__device__ __forceinline__ void mma3xTf32(float (&d)[4], SplitFragment const& a, float b0, float b1)
{
    Tf32Pair const x = splitTf32(b0);
    Tf32Pair const y = splitTf32(b1);
    mma1688(d, a.small, x.big, y.big);
    mma1688(d, a.big, x.small, y.small);
    mma1688(d, a.big, x.big, y.big);
}

//! The thread's query values for S = Q K^T, rows g and g + 8 of the warp (zeros past qLen): in each
//! 8-dim group, the mma's k index t holds dim 2t and k index t + 4 dim 2t + 1 (the same order for
//! K), so each operand pair is one 8-byte load.
template <int kD>
__device__ __forceinline__ void loadQueryPairs(
    AttentionProblem const& p, int32_t b, int32_t h, int32_t row0, float2 (&q)[kD / 8][2])
{
    int const lane = threadIdx.x % 32;
#pragma unroll
    for (int r = 0; r < 2; ++r)
    {
        int32_t const i = row0 + lane / 4 + 8 * r;
        float const* row = static_cast<float const*>(p.q.data) + b * p.q.batchStride + h * p.q.headStride
            + static_cast<int64_t>(i < p.qLen ? i : 0) * p.q.seqStride + 2 * (lane % 4);
#pragma unroll
        for (int kk = 0; kk < kD / 8; ++kk)
        {
            q[kk][r] = i < p.qLen ? *reinterpret_cast<float2 const*>(row + 8 * kk) : make_float2(0.F, 0.F);
        }
    }
}

//! Column c of an S accumulator tile holds key keyOfColumn(c) (finishLogits' key order here).
struct KeysPermuted
{
    __device__ __forceinline__ int operator()(int c) const
    {
        return keyOfColumn(c);
    }
};

//! S (16 rows x 8 kTiles keys per warp) = scale * Q K^T, capped and masked (finishLogits).
template <int kD, int kTiles, bool kTensors>
__device__ __forceinline__ void scoreTile32(AttentionProblem const& p, float2 const (&q)[kD / 8][2], float const* kTile,
    int32_t tile, int32_t const (&pos)[2], int32_t valid, float scale, float (&s)[kTiles][4], FragmentRows const& rows)
{
    int const lane = threadIdx.x % 32;
#pragma unroll
    for (int n = 0; n < kTiles; ++n)
    {
        s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.F;
    }
    float const* kRow = kTile + keyOfColumn(lane / 4) * kFlashStride<kD> + 2 * (lane % 4);
#pragma unroll
    for (int kk = 0; kk < kD / 8; ++kk)
    {
        SplitFragment const a = splitFragment<(kD > 64)>(q[kk][0].x, q[kk][1].x, q[kk][0].y, q[kk][1].y);
#pragma unroll
        for (int n = 0; n < kTiles; ++n)
        {
            float2 const k = *reinterpret_cast<float2 const*>(kRow + 8 * n * kFlashStride<kD> + 8 * kk);
            mma3xTf32(s[n], a, k.x, k.y);
        }
    }
    finishLogits<float, kTiles, kTensors>(p, s, tile, pos, valid, scale, KeysPermuted{}, rows);
}

//! O += P V for one tile; P's A fragments are the S accumulators as they lie (keyOfColumn's order).
//! Each 8-dim block of O takes the tile's sum from a fresh accumulator, added in float32: the tensor
//! core rounds every accumulation toward zero, and chained through O over the whole key loop that
//! bias grew with the keys (5.8e-4 at 8,192 keys on an H100, past the 1e-4 tolerance; an emulation
//! of the truncation gives 3.8e-4 chained and 5e-6 per tile). Dims outside, keys inside, so the
//! tile's P is split again for each block (splitFragment<true>: not hoisted, which would hold every
//! split at once and spill); S's chains are one head's dims, short.
template <int kD, int kTiles>
__device__ __forceinline__ void accumulateTile32(float const (&s)[kTiles][4], float const* vTile, float (&o)[kD / 8][4])
{
    int const lane = threadIdx.x % 32;
    int const t = lane % 4;
    float const* v0 = vTile + keyOfColumn(2 * t) * kFlashStride<kD> + lane / 4;
    float const* v1 = vTile + keyOfColumn(2 * t + 1) * kFlashStride<kD> + lane / 4;
#pragma unroll
    for (int d = 0; d < kD / 8; ++d)
    {
        float sum[4] = {0.F, 0.F, 0.F, 0.F};
#pragma unroll
        for (int n = 0; n < kTiles; ++n)
        {
            SplitFragment const a = splitFragment<true>(s[n][0], s[n][2], s[n][1], s[n][3]);
            int const keyRow = 8 * n * kFlashStride<kD>;
            mma3xTf32(sum, a, v0[keyRow + 8 * d], v1[keyRow + 8 * d]);
        }
#pragma unroll
        for (int e = 0; e < 4; ++e)
        {
            o[d][e] += sum[e];
        }
    }
}

//! grid (ceil(qLen / 64), qHeads, batch), kFlashThreads threads, flash32SharedBytes<kD>() dynamic
//! shared memory. Needs float32 views with headDim == vHeadDim == kD, 16-byte-aligned rows
//! (flashPrefillApplies); kTensors: the problem has a mask or bias tensor.
template <int kD, bool kTensors>
__global__ void __launch_bounds__(kFlashThreads) attentionFlash32Kernel(AttentionProblem p)
{
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    constexpr int kKeys = kFlash32Keys<kD>;
    extern __shared__ __align__(128) unsigned char flash32Smem[];
    float* kTiles = reinterpret_cast<float*>(flash32Smem);
    float* vTiles = kTiles + 2 * kKeys * kFlashStride<kD>;
    int32_t const b = blockIdx.z;
    int32_t const h = blockIdx.y;
    int32_t const kvHead = h / (p.qHeads / p.kvHeads);
    int32_t const rowBase = blockIdx.x * kFlashRows;
    int const lane = threadIdx.x % 32;
    int32_t lo = 0;
    int32_t hi = 0;
    keyRange(p, b, rowBase, min(p.qLen, rowBase + kFlashRows) - 1, 0, 1, lo, hi);
    int32_t const valid = validKeys(p, b);
    int32_t const row0 = rowBase + threadIdx.x / 32 * 16;
    int32_t const pos[2] = {rowStart(p, b) + row0 + lane / 4, rowStart(p, b) + row0 + lane / 4 + 8};
    FragmentRows const rows = fragmentRows(p, b, h, row0);
    float const scale = p.scale != 0.F ? p.scale : rsqrtf(static_cast<float>(kD));
    float const* kBase = static_cast<float const*>(p.k.data) + b * p.k.batchStride + kvHead * p.k.headStride;
    float const* vBase = static_cast<float const*>(p.v.data) + b * p.v.batchStride + kvHead * p.v.headStride;
    int32_t const tile = lo / kKeys * kKeys;
    auto const load = [&](int32_t first, int offset) {
        copyTile<float, kD>(kTiles + offset, kBase, p.k.seqStride, first, hi, kKeys);
        copyTile<float, kD>(vTiles + offset, vBase, p.v.seqStride, first, hi, kKeys);
    };
    load(tile, 0);
    commitCopies();
    float2 q[kD / 8][2];
    loadQueryPairs<kD>(p, b, h, row0, q);
    waitCopies();
    __syncthreads();
    float o[kD / 8][4] = {};
    float m[2] = {-INFINITY, -INFINITY};
    float l[2] = {0.F, 0.F};
    forEachKeyTile<kD, kKeys>(tile, hi, load, [&](int32_t keys, int current) {
        float s[kKeys / 8][4];
        scoreTile32<kD, kKeys / 8, kTensors>(p, q, kTiles + current, keys, pos, min(valid, hi), scale, s, rows);
        softmaxStep<kD, kKeys / 8>(s, m, l, o);
        accumulateTile32<kD, kKeys / 8>(s, vTiles + current, o);
    });
    writeFlashRows<float, kD>(p, b, h, row0, m, l, o);
#endif
}

} // namespace attention
} // namespace trtplug

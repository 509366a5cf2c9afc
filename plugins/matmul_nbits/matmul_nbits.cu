#include "common/dtype_dispatch.cuh"
#include "common/gemm.h"
#include "matmul_nbits/matmul_nbits.h"
#include "matmul_nbits/matmul_nbits_fast.cuh"
#include "matmul_nbits/matmul_nbits_kernels.cuh"
#include "matmul_nbits/matmul_nbits_wave.cuh"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace trtplug
{
namespace
{

using nbits::kRowsPerBlock;
using nbits::kWarps;

constexpr int kMinTile = 256;
constexpr int kMaxTile = 8192;
constexpr size_t kSmemBudget = 48 * 1024; // no opt-in needed below this

bool usesGemm(int64_t m) noexcept
{
    return m > kNBitsGemvMaxRows && gemmAvailable();
}

//! The one switch to the bandwidth-bound kernels of matmul_nbits_fast.cuh: false sends every call
//! back to the original kernels of matmul_nbits_kernels.cuh.
constexpr bool kUseFastKernels = true;
//! The wave GEMV (matmul_nbits_wave.cuh: one wave, no spills, one row of A) is the default where
//! it takes the call, the fast GEMV elsewhere: by device time on the H200 (M=1, K=N=4096, 4 bits,
//! fp16) 5.93 us against the fast GEMV's 7.31 us and the original's 25.4 us; a device copy of the
//! same bytes takes 7.48 us. TRTPLUG_NBITS_GEMV=fast, =wave or =original (read per launch)
//! chooses, so all stay tested; unset: kDefaultGemv. Measured slower on the H100 and removed: an
//! eight-column GEMV (8.28 against 7.55 us) and the fast GEMV compiled for 8 blocks per SM (64
//! registers with spills: 9.53 against 7.54 us). The fast dequantize measured 80 -> ~27 us
//! (M=2048: 0.52x -> 0.77x a bf16 torch.matmul) and runs.

enum class GemvChoice
{
    kOriginal, //!< nbits::gemvKernel (matmul_nbits_kernels.cuh)
    kFast,     //!< nbits_fast::gemvFastKernel
    kWave,     //!< nbits_wave::gemvWaveKernel where waveGemvTakes, else kFast
};

constexpr GemvChoice kDefaultGemv = GemvChoice::kWave;

//! TRTPLUG_NBITS_GEMV, read once per launch (unset: kDefaultGemv; unknown values: original).
GemvChoice gemvChoice() noexcept
{
    char const* choice = std::getenv("TRTPLUG_NBITS_GEMV");
    if (choice == nullptr)
    {
        return kDefaultGemv;
    }
    if (std::strcmp(choice, "fast") == 0)
    {
        return GemvChoice::kFast;
    }
    return std::strcmp(choice, "wave") == 0 ? GemvChoice::kWave : GemvChoice::kOriginal;
}

//! Whether the fast kernels take p: no g_idx, K a multiple of the block (B's rows unpadded), rows
//! of whole 16-byte chunks, B and `vectorPtr` (A for the GEMV, the workspace for the dequantize:
//! read or written in up to 16-byte vectors of T) 16-byte aligned. Everything else (odd K,
//! g_idx, unaligned views) keeps the original kernels.
bool fastPathFits(NBitsProblem const& p, void const* vectorPtr) noexcept
{
    return kUseFastKernels && p.gIdx == nullptr && p.k % p.blockSize == 0 && (p.k * p.bits / 8) % 16 == 0
        && isAligned(p.b, 16) && isAligned(vectorPtr, 16);
}

//! Whether the wave GEMV (matmul_nbits_wave.cuh) takes a call the fast kernels take (fastPathFits):
//! one row of A, one quantization block per 16-byte chunk (4 bits at block 16 has two, whose scales
//! spill at 64 registers), and K * bits and B's bytes below 2^31 (its offsets are 32-bit). The rest
//! keeps gemvFastKernel.
bool waveGemvTakes(NBitsProblem const& p) noexcept
{
    constexpr int64_t kMaxOffset = INT32_MAX;
    return p.m == 1 && !(p.bits == 4 && p.blockSize == 16) && p.k * p.bits <= kMaxOffset
        && p.n * (p.k * p.bits / 8) <= kMaxOffset;
}

template <typename T, int kBits>
cudaError_t launchWaveGemv(NBitsProblem const& p, cudaStream_t stream)
{
    constexpr int kC = nbits_fast::kCols;
    auto const grid = static_cast<unsigned>((p.n + kC - 1) / kC);
    nbits_wave::gemvWaveKernel<T, kBits><<<grid, nbits_fast::kGemvThreads, 0, stream>>>(p, log2Of(p.blockSize));
    return cudaGetLastError();
}

template <typename T, int kBits, int kGroups, int kM>
cudaError_t launchFastGemv(NBitsProblem const& p, cudaStream_t stream)
{
    constexpr int kC = nbits_fast::kCols;
    auto const grid = static_cast<unsigned>((p.n + kC - 1) / kC);
    nbits_fast::gemvFastKernel<T, kBits, kGroups, kM>
        <<<grid, nbits_fast::kGemvThreads, 0, stream>>>(p, log2Of(p.blockSize));
    return cudaGetLastError();
}

//! The fast GEMV for m <= 8 rows of A: the fewest of 1, 2, 4, 8 rows covering m (rows past m read
//! nothing). kGroups: quantization blocks per 16-byte chunk (2 only for 4 bits at block 16).
template <typename T, int kBits, int kGroups>
cudaError_t dispatchFastGemv(NBitsProblem const& p, cudaStream_t stream)
{
    switch (p.m)
    {
    case 1: return launchFastGemv<T, kBits, kGroups, 1>(p, stream);
    case 2: return launchFastGemv<T, kBits, kGroups, 2>(p, stream);
    case 3:
    case 4: return launchFastGemv<T, kBits, kGroups, 4>(p, stream);
    default: return launchFastGemv<T, kBits, kGroups, 8>(p, stream);
    }
}

//! K codes per shared-memory tile for kM rows of A: a power of two within the budget, no longer than needed.
int tileFor(int kM, int64_t paddedK) noexcept
{
    int tile = kMinTile;
    while (tile < kMaxTile && tile < paddedK
        && static_cast<size_t>(kM) * (2 * tile + 2 * tile / 32) * sizeof(float) <= kSmemBudget)
    {
        tile *= 2;
    }
    return tile;
}

template <typename T, int kBits, int kWords, int kM>
cudaError_t launchGemv(NBitsProblem const& p, int64_t paddedK, cudaStream_t stream)
{
    int const tile = tileFor(kM, paddedK);
    size_t const smem = static_cast<size_t>(kM) * (tile + tile / 32) * sizeof(float);
    int64_t const mTiles = (p.m + kM - 1) / kM;
    if (mTiles > 65535)
    {
        return cudaErrorInvalidConfiguration; // only without cuBLAS: over 524k rows of A
    }
    dim3 const grid(static_cast<unsigned>((p.n + kRowsPerBlock - 1) / kRowsPerBlock), static_cast<unsigned>(mTiles));
    nbits::gemvKernel<T, kBits, kWords, kM>
        <<<grid, kWarps * 32, smem, stream>>>(p, tile, log2Of(p.blockSize));
    return cudaGetLastError();
}

//! Rows of A per block: the fewest of 1, 2, 4, 8 covering m (the others compute on A's zeros).
template <typename T, int kBits>
cudaError_t dispatchGemv(NBitsProblem const& p, cudaStream_t stream)
{
    if constexpr (kBits != 2) // 2 bits (rare) keeps the original kernel
    {
        GemvChoice const choice = p.m <= kNBitsGemvMaxRows ? gemvChoice() : GemvChoice::kOriginal;
        if (choice != GemvChoice::kOriginal && fastPathFits(p, p.a))
        {
            if (choice == GemvChoice::kWave && waveGemvTakes(p))
            {
                return launchWaveGemv<T, kBits>(p, stream);
            }
            if constexpr (kBits == 4)
            {
                if (p.blockSize == 16)
                {
                    return dispatchFastGemv<T, 4, 2>(p, stream);
                }
            }
            return dispatchFastGemv<T, kBits, 1>(p, stream);
        }
    }
    int64_t const paddedK = (p.k + p.blockSize - 1) / p.blockSize * p.blockSize;
    int64_t const rowBytes = paddedK * kBits / 8;
    bool const vector = rowBytes % 16 == 0 && reinterpret_cast<uintptr_t>(p.b) % 16 == 0;
    if (!vector)
    {
        return launchGemv<T, kBits, 1, 8>(p, paddedK, stream); // rows of 4-byte multiples only: rare
    }
    switch (p.m)
    {
    case 1: return launchGemv<T, kBits, 4, 1>(p, paddedK, stream);
    case 2: return launchGemv<T, kBits, 4, 2>(p, paddedK, stream);
    case 3:
    case 4: return launchGemv<T, kBits, 4, 4>(p, paddedK, stream);
    default: return launchGemv<T, kBits, 4, 8>(p, paddedK, stream);
    }
}

template <typename T, int kBits>
cudaError_t dequantizeThenGemm(DType dtype, NBitsProblem const& p, void* workspace, cudaStream_t stream)
{
    T* w = static_cast<T*>(workspace);
    if (fastPathFits(p, w))
    {
        // One thread per 16-byte chunk of a row (x; short rows get blocks of their chunk count in
        // whole warps, 128 at K = 4096, 4 bits), rows along y: 16-byte loads and stores.
        int64_t const chunks = p.k * kBits / 8 / nbits_fast::kChunkBytes;
        auto const threads = static_cast<int>(std::min<int64_t>(kBlockThreads, (chunks + 31) / 32 * 32));
        dim3 const grid(static_cast<unsigned>((chunks + threads - 1) / threads),
            static_cast<unsigned>(std::min<int64_t>(p.n, 65535)));
        nbits_fast::dequantizeFastKernel<T, kBits><<<grid, threads, 0, stream>>>(p, w, log2Of(p.blockSize));
    }
    else
    {
        int64_t const words = p.n * ((p.k + p.blockSize - 1) / p.blockSize * p.blockSize) / (32 / kBits);
        nbits::dequantizeKernel<T, kBits><<<gridFor(words), kBlockThreads, 0, stream>>>(p, w, log2Of(p.blockSize));
    }
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess)
    {
        err = gemmRowMajorBt(dtype, p.m, p.n, p.k, p.a, w, p.y, stream);
    }
    if (err == cudaSuccess && p.bias != nullptr)
    {
        dim3 const grid(static_cast<unsigned>((p.n + kBlockThreads - 1) / kBlockThreads),
            static_cast<unsigned>(std::min<int64_t>(p.m, 65535)));
        nbits::addBiasKernel<T>
            <<<grid, kBlockThreads, 0, stream>>>(static_cast<T*>(p.y), static_cast<T const*>(p.bias), p.m, p.n);
        err = cudaGetLastError();
    }
    return err;
}

template <typename T, int kBits>
cudaError_t launchTyped(DType dtype, NBitsProblem const& p, void* workspace, size_t workspaceBytes, cudaStream_t stream)
{
    if (!usesGemm(p.m))
    {
        return dispatchGemv<T, kBits>(p, stream);
    }
    if (workspace == nullptr || workspaceBytes < nbitsWorkspaceBytes(dtype, p.m, p.n, p.k))
    {
        return cudaErrorInvalidValue;
    }
    return dequantizeThenGemm<T, kBits>(dtype, p, workspace, stream);
}

//! Elements of an optional input: 0 when absent (rank 0) or empty.
int64_t givenCount(TensorShape const& s) noexcept
{
    return s.rank == 0 ? 0 : s.volume();
}

} // namespace

std::string nbitsCheckShapes(
    glue_matmul_nbits::Params const& p, NBitsShapes const& s, bool zeroPointsPacked, NBitsProblem& out)
{
    int64_t const n = p.N;
    int64_t const k = p.K;
    int64_t const blocks = nbitsBlocks(p);
    int64_t const blob = static_cast<int64_t>(p.block_size) * p.bits / 8;
    if (s.a.rank < 1 || s.a.d[s.a.rank - 1] != k)
    {
        return "A's last dimension must be K = " + std::to_string(k);
    }
    if (s.b.rank != 3 || s.b.d[0] != n || s.b.d[1] != blocks || s.b.d[2] != blob)
    {
        return "B must have shape [N, ceil(K / block_size), block_size * bits / 8] = [" + std::to_string(n) + ", "
            + std::to_string(blocks) + ", " + std::to_string(blob) + "]";
    }
    if (s.scales.volume() != n * blocks)
    {
        return "scales must have N * ceil(K / block_size) = " + std::to_string(n * blocks) + " elements";
    }
    int64_t const zpCount = zeroPointsPacked ? n * ((blocks * p.bits + 7) / 8) : n * blocks;
    if (givenCount(s.zeroPoints) != 0 && givenCount(s.zeroPoints) != zpCount)
    {
        return "zero_points must have " + std::to_string(zpCount) + " elements (" + (zeroPointsPacked ? "packed" : "float")
            + ")";
    }
    if (givenCount(s.gIdx) != 0 && givenCount(s.gIdx) != k)
    {
        return "g_idx must have K = " + std::to_string(k) + " elements";
    }
    if (givenCount(s.bias) != 0 && givenCount(s.bias) != n)
    {
        return "bias must have N = " + std::to_string(n) + " elements";
    }
    out.m = s.a.volume() / k;
    if (s.y.volume() != out.m * n)
    {
        return "Y must have shape A[..., :-1] + [N]";
    }
    out.n = n;
    out.k = k;
    out.bits = p.bits;
    out.blockSize = p.block_size;
    out.zeroPointsPacked = zeroPointsPacked;
    return "";
}

size_t nbitsWorkspaceBytes(DType dtype, int64_t m, int64_t n, int64_t k) noexcept
{
    return usesGemm(m) ? static_cast<size_t>(n) * static_cast<size_t>(k) * dtypeSize(dtype) : 0;
}

cudaError_t launchMatMulNBits(
    DType dtype, NBitsProblem const& p, void* workspace, size_t workspaceBytes, cudaStream_t stream) noexcept
{
    if (p.m == 0 || p.n == 0)
    {
        return cudaSuccess;
    }
    if (p.k <= 0 || p.blockSize < 16 || (p.blockSize & (p.blockSize - 1)) != 0)
    {
        return cudaErrorInvalidValue;
    }
    if (reinterpret_cast<uintptr_t>(p.b) % 4 != 0)
    {
        return cudaErrorMisalignedAddress; // B is read in 32-bit words (TensorRT's buffers are aligned)
    }
    return forFloatOrBf16Type(dtype, [&](auto t) -> cudaError_t {
        using T = decltype(t);
        switch (p.bits)
        {
        case 2: return launchTyped<T, 2>(dtype, p, workspace, workspaceBytes, stream);
        case 4: return launchTyped<T, 4>(dtype, p, workspace, workspaceBytes, stream);
        case 8: return launchTyped<T, 8>(dtype, p, workspace, workspaceBytes, stream);
        default: return cudaErrorInvalidValue;
        }
    });
}

} // namespace trtplug

#include "common/dtype_dispatch.cuh"
#include "common/gemm.h"
#include "matmul_nbits/matmul_nbits.h"
#include "matmul_nbits/matmul_nbits_kernels.cuh"

#include <algorithm>

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

int log2Of(int32_t powerOfTwo) noexcept
{
    int s = 0;
    while ((1 << s) < powerOfTwo)
    {
        ++s;
    }
    return s;
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
    int64_t const words = p.n * ((p.k + p.blockSize - 1) / p.blockSize * p.blockSize) / (32 / kBits);
    nbits::dequantizeKernel<T, kBits><<<gridFor(words), kBlockThreads, 0, stream>>>(p, w, log2Of(p.blockSize));
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess)
    {
        err = gemmRowMajorBt(dtype, p.m, p.n, p.k, p.a, w, p.y, stream);
    }
    if (err == cudaSuccess && p.bias != nullptr)
    {
        nbits::addBiasKernel<T><<<gridFor(p.m * p.n), kBlockThreads, 0, stream>>>(
            static_cast<T*>(p.y), static_cast<T const*>(p.bias), p.m, p.n);
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

// DFT over cuFFT (see dft.h; the plans: dft_fft_plan.cu): a pack kernel (cut/zero-pad to n, to
// float32, the transformed axis made innermost; dft_pack.cuh), one batched 1-D cuFFT plan, an
// unpack kernel (1 / n scale, conjugate mirror, cast). float32 inputs already in cuFFT's layout
// skip the pack, outputs in it skip the unpack: a contiguous fp32 rfft/fft is one cuFFT call, as
// torch.fft's is; so is a 16-bit forward one of power-of-two length, on cuFFT's float16/bfloat16
// transforms (dftIoType).
#include "common/dtype_dispatch.cuh"
#include "common/launch.cuh"
#include "dft/dft.h"
#include "dft/dft_cufft.h"
#include "dft/dft_pack.cuh"

namespace trtplug
{

std::string planDft(DftPlan& plan, TensorShape const& x, DftFields const& f)
{
    int32_t const rank = x.rank;
    if (rank < 2 || (x.d[rank - 1] != 1 && x.d[rank - 1] != 2))
    {
        return "input must be [..., 1] (real) or [..., 2] (complex) of rank >= 2";
    }
    if (f.axis < -rank || f.axis >= rank || (f.axis + rank) % rank == rank - 1)
    {
        return "axis " + std::to_string(f.axis) + " is out of range for input rank " + std::to_string(rank)
            + " (the last axis holds re/im)";
    }
    int32_t const a = static_cast<int32_t>((f.axis + rank) % rank);
    plan = DftPlan{};
    plan.inLen = x.d[a];
    plan.inComps = static_cast<int32_t>(x.d[rank - 1]);
    plan.inverse = f.inverse;
    for (int32_t d = 0; d < a; ++d)
    {
        plan.outer *= x.d[d];
    }
    for (int32_t d = a + 1; d < rank - 1; ++d)
    {
        plan.inner *= x.d[d];
    }
    bool const irfft = f.inverse && f.onesided;
    plan.n = f.dftLength > 0 ? f.dftLength : (irfft ? 2 * (plan.inLen - 1) : plan.inLen);
    plan.n = plan.n < 0 ? 0 : plan.n;
    plan.kind = irfft ? DftKind::kC2R : (!f.inverse && plan.inComps == 1 ? DftKind::kR2C : DftKind::kC2C);
    plan.outComps = irfft ? 1 : 2;
    plan.outLen = f.onesided && !irfft ? plan.n / 2 + 1 : plan.n;
    plan.outLen = plan.n == 0 ? 0 : plan.outLen;
    plan.out = x;
    plan.out.d[a] = plan.outLen;
    plan.out.d[rank - 1] = plan.outComps;
    return "";
}

std::string planStft(DftPlan& plan, TensorShape const& x, int64_t frameStep, int64_t frameLength, int64_t windowLen,
    bool onesided)
{
    // [batch, length] is real, as ONNX Runtime reads it and torch.onnx's TorchScript exporter
    // writes torch.stft: the same memory as [batch, length, 1].
    bool const bare = x.rank == 2;
    if (!bare && (x.rank != 3 || (x.d[2] != 1 && x.d[2] != 2)))
    {
        return "signal must be [batch, length] or [batch, length, 1] (real), or [batch, length, 2] (complex)";
    }
    if (frameStep < 1)
    {
        return "frame_step must be >= 1, got " + std::to_string(frameStep);
    }
    int64_t const n = frameLength > 0 ? frameLength : (windowLen > 0 ? windowLen : x.d[1]);
    if (windowLen > 0 && windowLen != n)
    {
        return "window length " + std::to_string(windowLen) + " differs from frame_length " + std::to_string(n);
    }
    plan = DftPlan{};
    plan.signalLen = x.d[1];
    plan.frameStep = frameStep;
    plan.frames = x.d[1] >= n ? 1 + (x.d[1] - n) / frameStep : 0;
    plan.outer = x.d[0] * plan.frames;
    plan.inLen = n;
    plan.n = n;
    plan.inComps = bare ? 1 : static_cast<int32_t>(x.d[2]);
    plan.kind = plan.inComps == 1 ? DftKind::kR2C : DftKind::kC2C;
    plan.outLen = onesided ? n / 2 + 1 : n;
    plan.out.rank = 4;
    plan.out.d[0] = x.d[0];
    plan.out.d[1] = plan.frames;
    plan.out.d[2] = plan.outLen;
    plan.out.d[3] = 2;
    return "";
}

std::string checkDftOutput(DftPlan const& plan, TensorShape const& y)
{
    bool same = y.rank == plan.out.rank;
    for (int32_t d = 0; same && d < y.rank; ++d)
    {
        same = y.d[d] == plan.out.d[d];
    }
    std::string expected;
    for (int32_t d = 0; d < plan.out.rank; ++d)
    {
        expected += (d ? ", " : "") + std::to_string(plan.out.d[d]);
    }
    return same ? "" : "output must have shape (" + expected + ")";
}

namespace
{

constexpr size_t kAlign = 256;

size_t aligned(size_t bytes) noexcept
{
    return (bytes + kAlign - 1) / kAlign * kAlign;
}

size_t packedBytes(DftPlan const& p, DftCopies copies) noexcept
{
    size_t const comps = p.kind == DftKind::kR2C ? 1 : 2;
    return copies.packed ? aligned(size_t(p.batch()) * p.packedLen() * comps * sizeof(float)) : 0;
}

size_t spectrumBytes(DftPlan const& p, DftCopies copies) noexcept
{
    size_t const comps = p.kind == DftKind::kC2R ? 1 : 2;
    return copies.spectrum ? aligned(size_t(p.batch()) * p.spectrumLen() * comps * sizeof(float)) : 0;
}

#if TRTPLUG_HAVE_CUFFT
//! y *= scale in place: the inverse transform's 1/n when cuFFT wrote the output directly (one
//! pass over y instead of a scaled copy out of the spectrum scratch); 16-byte vectors when aligned.
__global__ void scaleKernel(float* y, int64_t count, int64_t vectors, float scale)
{
    int64_t const step = int64_t(gridDim.x) * blockDim.x;
    int64_t const first = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    auto* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = first; i < vectors; i += step)
    {
        float4 v = y4[i];
        v.x *= scale, v.y *= scale, v.z *= scale, v.w *= scale;
        y4[i] = v;
    }
    for (int64_t i = 4 * vectors + first; i < count; i += step)
    {
        y[i] *= scale;
    }
}

cudaError_t scaleInPlace(float* y, int64_t count, float scale, cudaStream_t stream) noexcept
{
    int64_t const vectors = isAligned(y, 16) ? count / 4 : 0;
    scaleKernel<<<gridFor(vectors > 0 ? vectors : count), kBlockThreads, 0, stream>>>(y, count, vectors, scale);
    return cudaGetLastError();
}

//! The cuFFT call of `p` from `in` to `out` (out-of-place; C2R overwrites `in`, the packed copy).
cudaError_t execFft(DftPlan const& p, cufftHandle h, void* in, void* out) noexcept
{
    cufftResult r = CUFFT_SUCCESS;
    switch (p.kind)
    {
    case DftKind::kR2C: r = cufftExecR2C(h, static_cast<cufftReal*>(in), static_cast<cufftComplex*>(out)); break;
    case DftKind::kC2R: r = cufftExecC2R(h, static_cast<cufftComplex*>(in), static_cast<cufftReal*>(out)); break;
    case DftKind::kC2C:
        r = cufftExecC2C(h, static_cast<cufftComplex*>(in), static_cast<cufftComplex*>(out),
            p.inverse ? CUFFT_INVERSE : CUFFT_FORWARD);
        break;
    }
    return r == CUFFT_SUCCESS ? cudaSuccess : cudaErrorLaunchFailure;
}

//! A 16-bit plan's one call: x to y (forward; an out-of-place R2C or C2C leaves x as it was).
cudaError_t exec16Bit(cufftHandle h, void const* x, void* y, void* work, cudaStream_t stream) noexcept
{
    bool const ok = cufftSetStream(h, stream) == CUFFT_SUCCESS && cufftSetWorkArea(h, work) == CUFFT_SUCCESS
        && cufftXtExec(h, const_cast<void*>(x), y, CUFFT_FORWARD) == CUFFT_SUCCESS;
    return ok ? cudaSuccess : cudaErrorLaunchFailure;
}
#endif

} // namespace

DftCopies dftCopies(DftPlan const& p, DType dtype, DType io) noexcept
{
    if (io != DType::kFLOAT32)
    {
        return {false, false};
    }
    bool const fp32 = dtype == DType::kFLOAT32 && p.inner == 1;
    bool const directIn = fp32 && p.frameStep == 0 && p.kind != DftKind::kC2R && p.inLen == p.packedLen()
        && p.inComps == (p.kind == DftKind::kR2C ? 1 : 2);
    // fp32 output in cuFFT's own layout is written by cuFFT (an inverse then scales it in place).
    bool const directOut = fp32 && p.outLen == p.spectrumLen();
    return {!directIn, !directOut};
}

size_t dftWorkspaceBytes(DftPlan const& plan, DftCopies copies, size_t fftWork) noexcept
{
    return packedBytes(plan, copies) + spectrumBytes(plan, copies) + aligned(fftWork);
}

cudaError_t launchDft(DType dtype, DftPlan const& plan, DftFftPlan const& fft, void const* x, void* y,
    void* workspace, cudaStream_t stream, void const* window) noexcept
{
    if (plan.batch() == 0 || plan.outLen == 0)
    {
        return cudaSuccess;
    }
#if TRTPLUG_HAVE_CUFFT
    if (fft.handle() < 0 || (fft.ioType() != DType::kFLOAT32 && fft.ioType() != dtype))
    {
        return cudaErrorInvalidResourceHandle;
    }
    DftCopies const copies = dftCopies(plan, dtype, fft.ioType());
    auto* packed = static_cast<float*>(workspace);
    auto* spectrum = reinterpret_cast<float*>(static_cast<char*>(workspace) + packedBytes(plan, copies));
    void* work = static_cast<char*>(workspace) + packedBytes(plan, copies) + spectrumBytes(plan, copies);
    if (fft.ioType() != DType::kFLOAT32)
    {
        return exec16Bit(fft.handle(), x, y, work, stream);
    }
    bool const directIn = !copies.packed;
    bool const directOut = !copies.spectrum;
    return forFloatOrBf16Type(dtype, [&](auto tag) -> cudaError_t {
        using T = decltype(tag);
        if (!directIn)
        {
            dft::launchPack<T>(plan, static_cast<T const*>(x), static_cast<T const*>(window), packed, stream);
        }
        int const h = fft.handle();
        if (cufftSetStream(h, stream) != CUFFT_SUCCESS || cufftSetWorkArea(h, work) != CUFFT_SUCCESS)
        {
            return cudaErrorLaunchFailure;
        }
        cudaError_t err = execFft(plan, h, directIn ? const_cast<void*>(x) : packed, directOut ? y : spectrum);
        int64_t const total = plan.outer * plan.outLen * plan.inner;
        float const scale = plan.inverse ? 1.F / static_cast<float>(plan.n) : 1.F;
        if (err != cudaSuccess || directOut)
        {
            bool const scaled = err == cudaSuccess && plan.inverse;
            int64_t const comps = plan.kind == DftKind::kC2R ? 1 : 2;
            return scaled ? scaleInPlace(static_cast<float*>(y), total * comps, scale, stream)
                          : (err != cudaSuccess ? err : cudaGetLastError());
        }
        dft::launchUnpack<T>(plan, spectrum, static_cast<T*>(y), scale, stream);
        return cudaGetLastError();
    });
#else
    (void) fft, (void) dtype, (void) x, (void) y, (void) workspace, (void) stream, (void) window;
    return cudaErrorNotSupported;
#endif
}

} // namespace trtplug

// ai.onnx DFT (opset 17 and 20) over cuFFT: plain functions, no TensorRT types. The IPluginV3
// adapter and the pybind11 binding both plan with planDft and launch with launchDft through a
// DftFftPlan they own, so the kernel TensorRT runs is the kernel the tests run.
#pragma once

#include "common/dtype.h"
#include "common/tensor_shape.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtplug
{

//! How the transform runs: complex-to-complex; real-to-complex (real input, forward: the upper
//! half of a full spectrum is the conjugate mirror); complex-to-real (inverse onesided: irfft).
enum class DftKind : int32_t
{
    kC2C,
    kR2C,
    kC2R,
};

//! The fields both DFT members share (the spec's attributes; dftLength 0 = absent).
struct DftFields
{
    int64_t axis{-2};
    int64_t dftLength{0};
    bool inverse{false};
    bool onesided{false};
};

//! One DFT: the input as [outer, inLen, inner, inComps] and the output as [outer, outLen, inner,
//! outComps]; each of the outer * inner signals is cut or zero-padded to n and transformed.
struct DftPlan
{
    DftKind kind{DftKind::kC2C};
    int64_t outer{1};
    int64_t inner{1};
    int64_t inLen{0};
    int64_t n{0};
    int64_t outLen{0};
    int32_t inComps{1};
    int32_t outComps{2};
    bool inverse{false};
    int64_t frames{1};    //!< STFT: frames per signal (the outer rows are batch * frames)
    int64_t frameStep{0}; //!< STFT: samples between frames; 0 = a plain DFT
    int64_t signalLen{0}; //!< STFT: samples per signal
    TensorShape out{};    //!< the output shape

    int64_t batch() const noexcept { return outer * inner; }
    //! Length of one packed signal in the cuFFT input buffer (complex, except R2C's real one).
    int64_t packedLen() const noexcept { return kind == DftKind::kC2R ? n / 2 + 1 : n; }
    //! Length of one transformed signal in the cuFFT output buffer.
    int64_t spectrumLen() const noexcept { return kind == DftKind::kR2C ? n / 2 + 1 : n; }
};

//! Fills `plan` for input dims `x`; returns the problem (naming the field) or "".
std::string planDft(DftPlan& plan, TensorShape const& x, DftFields const& f);

//! Fills `plan` for STFT of signal dims `x` ([batch, length] or [batch, length, 1 or 2]): frames of frameLength
//! samples (0 = the window's length windowLen, or the signal's) every frameStep samples, each a
//! row of a forward DFT of length frameLength; returns the problem or "".
std::string planStft(DftPlan& plan, TensorShape const& x, int64_t frameStep, int64_t frameLength, int64_t windowLen,
    bool onesided);

//! "" when `y` is the planned output shape, else the problem.
std::string checkDftOutput(DftPlan const& plan, TensorShape const& y);

//! The type cuFFT reads and writes for `plan` in `dtype`: float16/bfloat16 where cuFFT's 16-bit
//! transforms take the tensors as they are (forward, power-of-two n, the input already a
//! contiguous signal per row and the output the transform's own: one pass over 4 bytes a value
//! instead of pack + fp32 transform + unpack's 20), else float32. bf16 by default, fp16 only with
//! TRTPLUG_DFT_16BIT=1 (its fp16 stages miss the fp16 tolerance; dft_fft_plan.cu).
DType dftIoType(DftPlan const& plan, DType dtype) noexcept;

//! A cuFFT plan for one (kind, n, batch, io type), made once and reused while they stay the same;
//! its work area is the caller's (cufftSetAutoAllocation(0)). Copies start empty (a plugin clone
//! makes its own plan). Not thread-safe: one owner per stream of calls.
class DftFftPlan
{
public:
    DftFftPlan() = default;
    DftFftPlan(DftFftPlan const&) noexcept {}
    DftFftPlan& operator=(DftFftPlan const&) = delete;
    ~DftFftPlan();

    //! (Re)makes the plan when `plan`'s kind, n, batch or io type (dftIoType of `dtype`) differ
    //! from the current one. A 16-bit plan cuFFT refuses (a GPU without its 16-bit transforms)
    //! falls back to float32.
    cudaError_t prepare(DftPlan const& plan, DType dtype) noexcept;
    //! Bytes of work area the current plan needs (after prepare).
    size_t workBytes() const noexcept { return mWorkBytes; }
    int handle() const noexcept { return mHandle; }
    //! What the current plan reads and writes (float32, or the tensors' 16-bit type).
    DType ioType() const noexcept { return mIo; }

private:
    void release() noexcept;
    int mHandle{-1};
    DftKind mKind{DftKind::kC2C};
    int64_t mN{0};
    int64_t mBatch{0};
    DType mIo{DType::kFLOAT32};     //!< what the plan reads and writes
    DType mWanted{DType::kFLOAT32}; //!< dftIoType's choice it was made for (mIo unless cuFFT refused)
    size_t mWorkBytes{0};
};

//! The float32 copies a launch makes around cuFFT: the packed input unless cuFFT reads x as it is,
//! the spectrum unless cuFFT writes y as it is. Both where a caller cannot know (dynamic shapes).
struct DftCopies
{
    bool packed{true};
    bool spectrum{true};
};

//! The copies of `plan` in `dtype` on a cuFFT plan reading and writing `io` (DftFftPlan::ioType:
//! a 16-bit plan makes none; float32 ones skip them for contiguous float32 signals and spectra).
DftCopies dftCopies(DftPlan const& plan, DType dtype, DType io) noexcept;

//! Bytes of the float32 copies `copies` names plus `fftWork` (cuFFT's work area), aligned.
size_t dftWorkspaceBytes(DftPlan const& plan, DftCopies copies, size_t fftWork) noexcept;

//! cuFFT's work area for `plan` in `dtype` without keeping a plan (for workspace sizes at build
//! time); `io` gets the type the plan reads and writes (dftIoType's, or float32 where cuFFT
//! refused the 16-bit plan).
size_t dftFftWorkBytes(DftPlan const& plan, DType dtype, DType& io) noexcept;

//! The work area alone, where the plan's type does not matter (a float32 plan's is always float32).
inline size_t dftFftWorkBytes(DftPlan const& plan, DType dtype) noexcept
{
    DType io{};
    return dftFftWorkBytes(plan, dtype, io);
}

//! Whether this build has cuFFT (without it launchDft returns cudaErrorNotSupported).
bool dftAvailable() noexcept;

//! y = DFT(x): pack (cut/pad to n, to float32) -> cuFFT on `stream` -> unpack (1 / n for the
//! inverse, the conjugate mirror for a full R2C spectrum, cast to the output type). `fft` must be
//! prepared for `plan` and `dtype`; `workspace` holds dftWorkspaceBytes(plan, dftCopies(plan,
//! dtype, fft.ioType()), fft.workBytes()). A 16-bit plan (fft.ioType() != float32) transforms x
//! into y directly. STFT plans (frameStep > 0) read frames of x, each sample times `window` (x's
//! type; null = ones).
cudaError_t launchDft(DType dtype, DftPlan const& plan, DftFftPlan const& fft, void const* x, void* y,
    void* workspace, cudaStream_t stream, void const* window = nullptr) noexcept;

} // namespace trtplug

// The DFT's cuFFT plans (see dft.h): which type a transform runs in (float32, or cuFFT's 16-bit
// transforms where the tensors take them as they are), the plan made once per shape without a
// work area of its own, and its work area's size for build time. dft.cu launches them.
#include "dft/dft.h"
#include "dft/dft_cufft.h"

#include <cstdlib>
#include <cstring>

namespace trtplug
{
namespace
{

bool powerOfTwo(int64_t n) noexcept
{
    return n >= 2 && (n & (n - 1)) == 0;
}

//! cuFFT's 16-bit transforms: power-of-two lengths, at most 4 billion elements (cuFFT's guide).
constexpr int64_t kMax16BitElements = int64_t(1) << 32;

//! Whether 16-bit tensors of `dtype` take cuFFT's 16-bit transforms: TRTPLUG_DFT_16BIT=1 / =0 (read
//! per plan) for both types, else bf16 yes and fp16 no. Measured on the GPU (H100, n = 4096): bf16
//! plans hold the bf16 tolerance, while fp16 plans, whose stages round to fp16, miss the fp16 one
//! (0.38 off where 0.05 + 0.002 |y| is allowed: torch.fft's fp16 accuracy, not the float32
//! transform rounded once that the fp32 path gives).
bool sixteenBitAllowed(DType dtype) noexcept
{
    char const* choice = std::getenv("TRTPLUG_DFT_16BIT");
    return choice == nullptr ? dtype == DType::kBFLOAT16 : std::strcmp(choice, "0") != 0;
}

#if TRTPLUG_HAVE_CUFFT
cufftType fftType(DftKind kind) noexcept
{
    return kind == DftKind::kR2C ? CUFFT_R2C : (kind == DftKind::kC2R ? CUFFT_C2R : CUFFT_C2C);
}

//! cuFFT's float16 / bfloat16 plan of `p` (forward R2C or C2C, basic layout).
cufftResult make16BitPlan(cufftHandle h, DftPlan const& p, DType io, size_t& work) noexcept
{
    long long n = p.n;
    cudaDataType const complex = io == DType::kFLOAT16 ? CUDA_C_16F : CUDA_C_16BF;
    cudaDataType const in = p.kind == DftKind::kR2C ? (io == DType::kFLOAT16 ? CUDA_R_16F : CUDA_R_16BF) : complex;
    return cufftXtMakePlanMany(h, 1, &n, nullptr, 1, 0, in, nullptr, 1, 0, complex, p.batch(), &work, complex);
}

//! A plan reading and writing `io` (dftIoType's) without a work area of its own; `work` gets the
//! bytes it needs, `made` cuFFT's answer. -1 on failure.
cufftHandle makePlan(DftPlan const& p, DType io, size_t& work, cufftResult& made) noexcept
{
    cufftHandle h = 0;
    if ((made = cufftCreate(&h)) != CUFFT_SUCCESS)
    {
        return -1;
    }
    long long n = p.n;
    made = cufftSetAutoAllocation(h, 0) != CUFFT_SUCCESS
        ? CUFFT_INTERNAL_ERROR
        : io != DType::kFLOAT32
        ? make16BitPlan(h, p, io, work)
        : cufftMakePlanMany64(h, 1, &n, nullptr, 1, 0, nullptr, 1, 0, fftType(p.kind), p.batch(), &work);
    if (made != CUFFT_SUCCESS)
    {
        cufftDestroy(h);
        return -1;
    }
    return h;
}

//! The plan of `p` in `dtype`: dftIoType's, or float32 where cuFFT cannot make the 16-bit one on
//! this GPU (`io` says which). Not where it ran out of memory: a plan that fell back then at run
//! time would need the float32 copies a static shape's workspace left out at build time. -1 on
//! failure.
cufftHandle makeFittingPlan(DftPlan const& p, DType dtype, size_t& work, DType& io) noexcept
{
    io = dftIoType(p, dtype);
    cufftResult made = CUFFT_SUCCESS;
    cufftHandle const h = makePlan(p, io, work, made);
    if (h >= 0 || io == DType::kFLOAT32 || made == CUFFT_ALLOC_FAILED)
    {
        return h;
    }
    io = DType::kFLOAT32;
    return makePlan(p, io, work, made);
}
#endif

} // namespace

bool dftAvailable() noexcept
{
    return TRTPLUG_HAVE_CUFFT != 0;
}

DType dftIoType(DftPlan const& p, DType dtype) noexcept
{
    bool const sixteen = (dtype == DType::kFLOAT16 || dtype == DType::kBFLOAT16) && sixteenBitAllowed(dtype);
    bool const plain = p.frameStep == 0 && p.inner == 1 && !p.inverse && p.inLen == p.n && powerOfTwo(p.n)
        && p.batch() <= kMax16BitElements / p.n;
    bool const ownLayout = (p.kind == DftKind::kR2C && p.inComps == 1 && p.outLen == p.n / 2 + 1)
        || (p.kind == DftKind::kC2C && p.inComps == 2 && p.outLen == p.n);
    return sixteen && plain && ownLayout ? dtype : DType::kFLOAT32;
}

DftFftPlan::~DftFftPlan()
{
    release();
}

void DftFftPlan::release() noexcept
{
#if TRTPLUG_HAVE_CUFFT
    if (mHandle >= 0)
    {
        cufftDestroy(mHandle);
    }
#endif
    mHandle = -1;
    mWorkBytes = 0;
}

cudaError_t DftFftPlan::prepare(DftPlan const& plan, DType dtype) noexcept
{
    if (plan.batch() == 0 || plan.n == 0)
    {
        return cudaSuccess; // nothing to transform
    }
    DType const wanted = dftIoType(plan, dtype);
    if (mHandle >= 0 && mKind == plan.kind && mN == plan.n && mBatch == plan.batch() && mWanted == wanted)
    {
        return cudaSuccess;
    }
    release();
#if TRTPLUG_HAVE_CUFFT
    mHandle = makeFittingPlan(plan, dtype, mWorkBytes, mIo);
    mKind = plan.kind;
    mN = plan.n;
    mBatch = plan.batch();
    mWanted = wanted;
    return mHandle >= 0 ? cudaSuccess : cudaErrorMemoryAllocation;
#else
    return cudaErrorNotSupported;
#endif
}

size_t dftFftWorkBytes(DftPlan const& plan, DType dtype, DType& io) noexcept
{
    io = DType::kFLOAT32;
#if TRTPLUG_HAVE_CUFFT
    size_t work = 0;
    if (plan.batch() == 0 || plan.n == 0)
    {
        return 0;
    }
    cufftHandle const h = makeFittingPlan(plan, dtype, work, io);
    if (h >= 0)
    {
        cufftDestroy(h);
    }
    return work;
#else
    (void) dtype;
    return 0;
#endif
}

} // namespace trtplug

// STFT binding (common/op_binding.h): signal and the optional window; frame_step and frame_length
// come as fields (the rewrite folds the constant inputs). Runs the DFT launcher on an STFT plan.
#include "common/op_binding.h"
#include "dft/dft.h"
#include "stft/op_glue.h"

//! output = STFT(signal, window). The cuFFT plan lives across calls (remade when the frame
//! count, length or kind change); scratch: `workspace` when given, else stream-ordered memory.
TRTPLUG_OP_BINDING(stft)
{
    using namespace trtplug;
    thread_local DftFftPlan& fft = *new DftFftPlan(); // never destroyed: no cufftDestroy after CUDA's teardown
    DeviceArray const& xa = call.in(0);
    DeviceArray const* window = call.inOrNull(1); // signal, window (frame_step/frame_length are fields)
    DeviceArray const& ya = call.out(0);
    call.check(dftAvailable(), "this build has no cuFFT (the CUDA toolkit's libcufft)");
    call.check(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16 || xa.dtype == DType::kBFLOAT16,
        std::string("signal must be float32, float16 or bfloat16, got ") + dtypeName(xa.dtype));
    call.check(ya.dtype == xa.dtype, "output must have signal's dtype");
    call.check(window == nullptr || (window->dtype == xa.dtype && window->shape.size() == 1),
        "window must be 1-D with signal's dtype");
    DftPlan plan{};
    std::string problem = planStft(plan, shapeOf(xa, "signal"), call.params.frame_step, call.params.frame_length,
        window != nullptr ? window->shape[0] : 0, call.params.onesided != 0);
    call.check(problem.empty(), problem);
    problem = checkDftOutput(plan, shapeOf(ya, "output"));
    call.check(problem.empty(), problem);
    checkCuda(fft.prepare(plan, xa.dtype), "cuFFT plan");
    size_t const bytes = dftWorkspaceBytes(plan, dftCopies(plan, xa.dtype, fft.ioType()), fft.workBytes());
    CallScratch const scratch(call, bytes, "this STFT needs");
    void* const scratchPtr = scratch.get();
    void const* windowPtr = window != nullptr ? reinterpret_cast<void const*>(window->ptr) : nullptr;
    checkCuda(launchDft(xa.dtype, plan, fft, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr),
                  scratchPtr, call.stream, windowPtr),
        "stft");
}

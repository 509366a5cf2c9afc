// DFT bindings (common/op_binding.h): one per member (opset 17, 20) over one body. dft_length and
// axis come as fields (the rewrite folds the constant inputs); their inputs are not read.
#include "common/op_binding.h"
#include "dft/dft.h"
#include "dft/op_glue.h"

namespace
{

template <class Params>
trtplug::DftFields fieldsOf(Params const& p)
{
    return {p.axis, p.dft_length, p.inverse != 0, p.onesided != 0};
}

//! y = DFT(x). The cuFFT plan lives across calls (made again only when kind, n or batch change),
//! as the plugin's does between shape changes; scratch: `workspace` when given, else
//! stream-ordered memory for the call.
template <class Params>
void runDft(trtplug::OpCall<Params> const& call)
{
    using namespace trtplug;
    thread_local DftFftPlan& fft = *new DftFftPlan(); // never destroyed: no cufftDestroy after CUDA's teardown
    DeviceArray const& xa = call.in(0);
    DeviceArray const& ya = call.out(0);
    call.check(dftAvailable(), "this build has no cuFFT (the CUDA toolkit's libcufft)");
    call.check(xa.dtype == DType::kFLOAT32 || xa.dtype == DType::kFLOAT16 || xa.dtype == DType::kBFLOAT16,
        std::string("input must be float32, float16 or bfloat16, got ") + dtypeName(xa.dtype));
    call.check(ya.dtype == xa.dtype, "output must have input's dtype");
    DftPlan plan{};
    std::string problem = planDft(plan, shapeOf(xa, "input"), fieldsOf(call.params));
    call.check(problem.empty(), problem);
    problem = checkDftOutput(plan, shapeOf(ya, "output"));
    call.check(problem.empty(), problem);
    checkCuda(fft.prepare(plan, xa.dtype), "cuFFT plan");
    size_t const bytes = dftWorkspaceBytes(plan, dftCopies(plan, xa.dtype, fft.ioType()), fft.workBytes());
    CallScratch const scratch(call, bytes, "this DFT needs");
    void* const scratchPtr = scratch.get();
    checkCuda(launchDft(xa.dtype, plan, fft, reinterpret_cast<void const*>(xa.ptr), reinterpret_cast<void*>(ya.ptr),
                  scratchPtr, call.stream),
        call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(dft_17)
{
    runDft(call);
}

TRTPLUG_OP_BINDING(dft_20)
{
    runDft(call);
}

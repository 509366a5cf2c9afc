// LinearAttentionGate binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes
// named, checked and parsed by the generated glue (linear_attention_gate/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "linear_attention_gate/linear_attention_gate.h"
#include "linear_attention_gate/op_glue.h"

//! LinearAttentionGate into decay (and beta when num_outputs is 2): dtype and shape checks, then the launch.
TRTPLUG_OP_BINDING(linear_attention_gate)
{
    using namespace trtplug;
    DeviceArray const& a = call.in(0);
    DeviceArray const& dtBias = call.in(1);
    DeviceArray const& decayScale = call.in(2);
    DeviceArray const* b = call.hasIn(3) ? &call.in(3) : nullptr;
    DeviceArray const& decay = call.out(0);
    DeviceArray const* beta = call.params.num_outputs > 1 && call.hasOut(1) ? &call.out(1) : nullptr;
    call.check(a.dtype == DType::kFLOAT32 || a.dtype == DType::kFLOAT16 || a.dtype == DType::kBFLOAT16,
        std::string("a must be float32, float16 or bfloat16, got ") + dtypeName(a.dtype));
    call.check(dtBias.dtype == DType::kFLOAT32 && decayScale.dtype == DType::kFLOAT32,
        "dt_bias and decay_scale must be float32");
    call.check(b == nullptr || b->dtype == a.dtype, "b must have a's dtype");
    call.check(decay.dtype == a.dtype && decay.shape == a.shape, "decay must have a's dtype and shape");
    call.check(beta == nullptr || (beta->dtype == a.dtype && beta->shape == a.shape), "beta must have a's dtype and shape");
    call.check(call.params.num_outputs == 1 || beta != nullptr, "num_outputs 2 needs the beta output");
    LinearAttentionGateArgs args;
    TensorShape const bDims = b != nullptr ? shapeOf(*b, "b") : TensorShape{};
    std::string const problem = linearAttentionGateShapes(args, shapeOf(a, "a"), shapeOf(dtBias, "dt_bias"),
        shapeOf(decayScale, "decay_scale"), b != nullptr ? &bDims : nullptr, beta != nullptr);
    call.check(problem.empty(), problem);
    args.dtype = a.dtype;
    args.a = reinterpret_cast<void const*>(a.ptr);
    args.dtBias = reinterpret_cast<float const*>(dtBias.ptr);
    args.decayScale = reinterpret_cast<float const*>(decayScale.ptr);
    args.b = b != nullptr ? reinterpret_cast<void const*>(b->ptr) : nullptr;
    args.decay = reinterpret_cast<void*>(decay.ptr);
    args.beta = beta != nullptr ? reinterpret_cast<void*>(beta->ptr) : nullptr;
    checkCuda(launchLinearAttentionGate(args, call.stream), "linear_attention_gate");
}

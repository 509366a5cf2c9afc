// The RotaryEmbedding family's bindings: one per member over one body.
#include "common/op_binding.h"
#include "rotary_embedding/members.h"

namespace
{

template <class Params>
void runRotaryMember(trtplug::OpCall<Params> const& call)
{
    using namespace trtplug;
    RotaryInputIndex const idx = rotaryInputs(call.params);
    DeviceArray const& x = call.in(idx.x);
    DeviceArray const& cos = call.in(idx.cos);
    DeviceArray const& sin = call.in(idx.sin);
    DeviceArray const* positions = call.inOrNull(idx.positions);
    DeviceArray const& y = call.out(0);
    call.check(x.dtype == DType::kFLOAT32 || x.dtype == DType::kFLOAT16 || x.dtype == DType::kBFLOAT16,
        "input must be float32, float16 or bfloat16");
    call.check(cos.dtype == x.dtype && sin.dtype == x.dtype, "cos_cache and sin_cache must have the input's dtype");
    call.check(cos.shape == sin.shape, "cos_cache and sin_cache must have one shape");
    call.check(y.dtype == x.dtype && y.shape == x.shape, "output must have the input's dtype and shape");
    call.check(positions == nullptr || positions->dtype == DType::kINT64, "position_ids must be int64");
    RotaryEmbeddingShapes shapes;
    shapes.rank = static_cast<int32_t>(x.shape.size());
    shapes.input = x.shape.data();
    shapes.cosRank = static_cast<int32_t>(cos.shape.size());
    shapes.cos = cos.shape.data();
    shapes.posRank = positions != nullptr ? static_cast<int32_t>(positions->shape.size()) : 0;
    shapes.pos = positions != nullptr ? positions->shape.data() : nullptr;
    RotaryProblem p;
    std::string const problem = setRotaryEmbeddingGeometry(p, shapes, rotaryAttrs(call.params));
    call.check(problem.empty(), problem);
    auto const ptr = [](DeviceArray const& a) { return reinterpret_cast<void const*>(a.ptr); };
    checkCuda(launchRotaryEmbedding(p, x.dtype, ptr(x), reinterpret_cast<void*>(y.ptr), ptr(cos), ptr(sin),
                  positions != nullptr ? reinterpret_cast<int64_t const*>(positions->ptr) : nullptr, call.stream),
        call.op.c_str());
}

} // namespace

TRTPLUG_OP_BINDING(contrib_rotary_embedding)
{
    runRotaryMember(call);
}

TRTPLUG_OP_BINDING(mrotary_embedding)
{
    runRotaryMember(call);
}

TRTPLUG_OP_BINDING(onnx_rotary_embedding)
{
    runRotaryMember(call);
}

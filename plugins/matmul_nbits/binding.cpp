// MatMulNBits binding: trtplug's one convention (common/op_binding.h), inputs/outputs/attributes
// named, checked and parsed by the generated glue (matmul_nbits/op_glue.h, from the spec).
#include "common/op_binding.h"
#include "matmul_nbits/matmul_nbits.h"
#include "matmul_nbits/op_glue.h"

namespace
{

using trtplug::DType;

bool isFloat(DType t)
{
    return t == DType::kFLOAT32 || t == DType::kFLOAT16 || t == DType::kBFLOAT16;
}

//! Shape of an optional input as given (an empty array keeps its shape, which the checks read).
trtplug::TensorShape shapeIfGiven(trtplug::DeviceArray const* a, char const* name)
{
    return a != nullptr ? trtplug::shapeOf(*a, name) : trtplug::TensorShape{};
}

} // namespace

//! Y = A @ dequant(B)^T (+ bias). Scratch (large M): `workspace` (a device array of at least
//! matmul_nbits_workspace_bytes, as TensorRT hands the plugin), or stream-ordered memory.
TRTPLUG_OP_BINDING(matmul_nbits)
{
    using namespace trtplug;
    DeviceArray const& a = call.in(0);
    DeviceArray const* zp = call.inOrNull(3);
    DeviceArray const* gIdx = call.inOrNull(4);
    DeviceArray const* bias = call.inOrNull(5);
    DeviceArray const& y = call.out(0);
    call.check(isFloat(a.dtype), std::string("A must be float32, float16 or bfloat16, got ") + dtypeName(a.dtype));
    call.check(call.in(1).dtype == DType::kUINT8, std::string("B must be uint8, got ") + dtypeName(call.in(1).dtype));
    call.check(call.in(2).dtype == a.dtype, "scales must have A's dtype");
    bool const packed = zp == nullptr || zp->dtype == DType::kUINT8;
    call.check(packed || zp->dtype == a.dtype, "zero_points must be uint8 or have A's dtype");
    call.check(gIdx == nullptr || gIdx->dtype == DType::kINT32, "g_idx must be int32");
    call.check(bias == nullptr || bias->dtype == a.dtype, "bias must have A's dtype");
    call.check(y.dtype == a.dtype, "Y must have A's dtype");
    NBitsShapes const shapes{shapeOf(a, "A"), shapeOf(call.in(1), "B"), shapeOf(call.in(2), "scales"),
        shapeIfGiven(zp, "zero_points"), shapeIfGiven(gIdx, "g_idx"), shapeIfGiven(bias, "bias"), shapeOf(y, "Y")};
    NBitsProblem p{};
    std::string const problem = nbitsCheckShapes(call.params, shapes, packed, p);
    call.check(problem.empty(), problem);
    p.a = reinterpret_cast<void const*>(a.ptr);
    p.b = reinterpret_cast<uint8_t const*>(call.in(1).ptr);
    p.scales = reinterpret_cast<void const*>(call.in(2).ptr);
    p.zeroPoints = optionalPtr(zp);
    p.gIdx = static_cast<int32_t const*>(optionalPtr(gIdx));
    p.bias = optionalPtr(bias);
    p.y = reinterpret_cast<void*>(y.ptr);
    size_t const bytes = nbitsWorkspaceBytes(a.dtype, p.m, p.n, p.k);
    CallScratch const scratch(call, bytes, "matmul_nbits_workspace_bytes gives");
    void* const scratchPtr = scratch.get();
    checkCuda(launchMatMulNBits(a.dtype, p, scratchPtr, bytes, call.stream), "matmul_nbits");
}

namespace
{

size_t workspaceBytes(std::string const& dtype, int64_t m, int64_t n, int64_t k)
{
    return trtplug::nbitsWorkspaceBytes(trtplug::dtypeFromName(dtype), m, n, k);
}

} // namespace

TRTPLUG_BINDING_HELPERS(matmul_nbits)
{
    using namespace pybind11::literals;
    m.def("matmul_nbits_workspace_bytes", &workspaceBytes,
        "scratch bytes matmul_nbits needs for m rows of A (0: the GEMV path)", "dtype"_a, "m"_a, "n"_a, "k"_a);
}

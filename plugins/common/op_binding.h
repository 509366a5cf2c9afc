// The one binding convention: every op is exposed as
//     trtplug._native.<key>(inputs, outputs, attrs={}, stream=None, workspace=None)
// with the op's ONNX inputs in spec order, less those the spec folds into fields (STFT's frame_step:
// the plugin's inputs; None or a shorter list for absent optional ones), its
// outputs then its size tensors (0-D int32 device arrays the op writes its data-dependent extents
// into), the ONNX attributes as a dict and a CUDA stream. The tensor names, optionality, Params,
// defaults and value rules all come from the op's generated glue (<key>/op_glue.h), so a binding
// body only checks shapes/dtypes and launches:
//
//     TRTPLUG_OP_BINDING(gelu)
//     {
//         ... call.in(0), call.out(0), call.params, call.stream ...
//     }
#pragma once

#include "common/binding.h"
#include "common/binding_params.h"
#include "common/stream_scratch.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace trtplug
{

//! One call of an op's binding, checked against its spec: every required tensor is present.
template <class Params>
struct OpCall
{
    std::string op;
    std::vector<std::optional<DeviceArray>> inputs;
    std::vector<std::optional<DeviceArray>> outputs;
    Params params{};
    cudaStream_t stream{nullptr};
    pybind11::handle workspace; //!< None, or caller-provided scratch (a device array)

    bool hasIn(size_t i) const { return i < inputs.size() && inputs[i].has_value(); }
    bool hasOut(size_t i) const { return i < outputs.size() && outputs[i].has_value(); }
    //! Input i (the glue guarantees required ones are present; optional ones: check hasIn first).
    DeviceArray const& in(size_t i) const
    {
        require(hasIn(i), op + ": input " + std::to_string(i) + " is absent");
        return *inputs[i];
    }
    //! Input i, or nullptr when it is absent.
    DeviceArray const* inOrNull(size_t i) const { return hasIn(i) ? &*inputs[i] : nullptr; }
    DeviceArray const* outOrNull(size_t i) const { return hasOut(i) ? &*outputs[i] : nullptr; }
    DeviceArray const& out(size_t i) const
    {
        require(hasOut(i), op + ": output " + std::to_string(i) + " is absent");
        return *outputs[i];
    }
    //! Raises ValueError "<op>: <message>" unless ok.
    void check(bool ok, std::string const& message) const { require(ok, op + ": " + message); }
};

//! The scratch one launch needs: the caller's `workspace=` device array (as TensorRT hands a plugin
//! its workspace), checked to hold `bytes`, or else stream-ordered memory freed after the launch.
//! `needs` ends the error for one too small: "workspace smaller than the N bytes <needs>".
class CallScratch
{
public:
    template <class Params>
    CallScratch(OpCall<Params> const& call, size_t bytes, std::string const& needs)
        : mOwned(call.workspace.is_none() ? bytes : 0, call.stream)
        , mPtr(mOwned.get())
    {
        if (!call.workspace.is_none())
        {
            DeviceArray const wa = toDeviceArray(call.workspace, "workspace", true);
            call.check(static_cast<size_t>(wa.size) * dtypeSize(wa.dtype) >= bytes,
                "workspace smaller than the " + std::to_string(bytes) + " bytes " + needs);
            mPtr = reinterpret_cast<void*>(wa.ptr);
        }
    }

    void* get() const noexcept { return mPtr; }

private:
    StreamScratch mOwned;
    void* mPtr;
};

//! Device arrays for `objs` (a list/tuple; None entries are absent), named and checked against
//! the spec's names/optionality: no more than the spec has, every required one present. With
//! variadicMax > 0 the last name is a variadic input taking variadicMin..variadicMax arrays (none
//! absent), named "<name>[k]"; the result then has one entry per array given.
template <size_t N>
std::vector<std::optional<DeviceArray>> opArrays(std::string const& op, pybind11::handle objs,
    char const* const (&names)[N], bool const (&optional)[N], bool writable, char const* what,
    int32_t variadicMin = 0, int32_t variadicMax = 0)
{
    require(pybind11::isinstance<pybind11::sequence>(objs) && !pybind11::isinstance<pybind11::str>(objs),
        op + ": " + what + " must be a list of arrays");
    auto const seq = pybind11::reinterpret_borrow<pybind11::sequence>(objs);
    bool const variadic = variadicMax > 0;
    size_t const fixed = variadic ? N - 1 : N;
    size_t const most = fixed + static_cast<size_t>(variadicMax);
    require(seq.size() <= most,
        op + ": " + std::to_string(seq.size()) + " " + what + " given, the op " + (variadic ? "takes at most " : "has ")
            + std::to_string(most));
    size_t const count = variadic ? std::max(seq.size(), fixed + static_cast<size_t>(variadicMin)) : N;
    std::vector<std::optional<DeviceArray>> arrays(count);
    for (size_t i = 0; i < count; ++i)
    {
        bool const inVariadic = i >= fixed;
        std::string const name
            = inVariadic ? std::string(names[N - 1]) + "[" + std::to_string(i - fixed) + "]" : std::string(names[i]);
        bool const given = i < seq.size() && !seq[i].is_none();
        require(given || (!inVariadic && optional[i]), op + ": " + what + " '" + name + "' is required");
        if (given)
        {
            arrays[i] = toDeviceArray(seq[i], name.c_str(), writable);
        }
    }
    return arrays;
}

//! Parses one call through the op's generated glue (glue_<key>::Glue): arrays, Params from attrs, validate().
template <class Glue>
OpCall<typename Glue::Params> parseOpCall(char const* op, pybind11::handle inputs, pybind11::handle outputs,
    pybind11::dict const& attrs, pybind11::handle stream, pybind11::handle workspace)
{
    OpCall<typename Glue::Params> call;
    call.op = op;
    call.inputs = opArrays(
        call.op, inputs, Glue::kInputNames, Glue::kInputOptional, false, "inputs", Glue::kVariadicMin, Glue::kVariadicMax);
    call.outputs = opArrays(call.op, outputs, Glue::kOutputNames, Glue::kOutputOptional, true, "outputs");
    call.params = paramsFromDict<typename Glue::Params>(attrs, op);
    std::string const problem = Glue::validate(call.params);
    require(problem.empty(), call.op + ": " + problem);
    call.stream = toStream(stream);
    call.workspace = workspace;
    return call;
}

//! Adds `op` to the module with the convention above; `run` does the op's checks and launch.
template <class Glue>
void defineOp(pybind11::module_& m, char const* op, void (*run)(OpCall<typename Glue::Params> const&))
{
    using namespace pybind11::literals;
    static std::string const doc
        = std::string(Glue::kSummary) + " (inputs, outputs: lists of CUDA arrays; attrs: the ONNX attributes)";
    m.def(
        op,
        [op, run](pybind11::handle inputs, pybind11::handle outputs, pybind11::dict const& attrs,
            pybind11::handle stream, pybind11::handle workspace) {
            run(parseOpCall<Glue>(op, inputs, outputs, attrs, stream, workspace));
        },
        doc.c_str(),
        "inputs"_a, "outputs"_a, "attrs"_a = pybind11::dict(), "stream"_a = pybind11::none(),
        "workspace"_a = pybind11::none());
}

} // namespace trtplug

//! Defines op `key`'s binding body; `call` is its checked OpCall (include "<key>/op_glue.h" first).
#define TRTPLUG_OP_BINDING(key)                                                                                        \
    static void trtplugRun_##key(::trtplug::OpCall<::trtplug::glue_##key::Params> const& call);                       \
    TRTPLUG_BINDING(key)                                                                                               \
    {                                                                                                                  \
        ::trtplug::defineOp<::trtplug::glue_##key::Glue>(m, #key, &trtplugRun_##key);                                 \
    }                                                                                                                  \
    static void trtplugRun_##key(::trtplug::OpCall<::trtplug::glue_##key::Params> const& call)

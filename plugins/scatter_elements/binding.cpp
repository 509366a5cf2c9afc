#include "common/scatter_binding.h"
#include "scatter_elements/scatter_elements.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void scatterElementsArrays(py::handle data, py::handle indices, py::handle updates, py::handle out, int axis,
    std::string const& reduction, py::handle stream)
{
    using namespace trtplug;
    auto const [d, i, u, o, r] = scatterOperands(data, indices, updates, out, reduction, "scatter_elements");
    require(i.shape == u.shape, "scatter_elements: indices must have updates' shape");
    auto const rank = static_cast<int32_t>(d.shape.size());
    require(u.shape.size() == d.shape.size() && rank >= 1 && rank <= kScatterMaxRank,
        "scatter_elements: updates must have data's rank (1..8)");
    require(axis >= -rank && axis < rank, "scatter_elements: axis out of range");
    checkCuda(launchScatterElements(d.dtype, reinterpret_cast<void const*>(d.ptr),
                  reinterpret_cast<int64_t const*>(i.ptr), reinterpret_cast<void const*>(u.ptr),
                  reinterpret_cast<void*>(o.ptr), rank, d.shape.data(), u.shape.data(), axis < 0 ? axis + rank : axis,
                  r, toStream(stream)),
        "scatter_elements");
}

} // namespace

TRTPLUG_BINDING(scatter_elements)
{
    m.def("scatter_elements", &scatterElementsArrays, "ScatterElements into out (CUDA arrays; out may be data)",
        "data"_a, "indices"_a, "updates"_a, "out"_a, "axis"_a = 0, "reduction"_a = "none", "stream"_a = py::none());
}

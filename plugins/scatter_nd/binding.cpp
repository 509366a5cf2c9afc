#include "common/scatter_binding.h"
#include "scatter_nd/scatter_nd.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace
{

void scatterNDArrays(py::handle data, py::handle indices, py::handle updates, py::handle out,
    std::string const& reduction, py::handle stream)
{
    using namespace trtplug;
    auto const [d, i, u, o, r] = scatterOperands(data, indices, updates, out, reduction, "scatter_nd");
    require(!i.shape.empty(), "scatter_nd: indices must have rank >= 1");
    int64_t const k = i.shape.back();
    require(k >= 1 && k <= static_cast<int64_t>(d.shape.size()) && d.shape.size() <= kScatterNDMaxRank,
        "scatter_nd: indices.shape[-1] must be in 1..rank(data) (rank <= 8)");
    std::vector<int64_t> expected(i.shape.begin(), i.shape.end() - 1);
    expected.insert(expected.end(), d.shape.begin() + k, d.shape.end());
    require(u.shape == expected, "scatter_nd: updates must have shape indices.shape[:-1] + data.shape[k:]");
    checkCuda(launchScatterND(d.dtype, reinterpret_cast<void const*>(d.ptr), reinterpret_cast<int64_t const*>(i.ptr),
                  reinterpret_cast<void const*>(u.ptr), reinterpret_cast<void*>(o.ptr),
                  static_cast<int32_t>(d.shape.size()), d.shape.data(), i.size / k, static_cast<int32_t>(k), r,
                  toStream(stream)),
        "scatter_nd");
}

} // namespace

TRTPLUG_BINDING(scatter_nd)
{
    m.def("scatter_nd", &scatterNDArrays, "ScatterND into out (CUDA arrays; out may be data)", "data"_a, "indices"_a,
        "updates"_a, "out"_a, "reduction"_a = "none", "stream"_a = py::none());
}

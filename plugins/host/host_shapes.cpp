// HostPlugin::concreteShapes: the output shapes getOutputShapes gives for concrete inputs, the
// way the builder evaluates them. A dim that is a declared size tensor (data-dependent, e.g.
// Unique's count) takes its upper bound, which is what TensorRT allocates; the plan records
// where such dims are so run() can read the actual extents back from the size tensors.
#include "host/host_plugin.h"

#include "host/expr_builder.h"

#include <pybind11/stl.h>

#include <stdexcept>

namespace py = pybind11;
using namespace nvinfer1;

namespace trtplug::host
{
namespace
{

DimsExprs constantExprs(HostExprBuilder& builder, std::vector<int64_t> const& values, char const* what, size_t i)
{
    require(values.size() <= static_cast<size_t>(Dims::MAX_DIMS),
        std::string(what) + " " + std::to_string(i) + ": more than 8 values");
    DimsExprs e{};
    e.nbDims = static_cast<int32_t>(values.size());
    for (int32_t j = 0; j < e.nbDims; ++j)
    {
        e.d[j] = builder.makeConstant(values[static_cast<size_t>(j)]);
    }
    return e;
}

//! The constant value of an expression the plugin returned, or throws naming where it is.
int64_t constantOf(HostExprBuilder const& builder, IDimensionExpr const* expr, std::string const& where)
{
    HostExpr const* e = builder.find(expr);
    if (e == nullptr || !e->constant())
    {
        throw std::runtime_error(where + " is not a constant for constant inputs"
            + (e != nullptr ? " (" + e->text() + ")" : std::string(" (not an expression of this builder)")));
    }
    return e->value();
}

} // namespace

std::vector<std::vector<int64_t>> shapeInputValues(py::object shapeInputs)
{
    std::vector<std::vector<int64_t>> values;
    if (!shapeInputs.is_none())
    {
        for (py::handle v : py::iter(shapeInputs))
        {
            values.push_back(v.cast<std::vector<int64_t>>());
        }
    }
    return values;
}

OutputPlan HostPlugin::concreteShapes(
    std::vector<Dims> const& inputs, std::vector<std::vector<int64_t>> const& shapeValues)
{
    HostExprBuilder builder;
    std::vector<DimsExprs> in;
    for (size_t i = 0; i < inputs.size(); ++i)
    {
        in.push_back(constantExprs(builder, std::vector<int64_t>(inputs[i].d, inputs[i].d + inputs[i].nbDims),
            "input", i));
    }
    // A shape input's DimsExprs holds its values (one per element), as TensorRT passes them.
    std::vector<DimsExprs> shapeIn;
    for (size_t i = 0; i < shapeValues.size(); ++i)
    {
        shapeIn.push_back(constantExprs(builder, shapeValues[i], "shape input", i));
    }
    DimsExprs unset{};
    unset.nbDims = -1;
    std::vector<DimsExprs> out(static_cast<size_t>(nbOutputs()), unset);
    size_t const mark = captureLogger().size();
    check(build()->getOutputShapes(in.data(), static_cast<int32_t>(in.size()),
              shapeIn.empty() ? nullptr : shapeIn.data(), static_cast<int32_t>(shapeIn.size()), out.data(),
              static_cast<int32_t>(out.size()), builder),
        "getOutputShapes", mark);
    for (auto const& e : builder.errors())
    {
        throw std::runtime_error(name() + "::getOutputShapes: " + e);
    }
    OutputPlan plan;
    for (size_t i = 0; i < out.size(); ++i)
    {
        std::string const where = name() + "::getOutputShapes: output " + std::to_string(i);
        require(out[i].nbDims >= 0 && out[i].nbDims <= Dims::MAX_DIMS, where + " has rank "
                + std::to_string(out[i].nbDims));
        Dims bound{};
        bound.nbDims = out[i].nbDims;
        for (int32_t j = 0; j < out[i].nbDims; ++j)
        {
            std::string const dim = where + " dim " + std::to_string(j);
            SizeTensorDecl const* size = builder.sizeTensorOf(builder.find(out[i].d[j]));
            if (size == nullptr)
            {
                bound.d[j] = constantOf(builder, out[i].d[j], dim);
                continue;
            }
            require(size->outputIndex >= 0 && size->outputIndex < nbOutputs()
                    && size->outputIndex != static_cast<int32_t>(i),
                dim + ": declareSizeTensor names output " + std::to_string(size->outputIndex));
            int64_t const upper = constantOf(builder, size->upperExpr, dim + " (size tensor upper bound)");
            int64_t const opt = constantOf(builder, size->optExpr, dim + " (size tensor opt)");
            plan.dataDependent.push_back({static_cast<int32_t>(i), j, size->outputIndex, opt, upper});
            bound.d[j] = upper;
        }
        plan.bounds.push_back(bound);
    }
    for (auto const& d : plan.dataDependent)
    {
        require(plan.bounds[static_cast<size_t>(d.sizeTensor)].nbDims == 0,
            name() + "::getOutputShapes: size tensor output " + std::to_string(d.sizeTensor) + " must be 0-D");
    }
    return plan;
}

py::list HostPlugin::outputBounds(py::sequence inputShapes, py::object shapeInputs)
{
    std::vector<Dims> inputs;
    for (size_t i = 0; i < py::len(inputShapes); ++i)
    {
        auto const values = py::cast<std::vector<int64_t>>(inputShapes[i]);
        require(values.size() <= static_cast<size_t>(Dims::MAX_DIMS), "input " + std::to_string(i) + ": rank above 8");
        Dims d{};
        d.nbDims = static_cast<int32_t>(values.size());
        std::copy(values.begin(), values.end(), d.d);
        inputs.push_back(d);
    }
    py::list shapes;
    for (auto const& d : concreteShapes(inputs, shapeInputValues(shapeInputs)).bounds)
    {
        shapes.append(py::tuple(py::cast(std::vector<int64_t>(d.d, d.d + d.nbDims))));
    }
    return shapes;
}

} // namespace trtplug::host

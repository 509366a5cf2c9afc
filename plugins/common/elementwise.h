// Arguments of the elementwise launchers "Y = act(X [+ bias]) [+ skip]" (Gelu, BiasGelu,
// FastGelu, QuickGelu, BiasAdd): plain pointers and counts, no TensorRT types, so the IPluginV3
// adapter and the pybind11 binding fill the same struct and call the same launcher.
#pragma once

#include "common/dtype.h"

#include <cstdint>

namespace trtplug
{

struct ElementwiseArgs
{
    void const* x{nullptr};    //!< n elements
    void const* bias{nullptr}; //!< biasLen elements broadcast along the last axis, or null
    void const* skip{nullptr}; //!< n elements added after the activation, or null
    void* y{nullptr};          //!< n elements
    int64_t n{0};
    int64_t biasLen{0}; //!< X's last dimension when bias is given (n is a multiple of it)
};

} // namespace trtplug

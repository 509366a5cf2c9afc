// Reductions of the ONNX scatter ops (ScatterND, ScatterElements), shared by their launchers and
// adapters; TensorRT- and CUDA-free.
#pragma once

#include <cstdint>
#include <cstring>

namespace trtplug
{

enum class ScatterReduction : int32_t
{
    kNONE = 0,
    kADD = 1,
    kMUL = 2,
    kMAX = 3,
    kMIN = 4,
};

//! "none", "add", "mul", "max", "min" (the ONNX attribute values); false for anything else.
inline bool scatterReductionFromName(char const* name, ScatterReduction& out) noexcept
{
    constexpr char const* kNames[] = {"none", "add", "mul", "max", "min"};
    for (int32_t i = 0; i < 5; ++i)
    {
        if (std::strcmp(name, kNames[i]) == 0)
        {
            out = static_cast<ScatterReduction>(i);
            return true;
        }
    }
    return false;
}

} // namespace trtplug

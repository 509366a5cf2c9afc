// Aliases of trtplug creators under ONNX op names, for TensorRT's plugin override
// (plugin_override.cpp says how and why).
#pragma once

#include <NvInferRuntime.h>

#include <string>
#include <vector>

namespace trtplug
{

constexpr char const* kOverrideEnv = "TRTPLUG_PLUGIN_OVERRIDE";

struct OverridePair
{
    std::string opType; //!< the ONNX op type the alias is named after
    std::string plugin; //!< the trtplug plugin it creates; empty when the item has no "=Plugin"
};

//! "A=B,C=D" -> pairs; empty items are skipped, malformed ones kept with an empty plugin.
std::vector<OverridePair> parseOverrideList(char const* text);

//! Appends an alias creator per pair of $TRTPLUG_PLUGIN_OVERRIDE to `creators` (the library's
//! own); a pair naming no trtplug plugin is logged and skipped.
void appendOverrideCreators(std::vector<nvinfer1::IPluginCreatorInterface*>& creators) noexcept;

} // namespace trtplug

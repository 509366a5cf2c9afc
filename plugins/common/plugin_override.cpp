// Plugin override (TensorRT >= 10.15, OnnxParserFlag::kENABLE_PLUGIN_OVERRIDE): with the flag set,
// the parser prefers a registered plugin named like an ONNX op type (empty namespace) to its own
// importer. The library exposes such aliases only for the pairs TRTPLUG_PLUGIN_OVERRIDE names,
// "OpType=PluginName[,...]" (`trtplug rewrite --plugin-override` prints the value), so loading
// it never changes how any other node imports. An alias delegates to the plugin's own creator: the
// plugin it creates keeps its trtplug identity, so engines deserialize through that creator.
#include "common/plugin_override.h"

#include "common/plugin_base.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace trtplug
{
namespace
{

class OverrideCreator final : public nvinfer1::IPluginCreatorV3One
{
public:
    OverrideCreator(std::string opType, nvinfer1::IPluginCreatorV3One* target)
        : mOpType(std::move(opType))
        , mTarget(target)
    {
    }

    char const* getPluginName() const noexcept override { return mOpType.c_str(); }
    char const* getPluginVersion() const noexcept override { return mTarget->getPluginVersion(); }
    char const* getPluginNamespace() const noexcept override { return ""; }
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override { return mTarget->getFieldNames(); }

    nvinfer1::IPluginV3* createPlugin(
        char const* name, nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase phase) noexcept override
    {
        return mTarget->createPlugin(name, fc, phase);
    }

private:
    std::string mOpType;
    nvinfer1::IPluginCreatorV3One* mTarget;
};

nvinfer1::IPluginCreatorV3One* creatorNamed(
    std::vector<nvinfer1::IPluginCreatorInterface*> const& creators, std::string const& plugin) noexcept
{
    for (auto* creator : creators)
    {
        // Every creator in this library is an IPluginCreatorV3One (CreatorBase).
        auto* v3 = static_cast<nvinfer1::IPluginCreatorV3One*>(creator);
        if (plugin == v3->getPluginName() && std::strcmp(v3->getPluginNamespace(), kPluginNamespace) == 0)
        {
            return v3;
        }
    }
    return nullptr;
}

} // namespace

std::vector<OverridePair> parseOverrideList(char const* text)
{
    std::vector<OverridePair> pairs;
    std::string const list = text == nullptr ? "" : text;
    size_t start = 0;
    while (start <= list.size())
    {
        size_t const end = std::min(list.find(',', start), list.size());
        std::string const item = list.substr(start, end - start);
        size_t const eq = item.find('=');
        if (!item.empty())
        {
            pairs.push_back(eq == std::string::npos || eq == 0 || eq + 1 == item.size()
                    ? OverridePair{item, ""}
                    : OverridePair{item.substr(0, eq), item.substr(eq + 1)});
        }
        start = end + 1;
    }
    return pairs;
}

void appendOverrideCreators(std::vector<nvinfer1::IPluginCreatorInterface*>& creators) noexcept
{
    try
    {
        static std::vector<std::unique_ptr<OverrideCreator>> aliases; // live as long as the library
        std::vector<nvinfer1::IPluginCreatorInterface*> const own = creators;
        for (OverridePair const& pair : parseOverrideList(std::getenv(kOverrideEnv)))
        {
            auto* target = pair.plugin.empty() ? nullptr : creatorNamed(own, pair.plugin);
            if (target == nullptr)
            {
                std::string const message = std::string(kOverrideEnv) + ": '" + pair.opType + "=" + pair.plugin
                    + "' names no trtplug plugin (expected OpType=PluginName); ignored";
                logMessage(nvinfer1::ILogger::Severity::kWARNING, message.c_str());
                continue;
            }
            aliases.push_back(std::make_unique<OverrideCreator>(pair.opType, target));
            creators.push_back(aliases.back().get());
        }
    }
    catch (...)
    {
        logMessage(nvinfer1::ILogger::Severity::kERROR, "trtplug: out of memory adding plugin override creators");
    }
}

} // namespace trtplug

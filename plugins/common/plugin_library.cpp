// libtrtplug_plugins.so entry points, as IPluginRegistry::loadLibrary and trtexec
// --staticPlugins expect them: setLoggerFinder and getCreators (C linkage, default visibility;
// everything else in the library is hidden). Creators add themselves through
// TRTPLUG_REGISTER_PLUGIN in each plugins/<op>/plugin.cpp.
#include "common/plugin_base.h"
#include "common/plugin_override.h"

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

namespace trtplug
{
namespace
{

std::atomic<nvinfer1::ILoggerFinder*> gLoggerFinder{nullptr};

std::vector<nvinfer1::IPluginCreatorInterface*>& creatorList() noexcept
{
    // Function-local so registration from other translation units' static initialisers is
    // safe regardless of initialisation order.
    static std::vector<nvinfer1::IPluginCreatorInterface*> creators;
    return creators;
}

char const* severityName(nvinfer1::ILogger::Severity severity) noexcept
{
    using S = nvinfer1::ILogger::Severity;
    switch (severity)
    {
    case S::kINTERNAL_ERROR: return "INTERNAL_ERROR";
    case S::kERROR: return "ERROR";
    case S::kWARNING: return "WARNING";
    case S::kINFO: return "INFO";
    case S::kVERBOSE: return "VERBOSE";
    }
    return "LOG";
}

} // namespace

int registerCreator(nvinfer1::IPluginCreatorInterface* creator) noexcept
{
    try
    {
        creatorList().push_back(creator);
    }
    catch (...)
    {
        std::fputs("trtplug: out of memory registering a plugin creator\n", stderr);
    }
    return 0;
}

void installLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept
{
    gLoggerFinder.store(finder);
}

void logMessage(nvinfer1::ILogger::Severity severity, char const* message) noexcept
{
    nvinfer1::ILoggerFinder* finder = gLoggerFinder.load();
    nvinfer1::ILogger* logger = nullptr;
    if (finder != nullptr)
    {
        try
        {
            logger = finder->findLogger(); // not noexcept in TensorRT's interface
        }
        catch (...)
        {
            logger = nullptr;
        }
    }
    if (logger != nullptr)
    {
        logger->log(severity, message);
    }
    else if (severity <= nvinfer1::ILogger::Severity::kWARNING)
    {
        std::fprintf(stderr, "[trtplug %s] %s\n", severityName(severity), message);
    }
}

void logError(char const* plugin, char const* method, char const* what) noexcept
{
    try
    {
        std::string const message = std::string(plugin) + "::" + method + ": " + what;
        logMessage(nvinfer1::ILogger::Severity::kERROR, message.c_str());
    }
    catch (...)
    {
        logMessage(nvinfer1::ILogger::Severity::kERROR, what);
    }
}

} // namespace trtplug

#define TRTPLUG_EXPORT extern "C" __attribute__((visibility("default")))

TRTPLUG_EXPORT void setLoggerFinder(nvinfer1::ILoggerFinder* finder)
{
    trtplug::installLoggerFinder(finder);
}

TRTPLUG_EXPORT nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators)
{
    auto& creators = trtplug::creatorList();
    // TensorRT calls this once per load; the aliases are added on the first call, after every
    // static initialiser has registered its creator.
    static bool const withOverrides = (trtplug::appendOverrideCreators(creators), true);
    static_cast<void>(withOverrides);
    nbCreators = static_cast<int32_t>(creators.size());
    return creators.data();
}

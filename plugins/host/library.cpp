// Loading a plugin library as IPluginRegistry::loadLibrary does (dlopen, setLoggerFinder,
// getCreators) and capturing what its plugins log.
#include "host/host.h"

#include <dlfcn.h>

#include <cstring>
#include <map>
#include <stdexcept>

namespace py = pybind11;

namespace trtplug::host
{
namespace
{

char const* severityName(nvinfer1::ILogger::Severity s)
{
    using S = nvinfer1::ILogger::Severity;
    switch (s)
    {
    case S::kINTERNAL_ERROR: return "internal_error";
    case S::kERROR: return "error";
    case S::kWARNING: return "warning";
    case S::kINFO: return "info";
    case S::kVERBOSE: return "verbose";
    }
    return "unknown";
}

class CaptureFinder final : public nvinfer1::ILoggerFinder
{
public:
    nvinfer1::ILogger* findLogger() override { return &captureLogger(); }
};

constexpr char const* kCreatorV3OneKind = "PLUGIN CREATOR_V3ONE";

} // namespace

void CaptureLogger::log(Severity severity, char const* msg) noexcept
{
    try
    {
        std::lock_guard<std::mutex> lock(mMutex);
        mMessages.emplace_back(severity, msg != nullptr ? msg : "");
    }
    catch (...) // a logger must not throw into the plugin
    {
    }
}

size_t CaptureLogger::size() const
{
    std::lock_guard<std::mutex> lock(mMutex);
    return mMessages.size();
}

std::vector<std::pair<std::string, std::string>> CaptureLogger::since(size_t from) const
{
    std::lock_guard<std::mutex> lock(mMutex);
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = from; i < mMessages.size(); ++i)
    {
        out.emplace_back(severityName(mMessages[i].first), mMessages[i].second);
    }
    return out;
}

void CaptureLogger::clear()
{
    std::lock_guard<std::mutex> lock(mMutex);
    mMessages.clear();
}

CaptureLogger& captureLogger()
{
    static CaptureLogger logger; // process lifetime: loaded libraries keep pointers to it
    return logger;
}

nvinfer1::ILoggerFinder* captureLoggerFinder()
{
    static CaptureFinder finder;
    return &finder;
}

std::string loggedSince(size_t from)
{
    std::string text;
    for (auto const& [severity, message] : captureLogger().since(from))
    {
        text += (text.empty() ? ": " : "; ") + message;
    }
    return text;
}

nvinfer1::IPluginCreatorV3One* Library::find(
    std::string const& name, std::string const& version, std::string const& ns) const noexcept
{
    for (auto* c : creators)
    {
        if (name == c->getPluginName() && version == c->getPluginVersion() && ns == c->getPluginNamespace())
        {
            return c;
        }
    }
    return nullptr;
}

std::shared_ptr<Library> loadLibrary(std::string const& path)
{
    // One Library per path: dlopen would hand back the same handle anyway.
    static std::map<std::string, std::shared_ptr<Library>> loaded;
    if (auto it = loaded.find(path); it != loaded.end())
    {
        return it->second;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
    {
        char const* why = dlerror();
        throw py::value_error("cannot load plugin library " + path + ": " + (why ? why : "unknown error"));
    }
    using GetCreators = nvinfer1::IPluginCreatorInterface* const* (*) (int32_t&);
    using SetLoggerFinder = void (*)(nvinfer1::ILoggerFinder*);
    auto getCreators = reinterpret_cast<GetCreators>(dlsym(handle, "getCreators"));
    auto setLoggerFinder = reinterpret_cast<SetLoggerFinder>(dlsym(handle, "setLoggerFinder"));
    if (getCreators == nullptr)
    {
        throw py::value_error(path + " does not export getCreators (not an IPluginV3 plugin library)");
    }
    if (setLoggerFinder != nullptr)
    {
        setLoggerFinder(captureLoggerFinder()); // before anything else, as TensorRT does
    }
    auto lib = std::make_shared<Library>();
    lib->path = path;
    lib->handle = handle;
    int32_t count = 0;
    nvinfer1::IPluginCreatorInterface* const* list = getCreators(count);
    for (int32_t i = 0; list != nullptr && i < count; ++i)
    {
        nvinfer1::InterfaceInfo const info = list[i]->getInterfaceInfo();
        if (info.kind != nullptr && std::strcmp(info.kind, kCreatorV3OneKind) == 0 && info.major == 1)
        {
            lib->creators.push_back(static_cast<nvinfer1::IPluginCreatorV3One*>(list[i]));
        }
        else
        {
            lib->otherCreators.emplace_back(info.kind != nullptr ? info.kind : "(null)");
        }
    }
    loaded[path] = lib;
    return lib;
}

nvinfer1::TensorRTPhase phaseFromName(std::string const& phase)
{
    if (phase == "build")
    {
        return nvinfer1::TensorRTPhase::kBUILD;
    }
    if (phase == "runtime")
    {
        return nvinfer1::TensorRTPhase::kRUNTIME;
    }
    throw py::value_error("phase must be 'build' or 'runtime', got '" + phase + "'");
}

} // namespace trtplug::host

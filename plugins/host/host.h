// The plugin host: our stand-in for TensorRT's side of the IPluginV3 contract, so the native
// plugins are verified without TensorRT (docs/architecture.md). It loads a plugin library the way
// IPluginRegistry::loadLibrary does and drives plugins through the lifecycle TensorRT uses.
#pragma once

#include <NvInferRuntime.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace trtplug::host
{

// ---- logging: one capture for every library loaded in this process -----------------------

//! Captures what plugins log; handed to each library's setLoggerFinder.
class CaptureLogger final : public nvinfer1::ILogger
{
public:
    void log(Severity severity, char const* msg) noexcept override;
    size_t size() const;
    //! Messages from index `from` on, as (severity name, text).
    std::vector<std::pair<std::string, std::string>> since(size_t from) const;
    void clear();

private:
    mutable std::mutex mMutex;
    std::vector<std::pair<Severity, std::string>> mMessages;
};

CaptureLogger& captureLogger();
nvinfer1::ILoggerFinder* captureLoggerFinder();

//! "<message>; <message>" of everything logged since `from`, for exception texts.
std::string loggedSince(size_t from);

// ---- plugin fields owned by the host -----------------------------------------------------

struct OwnedField
{
    std::string name;
    nvinfer1::PluginFieldType type{nvinfer1::PluginFieldType::kUNKNOWN};
    int32_t length{0};
    std::vector<uint8_t> bytes;
};

//! A PluginFieldCollection whose names and data the host owns (TensorRT copies fields into
//! the engine the same way, so a plugin must never rely on its own buffers staying alive).
class OwnedFields
{
public:
    void add(OwnedField field);
    nvinfer1::PluginFieldCollection const* collection();
    //! Overwrites names and data, to expose plugins that keep pointers into their fields.
    void poison();

private:
    std::vector<OwnedField> mFields;
    std::vector<nvinfer1::PluginField> mViews;
    nvinfer1::PluginFieldCollection mCollection{};
};

//! Python values -> fields, typed as the ONNX parser types attributes: int -> int32[1],
//! float -> float32[1], str -> char (NUL counted), list of ints/floats -> int32[n]/float32[n].
//! ("<type>", value) forces a type, e.g. ("int64", [1, 2]), for testing rejections.
//! `fields` is a dict or a sequence of (name, value) pairs (which may repeat a name). An
//! empty list takes the type `advertised` (the creator's getFieldNames) gives its name.
OwnedFields fieldsFromPython(pybind11::object const& fields, nvinfer1::PluginFieldCollection const* advertised);

//! Deep copy of a plugin's collection (getFieldsToSerialize output).
OwnedFields copyFields(nvinfer1::PluginFieldCollection const& fc);

//! One field as Python: str for char, a number when `scalar`, else a list.
pybind11::object fieldToPython(nvinfer1::PluginField const& field, bool scalar);

// ---- library and plugins ------------------------------------------------------------------

//! A dlopen()ed plugin library. Never unloaded: plugins and the CUDA runtime state inside the
//! library must outlive every Python object (TensorRT keeps loaded libraries too).
struct Library
{
    std::string path;
    void* handle{nullptr};
    std::vector<nvinfer1::IPluginCreatorV3One*> creators;
    std::vector<std::string> otherCreators; //!< interface kinds this host does not drive

    nvinfer1::IPluginCreatorV3One* find(
        std::string const& name, std::string const& version, std::string const& ns) const noexcept;
};

std::shared_ptr<Library> loadLibrary(std::string const& path);

//! Phase strings <-> TensorRTPhase ("build" / "runtime").
nvinfer1::TensorRTPhase phaseFromName(std::string const& phase);

class HostPlugin;

//! createPlugin; null when the creator refused (the reason is in the captured log).
std::unique_ptr<HostPlugin> createPlugin(std::shared_ptr<Library> const& lib, nvinfer1::IPluginCreatorV3One* creator,
    nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase phase);

} // namespace trtplug::host

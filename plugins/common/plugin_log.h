// Error reporting inside the plugin library. Nothing may be thrown across the TensorRT ABI, so
// op code raises PluginError (TRTPLUG_ENSURE) and the base class turns it into one logged
// message naming plugin and method, plus an error return code.
#pragma once

#include <NvInferRuntime.h>

#include <stdexcept>
#include <string>

namespace trtplug
{

//! A violated precondition in op code; caught by PluginBase/CreatorBase, never by TensorRT.
class PluginError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Throws PluginError(message) unless `cond`; the message is only built on failure.
#define TRTPLUG_ENSURE(cond, message)                                                                                  \
    do                                                                                                                 \
    {                                                                                                                  \
        if (!(cond))                                                                                                   \
        {                                                                                                              \
            throw ::trtplug::PluginError(message);                                                                     \
        }                                                                                                              \
    } while (0)

//! The finder TensorRT handed to setLoggerFinder (null until then).
void installLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;

//! Logs through TensorRT's logger; without one, errors and warnings go to stderr so they are
//! never lost.
void logMessage(nvinfer1::ILogger::Severity severity, char const* message) noexcept;

//! Logs "<plugin>::<method>: <what>" as an error.
void logError(char const* plugin, char const* method, char const* what) noexcept;

} // namespace trtplug

// TrtplugFieldProbe, in its own library libtrtplug_host_probe.so (never in the product
// library): a plugin with one field of every supported type, so the shared field machinery
// (field table, parsing, rejection, serialization round trip) is tested from Python even
// while no product op has attributes. It copies (mode "copy") or zeroes (mode "zero") its
// input and asks for `count` bytes of workspace, which it clears, exercising that path too.
#include "common/dtype.h"
#include "common/plugin_base.h"
#include "common/trt_dtype.h"

namespace trtplug
{
namespace
{

struct ProbeParams
{
    float alpha{1.F};
    int32_t count{0};
    std::vector<int32_t> axes;
    std::vector<float> scales;
    std::string mode{"copy"};

    template <class V>
    void visit(V& v)
    {
        v("alpha", alpha);
        v("count", count);
        v("axes", axes);
        v("scales", scales);
        v("mode", mode);
    }
};

class FieldProbePlugin : public PluginBase<FieldProbePlugin, ProbeParams>
{
public:
    static constexpr char const* kName = "TrtplugFieldProbe";
    static constexpr char const* kVersion = "1";
    static constexpr int32_t kMinInputs = 1;
    static constexpr int32_t kMaxInputs = 1;
    static constexpr int32_t kNbOutputs = 1;

    explicit FieldProbePlugin(ProbeParams p)
        : PluginBase(std::move(p))
    {
        // Value validation beyond types: the creator logs this and returns null.
        TRTPLUG_ENSURE(mParams.mode == "copy" || mParams.mode == "zero",
            "field 'mode': expected 'copy' or 'zero', got '" + mParams.mode + "'");
        TRTPLUG_ENSURE(mParams.count >= 0, "field 'count': must be >= 0, got " + std::to_string(mParams.count));
    }

    void outputTypes(Span<DataType const> in, Span<DataType> out) const { out[0] = in[0]; }

    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out, nvinfer1::IExprBuilder&) const
    {
        out[0] = in[0];
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        DType unused{};
        Desc const& d = inOut[pos].desc;
        return d.format == nvinfer1::TensorFormat::kLINEAR
            && (pos == 0 ? toDType(d.type, unused) : d.type == inOut[0].desc.type);
    }

    size_t workspaceSize(Span<DynDesc const>, Span<DynDesc const>) const
    {
        return static_cast<size_t>(mParams.count);
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const>, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        size_t const bytes = static_cast<size_t>(volume(in[0].dims)) * dtypeSize(dtype);
        if (mParams.count > 0)
        {
            cudaError_t const err = cudaMemsetAsync(workspace, 0, static_cast<size_t>(mParams.count), stream);
            if (err != cudaSuccess)
            {
                return err;
            }
        }
        if (bytes == 0)
        {
            return cudaSuccess;
        }
        return mParams.mode == "zero" ? cudaMemsetAsync(outputs[0], 0, bytes, stream)
                                      : cudaMemcpyAsync(outputs[0], inputs[0], bytes, cudaMemcpyDeviceToDevice, stream);
    }
};

TRTPLUG_REGISTER_PLUGIN(FieldProbePlugin);

} // namespace
} // namespace trtplug

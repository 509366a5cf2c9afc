// TrtplugDeformConv, TrtplugMMCVModulatedDeformConv2d, TrtplugMMCVDeformConv2d: one adapter over
// launchDeformConv, instantiated per member's generated glue (spec: plugins/deform_conv/spec.toml);
// members.h maps each member's input order and attributes. The workspace holds one image's columns.
#include "common/plugin_base.h"
#include "common/trt_dtype.h"
#include "deform_conv/members.h"

namespace trtplug
{
namespace
{

using nvinfer1::DataType;

template <class Glue>
class DeformConvPlugin : public GluePlugin<DeformConvPlugin<Glue>, Glue>
{
    using Base = GluePlugin<DeformConvPlugin<Glue>, Glue>;

public:
    using Base::Base;
    using typename Base::Desc;
    using typename Base::DimsExprs;
    using typename Base::DynDesc;

    void outputTypes(Span<DataType const> in, Span<DataType> out) const
    {
        TRTPLUG_ENSURE(isFloatOrBf16(in[0]),
            std::string("input must be float32, float16 or bfloat16, got ") + trtTypeName(in[0]));
        out[0] = in[0];
    }

    //! Y [N, OC, oH, oW]: N from the input, OC from the weight, oH/oW from the offset.
    void outputShapes(Span<DimsExprs const> in, Span<DimsExprs const>, Span<DimsExprs> out,
        nvinfer1::IExprBuilder&) const
    {
        DeformConvSlots const s = slots();
        TRTPLUG_ENSURE(in[s.x].nbDims == 4 && in[s.w].nbDims == 4 && in[s.offset].nbDims == 4,
            "input, weight and offset must be 4-D (2-D deformable convolution)");
        out[0].nbDims = 4;
        out[0].d[0] = in[s.x].d[0];
        out[0].d[1] = in[s.w].d[0];
        out[0].d[2] = in[s.offset].d[2];
        out[0].d[3] = in[s.offset].d[3];
    }

    bool supportsFormat(int32_t pos, Span<DynDesc const> inOut, int32_t) const
    {
        Desc const& d = inOut[pos].desc;
        if (d.format != nvinfer1::TensorFormat::kLINEAR)
        {
            return false;
        }
        return pos == 0 ? isFloatOrBf16(d.type) : d.type == inOut[0].desc.type;
    }

    void shapeChanged(Span<Desc const> in, Span<Desc const> out)
    {
        geometry(in, out);
    }

    size_t workspaceSize(Span<DynDesc const> in, Span<DynDesc const>) const
    {
        DeformConvSlots const s = slots();
        auto dims = [](DynDesc const& t) { return DeformConvDims{t.max.nbDims, t.max.d}; };
        DeformConvGeometry g;
        setDeformConvGeometry(g, dims(in[s.x]), dims(in[s.w]), dims(in[s.offset]), DeformConvDims{},
            DeformConvDims{}, DeformConvDims{}, memberAttrs(this->params()));
        DType dtype{};
        return toDType(in[0].desc.type, dtype) ? deformConvWorkspaceSize(dtype, g) : 0;
    }

    cudaError_t execute(Span<Desc const> in, Span<Desc const> out, void const* const* inputs, void* const* outputs,
        void* workspace, cudaStream_t stream) const
    {
        DType dtype{};
        if (!toDType(in[0].type, dtype))
        {
            return cudaErrorInvalidValue;
        }
        DeformConvSlots const s = slots();
        auto present = [&](int32_t slot) { return slot >= 0 && slot < static_cast<int32_t>(in.size()); };
        DeformConvTensors t;
        t.x = inputs[s.x];
        t.w = inputs[s.w];
        t.offset = inputs[s.offset];
        t.mask = present(s.mask) ? inputs[s.mask] : nullptr;
        t.bias = present(s.bias) ? inputs[s.bias] : nullptr;
        t.y = outputs[0];
        return launchDeformConv(dtype, geometry(in, out), t, workspace, stream);
    }

private:
    DeformConvSlots slots() const
    {
        return memberSlots(this->params());
    }

    //! The launch geometry of concrete shapes (absent optional inputs: the trailing ones TensorRT omits).
    DeformConvGeometry geometry(Span<Desc const> in, Span<Desc const> out) const
    {
        DeformConvSlots const s = slots();
        auto dims = [&](int32_t slot) {
            return slot >= 0 && slot < static_cast<int32_t>(in.size()) ? DeformConvDims{in[slot].dims.nbDims, in[slot].dims.d}
                                                                       : DeformConvDims{};
        };
        DeformConvGeometry g;
        std::string const problem = setDeformConvGeometry(g, dims(s.x), dims(s.w), dims(s.offset), dims(s.mask),
            dims(s.bias), DeformConvDims{out[0].dims.nbDims, out[0].dims.d}, memberAttrs(this->params()));
        TRTPLUG_ENSURE(problem.empty(), problem);
        return g;
    }
};

using OnnxDeformConvPlugin = DeformConvPlugin<glue_onnx_deform_conv::Glue>;
using MmcvModulatedDeformConvPlugin = DeformConvPlugin<glue_mmcv_modulated_deform_conv::Glue>;
using MmcvDeformConvPlugin = DeformConvPlugin<glue_mmcv_deform_conv::Glue>;
TRTPLUG_REGISTER_PLUGIN(OnnxDeformConvPlugin);
TRTPLUG_REGISTER_PLUGIN(MmcvModulatedDeformConvPlugin);
TRTPLUG_REGISTER_PLUGIN(MmcvDeformConvPlugin);

} // namespace
} // namespace trtplug

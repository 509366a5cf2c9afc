// A concrete IExprBuilder / IDimensionExpr for the plugin host. TensorRT exposes no way to
// construct these outside its runtime, but both are thin wrappers over the abstract
// apiv::VExprBuilder / apiv::VDimensionExpr, which this file implements. Dimensions are
// constants (folded eagerly, as TensorRT does) or symbols ("B", "S") whose expressions are
// kept as readable text, so a shape rule can be checked on dynamic shapes too.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace trtplug::host
{

class HostExpr final : public nvinfer1::IDimensionExpr
{
public:
    HostExpr(bool constant, int64_t value, std::string text, bool sizeTensor);

    bool constant() const noexcept { return mConstant; }
    int64_t value() const noexcept { return mValue; }
    std::string const& text() const noexcept { return mText; }
    bool sizeTensor() const noexcept { return mSizeTensor; }

private:
    struct Impl final : nvinfer1::apiv::VDimensionExpr
    {
        HostExpr const* owner{nullptr};
        bool isConstant() const override { return owner->mConstant; }
        int64_t getConstantValue() const override;
        bool isSizeTensor() const override { return owner->mSizeTensor; }
    };

    bool mConstant;
    int64_t mValue;
    std::string mText;
    bool mSizeTensor;
    Impl mImplObject;
};

//! A size tensor declared by a plugin: its output index, the opt/upper expressions (as text, and
//! their values when constant), and the expression the plugin received for it.
struct SizeTensorDecl
{
    int32_t outputIndex;
    std::string opt;
    std::string upper;
    HostExpr const* optExpr;
    HostExpr const* upperExpr;
    HostExpr const* expr;
};

class HostExprBuilder final : public nvinfer1::IExprBuilder
{
public:
    HostExprBuilder();

    HostExpr const* makeConstant(int64_t value);
    HostExpr const* makeSymbol(std::string name);
    HostExpr const* combine(nvinfer1::DimensionOperation op, nvinfer1::IDimensionExpr const& a,
        nvinfer1::IDimensionExpr const& b);
    HostExpr const* declareSize(int32_t outputIndex, nvinfer1::IDimensionExpr const& opt,
        nvinfer1::IDimensionExpr const& upper);

    //! The HostExpr behind `e` if this builder made it, else null (a foreign or dangling pointer).
    HostExpr const* find(nvinfer1::IDimensionExpr const* e) const noexcept;

    //! Problems the plugin caused (division by zero, foreign expressions, bad operations).
    std::vector<std::string> const& errors() const noexcept { return mErrors; }
    std::vector<SizeTensorDecl> const& sizeTensors() const noexcept { return mSizeTensors; }
    //! The declaration behind a size-tensor expression, or null.
    SizeTensorDecl const* sizeTensorOf(HostExpr const* e) const noexcept;

private:
    struct Impl final : nvinfer1::apiv::VExprBuilder
    {
        HostExprBuilder* owner{nullptr};
        nvinfer1::IDimensionExpr const* constant(int64_t value) override;
        nvinfer1::IDimensionExpr const* operation(nvinfer1::DimensionOperation op,
            nvinfer1::IDimensionExpr const& first, nvinfer1::IDimensionExpr const& second) override;
        nvinfer1::IDimensionExpr const* declareSizeTensor(int32_t outputIndex, nvinfer1::IDimensionExpr const& opt,
            nvinfer1::IDimensionExpr const& upper) override;
    };

    HostExpr const* add(bool constant, int64_t value, std::string text, bool sizeTensor = false);
    HostExpr const* invalid(std::string const& why);

    std::vector<std::unique_ptr<HostExpr>> mExprs;
    std::vector<std::string> mErrors;
    std::vector<SizeTensorDecl> mSizeTensors;
    Impl mImplObject;
};

} // namespace trtplug::host

#include "host/expr_builder.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace trtplug::host
{
namespace
{

using nvinfer1::DimensionOperation;

//! TensorRT's integer semantics; false on division by zero.
bool fold(DimensionOperation op, int64_t a, int64_t b, int64_t& out)
{
    switch (op)
    {
    case DimensionOperation::kSUM: out = a + b; return true;
    case DimensionOperation::kPROD: out = a * b; return true;
    case DimensionOperation::kMAX: out = std::max(a, b); return true;
    case DimensionOperation::kMIN: out = std::min(a, b); return true;
    case DimensionOperation::kSUB: out = a - b; return true;
    case DimensionOperation::kEQUAL: out = a == b ? 1 : 0; return true;
    case DimensionOperation::kLESS: out = a < b ? 1 : 0; return true;
    case DimensionOperation::kFLOOR_DIV:
    case DimensionOperation::kCEIL_DIV:
    {
        if (b == 0)
        {
            return false;
        }
        out = a / b; // truncates toward zero; adjust toward -inf or +inf
        bool const inexact = a % b != 0;
        bool const negative = (a < 0) != (b < 0);
        if (inexact && op == DimensionOperation::kFLOOR_DIV && negative)
        {
            --out;
        }
        if (inexact && op == DimensionOperation::kCEIL_DIV && !negative)
        {
            ++out;
        }
        return true;
    }
    }
    return false;
}

std::string format(DimensionOperation op, std::string const& a, std::string const& b)
{
    switch (op)
    {
    case DimensionOperation::kSUM: return "(" + a + " + " + b + ")";
    case DimensionOperation::kPROD: return "(" + a + " * " + b + ")";
    case DimensionOperation::kSUB: return "(" + a + " - " + b + ")";
    case DimensionOperation::kEQUAL: return "(" + a + " == " + b + ")";
    case DimensionOperation::kLESS: return "(" + a + " < " + b + ")";
    case DimensionOperation::kMAX: return "max(" + a + ", " + b + ")";
    case DimensionOperation::kMIN: return "min(" + a + ", " + b + ")";
    case DimensionOperation::kFLOOR_DIV: return "floordiv(" + a + ", " + b + ")";
    case DimensionOperation::kCEIL_DIV: return "ceildiv(" + a + ", " + b + ")";
    }
    return "?";
}

bool isConst(HostExpr const& e, int64_t v)
{
    return e.constant() && e.value() == v;
}

//! Identities that keep symbolic results readable ("B" rather than "(B * 1)").
HostExpr const* identity(DimensionOperation op, HostExpr const& a, HostExpr const& b)
{
    switch (op)
    {
    case DimensionOperation::kSUM: return isConst(b, 0) ? &a : isConst(a, 0) ? &b : nullptr;
    case DimensionOperation::kPROD: return isConst(b, 1) ? &a : isConst(a, 1) ? &b : nullptr;
    case DimensionOperation::kSUB: return isConst(b, 0) ? &a : nullptr;
    case DimensionOperation::kFLOOR_DIV:
    case DimensionOperation::kCEIL_DIV: return isConst(b, 1) ? &a : nullptr;
    case DimensionOperation::kMAX:
    case DimensionOperation::kMIN: return a.text() == b.text() ? &a : nullptr;
    default: return nullptr;
    }
}

} // namespace

HostExpr::HostExpr(bool constant, int64_t value, std::string text, bool sizeTensor)
    : mConstant(constant)
    , mValue(value)
    , mText(std::move(text))
    , mSizeTensor(sizeTensor)
{
    mImplObject.owner = this;
    mImpl = &mImplObject;
}

int64_t HostExpr::Impl::getConstantValue() const
{
    // TensorRT's documented value for non-constant expressions.
    return owner->mConstant ? owner->mValue : std::numeric_limits<int64_t>::min();
}

HostExprBuilder::HostExprBuilder()
{
    mImplObject.owner = this;
    mImpl = &mImplObject;
}

HostExpr const* HostExprBuilder::add(bool constant, int64_t value, std::string text, bool sizeTensor)
{
    mExprs.push_back(std::make_unique<HostExpr>(constant, value, std::move(text), sizeTensor));
    return mExprs.back().get();
}

HostExpr const* HostExprBuilder::invalid(std::string const& why)
{
    // A valid object, so a plugin that dereferences it does not crash the host; the error
    // is reported after the plugin call returns.
    mErrors.push_back(why);
    return add(false, 0, "invalid(" + why + ")");
}

HostExpr const* HostExprBuilder::makeConstant(int64_t value)
{
    return add(true, value, std::to_string(value));
}

HostExpr const* HostExprBuilder::makeSymbol(std::string name)
{
    return add(false, 0, std::move(name));
}

HostExpr const* HostExprBuilder::find(nvinfer1::IDimensionExpr const* e) const noexcept
{
    for (auto const& owned : mExprs)
    {
        if (owned.get() == e)
        {
            return owned.get();
        }
    }
    return nullptr;
}

HostExpr const* HostExprBuilder::combine(
    DimensionOperation op, nvinfer1::IDimensionExpr const& first, nvinfer1::IDimensionExpr const& second)
{
    HostExpr const* a = find(&first);
    HostExpr const* b = find(&second);
    if (a == nullptr || b == nullptr)
    {
        return invalid("operation on an expression this builder did not create");
    }
    if (static_cast<int32_t>(op) < 0 || static_cast<int32_t>(op) >= nvinfer1::EnumMax<DimensionOperation>())
    {
        return invalid("unknown DimensionOperation " + std::to_string(static_cast<int32_t>(op)));
    }
    if (a->constant() && b->constant())
    {
        int64_t value = 0;
        if (!fold(op, a->value(), b->value(), value))
        {
            return invalid("division by zero in " + format(op, a->text(), b->text()));
        }
        return makeConstant(value);
    }
    if (HostExpr const* same = identity(op, *a, *b))
    {
        return same;
    }
    if ((op == DimensionOperation::kSUB || op == DimensionOperation::kEQUAL) && a->text() == b->text())
    {
        return makeConstant(op == DimensionOperation::kSUB ? 0 : 1);
    }
    return add(false, 0, format(op, a->text(), b->text()));
}

HostExpr const* HostExprBuilder::declareSize(
    int32_t outputIndex, nvinfer1::IDimensionExpr const& opt, nvinfer1::IDimensionExpr const& upper)
{
    HostExpr const* o = find(&opt);
    HostExpr const* u = find(&upper);
    if (o == nullptr || u == nullptr)
    {
        return invalid("declareSizeTensor with an expression this builder did not create");
    }
    if (o->sizeTensor())
    {
        return invalid("declareSizeTensor: opt must not be a size tensor");
    }
    HostExpr const* e = add(false, 0, "size_tensor(" + std::to_string(outputIndex) + ")", true);
    mSizeTensors.push_back({outputIndex, o->text(), u->text(), o, u, e});
    return e;
}

SizeTensorDecl const* HostExprBuilder::sizeTensorOf(HostExpr const* e) const noexcept
{
    for (auto const& decl : mSizeTensors)
    {
        if (decl.expr == e)
        {
            return &decl;
        }
    }
    return nullptr;
}

nvinfer1::IDimensionExpr const* HostExprBuilder::Impl::constant(int64_t value)
{
    return owner->makeConstant(value);
}

nvinfer1::IDimensionExpr const* HostExprBuilder::Impl::operation(
    DimensionOperation op, nvinfer1::IDimensionExpr const& first, nvinfer1::IDimensionExpr const& second)
{
    return owner->combine(op, first, second);
}

nvinfer1::IDimensionExpr const* HostExprBuilder::Impl::declareSizeTensor(
    int32_t outputIndex, nvinfer1::IDimensionExpr const& opt, nvinfer1::IDimensionExpr const& upper)
{
    return owner->declareSize(outputIndex, opt, upper);
}

} // namespace trtplug::host

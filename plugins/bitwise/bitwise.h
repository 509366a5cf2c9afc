// Bitwise launchers (plain functions, no TensorRT types): C = A & B, A | B, A ^ B with
// broadcasting, Y = ~X. One kernel functor per op (bitwise.cu); every op has the shared integer
// elementwise signature, so the binding and the IPluginV3 adapter are shared too.
#pragma once

#include "common/int_elementwise.h"

namespace trtplug
{

enum class BitwiseOp
{
    kAnd,
    kOr,
    kXor,
    kNot, //!< unary: the launcher ignores b; `shape` is X's with itself
};

//! The launcher of `op`.
IntElementwiseFn bitwiseLauncher(BitwiseOp op) noexcept;

} // namespace trtplug

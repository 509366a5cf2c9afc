// Workspace layout: launchers carve several scratch buffers out of the one workspace TensorRT (or
// a binding's CallScratch) hands them.
#pragma once

#include <cstddef>

namespace trtplug
{

//! Every buffer carved out of a workspace starts on this boundary (CUB's temp storage asks for 256).
constexpr size_t kWorkspaceAlign = 256;

//! `bytes` rounded up to kWorkspaceAlign: where the next buffer starts.
constexpr size_t alignWorkspace(size_t bytes) noexcept
{
    return (bytes + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign;
}

} // namespace trtplug

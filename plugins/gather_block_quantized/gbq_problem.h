// GatherBlockQuantized's flattened call (no generated glue, so that host emulations can include it).
#pragma once

#include <cstdint>

namespace trtplug
{

//! One call, flattened. The codes (data unpacked) seen two ways: [outer, axisLen, inner] around
//! the gathered axis (output [outer, count, inner]) and [quantOuter, quantLen, quantInner]
//! around the quantized one (scales [quantOuter, blocks, quantInner]).
struct GbqProblem
{
    int64_t outer{1}, axisLen{1}, inner{1}, count{0};
    int64_t quantLen{1}, quantInner{1}, blocks{1};
    int64_t codesLast{1};  //!< codes along the last axis (a row of the table's storage)
    int64_t scalesLast{1}; //!< scales along the last axis: the zero points' rows
    int64_t zeroRowBytes{0};
    int32_t bits{4};
    int32_t blockSize{128};
    uint8_t const* data{nullptr};
    void const* indices{nullptr};
    void const* scales{nullptr};
    uint8_t const* zeroPoints{nullptr}; //!< null: 2^(bits - 1)
    void* output{nullptr};

    int64_t outputVolume() const noexcept { return outer * count * inner; }
};

} // namespace trtplug

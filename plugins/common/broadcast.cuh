// Numpy-style broadcasting for naive elementwise kernels: an input's element offset for each
// output index. Built on the host from TensorShapes, passed to the kernel by value.
#pragma once

#include "common/tensor_shape.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace trtplug
{

struct BroadcastMap
{
    int32_t rank{0};
    int64_t outDims[TensorShape::kMaxRank]{};
    int64_t strides[TensorShape::kMaxRank]{}; //!< the input's element stride per output dim; 0 where broadcast

    //! Maps `in` onto `out` (in right-aligned); false when `in` does not broadcast to `out`.
    static bool make(TensorShape const& in, TensorShape const& out, BroadcastMap& m) noexcept
    {
        if (in.rank > out.rank)
        {
            return false;
        }
        m.rank = out.rank;
        int64_t stride = 1;
        for (int32_t i = out.rank - 1; i >= 0; --i)
        {
            int32_t const j = i - (out.rank - in.rank);
            int64_t const dim = j >= 0 ? in.d[j] : 1;
            if (dim != out.d[i] && dim != 1)
            {
                return false;
            }
            m.outDims[i] = out.d[i];
            m.strides[i] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
        return true;
    }

    __device__ __forceinline__ int64_t offset(int64_t outIndex) const
    {
        int64_t off = 0;
        for (int32_t i = rank - 1; i >= 0 && outIndex > 0; --i)
        {
            off += (outIndex % outDims[i]) * strides[i];
            outIndex /= outDims[i];
        }
        return off;
    }
};

} // namespace trtplug

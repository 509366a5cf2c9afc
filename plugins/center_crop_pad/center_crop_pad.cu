#include "center_crop_pad/center_crop_pad_rows.cuh"

namespace trtplug
{
namespace
{

template <class T, int V, bool kWide>
cudaError_t launchRows(void const* x, void* y, CropPadShape const& shape, cudaStream_t stream)
{
    CropPadRows<kWide> const g = makeCropPadRows<kWide>(shape, V, isAligned(x, 16));
    cropPadRows<T, V, kWide><<<gridFor(static_cast<int64_t>(g.chunks)), kBlockThreads, 0, stream>>>(
        static_cast<T const*>(x), static_cast<T*>(y), g);
    return cudaGetLastError();
}

//! 16-byte chunks (V = 16 / sizeof(T)) when every output row is a whole number of them and y is
//! aligned, else one element a chunk; 32-bit index math while every index fits.
template <class T>
cudaError_t launchSized(void const* x, void* y, CropPadShape const& shape, cudaStream_t stream)
{
    constexpr int kV = 16 / sizeof(T);
    bool const vector = shape.outW() % kV == 0 && isAligned(y, 16);
    if (shape.fitsInt32())
    {
        return vector ? launchRows<T, kV, false>(x, y, shape, stream) : launchRows<T, 1, false>(x, y, shape, stream);
    }
    return vector ? launchRows<T, kV, true>(x, y, shape, stream) : launchRows<T, 1, true>(x, y, shape, stream);
}

} // namespace

cudaError_t launchCenterCropPad(DType dtype, void const* x, void* y, int32_t rank, int64_t const* inDims,
    int64_t const* outDims, cudaStream_t stream) noexcept
{
    if (rank < 0 || rank > kCenterCropPadMaxRank)
    {
        return cudaErrorInvalidValue;
    }
    CropPadShape shape{};
    if (!shape.set(rank, inDims, outDims))
    {
        return cudaErrorInvalidValue;
    }
    if (shape.outVolume() == 0)
    {
        return cudaSuccess;
    }
    switch (dtypeSize(dtype))
    {
    case 1: return launchSized<uint8_t>(x, y, shape, stream);
    case 2: return launchSized<uint16_t>(x, y, shape, stream);
    case 4: return launchSized<uint32_t>(x, y, shape, stream);
    case 8: return launchSized<uint64_t>(x, y, shape, stream);
    default: return cudaErrorInvalidValue;
    }
}

} // namespace trtplug

#include "common/op_binding.h"
#include "mel_weight_matrix/mel_weight_matrix.h"
#include "mel_weight_matrix/mel_weight_matrix_types.h"
#include "mel_weight_matrix/op_glue.h"

#include <cmath>
#include <string>

namespace
{

//! A 0-D device scalar's value on the host (a synchronous copy: the binding checks values the
//! kernel could only answer with NaN).
template <class T>
T hostScalar(trtplug::DeviceArray const& a, cudaStream_t stream)
{
    T value{};
    trtplug::checkCuda(cudaMemcpyAsync(&value, reinterpret_cast<void const*>(a.ptr), sizeof(T),
                           cudaMemcpyDeviceToHost, stream),
        "mel_weight_matrix: reading a scalar input");
    trtplug::checkCuda(cudaStreamSynchronize(stream), "mel_weight_matrix: reading a scalar input");
    return value;
}

int64_t hostInt(trtplug::DeviceArray const& a, cudaStream_t stream)
{
    return a.dtype == trtplug::DType::kINT64 ? hostScalar<int64_t>(a, stream) : hostScalar<int32_t>(a, stream);
}

} // namespace

//! MelWeightMatrix into output, [dft_length / 2 + 1, num_mel_bins] as the caller allocated it
//! from the shape inputs' values (checked against them; the kernel reads dft_length and
//! sample_rate from the device, num_mel_bins is the output's width).
TRTPLUG_OP_BINDING(mel_weight_matrix)
{
    using namespace trtplug;
    DeviceArray const& dft = call.in(1);
    DeviceArray const& rate = call.in(2);
    DeviceArray const& lower = call.in(3);
    DeviceArray const& upper = call.in(4);
    DeviceArray const& y = call.out(0);
    for (size_t i = 0; i < 5; ++i)
    {
        call.check(call.in(i).shape.empty(), std::string(glue_mel_weight_matrix::kInputNames[i]) + " must be 0-D");
    }
    call.check(dft.dtype == DType::kINT32 || dft.dtype == DType::kINT64, "dft_length must be int32 or int64");
    call.check(call.in(0).dtype == dft.dtype && rate.dtype == dft.dtype,
        "num_mel_bins, dft_length and sample_rate must share one integer type");
    call.check(lower.dtype == DType::kFLOAT32 && upper.dtype == DType::kFLOAT32,
        "lower_edge_hertz and upper_edge_hertz must be float32");
    DType want{};
    call.check(melOutputDType(call.params.output_datatype, want), "output_datatype must be 1, 10 or 16");
    call.check(y.dtype == want, std::string("output must be ") + dtypeName(want) + " (output_datatype)");
    call.check(y.shape.size() == 2, "output must be [dft_length / 2 + 1, num_mel_bins]");
    int64_t const dftValue = hostInt(dft, call.stream);
    int64_t const rateValue = hostInt(rate, call.stream);
    float const lo = hostScalar<float>(lower, call.stream);
    float const hi = hostScalar<float>(upper, call.stream);
    int64_t const melsValue = hostInt(call.in(0), call.stream);
    call.check(melsValue >= 1, "num_mel_bins must be >= 1, got " + std::to_string(melsValue));
    call.check(y.shape[1] == melsValue, "output must have num_mel_bins columns");
    call.check(dftValue >= 2, "dft_length must be >= 2, got " + std::to_string(dftValue));
    call.check(y.shape[0] == dftValue / 2 + 1, "output must have dft_length / 2 + 1 rows");
    call.check(rateValue >= 1, "sample_rate must be >= 1, got " + std::to_string(rateValue));
    call.check(std::isfinite(lo) && std::isfinite(hi) && lo >= 0.0f && hi >= lo,
        "need finite 0 <= lower_edge_hertz <= upper_edge_hertz, got " + std::to_string(lo) + " and "
            + std::to_string(hi));
    checkCuda(launchMelWeightMatrix(want, dft.dtype, reinterpret_cast<void const*>(dft.ptr),
                  reinterpret_cast<void const*>(rate.ptr), reinterpret_cast<float const*>(lower.ptr),
                  reinterpret_cast<float const*>(upper.ptr), reinterpret_cast<void*>(y.ptr), y.shape[0], y.shape[1],
                  call.stream),
        "mel_weight_matrix");
}

// Host emulation of GatherBlockQuantized's row kernels (plugins/gather_block_quantized/
// gather_block_quantized_rows.cuh): rowKernelFits' choice, rowChunksOf's sizes, rowsGrid capped
// (so threads take several passes), then every thread's gatherChunks on the CPU: EightStores for
// gatherRowsKernel, PairStores for the float32 gatherRowPairsKernel, whose lane pair runs twice
// (first recording what each lane hands the shuffle, then with the other lane's values: what a
// lane sends never depends on what it receives), stores counted per byte. Cases come from
// tests/test_gather_block_quantized_emulation.py: a manifest line each (name, output type 0/1/2 =
// float32/float16/bfloat16, index bytes, bits, block size, outer, axisLen, rows between the gather
// axis and the last, codes along the last axis, indices, zero points 0/1, grid cap, pair stores
// 0/1, 64-bit index math 0/1) and raw data, indices, scales and zero points; the output (poisoned
// with 0xFF bytes) and the write counts go back as raw files. Usage: emulation <directory>.
#include "gather_block_quantized/gather_block_quantized_rows.cuh"

#include "emulation_io.h"

#include <cmath>
#include <fstream>
#include <sstream>

// HostLane (host only) goes through the kernels' __host__ __device__ loop: only the host runs it.
#pragma nv_diag_suppress 20011
#pragma nv_diag_suppress 20014

using namespace trtplug;

namespace
{

struct Case
{
    std::string name;
    int type, indBytes, bits, blockSize;
    int64_t outer, axisLen, rowsInner, codesLast, count;
    int zeroPoints;
    int64_t maxBlocks;
    int pairs, wide;
};

//! One lane of a lane pair on the host: records the values it hands the shuffle; in the replay,
//! receives the other lane's recorded values and stores.
struct HostLane
{
    std::vector<float>* sent;
    std::vector<float> const* received;
    size_t* taken;
    bool replay;
    emulation::CountingStore counting;

    float swap(float value) const
    {
        sent->push_back(value);
        return *taken < received->size() ? (*received)[(*taken)++] : NAN;
    }

    void store(float4* at, float4 const& value) const
    {
        if (replay)
        {
            counting(at, value);
        }
    }
};

template <int Bits, typename Ind, bool kWide>
bool runPairs(GbqProblem const& p, RowChunks<kWide> const& c, int grid, emulation::CountingStore const& counting)
{
    auto* out = static_cast<float*>(p.output);
    int64_t const stride = int64_t{grid} * kBlockThreads;
    for (int64_t first = 0; first < stride; first += 2) // the even lane of each pair
    {
        std::vector<float> sent[2], none;
        for (int pass = 0; pass < 2; ++pass)
        {
            std::vector<float> received[2] = {sent[1], sent[0]};
            for (int odd = 0; odd < 2; ++odd)
            {
                size_t taken = 0;
                sent[odd].clear();
                HostLane const lane{&sent[odd], pass ? &received[odd] : &none, &taken, pass == 1, counting};
                gatherChunks<float, Ind, Bits>(p, c, first, stride, odd, PairStores<HostLane>{out, c.total, odd, lane});
            }
            if (sent[0].size() != sent[1].size())
            {
                std::printf("lanes %lld, %lld shuffled %zu and %zu times\n", (long long) first, (long long) first + 1,
                    sent[0].size(), sent[1].size());
                return false;
            }
        }
    }
    return true;
}

template <typename T, int Bits, typename Ind, bool kWide>
bool runRows(GbqProblem const& p, Case const& k, emulation::CountingStore const& counting)
{
    RowChunks<kWide> const c = rowChunksOf<kWide>(p);
    int const grid = rowsGrid(c.total, k.maxBlocks);
    if constexpr (std::is_same_v<T, float>)
    {
        if (k.pairs)
        {
            return runPairs<Bits, Ind>(p, c, grid, counting);
        }
    }
    int64_t const stride = int64_t{grid} * kBlockThreads;
    for (int64_t first = 0; first < stride; ++first)
    {
        EightStores<T, emulation::CountingStore> const emit{static_cast<T*>(p.output), counting};
        gatherChunks<T, Ind, Bits>(p, c, first, stride, 0, emit);
    }
    return true;
}

template <typename T, int Bits, typename Ind>
bool dispatchWide(GbqProblem const& p, Case const& k, emulation::CountingStore const& counting)
{
    return k.wide ? runRows<T, Bits, Ind, true>(p, k, counting) : runRows<T, Bits, Ind, false>(p, k, counting);
}

template <typename T, int Bits>
bool dispatchIndex(GbqProblem const& p, Case const& k, emulation::CountingStore const& counting)
{
    return k.indBytes == 4 ? dispatchWide<T, Bits, int32_t>(p, k, counting)
                           : dispatchWide<T, Bits, int64_t>(p, k, counting);
}

template <typename T>
bool dispatchBits(GbqProblem const& p, Case const& k, emulation::CountingStore const& counting)
{
    switch (k.bits)
    {
    case 2: return dispatchIndex<T, 2>(p, k, counting);
    case 4: return dispatchIndex<T, 4>(p, k, counting);
    default: return dispatchIndex<T, 8>(p, k, counting);
    }
}

bool runCase(std::string const& dir, Case const& k)
{
    std::string const at = dir + "/" + k.name;
    emulation::Placed const data = emulation::place(emulation::readBytes(at + ".data"), 0);
    emulation::Placed const indices = emulation::place(emulation::readBytes(at + ".idx"), 0);
    emulation::Placed const scales = emulation::place(emulation::readBytes(at + ".scales"), 0);
    emulation::Placed const zeros = emulation::place(emulation::readBytes(at + ".zp"), 0);
    GbqProblem p;
    p.outer = k.outer;
    p.axisLen = k.axisLen;
    p.inner = k.rowsInner * k.codesLast;
    p.count = k.count;
    p.quantLen = k.codesLast;
    p.quantInner = 1;
    p.blocks = (k.codesLast + k.blockSize - 1) / k.blockSize;
    p.codesLast = k.codesLast;
    p.scalesLast = p.blocks;
    p.zeroRowBytes = k.zeroPoints ? (p.blocks * k.bits + 7) / 8 : 0;
    p.bits = k.bits;
    p.blockSize = k.blockSize;
    p.data = data.at;
    p.indices = indices.at;
    p.scales = scales.at;
    p.zeroPoints = k.zeroPoints ? zeros.at : nullptr;
    size_t const elemBytes = k.type == 0 ? 4 : 2;
    size_t const outBytes = static_cast<size_t>(p.outputVolume()) * elemBytes;
    emulation::Placed out(outBytes, 0, 0xFF);
    p.output = out.at;
    if (!rowKernelFits(p))
    {
        std::printf("%s elements\n", k.name.c_str());
        return true;
    }
    std::vector<int32_t> counts(outBytes + 1, 0);
    emulation::CountingStore const counting{out.at, counts.data()};
    bool const ok = k.type == 0 ? dispatchBits<float>(p, k, counting)
        : k.type == 1           ? dispatchBits<__half>(p, k, counting)
                                : dispatchBits<__nv_bfloat16>(p, k, counting);
    emulation::writeBytes(at + ".out", out.at, outBytes);
    emulation::writeBytes(at + ".writes", counts.data(), outBytes * sizeof(int32_t));
    std::printf("%s rows grid %d\n", k.name.c_str(), rowsGrid(p.outputVolume() / kChunk, k.maxBlocks));
    return ok;
}

} // namespace

int main(int argc, char** argv)
{
    int cases = 0;
    int failures = 0;
    bool const ran = emulation::forEachCaseLine(argc, argv, [&](std::istringstream& f) {
        Case k;
        f >> k.name >> k.type >> k.indBytes >> k.bits >> k.blockSize >> k.outer >> k.axisLen >> k.rowsInner
            >> k.codesLast >> k.count >> k.zeroPoints >> k.maxBlocks >> k.pairs >> k.wide;
        failures += runCase(argv[1], k) ? 0 : 1;
        ++cases;
    });
    std::printf("cases: %d failures: %d\n", cases, failures);
    return ran && failures == 0 ? 0 : 1;
}

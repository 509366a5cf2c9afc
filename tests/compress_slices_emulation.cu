// Host emulation of Compress's whole-slice gather (plugins/compress/compress_slices.cuh): the
// vector width sliceVectorBytes picks for the pointers' alignment, sliceLaunch's block shape and a
// capped grid (so threads take several passes), then every thread's copySlices on the CPU, its
// stores counted per byte. Cases come from tests/test_compress_slices_emulation.py: a manifest
// line each (name, element bytes, outer, axisLen, inner, selectable, count, grid cap, x and y
// shifts past 256-byte alignment), x and the selected list as raw files; y (poisoned with 0xAB)
// and the write counts go back as raw files for NumPy to check. Usage: emulation <directory>.
#include "compress/compress_slices.cuh"

#include "emulation_io.h"

#include <fstream>
#include <sstream>

using namespace trtplug;

namespace
{

struct Case
{
    std::string name;
    int64_t elemBytes, outer, axisLen, inner, selectable, count, maxBlocks, xShift, yShift;
};

template <class V>
SliceLaunch runSlices(Case const& c, uint8_t const* x, int64_t const* selected, uint8_t* y, int32_t* counts)
{
    int64_t const chunks = c.inner * c.elemBytes / static_cast<int64_t>(sizeof(V));
    int64_t const rows = c.outer * c.selectable;
    SliceGather<V> const g{reinterpret_cast<V const*>(x), selected, reinterpret_cast<V*>(y), c.axisLen, c.selectable,
        chunks, rows, c.count};
    SliceLaunch const launch = sliceLaunch(rows, chunks, c.maxBlocks);
    if (rows == 0)
    {
        return launch; // launchSlices returns before launching
    }
    emulation::CountingStore const store{y, counts};
    int64_t const perBlock = launch.block.y;
    for (int64_t bx = 0; bx < launch.blocks; ++bx)
        for (int64_t ty = 0; ty < perBlock; ++ty)
            for (int64_t tx = 0; tx < launch.block.x; ++tx)
                copySlices(g, bx * perBlock + ty, launch.blocks * perBlock, tx, launch.block.x, store);
    return launch;
}

void runCase(std::string const& dir, Case const& c)
{
    emulation::Placed const x = emulation::place(emulation::readBytes(dir + "/" + c.name + ".x"), c.xShift);
    std::vector<uint8_t> const selectedBytes = emulation::readBytes(dir + "/" + c.name + ".sel");
    std::vector<int64_t> selected(selectedBytes.size() / sizeof(int64_t));
    std::memcpy(selected.data(), selectedBytes.data(), selectedBytes.size());
    size_t const yBytes = static_cast<size_t>(c.outer * c.selectable * c.inner * c.elemBytes);
    emulation::Placed y(yBytes, c.yShift, 0xAB);
    std::vector<int32_t> counts(yBytes + 1, 0);
    size_t const width = sliceVectorBytes(static_cast<size_t>(c.inner * c.elemBytes), x.at, y.at);
    SliceLaunch launch{};
    switch (width)
    {
    case 16: launch = runSlices<uint4>(c, x.at, selected.data(), y.at, counts.data()); break;
    case 8: launch = runSlices<uint2>(c, x.at, selected.data(), y.at, counts.data()); break;
    case 4: launch = runSlices<uint32_t>(c, x.at, selected.data(), y.at, counts.data()); break;
    default: std::printf("%s elements\n", c.name.c_str()); return;
    }
    emulation::writeBytes(dir + "/" + c.name + ".y", y.at, yBytes);
    emulation::writeBytes(dir + "/" + c.name + ".writes", counts.data(), yBytes * sizeof(int32_t));
    std::printf("%s width %zu blocks %d block %ux%u\n", c.name.c_str(), width, launch.blocks, launch.block.x,
        launch.block.y);
}

} // namespace

int main(int argc, char** argv)
{
    int cases = 0;
    bool const ran = emulation::forEachCaseLine(argc, argv, [&](std::istringstream& fields) {
        Case c;
        fields >> c.name >> c.elemBytes >> c.outer >> c.axisLen >> c.inner >> c.selectable >> c.count >> c.maxBlocks
            >> c.xShift >> c.yShift;
        runCase(argv[1], c);
        ++cases;
    });
    std::printf("cases: %d\n", cases);
    return ran ? 0 : 2;
}

// File exchange of the host emulations driven from Python (tests/test_*_emulation.py): the test
// writes each case's inputs as raw little-endian files and a manifest line, the emulation writes
// the outputs it computed next to them, and NumPy checks them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace emulation
{

inline std::vector<uint8_t> readBytes(std::string const& path)
{
    std::vector<uint8_t> bytes;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
    {
        std::printf("cannot read %s\n", path.c_str());
        std::exit(2);
    }
    uint8_t buffer[1 << 16];
    for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), f)) > 0;)
    {
        bytes.insert(bytes.end(), buffer, buffer + n);
    }
    std::fclose(f);
    return bytes;
}

inline void writeBytes(std::string const& path, void const* data, size_t size)
{
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data, 1, size, f) != size)
    {
        std::printf("cannot write %s\n", path.c_str());
        std::exit(2);
    }
    std::fclose(f);
}

//! `size` bytes at `shift` bytes past a 256-byte boundary (the kernels' vector widths depend on
//! the pointers' alignment), `fill` everywhere, and the buffer holding them.
struct Placed
{
    std::vector<uint8_t> storage;
    uint8_t* at;

    Placed(size_t size, size_t shift, uint8_t fill)
        : storage(size + shift + 256, fill)
    {
        auto const base = reinterpret_cast<uintptr_t>(storage.data());
        at = reinterpret_cast<uint8_t*>((base + 255) / 256 * 256 + shift);
    }
};

//! A Placed copy of `bytes`.
inline Placed place(std::vector<uint8_t> const& bytes, size_t shift)
{
    Placed p(bytes.size(), shift, 0);
    if (!bytes.empty())
    {
        std::memcpy(p.at, bytes.data(), bytes.size());
    }
    return p;
}

//! Per-byte write counts of an output buffer: the stores the kernels make through a functor land
//! here too (host only).
struct CountingStore
{
    uint8_t const* base;
    int32_t* counts;

    template <typename V>
    __host__ __device__ void operator()(V* at, V const& value) const
    {
        *at = value;
        auto const offset = reinterpret_cast<uint8_t const*>(at) - base;
        for (size_t b = 0; b < sizeof(V); ++b)
        {
            ++counts[offset + static_cast<int64_t>(b)];
        }
    }
};

//! Each line of <argv[1]>/cases.txt handed to `run` as a stream of its fields; false (usage
//! printed) when the directory argument is missing.
template <class Run>
bool forEachCaseLine(int argc, char** argv, Run&& run)
{
    if (argc != 2)
    {
        std::printf("usage: %s <directory>\n", argv[0]);
        return false;
    }
    std::ifstream manifest(std::string(argv[1]) + "/cases.txt");
    for (std::string line; std::getline(manifest, line);)
    {
        std::istringstream fields(line);
        run(fields);
    }
    return true;
}

} // namespace emulation

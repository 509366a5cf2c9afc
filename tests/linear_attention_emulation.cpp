// Host emulation of the LinearAttention kernel (plugins/linear_attention/linear_attention.cu): the real
// launcher and kernel, compiled as host C++ by tests/test_linear_attention_emulation.py, which copies
// the .cu and common/launch.cuh with only the launch syntax (kernel<<<...>>>(args) -> emu::launch),
// cudaFuncSetAttribute / cudaGetLastError and the extern shared array swapped for the hooks below.
// Every block's 128 threads run as fibers, each until its next __syncthreads or __shfl_xor_sync; a
// barrier releases only when all 128 threads (a shuffle: all 32 lanes of the warp, full mask, one
// offset) wait at it, anything else is reported as a hang. Each warp runs as far as it can before the
// next (warps, and lanes, in order or reversed): a missing barrier shows as a race. Shared memory is
// exactly the launch's dynamic size, NaN-filled per block, with a NaN guard after it checked untouched;
// more than 48 KB must have been opted into. LA_EMU_FLAGS=-fsanitize=address adds ASan on the inputs.
//
// usage: linear_attention_emulation DTYPE STATE_DTYPE B T HQ HK HKV DK DV RULE DECAY_W BETA_W PAST SCALE REVERSE DIR
// (DTYPE 0 fp32, 1 fp16, 2 bf16; DECAY_W/BETA_W 0 = absent; inputs DIR/<name>.bin float32, outputs
// DIR/output.bin, DIR/present.bin float32).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <ucontext.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace emu
{

enum class State
{
    kRun,
    kBlock,
    kWarp,
    kDone
};

struct Fiber
{
    ucontext_t ctx{};
    std::vector<char> stack;
    State state{State::kRun};
    unsigned mask{0};
    int off{0};
    float in{0.F};
    float out{0.F};
};

ucontext_t scheduler;
std::vector<Fiber> fibers;
int current = 0;
bool reverse = false;
std::function<void()> body;
std::vector<float> sharedMemory;
size_t sharedFloats = 0;
constexpr size_t kGuard = 1024;
int optInShared = 0; //!< the dynamic shared memory the last opt-in (cudaFuncSetAttribute) asked for

void fail(char const* what)
{
    std::printf("FAIL %s\n", what);
    std::fflush(stdout);
    std::exit(3);
}

void fiberMain()
{
    body();
    fibers[current].state = State::kDone;
}

void wait(State s)
{
    int const me = current;
    fibers[me].state = s;
    swapcontext(&fibers[me].ctx, &scheduler);
}

} // namespace emu

uint3 threadIdx;
uint3 blockIdx;
dim3 gridDim;
dim3 blockDim;

void __syncthreads()
{
    emu::wait(emu::State::kBlock);
}

float __shfl_xor_sync(unsigned mask, float x, int off)
{
    emu::Fiber& f = emu::fibers[emu::current];
    f.mask = mask;
    f.off = off;
    f.in = x;
    int const me = emu::current;
    emu::wait(emu::State::kWarp);
    return emu::fibers[me].out;
}

namespace emu
{

//! Runs one block's threads to completion; fails on a barrier or shuffle that cannot complete.
void runBlock(int threads)
{
    fibers.resize(threads);
    for (int t = 0; t < threads; ++t)
    {
        Fiber& f = fibers[t];
        f.state = State::kRun;
        f.stack.resize(128 << 10);
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.data();
        f.ctx.uc_stack.ss_size = f.stack.size();
        f.ctx.uc_link = &scheduler;
        makecontext(&f.ctx, fiberMain, 0);
    }
    int const warps = threads / 32;
    for (;;)
    {
        // Each warp runs as far as it can (its shuffles released as soon as all 32 lanes reach one)
        // before the next starts: the most skew between warps a barrier has to hold back.
        for (int i = 0; i < warps; ++i)
        {
            int const w = reverse ? warps - 1 - i : i;
            for (;;)
            {
                for (int j = 0; j < 32; ++j)
                {
                    int const t = w * 32 + (reverse ? 31 - j : j);
                    if (fibers[t].state == State::kRun)
                    {
                        current = t;
                        threadIdx = make_uint3(t, 0, 0);
                        swapcontext(&scheduler, &fibers[t].ctx);
                    }
                }
                int waiting = 0;
                for (int l = 0; l < 32; ++l)
                {
                    waiting += fibers[w * 32 + l].state == State::kWarp;
                }
                if (waiting != 32)
                {
                    break;
                }
                for (int l = 0; l < 32; ++l)
                {
                    Fiber const& f = fibers[w * 32 + l];
                    if (f.mask != 0xffffffffu || f.off != fibers[w * 32].off || f.off < 0 || f.off > 31)
                    {
                        fail("shuffle with a partial mask or mixed offsets");
                    }
                }
                for (int l = 0; l < 32; ++l)
                {
                    Fiber& f = fibers[w * 32 + l];
                    f.out = fibers[w * 32 + (l ^ f.off)].in;
                }
                for (int l = 0; l < 32; ++l)
                {
                    fibers[w * 32 + l].state = State::kRun;
                }
            }
        }
        int done = 0;
        int block = 0;
        for (Fiber const& f : fibers)
        {
            done += f.state == State::kDone;
            block += f.state == State::kBlock;
        }
        if (done == threads)
        {
            return;
        }
        if (block != threads)
        {
            fail("hang: a barrier or shuffle not reached by every thread");
        }
        for (Fiber& f : fibers)
        {
            f.state = State::kRun;
        }
    }
}

template <typename... Params, typename... Args>
cudaError_t launch(void (*kernel)(Params...), dim3 grid, dim3 threads, size_t shared, cudaStream_t, Args const&... args)
{
    if (threads.y != 1 || threads.z != 1 || grid.y != 1 || grid.z != 1 || threads.x % 32 != 0)
    {
        fail("unexpected launch shape");
    }
    if (shared > (227u << 10) || shared % sizeof(float) != 0 || (shared > (48u << 10) && optInShared < int(shared)))
    {
        fail("dynamic shared memory above 227 KB, or above 48 KB without the opt-in");
    }
    gridDim = grid;
    blockDim = threads;
    sharedFloats = shared / sizeof(float);
    std::tuple<Params...> params(args...);
    body = [&] { std::apply(kernel, params); };
    for (unsigned b = 0; b < grid.x; ++b)
    {
        sharedMemory.assign(sharedFloats + kGuard, NAN);
        blockIdx = make_uint3(b, 0, 0);
        runBlock(static_cast<int>(threads.x));
        for (size_t i = sharedFloats; i < sharedMemory.size(); ++i)
        {
            if (!std::isnan(sharedMemory[i]))
            {
                fail("shared memory written past the launch's dynamic size");
            }
        }
    }
    return cudaSuccess;
}

template <typename Kernel>
cudaError_t funcSetAttribute(Kernel, cudaFuncAttribute attr, int bytes)
{
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize)
    {
        optInShared = bytes;
    }
    return cudaSuccess;
}

cudaError_t lastError()
{
    return cudaSuccess;
}

} // namespace emu

#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#include "linear_attention/linear_attention.cu"

namespace
{

std::vector<float> readFloats(std::string const& path, size_t n)
{
    std::vector<float> v(n);
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr || std::fread(v.data(), sizeof(float), n, f) != n)
    {
        std::printf("FAIL cannot read %s\n", path.c_str());
        std::exit(2);
    }
    std::fclose(f);
    return v;
}

void writeFloats(std::string const& path, std::vector<float> const& v)
{
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(v.data(), sizeof(float), v.size(), f);
    std::fclose(f);
}

trtplug::DType dtypeOf(int code)
{
    return code == 0 ? trtplug::DType::kFLOAT32 : code == 1 ? trtplug::DType::kFLOAT16 : trtplug::DType::kBFLOAT16;
}

size_t itemSize(int code)
{
    return code == 0 ? 4 : 2;
}

//! The values in `code`'s dtype, as raw bytes (the inputs are already representable in it).
std::vector<char> encode(std::vector<float> const& v, int code)
{
    std::vector<char> out(v.size() * itemSize(code));
    for (size_t i = 0; i < v.size(); ++i)
    {
        if (code == 0)
        {
            std::memcpy(out.data() + 4 * i, &v[i], 4);
        }
        else if (code == 1)
        {
            __half const h = __float2half_rn(v[i]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
        else
        {
            __nv_bfloat16 const h = __float2bfloat16_rn(v[i]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
    }
    return out;
}

std::vector<float> decode(std::vector<char> const& raw, int code)
{
    std::vector<float> out(raw.size() / itemSize(code));
    for (size_t i = 0; i < out.size(); ++i)
    {
        if (code == 0)
        {
            std::memcpy(&out[i], raw.data() + 4 * i, 4);
        }
        else if (code == 1)
        {
            __half h;
            std::memcpy(&h, raw.data() + 2 * i, 2);
            out[i] = __half2float(h);
        }
        else
        {
            __nv_bfloat16 h;
            std::memcpy(&h, raw.data() + 2 * i, 2);
            out[i] = __bfloat162float(h);
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 17)
    {
        std::printf("FAIL usage\n");
        return 2;
    }
    int const dtype = std::atoi(argv[1]);
    int const stateType = std::atoi(argv[2]);
    int64_t const b = std::atoll(argv[3]);
    int64_t const t = std::atoll(argv[4]);
    int const hq = std::atoi(argv[5]);
    int const hk = std::atoi(argv[6]);
    int const hkv = std::atoi(argv[7]);
    int const dk = std::atoi(argv[8]);
    int const dv = std::atoi(argv[9]);
    std::string const rule = argv[10];
    int const decayW = std::atoi(argv[11]);
    int const betaW = std::atoi(argv[12]);
    bool const past = std::atoi(argv[13]) != 0;
    float const scale = static_cast<float>(std::atof(argv[14]));
    emu::reverse = std::atoi(argv[15]) != 0;
    std::string const dir = argv[16];

    trtplug::glue_linear_attention::Params p;
    p.q_num_heads = hq;
    p.kv_num_heads = hkv;
    p.scale = scale;
    p.update_rule = rule;
    trtplug::TensorShape const q{3, {b, t, int64_t{hq} * dk}};
    trtplug::TensorShape const k{3, {b, t, int64_t{hk} * dk}};
    trtplug::TensorShape const v{3, {b, t, int64_t{hkv} * dv}};
    trtplug::TensorShape const s{4, {b, hkv, dk, dv}};
    trtplug::TensorShape const d{3, {b, t, decayW}};
    trtplug::TensorShape const be{3, {b, t, betaW}};
    trtplug::LinearAttentionGeometry g;
    std::string const problem = trtplug::linearAttentionGeometry(
        p, q, k, v, past ? &s : nullptr, decayW ? &d : nullptr, betaW ? &be : nullptr, g);
    if (!problem.empty())
    {
        std::printf("FAIL refused: %s\n", problem.c_str());
        return 2;
    }
    auto const count = [](trtplug::TensorShape const& x)
    {
        size_t n = 1;
        for (int i = 0; i < x.rank; ++i)
        {
            n *= static_cast<size_t>(x.d[i]);
        }
        return n;
    };
    auto const load = [&](char const* name, trtplug::TensorShape const& x, int code)
    { return encode(readFloats(dir + "/" + name + ".bin", count(x)), code); };
    std::vector<char> const qd = load("query", q, dtype);
    std::vector<char> const kd = load("key", k, dtype);
    std::vector<char> const vd = load("value", v, dtype);
    std::vector<char> const sd = past ? load("past_state", s, stateType) : std::vector<char>{};
    std::vector<char> const dd = decayW ? load("decay", d, dtype) : std::vector<char>{};
    std::vector<char> const bd = betaW ? load("beta", be, dtype) : std::vector<char>{};
    trtplug::TensorShape const o{3, {b, t, int64_t{g.outHeads()} * dv}};
    int const presentType = past ? stateType : dtype;
    std::vector<char> out = encode(std::vector<float>(count(o), NAN), dtype);
    std::vector<char> present = encode(std::vector<float>(count(s), NAN), presentType);
    cudaError_t const err = trtplug::launchLinearAttention(dtypeOf(dtype), dtypeOf(presentType), g, qd.data(),
        kd.data(), vd.data(), past ? sd.data() : nullptr, dd.empty() ? nullptr : dd.data(),
        bd.empty() ? nullptr : bd.data(), out.data(), present.data(), nullptr);
    if (err != cudaSuccess)
    {
        std::printf("FAIL launch error %d\n", static_cast<int>(err));
        return 2;
    }
    writeFloats(dir + "/output.bin", decode(out, dtype));
    writeFloats(dir + "/present.bin", decode(present, presentType));
    std::printf("opt-in shared %d\nok\n", emu::optInShared);
    return 0;
}

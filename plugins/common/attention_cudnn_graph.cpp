// cuDNN SDPA through cudnn-frontend's graph API (attention_cudnn.h), compiled only with the cuDNN
// and cudnn-frontend headers (TRTPLUG_CUDNN_INCLUDE_DIRS). The frontend runs in its dynamic-loading
// mode: libcudnn.so.9 is dlopen'ed here at first use, so the library gains no link dependency.
// One graph per problem signature and cuDNN handle (device + thread) is built and cached; a
// failure is cached too, so a problem cuDNN rejects costs one build and one log line.
#include "common/attention_cudnn.h"

#include <cudnn_frontend.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cudnn_frontend
{
//! The frontend resolves every cuDNN entry point through this handle (NV_CUDNN_FRONTEND_USE_DYNAMIC_LOADING).
void* cudnn_dlhandle = nullptr;
} // namespace cudnn_frontend

namespace trtplug
{
namespace
{

namespace fe = cudnn_frontend;

constexpr int64_t kQ = 1;
constexpr int64_t kK = 2;
constexpr int64_t kV = 3;
constexpr int64_t kO = 4;
constexpr int64_t kQueryLengths = 5;
constexpr int64_t kKeyLengths = 6;
//! Cached graphs before the cache starts over (each holds a finalized plan, a few KB).
constexpr size_t kMaxCachedGraphs = 256;

//! A fatal signal while tracing (segfault, abort, bus error, illegal instruction, FPE) prints a
//! header line and the native backtrace (addr2line resolves its +offsets), then dies by the
//! default action.
void printBacktraceAndDie(int signal)
{
    char const header[] = "trtplug cuDNN: fatal signal, backtrace follows\n";
    (void) !write(2, header, sizeof(header) - 1);
    void* frames[64];
    int const count = backtrace(frames, 64);
    backtrace_symbols_fd(frames, count, 2);
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

//! TRTPLUG_CUDNN_TRACE=1 (read once; installs the fatal-signal backtrace the first time it is on).
bool tracing() noexcept
{
    static bool const on = [] {
        char const* v = std::getenv("TRTPLUG_CUDNN_TRACE");
        bool const enabled = v != nullptr && std::strcmp(v, "1") == 0;
        if (enabled)
        {
            for (int const fatal : {SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE})
            {
                std::signal(fatal, printBacktraceAndDie);
            }
        }
        return enabled;
    }();
    return on;
}

//! Under TRTPLUG_CUDNN_TRACE=1, prints the step before it runs (flushed), so a crash inside cuDNN
//! or the frontend names the step it happened in.
void traceStep(char const* step) noexcept
{
    if (tracing())
    {
        std::fprintf(stderr, "trtplug cuDNN: %s\n", step);
        std::fflush(stderr);
    }
}

struct Loaded
{
    bool ok{false};
    std::string error;
};

//! dlopen's libcudnn (TRTPLUG_CUDNN_LIBRARY names another file) and checks it is cuDNN 9.
Loaded loadCudnn() noexcept
{
    char const* name = std::getenv("TRTPLUG_CUDNN_LIBRARY");
    name = (name != nullptr && *name != '\0') ? name : "libcudnn.so.9";
    traceStep(name);
    void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
    {
        char const* why = dlerror();
        return {false, std::string("cannot load ") + name + ": " + (why ? why : "unknown error")};
    }
    auto getVersion = reinterpret_cast<size_t (*)()>(dlsym(handle, "cudnnGetVersion"));
    size_t const version = getVersion ? getVersion() : 0;
    traceStep(("cudnnGetVersion " + std::to_string(version)).c_str());
    if (version < 90000 || version >= 100000)
    {
        dlclose(handle);
        return {false, std::string(name) + " is cuDNN " + std::to_string(version) + ", cuDNN 9 is needed"};
    }
    fe::cudnn_dlhandle = handle;
    // The frontend dlopen's libcudart itself for entry points whose ABI differs between CUDA majors
    // (cudaGetDeviceProperties fills a struct of each major's layout), and tries libcudart.so.12
    // before .13, keeping the first it finds. Pin the major this library was compiled for, unless
    // the user named a runtime (CUDNN_FRONTEND_CUDART_LIB_NAME).
    std::string const cudart = "libcudart.so." + std::to_string(CUDART_VERSION / 1000);
    setenv("CUDNN_FRONTEND_CUDART_LIB_NAME", cudart.c_str(), 0);
    return {true, {}};
}

Loaded const& loadedCudnn() noexcept
{
    static Loaded const loaded = [] {
        Loaded l = loadCudnn();
        if (!l.ok)
        {
            std::fprintf(stderr, "trtplug: cuDNN attention unavailable (%s); the hand-written kernels run\n",
                l.error.c_str());
        }
        return l;
    }();
    return loaded;
}

//! One cuDNN handle per device and thread (a handle is bound to the device current at creation);
//! never destroyed: at process exit libcudnn may already be gone.
cudnnHandle_t handleFor(int device, std::string& error) noexcept
{
    thread_local std::map<int, cudnnHandle_t> handles;
    auto it = handles.find(device);
    if (it != handles.end())
    {
        return it->second;
    }
    cudnnHandle_t handle = nullptr;
    traceStep("cudnnCreate");
    if (fe::detail::create_handle(&handle) != CUDNN_STATUS_SUCCESS)
    {
        error = "cudnnCreate failed";
        return nullptr;
    }
    handles.emplace(device, handle);
    return handle;
}

struct CachedGraph
{
    fe::graph::Graph graph;
    int64_t workspace{0};
    std::string error; //!< non-empty: cuDNN rejected this signature
};

float scaleOf(AttentionProblem const& p) noexcept
{
    return p.scale != 0.F ? p.scale : 1.F / std::sqrt(static_cast<float>(p.headDim));
}

//! Everything the graph depends on: the extents, strides, type, masks, scale and handle.
std::vector<int64_t> signatureOf(AttentionProblem const& p, int device, cudnnHandle_t handle)
{
    float const scale = scaleOf(p);
    int32_t scaleBits = 0;
    std::memcpy(&scaleBits, &scale, sizeof(scaleBits));
    return {device, static_cast<int64_t>(reinterpret_cast<uintptr_t>(handle)), static_cast<int64_t>(p.dtype),
        p.batch, p.qHeads, p.kvHeads, p.qLen, p.kvLen, p.headDim, p.causal ? 1 : 0, p.kvValid ? 1 : 0,
        cudnnStartsAtZero(p) ? 1 : 0, scaleBits, p.q.batchStride,
        p.q.headStride, p.q.seqStride, p.k.batchStride, p.k.headStride, p.k.seqStride, p.v.batchStride,
        p.v.headStride, p.v.seqStride, p.out.batchStride, p.out.headStride, p.out.seqStride};
}

std::shared_ptr<fe::graph::Tensor_attributes> headTensor(
    fe::graph::Graph& g, char const* name, int64_t uid, AttentionProblem const& p, int64_t heads, int64_t len,
    HeadView const& v)
{
    return g.tensor(fe::graph::Tensor_attributes()
                        .set_name(name)
                        .set_uid(uid)
                        .set_dim({p.batch, heads, len, p.headDim})
                        .set_stride({v.batchStride, v.headStride, v.seqStride, 1}));
}

//! Q [b, hq, sq, d], K/V [b, hk, skv, d] (fewer heads: GQA), O [b, hq, sq, d], all strided.
void describeGraph(AttentionProblem const& p, fe::graph::Graph& g)
{
    auto const io = p.dtype == DType::kFLOAT16 ? fe::DataType_t::HALF : fe::DataType_t::BFLOAT16;
    g.set_io_data_type(io).set_intermediate_data_type(fe::DataType_t::FLOAT).set_compute_data_type(
        fe::DataType_t::FLOAT);
    auto q = headTensor(g, "Q", kQ, p, p.qHeads, p.qLen, p.q);
    auto k = headTensor(g, "K", kK, p, p.kvHeads, p.kvLen, p.k);
    auto v = headTensor(g, "V", kV, p, p.kvHeads, p.kvLen, p.v);
    // COMPOSITE: the fused flash attention of cuDNN 8.9+. The frontend's automatic choice picked
    // its UNIFIED implementation on the H200 (torch 2.11's cuDNN 9) and crashed validating it.
    auto options = fe::graph::SDPA_attributes()
                       .set_name("trtplug_prefill")
                       .set_implementation(fe::AttentionImplementation_t::COMPOSITE)
                       .set_generate_stats(false)
                       .set_attn_scale(scaleOf(p));
    if (p.kvValid)
    {
        // Keys from kvValid[b] on are masked; every query row is computed (lengths of qLen).
        auto lengths = [&](char const* name, int64_t uid) {
            return g.tensor(fe::graph::Tensor_attributes().set_name(name).set_uid(uid).set_dim({p.batch, 1, 1, 1})
                    .set_stride({1, 1, 1, 1}).set_data_type(fe::DataType_t::INT32));
        };
        options.set_padding_mask(true).set_seq_len_q(lengths("seq_q", kQueryLengths)).set_seq_len_kv(
            lengths("seq_kv", kKeyLengths));
    }
    if (p.causal)
    {
        // qStartZero: query i at key i (top-left). Else the core's query i sits at key position
        // kvLen - qLen + i: the bottom-right diagonal (top-left too when the lengths are equal).
        bool const topLeft = cudnnStartsAtZero(p) || p.qLen == p.kvLen;
        topLeft ? options.set_causal_mask(true) : options.set_causal_mask_bottom_right(true);
    }
    auto outputs = g.sdpa(q, k, v, options);
    outputs[0]->set_output(true).set_uid(kO).set_dim({p.batch, p.qHeads, p.qLen, p.headDim}).set_stride(
        {p.out.batchStride, p.out.headStride, p.out.seqStride, 1});
}

#define TRTPLUG_CUDNN_STEP(call)                                                                                       \
    do                                                                                                                 \
    {                                                                                                                  \
        traceStep(#call);                                                                                              \
        auto status = (call);                                                                                          \
        if (status.is_bad())                                                                                           \
        {                                                                                                              \
            entry->error = std::string(#call) + ": " + status.get_message();                                          \
            return entry;                                                                                              \
        }                                                                                                              \
    } while (0)

std::shared_ptr<CachedGraph> buildGraph(AttentionProblem const& p, cudnnHandle_t handle)
{
    auto entry = std::make_shared<CachedGraph>();
    traceStep("describeGraph");
    describeGraph(p, entry->graph);
    auto& g = entry->graph;
    TRTPLUG_CUDNN_STEP(g.validate());
    TRTPLUG_CUDNN_STEP(g.build_operation_graph(handle));
    TRTPLUG_CUDNN_STEP(g.create_execution_plans({fe::HeurMode_t::A, fe::HeurMode_t::FALLBACK}));
    TRTPLUG_CUDNN_STEP(g.check_support());
    TRTPLUG_CUDNN_STEP(g.build_plans());
    TRTPLUG_CUDNN_STEP(g.get_workspace_size(entry->workspace));
    return entry;
}

#undef TRTPLUG_CUDNN_STEP

//! The cached graph of `p` on `handle`, built (outside the lock: it takes milliseconds) on first use
//! unless `mayBuild` is false (a stream under CUDA graph capture): then null when not cached.
std::shared_ptr<CachedGraph> graphFor(AttentionProblem const& p, int device, cudnnHandle_t handle, bool mayBuild)
{
    static std::mutex mutex;
    static std::map<std::vector<int64_t>, std::shared_ptr<CachedGraph>> cache;
    auto key = signatureOf(p, device, handle);
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = cache.find(key);
        if (it != cache.end())
        {
            return it->second;
        }
    }
    if (!mayBuild)
    {
        return nullptr;
    }
    std::shared_ptr<CachedGraph> built;
    try
    {
        built = buildGraph(p, handle);
    }
    catch (std::exception const& e)
    {
        built = std::make_shared<CachedGraph>();
        built->error = e.what();
    }
    if (!built->error.empty())
    {
        std::fprintf(stderr, "trtplug: cuDNN attention graph rejected (%s); the hand-written kernels run\n",
            built->error.c_str());
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() >= kMaxCachedGraphs)
    {
        cache.clear(); // entries in use stay alive through their shared_ptr
    }
    return cache.emplace(std::move(key), built).first->second;
}

cudaError_t notRun(char const** reason, char const* why) noexcept
{
    if (reason != nullptr)
    {
        *reason = why;
    }
    return cudaErrorNotSupported;
}

cudaError_t executeGraph(CachedGraph const& entry, AttentionProblem const& p, int32_t const* queryLengths,
    cudnnHandle_t handle, void* workspace, cudaStream_t stream, char const** reason)
{
    if (fe::detail::set_stream(handle, stream) != CUDNN_STATUS_SUCCESS)
    {
        return notRun(reason, "cudnnSetStream failed");
    }
    std::unordered_map<int64_t, void*> pointers{{kQ, const_cast<void*>(p.q.data)}, {kK, const_cast<void*>(p.k.data)},
        {kV, const_cast<void*>(p.v.data)}, {kO, p.out.data}};
    if (p.kvValid)
    {
        pointers.emplace(kQueryLengths, const_cast<int32_t*>(queryLengths));
        pointers.emplace(kKeyLengths, const_cast<int32_t*>(p.kvValid));
    }
    traceStep("execute");
    if (entry.graph.execute(handle, pointers, workspace).is_bad())
    {
        return notRun(reason, "cuDNN SDPA execute failed");
    }
    return cudaGetLastError();
}

} // namespace

bool cudnnAttentionCompiled() noexcept
{
    return true;
}

bool cudnnAttentionAvailable() noexcept
{
    return loadedCudnn().ok;
}

cudaError_t launchCudnnAttention(AttentionProblem const& p, int32_t const* queryLengths, void* workspace,
    size_t workspaceBytes, cudaStream_t stream, char const** reason) noexcept
{
    if (char const* why = cudnnAttentionInapplicable(p))
    {
        return notRun(reason, why);
    }
    if (p.kvValid && queryLengths == nullptr)
    {
        return notRun(reason, "cuDNN's padding mask needs the query lengths");
    }
    if (!cudnnAttentionAvailable())
    {
        return notRun(reason, "libcudnn.so.9 could not be loaded (see the log line above)");
    }
    try
    {
        int device = 0;
        if (cudaGetDevice(&device) != cudaSuccess)
        {
            return notRun(reason, "cudaGetDevice failed");
        }
        std::string error;
        cudnnHandle_t handle = handleFor(device, error);
        if (handle == nullptr)
        {
            return notRun(reason, "cudnnCreate failed");
        }
        cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
        bool const capturing = cudaStreamIsCapturing(stream, &capture) != cudaSuccess
            || capture != cudaStreamCaptureStatusNone;
        std::shared_ptr<CachedGraph> entry = graphFor(p, device, handle, !capturing);
        if (entry == nullptr)
        {
            return notRun(reason, "no cuDNN graph is cached for this problem and the stream is being captured");
        }
        if (!entry->error.empty())
        {
            return notRun(reason, "cuDNN rejected the attention graph (see the log line above)");
        }
        if (tracing())
        {
            traceStep(("workspace " + std::to_string(entry->workspace) + " of " + std::to_string(workspaceBytes)).c_str());
        }
        if (entry->workspace < 0 || static_cast<size_t>(entry->workspace) > workspaceBytes)
        {
            return notRun(reason, "cuDNN attention needs more workspace than the core was given");
        }
        return executeGraph(*entry, p, queryLengths, handle, workspace, stream, reason);
    }
    catch (...)
    {
        return notRun(reason, "cuDNN attention threw");
    }
}

} // namespace trtplug

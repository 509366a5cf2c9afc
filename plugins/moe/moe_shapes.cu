// MoE's host-side checks: the tensor shapes against each other and the attributes, and the
// workspace size. Plain C++ (a .cu only so the build globs it with the kernels).
#include "moe/moe.h"
#include "moe/moe_layout.h"

#include <initializer_list>

namespace trtplug
{
namespace
{

bool given(TensorShape const& s) noexcept
{
    return s.rank > 0;
}

MoeActivation activationOf(std::string const& name) noexcept
{
    if (name == "gelu")
        return MoeActivation::kGelu;
    if (name == "silu")
        return MoeActivation::kSilu;
    if (name == "identity")
        return MoeActivation::kIdentity;
    if (name == "swiglu")
        return MoeActivation::kSwiglu;
    if (name == "geglu")
        return MoeActivation::kGeglu;
    return MoeActivation::kRelu;
}

//! The attributes into `out`, and the gate/linear source they imply checked against fc3.
std::string readAttributes(MoeAttrs const& p, bool hasFc3, MoeProblem& out)
{
    out.k = p.k;
    out.activation = activationOf(p.activation);
    out.swigluFusion = p.swigluFusion;
    out.normalize = p.normalize;
    out.alpha = p.alpha;
    out.beta = p.beta;
    out.limit = p.limit;
    out.hasFc3 = hasFc3;
    bool const gated = out.activation == MoeActivation::kSwiglu || out.activation == MoeActivation::kGeglu;
    bool const fused = gated && out.swigluFusion != 0;
    if (out.activation == MoeActivation::kGeglu && !fused)
    {
        return "geglu takes its gate and linear halves from fc1_experts_weights: swiglu_fusion must be 1 or 2";
    }
    if (out.activation == MoeActivation::kSwiglu && !fused && !hasFc3)
    {
        return "swiglu with swiglu_fusion=0 takes its linear half from fc3_experts_weights, which is absent";
    }
    if (fused && hasFc3)
    {
        return "swiglu_fusion=" + std::to_string(out.swigluFusion)
            + " holds the linear half in fc1_experts_weights: fc3_experts_weights must be absent";
    }
    return "";
}

} // namespace

std::string moeCheckShapes(MoeAttrs const& p, MoeShapes const& s, MoeProblem& out)
{
    if (s.input.rank != 2 && s.input.rank != 3)
    {
        return "input must have rank 2 or 3, got " + s.input.text();
    }
    if (s.router.rank != 2 || s.fc1.rank != 3 || s.fc2.rank != 3)
    {
        return "router_probs must have rank 2 and fc1/fc2_experts_weights rank 3";
    }
    if (std::string const e = readAttributes(p, given(s.fc3), out); !e.empty())
    {
        return e;
    }
    out.hidden = s.input.d[s.input.rank - 1];
    out.tokens = s.input.volume() / (out.hidden > 0 ? out.hidden : 1);
    if (out.hidden == 0)
    {
        out.tokens = s.input.rank == 2 ? s.input.d[0] : s.input.d[0] * s.input.d[1];
    }
    out.experts = s.fc1.d[0];
    out.inter = s.fc2.d[2];
    bool const fused
        = (out.activation == MoeActivation::kSwiglu || out.activation == MoeActivation::kGeglu) && out.swigluFusion != 0;
    out.fc1Cols = fused ? 2 * out.inter : out.inter;
    if (out.experts < 1 || out.experts > kMoeMaxExperts)
    {
        return "num_experts must be 1.." + std::to_string(kMoeMaxExperts) + ", got " + std::to_string(out.experts);
    }
    if (out.k > out.experts)
    {
        return "k (" + std::to_string(out.k) + ") is more than the " + std::to_string(out.experts) + " experts";
    }
    if (given(s.fc3Bias) && !given(s.fc3))
    {
        return "fc3_experts_bias is given without fc3_experts_weights";
    }
    int64_t const e = out.experts, h = out.hidden, i = out.inter;
    std::string problem = s.router.expect("router_probs", {out.tokens, e});
    for (std::string const& next : {s.fc1.expect("fc1_experts_weights", {e, out.fc1Cols, h}),
             given(s.fc1Bias) ? s.fc1Bias.expect("fc1_experts_bias", {e, out.fc1Cols}) : "",
             s.fc2.expect("fc2_experts_weights", {e, h, i}),
             given(s.fc2Bias) ? s.fc2Bias.expect("fc2_experts_bias", {e, h}) : "",
             given(s.fc3) ? s.fc3.expect("fc3_experts_weights", {e, i, h}) : "",
             given(s.fc3Bias) ? s.fc3Bias.expect("fc3_experts_bias", {e, i}) : ""})
    {
        problem = problem.empty() ? next : problem;
    }
    if (problem.empty() && (s.output.rank != s.input.rank || s.output.volume() != s.input.volume()))
    {
        problem = "output has shape " + s.output.text() + ", expected input's " + s.input.text();
    }
    return problem;
}

size_t moeWorkspaceBytes(MoeProblem const& p) noexcept
{
    return p.tokens > 0 ? moeLayout(p).total : 0;
}

} // namespace trtplug

// Planning an antialiased Resize on the host: output dims, per-axis scales and roi from the
// fields (scales or sizes, axes, keep_aspect_ratio_policy), the pass order. No device code.
#include "resize_antialias/resize_antialias.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace trtplug
{
namespace
{

bool parseCoord(std::string const& name, ResizeCoord& coord)
{
    static char const* const kNames[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_crop_and_resize"};
    for (int32_t i = 0; i < 6; ++i)
    {
        if (name == kNames[i])
        {
            coord = static_cast<ResizeCoord>(i);
            return true;
        }
    }
    return false;
}

//! The resized axes (all of them without `axes`), normalised; the problem or "".
std::string resizedAxes(int32_t rank, std::vector<int32_t> const& given, int32_t* axes, int32_t& count)
{
    count = given.empty() ? rank : static_cast<int32_t>(given.size());
    if (count > rank)
    {
        return "attribute 'axes' has more values than X has axes";
    }
    for (int32_t i = 0; i < count; ++i)
    {
        int32_t const a = given.empty() ? i : given[i];
        if (a < -rank || a >= rank)
        {
            return "attribute 'axes': axis " + std::to_string(a) + " out of range for X of rank " + std::to_string(rank);
        }
        axes[i] = a < 0 ? a + rank : a;
        for (int32_t j = 0; j < i; ++j)
        {
            if (axes[j] == axes[i])
            {
                return "attribute 'axes' repeats axis " + std::to_string(axes[i]);
            }
        }
    }
    return "";
}

bool isIdentity(ResizePlan const& plan, int32_t d)
{
    double const s = plan.scale[d];
    return std::fabs(s - 1.0) <= 1e-9 * std::max(1.0, std::fabs(s)) && plan.out[d] == plan.in[d]
        && plan.roiStart[d] == 0.F && plan.roiEnd[d] == 1.F;
}

//! Resized axes in pass order: the most shrunk first (smallest intermediates); the innermost
//! axis goes after an outer one unless it shrinks over 10% more (its ratio counts 1.1x), so that
//! the big first pass reads whole rows per tap (coalesced) and the innermost pass, whose windows
//! spread a warp over several cache lines per tap, runs on the smaller tensor. A near tie such
//! as 2160x3840 -> 512x910 (0.2370 vs 0.2370) costs <1% more intermediate traffic that way.
void orderPasses(ResizePlan& plan)
{
    plan.nbPasses = 0;
    for (int32_t d = 0; d < plan.rank; ++d)
    {
        if (!isIdentity(plan, d))
        {
            plan.passAxis[plan.nbPasses++] = d;
        }
    }
    auto ratio = [&](int32_t d) {
        double const r = plan.in[d] > 0 ? double(plan.out[d]) / double(plan.in[d]) : 0.0;
        return d == plan.rank - 1 ? 1.1 * r : r;
    };
    std::stable_sort(plan.passAxis, plan.passAxis + plan.nbPasses,
        [&](int32_t a, int32_t b) { return ratio(a) < ratio(b); });
}

//! Scales and output lengths from scales or sizes (and keep_aspect_ratio_policy); the problem or "".
std::string planScales(
    ResizePlan& plan, int32_t const* axes, int32_t nbAxes, glue_resize_antialias::Params const& p)
{
    bool const hasScales = !p.scales.empty();
    for (int32_t i = 0; i < nbAxes; ++i)
    {
        int32_t const a = axes[i];
        if (hasScales)
        {
            if (!(p.scales[i] > 0.F))
            {
                return "scales must be > 0, got " + std::to_string(p.scales[i]);
            }
            plan.scale[a] = p.scales[i];
            plan.out[a] = static_cast<int64_t>(std::floor(plan.scale[a] * double(plan.in[a])));
        }
        else
        {
            plan.scale[a] = plan.in[a] > 0 ? double(p.sizes[i]) / double(plan.in[a]) : 0.0;
            plan.out[a] = p.sizes[i];
        }
    }
    std::string const& policy = p.keep_aspect_ratio_policy;
    if (!hasScales && policy != "stretch")
    {
        double common = plan.scale[axes[0]];
        for (int32_t i = 1; i < nbAxes; ++i)
        {
            common = policy == "not_larger" ? std::min(common, plan.scale[axes[i]]) : std::max(common, plan.scale[axes[i]]);
        }
        for (int32_t i = 0; i < nbAxes; ++i)
        {
            plan.scale[axes[i]] = common;
            plan.out[axes[i]] = static_cast<int64_t>(common * double(plan.in[axes[i]]) + 0.5);
        }
    }
    for (int32_t i = 0; i < nbAxes; ++i)
    {
        if (plan.in[axes[i]] == 0 && plan.out[axes[i]] != 0)
        {
            return "cannot resize empty axis " + std::to_string(axes[i]) + " to " + std::to_string(plan.out[axes[i]]);
        }
    }
    return "";
}

} // namespace

std::string planResize(ResizePlan& plan, TensorShape const& x, glue_resize_antialias::Params const& p)
{
    plan = ResizePlan{};
    if (x.rank < 1 || x.rank > ResizePlan::kMaxRank)
    {
        return "X must have rank 1.." + std::to_string(ResizePlan::kMaxRank);
    }
    if (p.mode != "linear" && p.mode != "cubic")
    {
        return "attribute 'mode' must be linear or cubic (antialias applies to those), got '" + p.mode + "'";
    }
    if (!parseCoord(p.coordinate_transformation_mode, plan.coord))
    {
        return "attribute 'coordinate_transformation_mode': unsupported '" + p.coordinate_transformation_mode + "'";
    }
    plan.rank = x.rank;
    plan.cubic = p.mode == "cubic";
    plan.cubicA = p.cubic_coeff_a;
    plan.excludeOutside = p.exclude_outside != 0;
    plan.extrapolation = p.extrapolation_value;
    int32_t axes[ResizePlan::kMaxRank]{};
    int32_t nbAxes = 0;
    std::string problem = resizedAxes(x.rank, p.axes, axes, nbAxes);
    if (!problem.empty())
    {
        return problem;
    }
    if (p.scales.empty() == p.sizes.empty())
    {
        return "exactly one of scales and sizes must be given";
    }
    size_t const given = p.scales.empty() ? p.sizes.size() : p.scales.size();
    if (given != size_t(nbAxes) || (!p.roi.empty() && p.roi.size() != 2 * size_t(nbAxes)))
    {
        return "scales or sizes need one value per resized axis (" + std::to_string(nbAxes) + "), roi two";
    }
    if (plan.coord == ResizeCoord::kTF_CROP_AND_RESIZE && p.roi.empty())
    {
        return "coordinate_transformation_mode 'tf_crop_and_resize' needs roi";
    }
    for (int32_t d = 0; d < x.rank; ++d)
    {
        plan.in[d] = plan.out[d] = x.d[d];
        plan.scale[d] = 1.0;
        plan.roiEnd[d] = 1.F;
    }
    for (int32_t i = 0; i < nbAxes; ++i)
    {
        plan.listed[axes[i]] = true;
    }
    for (int32_t i = 0; i < nbAxes && !p.roi.empty(); ++i)
    {
        plan.roiStart[axes[i]] = p.roi[i];
        plan.roiEnd[axes[i]] = p.roi[nbAxes + i];
    }
    problem = planScales(plan, axes, nbAxes, p);
    orderPasses(plan);
    return problem;
}

std::string checkResizeOutput(ResizePlan const& plan, TensorShape const& y)
{
    bool same = y.rank == plan.rank;
    std::string expected;
    for (int32_t d = 0; d < plan.rank; ++d)
    {
        same = same && y.d[d] == plan.out[d];
        expected += (d ? ", " : "") + std::to_string(plan.out[d]);
    }
    return same ? "" : "Y must have shape (" + expected + ")";
}

} // namespace trtplug

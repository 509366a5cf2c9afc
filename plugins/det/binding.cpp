#include "common/batched_matrix_binding.h"
#include "common/op_binding.h"
#include "det/det.h"
#include "det/op_glue.h"

//! Det of a batch of square matrices X (..., M, M) into Y (...).
TRTPLUG_OP_BINDING(det)
{
    trtplug::runBatchedMatrix(trtplug::launchDet, "det", true, call.in(0), call.out(0), call.stream);
}

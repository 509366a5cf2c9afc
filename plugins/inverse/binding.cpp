#include "common/batched_matrix_binding.h"
#include "common/op_binding.h"
#include "inverse/inverse.h"
#include "inverse/op_glue.h"

//! Inverse of a batch of square matrices X (..., M, M) into Y (X's shape).
TRTPLUG_OP_BINDING(inverse)
{
    trtplug::runBatchedMatrix(trtplug::launchInverse, "inverse", false, call.in(0), call.out(0), call.stream);
}

#include "common/int_elementwise_binding.h"
#include "bitwise_or/bitwise_or.h"

TRTPLUG_BINDING(bitwise_or)
{
    TRTPLUG_BIND_INT_BINARY(m, "bitwise_or", ::trtplug::launchBitwiseOr);
}

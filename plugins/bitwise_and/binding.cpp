#include "common/int_elementwise_binding.h"
#include "bitwise_and/bitwise_and.h"

TRTPLUG_BINDING(bitwise_and)
{
    TRTPLUG_BIND_INT_BINARY(m, "bitwise_and", ::trtplug::launchBitwiseAnd);
}

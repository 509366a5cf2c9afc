#include "common/int_elementwise_binding.h"
#include "bitwise_xor/bitwise_xor.h"

TRTPLUG_BINDING(bitwise_xor)
{
    TRTPLUG_BIND_INT_BINARY(m, "bitwise_xor", ::trtplug::launchBitwiseXor);
}

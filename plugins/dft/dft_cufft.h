// cuFFT's headers where the toolkit has them: CMake sets TRTPLUG_HAVE_CUFFT=1 then; without them
// the DFT launchers compile to cudaErrorNotSupported.
#pragma once

#ifndef TRTPLUG_HAVE_CUFFT
#define TRTPLUG_HAVE_CUFFT 0
#endif
#if TRTPLUG_HAVE_CUFFT
#include <cufftXt.h>
#endif

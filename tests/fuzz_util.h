// SPDX-License-Identifier: MIT
/*
 * What every libFuzzer target uses: CHECK(), a promise of mcr.h that must hold for the input,
 * or the run aborts and libFuzzer keeps the input as a finding.
 */
#ifndef MCR_FUZZ_UTIL_H
#define MCR_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif

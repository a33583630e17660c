// SPDX-License-Identifier: MIT
/*
 * cqefault.so - fault injection for tests/netns_edges.sh, preloaded into mcr_asan: turns the
 * first CQEFAULT_COUNT successful completions whose user_data kind (its top byte) is
 * CQEFAULT_KIND into failures with -CQEFAULT_ERRNO, as the kernel reports a poll or read that
 * it cancelled (-ECANCELED) or could not allocate for (-ENOMEM). Such completions cannot be
 * provoked from outside the process on demand.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>

typedef unsigned int (*peek_fn)(struct io_uring *, struct io_uring_cqe **, unsigned int);

static long left = -1, kind, err;

static void setup(void)
{
	const char *n = getenv("CQEFAULT_COUNT"), *k = getenv("CQEFAULT_KIND");
	const char *e = getenv("CQEFAULT_ERRNO");

	left = n ? atol(n) : 0;
	kind = k ? atol(k) : 0;
	err = e ? atol(e) : ECANCELED;
}

unsigned int io_uring_peek_batch_cqe(struct io_uring *ring, struct io_uring_cqe **cqes,
				     unsigned int count)
{
	static peek_fn real;
	unsigned int n;

	if (!real)
		real = (peek_fn)dlsym(RTLD_NEXT, "io_uring_peek_batch_cqe");
	if (left < 0)
		setup();
	n = real(ring, cqes, count);
	for (unsigned int i = 0; i < n && left > 0; i++) {
		if ((long)(cqes[i]->user_data >> 56) != kind || cqes[i]->res < 0)
			continue;
		/* The CQ ring is mapped writable; a failed request posts no more. */
		cqes[i]->res = (int)-err;
		cqes[i]->flags &= ~IORING_CQE_F_MORE;
		left--;
	}
	return n;
}

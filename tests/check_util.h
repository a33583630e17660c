// SPDX-License-Identifier: MIT
/*
 * What two or more of the Check unit tests each carried a copy of: the command line through
 * parse_args(), bytes in network order, the RFC 1071 sum, verdict names, a seeded random
 * stream and the summary line. What only one test file needs stays in that file.
 */
#ifndef MCR_CHECK_UTIL_H
#define MCR_CHECK_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

#define HINT "(see mcr --help)"	/* the end of every error parse_args() writes */
#define ARGS_MAX 48		/* arguments a test may pass after "mcr" */

#define ETH_LEN 14		/* bytes: two MACs and the ethertype */
#define TAG_LEN 4		/* bytes: one 802.1Q/802.1ad tag */
#define UDP_LEN 8		/* bytes: UDP header */

/* An IPv4 address in host order, from its four dotted parts. */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* parse_args() on "mcr" and the NULL-terminated arguments, into a config full of junk. */
static inline enum mcr_parse_result parse_list(struct mcr_config *cfg, char *err,
					       const char *const *args)
{
	char *argv[ARGS_MAX + 2];
	int argc = 0;

	argv[argc++] = "mcr";
	for (; *args; args++) {
		ck_assert_int_lt(argc, ARGS_MAX);
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;
	memset(cfg, 0xa5, sizeof(*cfg));
	memset(err, 'J', MCR_ERR_LEN - 1);
	err[MCR_ERR_LEN - 1] = '\0';
	return parse_args(argc, argv, cfg, err);
}

/* parse_list() on the arguments written out: PARSE(&cfg, err, "-i", "eth0", ...). */
#define PARSE(cfg, err, ...) parse_list(cfg, err, (const char *const[]){ __VA_ARGS__, NULL })

/*
 * Refused with one line that names the culprit and the problem, and points to --help. REFUSED
 * puts the test file's BASE arguments first.
 */
static inline void assert_refused(const char *const *args, const char *culprit, const char *problem)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	enum mcr_parse_result r = parse_list(&cfg, err, args);
	size_t n = strnlen(err, MCR_ERR_LEN);

	ck_assert_msg(r == MCR_PARSE_ERROR, "%s: accepted", culprit);
	ck_assert_msg(n < MCR_ERR_LEN && !strchr(err, '\n'), "%s: not one line", culprit);
	ck_assert_msg(n > strlen(HINT) && !strcmp(err + n - strlen(HINT), HINT),
		      "\"%s\" does not end with the hint", err);
	ck_assert_msg(strstr(err, culprit), "\"%s\" does not name \"%s\"", err, culprit);
	ck_assert_msg(strstr(err, problem), "\"%s\" does not say \"%s\"", err, problem);
}

#define REFUSED(culprit, problem, ...)                                                         \
	assert_refused((const char *const[]){ BASE, __VA_ARGS__, NULL }, culprit, problem)

/* The low 16 bits of v at p, in network order. */
static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* v at p, in network order. */
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* The 16 bits at p, in network order. */
static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 sum of 16-bit words, an odd last byte padded with zero; folded, not complemented. */
static inline uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		while (sum > 0xffff)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

/* The verdict's name for a failure message; "out of range" for what is none. */
static inline const char *verdict_text(enum mcr_verdict v)
{
	static const char *const name[MCR_VERDICTS] = {
		[MCR_RELAY] = "RELAY",		   [MCR_FRAGMENT] = "FRAGMENT",
		[MCR_DROP_TRUNCATED] = "TRUNCATED", [MCR_DROP_MALFORMED] = "MALFORMED",
		[MCR_DROP_CHECKSUM] = "CHECKSUM",   [MCR_DROP_FRAGMENT] = "DROP_FRAGMENT",
		[MCR_DROP_UNMATCHED] = "UNMATCHED", [MCR_DROP_VLAN] = "VLAN",
		[MCR_QUERY] = "QUERY",
		[MCR_DROP_MARTIAN] = "MARTIAN",
		[MCR_DROP_GLUED] = "GLUED",
	};

	return (unsigned int)v < MCR_VERDICTS && name[v] ? name[v] : "out of range";
}

/* Fails the test with both verdicts' names unless got is want. */
#define assert_verdict(got, want)                                                           \
	ck_assert_msg((got) == (want), "verdict %s, expected %s", verdict_text(got),        \
		      verdict_text(want))

/* Byte i of a datagram's filler, different for each seed. */
static inline uint8_t filler(uint32_t seed, uint32_t i)
{
	uint32_t x = (i + 1) * 2654435761u ^ seed * 40503u;

	return (uint8_t)(x >> 13 ^ x >> 3);
}

/* The next number of the xorshift64 stream in *state: the same stream on every run. */
static inline uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* Runs and frees sr; prints "NAME: N passed, N failed", the line make check adds up. */
static inline int run_suites(SRunner *sr, const char *name)
{
	int run, failed;

	srunner_run_all(sr, CK_ENV);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("%s: %d passed, %d failed\n", name, run - failed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif

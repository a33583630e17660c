// SPDX-License-Identifier: MIT
/*
 * Unit tests for stream health: the stall watch's options, IGMP and MLD queries as parse_frame()
 * sees them, and the membership reports mcr builds. Expected values come from mcr(1) and the
 * RFCs (2236, 3376, 2710, 3810), never from the code under test.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define BASE "-i", "eth0", "-g", "239.0.0.1:5000", "-o", "198.18.2.2:6000"

/* ---------------------------------------------------------------------------------------- */
/* --stall-timeout SECS, --stall-action warn|exit                                            */

START_TEST(test_stall_default)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.stall_timeout_ms, 0);
	ck_assert(!cfg.stall_exit);
}
END_TEST

static const struct {
	const char *text;
	uint32_t ms;
} stall_timeouts[] = {
	{ "5", 5000 }, { "0.1", 100 }, { "2.5", 2500 }, { "0.250", 250 }, { "86400", 86400000 },
};

START_TEST(test_stall_timeout_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[32];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-timeout", stall_timeouts[_i].text),
			 MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.stall_timeout_ms, stall_timeouts[_i].ms);
	snprintf(attached, sizeof(attached), "--stall-timeout=%s", stall_timeouts[_i].text);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, attached), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.stall_timeout_ms, stall_timeouts[_i].ms);
}
END_TEST

static const char *const stall_refused[] = { "0", "0.0", "0.099", "0.05", "86400.001", "86401",
					     "-5", "5s", "", "1.", ".5", "1.0001", "abc" };

START_TEST(test_stall_timeout_refused)
{
	char culprit[64];

	snprintf(culprit, sizeof(culprit), "--stall-timeout '%s'", stall_refused[_i]);
	REFUSED(culprit, "0.1 to 86400", "--stall-timeout", stall_refused[_i]);
}
END_TEST

START_TEST(test_stall_action)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-timeout", "3", "--stall-action", "exit"),
			 MCR_PARSE_RUN);
	ck_assert(cfg.stall_exit);
	ck_assert_uint_eq(cfg.stall_timeout_ms, 3000);
	/* Order does not matter: the check that the timeout is there comes after all options. */
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-action=exit", "--stall-timeout=3"),
			 MCR_PARSE_RUN);
	ck_assert(cfg.stall_exit);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stall-timeout", "3", "--stall-action", "warn"),
			 MCR_PARSE_RUN);
	ck_assert(!cfg.stall_exit);
}
END_TEST

START_TEST(test_stall_action_refused)
{
	REFUSED("--stall-action 'restart'", "warn or exit", "--stall-timeout", "3",
		"--stall-action", "restart");
	REFUSED("--stall-action 'EXIT'", "warn or exit", "--stall-timeout", "3", "--stall-action",
		"EXIT");
	REFUSED("--stall-action exit", "--stall-timeout", "--stall-action", "exit");
	REFUSED("--stall-timeout", "given twice", "--stall-timeout", "3", "--stall-timeout", "4");
	REFUSED("--stall-action", "missing value", "--stall-timeout", "3", "--stall-action");
}
END_TEST

static Suite *stall_suite(void)
{
	Suite *s = suite_create("stall");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_stall_default);
	tcase_add_loop_test(tc, test_stall_timeout_accepted, 0,
			    sizeof(stall_timeouts) / sizeof(stall_timeouts[0]));
	tcase_add_loop_test(tc, test_stall_timeout_refused, 0,
			    sizeof(stall_refused) / sizeof(stall_refused[0]));
	tcase_add_test(tc, test_stall_action);
	tcase_add_test(tc, test_stall_action_refused);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* --stats-format prom                                                                       */

START_TEST(test_prom_accepted)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-format", "prom", "--stats-file",
			       "/run/mcr/x.prom"),
			 MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_PROM);
	ck_assert_str_eq(cfg.stats_file, "/run/mcr/x.prom");
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-file=/x.prom", "--stats-format=prom"),
			 MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_PROM);
}
END_TEST

START_TEST(test_prom_refused)
{
	/* The format is the file's: without one there is nothing to write it to. */
	REFUSED("--stats-format prom", "--stats-file", "--stats-format", "prom");
	REFUSED("--stats-format 'Prom'", "kv or json, or prom", "--stats-format", "Prom",
		"--stats-file", "/x.prom");
	REFUSED("--stats-format 'openmetrics'", "kv or json, or prom", "--stats-format",
		"openmetrics", "--stats-file", "/x.prom");
}
END_TEST

static Suite *prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_prom_accepted);
	tcase_add_test(tc, test_prom_refused);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* IGMP and MLD queries through parse_frame()                                                */

#define GROUP4 IP4(239, 0, 0, 1)
#define QUERIER4 IP4(198, 19, 50, 1)
#define ALL_SYSTEMS IP4(224, 0, 0, 1)

static struct mcr_match match4(void)
{
	struct mcr_match m = { 0 };

	m.group.family = AF_INET;
	m.group.v4.s_addr = htonl(GROUP4);
	m.port = 5000;
	return m;
}

/* An Ethernet frame: IPv4 (with the Router Alert option, as queriers send it) and IGMP. */
static size_t igmp_frame(uint8_t *f, uint32_t dst, const uint8_t *igmp, size_t len, bool fix_sum)
{
	uint8_t *ip = f + ETH_LEN, *g = ip + 24;

	memset(f, 0, ETH_LEN + 24 + len);
	put16(f + 12, 0x0800);
	ip[0] = 0x46;
	put16(ip + 2, (uint32_t)(24 + len));
	ip[8] = 1;
	ip[9] = 2;
	put32(ip + 12, QUERIER4);
	put32(ip + 16, dst);
	ip[20] = 0x94;
	ip[21] = 4;
	put16(ip + 10, ~sum16(ip, 24, 0) & 0xffff);
	memcpy(g, igmp, len);
	if (fix_sum) {
		put16(g + 2, 0);
		put16(g + 2, ~sum16(g, len, 0) & 0xffff);
	}
	return ETH_LEN + 24 + len;
}

static enum mcr_verdict parse_bytes(const uint8_t *f, size_t cap, size_t wire,
				    const struct mcr_match *m, struct mcr_datagram *d)
{
	struct mcr_frame fr = { .data = f, .caplen = (uint32_t)cap, .wirelen = (uint32_t)wire,
				.link = MCR_LINK_ETHER };

	memset(d, 0xa5, sizeof(*d));
	return parse_frame(&fr, m, d);
}

START_TEST(test_igmp_v2_general)
{
	/* RFC 2236 2: type 0x11, max response 10 s (100), group 0. */
	static const uint8_t q[8] = { 0x11, 100, 0, 0, 0, 0, 0, 0 };
	struct mcr_match m = match4();
	struct mcr_datagram d;
	uint8_t f[128];
	size_t n = igmp_frame(f, ALL_SYSTEMS, q, sizeof(q), true);

	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_version, 2);
	ck_assert_uint_eq(d.query_membership_ms, 0);
	ck_assert_int_eq(d.src.family, AF_INET);
	ck_assert_uint_eq(ntohl(d.src.v4.s_addr), QUERIER4);
	/* With -s, the querier is still heard: it is not the stream's source. */
	m.source.family = AF_INET;
	m.source.v4.s_addr = htonl(IP4(198, 19, 50, 5));
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
}
END_TEST

START_TEST(test_igmp_v1)
{
	/* RFC 1112: a v1 query has a code of 0. */
	static const uint8_t q[8] = { 0x11, 0, 0, 0, 0, 0, 0, 0 };
	struct mcr_match m = match4();
	struct mcr_datagram d;
	uint8_t f[128];
	size_t n = igmp_frame(f, ALL_SYSTEMS, q, sizeof(q), true);

	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_version, 1);
}
END_TEST

START_TEST(test_igmp_v3_membership)
{
	/* RFC 3376 defaults: QRV 2, QQIC 125 s, max response 10 s: 2 * 125 + 10 = 260 s. */
	static const uint8_t q[12] = { 0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0 };
	/*
	 * Codes past 127 (RFC 3376 4.1.1, 4.1.7): QQIC 0x8c is mantissa 0xc, exponent 0:
	 * (0x10 | 0xc) << 3 = 224 s; max response 0x91 is (0x10 | 1) << (1 + 3) = 272 tenths.
	 * QRV 3: 3 * 224 s + 27.2 s = 699.2 s.
	 */
	static const uint8_t big[12] = { 0x11, 0x91, 0, 0, 0, 0, 0, 0, 3, 0x8c, 0, 0 };
	/* QRV 0 and QQIC 0 mean the defaults, 2 and 125 s; max response 1 s. */
	static const uint8_t zero[12] = { 0x11, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct mcr_match m = match4();
	struct mcr_datagram d;
	uint8_t f[128];
	size_t n = igmp_frame(f, ALL_SYSTEMS, q, sizeof(q), true);

	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_version, 3);
	ck_assert_uint_eq(d.query_membership_ms, 260000);
	n = igmp_frame(f, ALL_SYSTEMS, big, sizeof(big), true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_membership_ms, 699200);
	n = igmp_frame(f, ALL_SYSTEMS, zero, sizeof(zero), true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_membership_ms, 251000);
}
END_TEST

START_TEST(test_igmp_group_specific)
{
	uint8_t q[16] = { 0x11, 10, 0, 0, 239, 0, 0, 1, 2, 125, 0, 1, 198, 19, 50, 5 };
	struct mcr_match m = match4();
	struct mcr_datagram d;
	uint8_t f[128];
	size_t n = igmp_frame(f, GROUP4, q, 8, true);

	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	/* v3 group-and-source-specific, one source. */
	n = igmp_frame(f, GROUP4, q, 16, true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_version, 3);
	/* Another group's: not this stream's business. */
	q[7] = 2;
	n = igmp_frame(f, IP4(239, 0, 0, 2), q, 8, true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
	n = igmp_frame(f, ALL_SYSTEMS, q, 8, true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
}
END_TEST

START_TEST(test_igmp_not_queries)
{
	/* Reports (v1, v2, v3) and leaves are other hosts' business. */
	static const uint8_t types[] = { 0x12, 0x16, 0x22, 0x17, 0x00, 0xff };
	struct mcr_match m = match4();
	struct mcr_datagram d;
	uint8_t q[8] = { 0, 0, 0, 0, 239, 0, 0, 1 }, f[128];

	for (size_t i = 0; i < sizeof(types); i++) {
		size_t n;

		q[0] = types[i];
		n = igmp_frame(f, GROUP4, q, sizeof(q), true);
		assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
	}
}
END_TEST

START_TEST(test_igmp_bad)
{
	static const uint8_t q[12] = { 0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0 };
	/* Two sources announced, none there. */
	static const uint8_t short_srcs[12] = { 0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 2 };
	struct mcr_match m = match4();
	struct mcr_datagram d;
	uint8_t f[128];
	size_t n = igmp_frame(f, ALL_SYSTEMS, q, sizeof(q), true);

	/* Every capture length short of the message: truncated, or before its type, no query. */
	for (size_t cap = ETH_LEN + 24 + 1; cap < n; cap++)
		assert_verdict(parse_bytes(f, cap, n, &m, &d), MCR_DROP_TRUNCATED);
	f[n - 3] ^= 1;	/* QQIC */
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_CHECKSUM);
	/* 9 to 11 bytes: neither v2 nor v3 (the kernel ignores these). */
	n = igmp_frame(f, ALL_SYSTEMS, q, 10, true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_MALFORMED);
	n = igmp_frame(f, ALL_SYSTEMS, short_srcs, sizeof(short_srcs), true);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_MALFORMED);
	/* A fragment is no query. */
	n = igmp_frame(f, ALL_SYSTEMS, q, sizeof(q), true);
	put16(f + ETH_LEN + 6, 0x2000);
	put16(f + ETH_LEN + 10, 0);
	put16(f + ETH_LEN + 10, ~sum16(f + ETH_LEN, 24, 0) & 0xffff);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
}
END_TEST

/* IPv6: ff3e::1234, queriers at fe80::1. */
static const uint8_t group6[16] = { 0xff, 0x3e, [14] = 0x12, [15] = 0x34 };
static const uint8_t all_nodes6[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t querier6[16] = { 0xfe, 0x80, [15] = 1 };

static struct mcr_match match6(void)
{
	struct mcr_match m = { 0 };

	m.group.family = AF_INET6;
	memcpy(&m.group.v6, group6, 16);
	m.port = 5000;
	return m;
}

/* Ethernet, IPv6, a hop-by-hop header with the Router Alert (RFC 2711) if hbh, and ICMPv6. */
static size_t mld_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst, bool hbh,
			const uint8_t *icmp, size_t len)
{
	uint8_t *ip = f + ETH_LEN, *p = ip + 40, *q;
	uint32_t sum;

	memset(f, 0, ETH_LEN + 48 + len);
	put16(f + 12, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, (uint32_t)((hbh ? 8 : 0) + len));
	ip[6] = hbh ? 0 : 58;
	ip[7] = 1;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	if (hbh) {
		const uint8_t opt[8] = { 58, 0, 5, 2, 0, 0, 1, 0 };

		memcpy(p, opt, 8);
		p += 8;
	}
	q = p;
	memcpy(q, icmp, len);
	put16(q + 2, 0);
	sum = sum16(ip + 8, 32, 0);
	sum = sum16((const uint8_t[]){ 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, 58 }, 8,
		    sum);
	put16(q + 2, ~sum16(q, len, sum) & 0xffff);
	return (size_t)(q - f) + len;
}

START_TEST(test_mld_v2_general)
{
	/* RFC 3810 5.1: max response code 10000 ms, QRV 2, QQIC 125: 260 s. */
	uint8_t q[28] = { 130, 0, 0, 0, 0x27, 0x10 };
	struct mcr_match m = match6();
	struct mcr_datagram d;
	uint8_t f[160];
	size_t n;

	q[24] = 2;
	q[25] = 125;
	n = mld_frame(f, querier6, all_nodes6, true, q, sizeof(q));
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_version, 2);
	ck_assert_uint_eq(d.query_membership_ms, 260000);
	ck_assert_int_eq(d.src.family, AF_INET6);
	ck_assert(!memcmp(&d.src.v6, querier6, 16));
	/* Without the hop-by-hop header too. */
	n = mld_frame(f, querier6, all_nodes6, false, q, sizeof(q));
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	/* A maximum response code past 32767 (RFC 3810 5.1.3): 0x8001 is 0x1001 << 3 ms. */
	q[4] = 0x80;
	q[5] = 0x01;
	n = mld_frame(f, querier6, all_nodes6, true, q, sizeof(q));
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_membership_ms, 250000 + (0x1001 << 3));
	/* -s names the stream's source, not the querier. */
	m.source.family = AF_INET6;
	m.source.v6.s6_addr[0] = 0xfd;
	m.source.v6.s6_addr[15] = 5;
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
}
END_TEST

START_TEST(test_mld_v1_and_group)
{
	uint8_t q[28] = { 130, 0, 0, 0, 0x03, 0xe8 };
	struct mcr_match m = match6();
	struct mcr_datagram d;
	uint8_t f[160];
	size_t n = mld_frame(f, querier6, all_nodes6, true, q, 24);

	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	ck_assert_uint_eq(d.query_version, 1);
	ck_assert_uint_eq(d.query_membership_ms, 0);
	/* For the group, sent to the group. */
	memcpy(q + 8, group6, 16);
	n = mld_frame(f, querier6, group6, true, q, 24);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_QUERY);
	/* For another group. */
	q[23] = 0x35;
	n = mld_frame(f, querier6, all_nodes6, true, q, 24);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
}
END_TEST

START_TEST(test_mld_bad)
{
	static const uint8_t global[16] = { 0xfd, 0x00, [15] = 1 };
	uint8_t q[28] = { 130, 0, 0, 0, 0x03, 0xe8 }, f[160];
	struct mcr_match m = match6();
	struct mcr_datagram d;
	size_t n;

	/* The kernel heeds queries from link-local sources only (RFC 2710 3, RFC 3810 5). */
	n = mld_frame(f, global, all_nodes6, true, q, 24);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
	/* 25 to 27 bytes: neither version. */
	n = mld_frame(f, querier6, all_nodes6, true, q, 26);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_MALFORMED);
	/* A source announced and missing. */
	q[27] = 1;
	n = mld_frame(f, querier6, all_nodes6, true, q, 28);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_MALFORMED);
	q[27] = 0;
	n = mld_frame(f, querier6, all_nodes6, true, q, 24);
	f[n - 1] ^= 1;
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_CHECKSUM);
	for (size_t cap = ETH_LEN + 48 + 1; cap < n; cap++)
		assert_verdict(parse_bytes(f, cap, n, &m, &d), MCR_DROP_TRUNCATED);
	/* Echo requests and router advertisements to all nodes are no queries. */
	q[0] = 128;
	n = mld_frame(f, querier6, all_nodes6, false, q, 24);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
	q[0] = 134;
	n = mld_frame(f, querier6, all_nodes6, true, q, 24);
	assert_verdict(parse_bytes(f, n, n, &m, &d), MCR_DROP_UNMATCHED);
}
END_TEST

static Suite *query_suite(void)
{
	Suite *s = suite_create("queries");
	TCase *tc = tcase_create("parse_frame");

	tcase_add_test(tc, test_igmp_v2_general);
	tcase_add_test(tc, test_igmp_v1);
	tcase_add_test(tc, test_igmp_v3_membership);
	tcase_add_test(tc, test_igmp_group_specific);
	tcase_add_test(tc, test_igmp_not_queries);
	tcase_add_test(tc, test_igmp_bad);
	tcase_add_test(tc, test_mld_v2_general);
	tcase_add_test(tc, test_mld_v1_and_group);
	tcase_add_test(tc, test_mld_bad);
	suite_add_tcase(s, tc);
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* build_report()                                                                             */

START_TEST(test_report_igmp)
{
	/* RFC 3376 4.2: type 0x22, one record, MODE_IS_EXCLUDE (2) of no source. */
	static const uint8_t v3[16] = { 0x22, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 239, 0, 0, 1 };
	/* With -s 198.19.50.5: MODE_IS_INCLUDE (1) of it. */
	static const uint8_t v3s[20] = { 0x22, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1,
					 239, 0, 0, 1, 198, 19, 50, 5 };
	static const uint8_t v2[8] = { 0x16, 0, 0, 0, 239, 0, 0, 1 };
	static const uint8_t v1[8] = { 0x12, 0, 0, 0, 239, 0, 0, 1 };
	struct mcr_match m = match4();
	uint8_t buf[MCR_REPORT_MAX];
	struct mcr_ip dst;
	size_t n;

	n = build_report(&m, 3, buf, &dst);
	ck_assert_uint_eq(n, sizeof(v3));
	ck_assert_uint_eq(sum16(buf, n, 0), 0xffff);
	put16(buf + 2, 0);
	ck_assert(!memcmp(buf, v3, n));
	ck_assert_uint_eq(ntohl(dst.v4.s_addr), IP4(224, 0, 0, 22));
	n = build_report(&m, 2, buf, &dst);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(sum16(buf, n, 0), 0xffff);
	put16(buf + 2, 0);
	ck_assert(!memcmp(buf, v2, n));
	ck_assert_uint_eq(ntohl(dst.v4.s_addr), GROUP4);
	n = build_report(&m, 1, buf, &dst);
	ck_assert_uint_eq(n, 8);
	put16(buf + 2, 0);
	ck_assert(!memcmp(buf, v1, n));
	m.source.family = AF_INET;
	m.source.v4.s_addr = htonl(IP4(198, 19, 50, 5));
	n = build_report(&m, 3, buf, &dst);
	ck_assert_uint_eq(n, sizeof(v3s));
	ck_assert_uint_eq(sum16(buf, n, 0), 0xffff);
	put16(buf + 2, 0);
	ck_assert(!memcmp(buf, v3s, n));
	ck_assert_uint_eq(build_report(&m, 4, buf, &dst), 0);
	ck_assert_uint_eq(build_report(&m, 0, buf, &dst), 0);
}
END_TEST

START_TEST(test_report_mld)
{
	static const uint8_t routers[16] = { 0xff, 0x02, [15] = 0x16 };
	struct mcr_match m = match6();
	uint8_t buf[MCR_REPORT_MAX], want[MCR_REPORT_MAX] = { 143, 0, 0, 0, 0, 0, 0, 1, 2 };
	struct mcr_ip dst;
	size_t n;

	/* RFC 3810 5.2: type 143, one record, MODE_IS_EXCLUDE of none, to ff02::16. */
	memcpy(want + 12, group6, 16);
	n = build_report(&m, 2, buf, &dst);
	ck_assert_uint_eq(n, 28);
	ck_assert(!memcmp(buf, want, n));
	ck_assert_int_eq(dst.family, AF_INET6);
	ck_assert(!memcmp(&dst.v6, routers, 16));
	/* With -s fd00::5: MODE_IS_INCLUDE of it. */
	m.source.family = AF_INET6;
	m.source.v6.s6_addr[0] = 0xfd;
	m.source.v6.s6_addr[15] = 5;
	want[8] = 1;
	want[11] = 1;
	memcpy(want + 28, &m.source.v6, 16);
	n = build_report(&m, 2, buf, &dst);
	ck_assert_uint_eq(n, 44);
	ck_assert(!memcmp(buf, want, n));
	/* RFC 2710 3: MLDv1, type 131, the group in the message and as the destination. */
	memset(want, 0, sizeof(want));
	want[0] = 131;
	memcpy(want + 8, group6, 16);
	n = build_report(&m, 1, buf, &dst);
	ck_assert_uint_eq(n, 24);
	ck_assert(!memcmp(buf, want, n));
	ck_assert(!memcmp(&dst.v6, group6, 16));
	ck_assert_uint_eq(build_report(&m, 3, buf, &dst), 0);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("reports");
	TCase *tc = tcase_create("build_report");

	tcase_add_test(tc, test_report_igmp);
	tcase_add_test(tc, test_report_mld);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stall_suite());

	srunner_add_suite(sr, prom_suite());
	srunner_add_suite(sr, query_suite());
	srunner_add_suite(sr, report_suite());
	return run_suites(sr, "check_health");
}

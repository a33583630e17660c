// SPDX-License-Identifier: MIT
/*
 * Unit tests for parse.c: the command line, DSCP names, address text and every verdict of
 * parse_frame(), VLAN matching, fragments and UDP checksums included. Frames are built byte by
 * byte here; their IPv4 and UDP checksums come from our own RFC 1071 helpers, checked against
 * a published header and a worked example. Expected values come from the spec, never from the
 * code under test.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define IP_LEN 20		/* bytes: IPv4 header without options */
#define IPOPT_RA 148		/* Router Alert, 4 bytes */
#define PAYLOAD_LEN 32		/* bytes: payload of the default test datagram */
#define JUMBO_MTU 9000		/* bytes: a common jumbo-frame MTU */
#define MUTATIONS 200000	/* iterations of the mutation loop */
#define MUTATION_SEED 0x9e3779b97f4a7c15ull

#define BASE "-i", "eth0", "-g", "239.0.0.1:5000", "-o", "10.0.0.2:6000"
#define NO_I "-g", "239.0.0.1:5000", "-o", "10.0.0.2:6000"
#define NO_G "-i", "eth0", "-o", "10.0.0.2:6000"
#define NO_O "-i", "eth0", "-g", "239.0.0.1:5000"

/* ---------------------------------------------------------------------------------------- */
/* Command line helpers                                                                      */

static void join_args(const char *const *args, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *args && n + 1 < len; args++)
		n += (size_t)snprintf(buf + n, len - n, "%s'%s'", n ? " " : "", *args);
}

/* One line, ends with the hint, names the culprit (and `also`, when given). */
static void assert_error(enum mcr_parse_result r, const char *err, const char *what,
			 const char *culprit, const char *also)
{
	size_t n = strnlen(err, MCR_ERR_LEN);

	ck_assert_msg(r == MCR_PARSE_ERROR, "%s: result %d, expected MCR_PARSE_ERROR", what, r);
	ck_assert_msg(n < MCR_ERR_LEN, "%s: error message not terminated", what);
	ck_assert_msg(n > strlen(HINT) && !strcmp(err + n - strlen(HINT), HINT),
		      "%s: error \"%s\" does not end with \"%s\"", what, err, HINT);
	ck_assert_msg(!strchr(err, '\n'), "%s: error \"%s\" is not one line", what, err);
	ck_assert_msg(!strchr(err, 'J') || strchr(what, 'J'), "%s: error \"%s\" has stale bytes",
		      what, err);
	if (culprit)
		ck_assert_msg(strstr(err, culprit), "%s: error \"%s\" does not name \"%s\"", what,
			      err, culprit);
	if (also)
		ck_assert_msg(strstr(err, also), "%s: error \"%s\" does not say \"%s\"", what, err,
			      also);
}

static void assert_ip(const struct mcr_ip *ip, const char *text)
{
	struct in_addr want;

	ck_assert_int_eq(inet_pton(AF_INET, text, &want), 1);
	ck_assert_msg(ip->family == AF_INET, "family %d, expected AF_INET for %s", ip->family,
		      text);
	ck_assert_msg(ip->v4.s_addr == want.s_addr, "address %08x, expected %s (%08x)",
		      ntohl(ip->v4.s_addr), text, ntohl(want.s_addr));
}

static void assert_out(const struct mcr_out *o, const char *addr, uint16_t port,
		       const char *ifname, const char *text)
{
	assert_ip(&o->addr, addr);
	ck_assert_uint_eq(o->port, port);
	ck_assert_str_eq(o->ifname, ifname);
	ck_assert_str_eq(o->text, text);
}

static void assert_defaults_except_required(const struct mcr_config *cfg)
{
	ck_assert_int_eq(cfg->source.family, AF_UNSPEC);
	ck_assert_int_eq(cfg->ttl, MCR_TTL_DEFAULT);
	ck_assert_int_eq(cfg->dscp, MCR_DSCP_KEEP);
	ck_assert_uint_eq(cfg->count, 0);
	ck_assert_uint_eq(cfg->stats_interval_ms, 0);
	ck_assert_int_eq(cfg->stats_format, MCR_STATS_KV);
	ck_assert(!cfg->no_join);
	ck_assert_uint_eq(cfg->vlan, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Command line: accepted                                                                    */

START_TEST(test_args_defaults)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.ingress, "eth0");
	assert_ip(&cfg.group, "239.0.0.1");
	ck_assert_uint_eq(cfg.port, 5000);
	ck_assert_uint_eq(cfg.n_out, 1);
	assert_out(&cfg.out[0], "10.0.0.2", 6000, "", "10.0.0.2:6000");
	assert_defaults_except_required(&cfg);
}
END_TEST

static void assert_full_config(const struct mcr_config *cfg, const char *out_iface,
			       const char *out_text)
{
	ck_assert_str_eq(cfg->ingress, "eth1");
	assert_ip(&cfg->group, "239.1.2.3");
	ck_assert_uint_eq(cfg->port, 1234);
	assert_ip(&cfg->source, "192.0.2.1");
	ck_assert_uint_eq(cfg->n_out, 1);
	assert_out(&cfg->out[0], "198.51.100.7", 65535, out_iface, out_text);
	ck_assert_int_eq(cfg->ttl, 8);
	ck_assert_int_eq(cfg->dscp, 34);	/* AF41 = 8*4 + 2*1, RFC 2597 */
	ck_assert_uint_eq(cfg->count, 10);
	ck_assert_uint_eq(cfg->stats_interval_ms, 2500);
	ck_assert_int_eq(cfg->stats_format, MCR_STATS_JSON);
	ck_assert(cfg->no_join);
}

START_TEST(test_args_long_separate)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "--in", "eth1", "--group", "239.1.2.3:1234", "--source",
			       "192.0.2.1", "--out", "198.51.100.7:65535", "--ttl", "8", "--dscp",
			       "af41", "--count", "10", "--stats-interval", "2.5",
			       "--stats-format", "json", "--no-join"),
			 MCR_PARSE_RUN);
	assert_full_config(&cfg, "", "198.51.100.7:65535");
}
END_TEST

START_TEST(test_args_long_equals)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "--in=eth1", "--group=239.1.2.3:1234",
			       "--source=192.0.2.1", "--out=198.51.100.7:65535@eth2", "--ttl=8",
			       "--dscp=af41", "--count=10", "--stats-interval=2.5",
			       "--stats-format=json", "--no-join"),
			 MCR_PARSE_RUN);
	assert_full_config(&cfg, "eth2", "198.51.100.7:65535@eth2");
}
END_TEST

START_TEST(test_args_short_attached)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "-ieth1", "-g239.1.2.3:1234", "-s192.0.2.1",
			       "-o198.51.100.7:65535", "-t8", "-c10", "--dscp", "AF41",
			       "--stats-interval", "2.500", "--stats-format", "json", "--no-join"),
			 MCR_PARSE_RUN);
	assert_full_config(&cfg, "", "198.51.100.7:65535");
}
END_TEST

START_TEST(test_args_short_separate)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth1", "-g", "239.1.2.3:1234", "-s", "192.0.2.1",
			       "-o", "198.51.100.7:65535@eth2", "-t", "8", "-c", "10", "--dscp",
			       "Af41", "--stats-interval", "2.5", "--stats-format", "json",
			       "--no-join"),
			 MCR_PARSE_RUN);
	assert_full_config(&cfg, "eth2", "198.51.100.7:65535@eth2");
}
END_TEST

START_TEST(test_args_any_order)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "-o", "10.0.0.2:6000", "--no-join", "-g",
			       "239.0.0.1:5000", "-t", "3", "-i", "eth0"),
			 MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.ingress, "eth0");
	assert_ip(&cfg.group, "239.0.0.1");
	ck_assert_uint_eq(cfg.port, 5000);
	assert_out(&cfg.out[0], "10.0.0.2", 6000, "", "10.0.0.2:6000");
	ck_assert_int_eq(cfg.ttl, 3);
	ck_assert(cfg.no_join);
}
END_TEST

START_TEST(test_args_ingress_name_length)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	char name[IF_NAMESIZE];

	memset(name, 'n', IF_NAMESIZE - 1);	/* the longest name the kernel takes */
	name[IF_NAMESIZE - 1] = '\0';
	ck_assert_int_eq(PARSE(&cfg, err, "-i", name, NO_I), MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.ingress, name);
}
END_TEST

START_TEST(test_args_out_max)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	char text[MCR_MAX_OUT][64], addr[MCR_MAX_OUT][32], ifname[MCR_MAX_OUT][IF_NAMESIZE];
	const char *args[2 * MCR_MAX_OUT + 8];
	int n = 0;

	args[n++] = "-i";
	args[n++] = "eth0";
	args[n++] = "-g";
	args[n++] = "239.0.0.1:5000";
	for (int i = 0; i < MCR_MAX_OUT; i++) {
		/* Alternately unicast without and multicast with an egress interface. */
		if (i % 2) {
			snprintf(addr[i], sizeof(addr[i]), "239.2.0.%d", i);
			snprintf(ifname[i], sizeof(ifname[i]), "veth%d", i);
			snprintf(text[i], sizeof(text[i]), "%s:%d@%s", addr[i], 7000 + i,
				 ifname[i]);
		} else {
			snprintf(addr[i], sizeof(addr[i]), "10.0.%d.1", i);
			ifname[i][0] = '\0';
			snprintf(text[i], sizeof(text[i]), "%s:%d", addr[i], 7000 + i);
		}
		args[n++] = i % 4 == 3 ? "--out" : "-o";
		args[n++] = text[i];
	}
	args[n] = NULL;
	ck_assert_int_eq(parse_list(&cfg, err, args), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.n_out, MCR_MAX_OUT);
	for (int i = 0; i < MCR_MAX_OUT; i++)
		assert_out(&cfg.out[i], addr[i], (uint16_t)(7000 + i), ifname[i], text[i]);
}
END_TEST

START_TEST(test_args_out_too_many)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	char text[MCR_MAX_OUT + 1][32];
	const char *args[2 * MCR_MAX_OUT + 8];
	int n = 0;

	args[n++] = "-i";
	args[n++] = "eth0";
	args[n++] = "-g";
	args[n++] = "239.0.0.1:5000";
	for (int i = 0; i <= MCR_MAX_OUT; i++) {
		snprintf(text[i], sizeof(text[i]), "10.9.%d.1:6000", i);
		args[n++] = "-o";
		args[n++] = text[i];
	}
	args[n] = NULL;
	assert_error(parse_list(&cfg, err, args), err, "17 outputs", text[MCR_MAX_OUT], NULL);
}
END_TEST

START_TEST(test_args_out_same_dest_elsewhere)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	/* Same address and port via another interface, or another port: distinct. */
	ck_assert_int_eq(PARSE(&cfg, err, NO_O, "-o", "239.1.1.1:7000", "-o",
			       "239.1.1.1:7000@eth1", "-o", "239.1.1.1:7000@eth2", "-o",
			       "239.1.1.1:7001", "-o", "239.1.1.2:7000"),
			 MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.n_out, 5);
	assert_out(&cfg.out[0], "239.1.1.1", 7000, "", "239.1.1.1:7000");
	assert_out(&cfg.out[1], "239.1.1.1", 7000, "eth1", "239.1.1.1:7000@eth1");
	assert_out(&cfg.out[2], "239.1.1.1", 7000, "eth2", "239.1.1.1:7000@eth2");
	assert_out(&cfg.out[3], "239.1.1.1", 7001, "", "239.1.1.1:7001");
	assert_out(&cfg.out[4], "239.1.1.2", 7000, "", "239.1.1.2:7000");
}
END_TEST

START_TEST(test_args_out_forms)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	char name[IF_NAMESIZE], text[64];

	memset(name, 'e', IF_NAMESIZE - 1);
	name[IF_NAMESIZE - 1] = '\0';
	snprintf(text, sizeof(text), "224.0.0.251:1@%s", name);
	ck_assert_int_eq(PARSE(&cfg, err, NO_O, "-o192.0.2.9:6000", "--out=239.255.255.255:65535",
			       "--out", text),
			 MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.n_out, 3);
	assert_out(&cfg.out[0], "192.0.2.9", 6000, "", "192.0.2.9:6000");
	assert_out(&cfg.out[1], "239.255.255.255", 65535, "", "239.255.255.255:65535");
	assert_out(&cfg.out[2], "224.0.0.251", 1, name, text);
}
END_TEST

/* The text field is the argument as written: never a silently shortened copy. */
START_TEST(test_args_out_text_long)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	char text[100];

	/* 70 characters; the port has leading zeros but is 6000. */
	snprintf(text, sizeof(text), "10.0.0.2:%060d", 6000);
	ck_assert_uint_eq(strlen(text), 69);
	if (PARSE(&cfg, err, NO_O, "-o", text) == MCR_PARSE_RUN)
		ck_assert_msg(!strcmp(cfg.out[0].text, text),
			      "accepted -o %s but its text is \"%s\"", text, cfg.out[0].text);
	else
		assert_error(MCR_PARSE_ERROR, err, "-o long", "10.0.0.2", NULL);
}
END_TEST

START_TEST(test_args_group_edges)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, NO_G, "-g", "224.0.0.0:1"), MCR_PARSE_RUN);
	assert_ip(&cfg.group, "224.0.0.0");
	ck_assert_uint_eq(cfg.port, 1);
	ck_assert_int_eq(PARSE(&cfg, err, NO_G, "--group=239.255.255.255:65535"), MCR_PARSE_RUN);
	assert_ip(&cfg.group, "239.255.255.255");
	ck_assert_uint_eq(cfg.port, 65535);
}
END_TEST

START_TEST(test_args_source_edges)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	static const char *const ok[] = { "1.2.3.4", "10.0.0.1", "223.255.255.255",
					  "192.168.255.255" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, BASE, "-s", ok[i]) == MCR_PARSE_RUN, "-s %s: %s",
			      ok[i], err);
		assert_ip(&cfg.source, ok[i]);
	}
}
END_TEST

START_TEST(test_args_ttl_range)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-t", "1"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.ttl, 1);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--ttl=255"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.ttl, 255);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-t64"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.ttl, 64);
}
END_TEST

START_TEST(test_args_dscp_values)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	char num[16];

	for (int v = 0; v <= 63; v++) {
		snprintf(num, sizeof(num), "%d", v);
		ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp", num), MCR_PARSE_RUN);
		ck_assert_int_eq(cfg.dscp, v);
	}
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp", "EF"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.dscp, 46);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp=cs6"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.dscp, 48);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp", "le"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.dscp, 1);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp", "keep"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.dscp, MCR_DSCP_KEEP);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp=KEEP"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.dscp, MCR_DSCP_KEEP);
}
END_TEST

START_TEST(test_args_count)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-c", "1"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.count, 1);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--count=1000000"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.count, 1000000);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-c9223372036854775807"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.count, 9223372036854775807ull);
}
END_TEST

/* Numbers past 2^64 cannot be a count: refused, not wrapped (nor undefined behaviour). */
START_TEST(test_args_count_overflow)
{
	static const char *const big[] = {
		"18446744073709551617",	/* 2^64 + 1: wraps to 1 */
		"99999999999999999999",
		"18446744073709551616",	/* 2^64: wraps to 0 */
		"92233720368547758079",
	};
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], what[64];

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		snprintf(what, sizeof(what), "-c %s", big[i]);
		assert_error(PARSE(&cfg, err, BASE, "-c", big[i]), err, what, big[i], NULL);
	}
}
END_TEST

START_TEST(test_args_stats_interval)
{
	static const struct {
		const char *text;
		uint32_t ms;
	} cases[] = {
		{ "0.001", 1 },	      { "0.01", 10 },	      { "0.1", 100 },
		{ "0.999", 999 },     { "1", 1000 },	      { "1.5", 1500 },
		{ "2.05", 2050 },     { "10.123", 10123 },    { "59.999", 59999 },
		{ "3600", 3600000 },  { "86400", 86400000 },  { "86400.0", 86400000 },
		{ "86400.000", 86400000 }, { "86399.999", 86399999 },
	};
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, BASE, "--stats-interval", cases[i].text) ==
				      MCR_PARSE_RUN,
			      "--stats-interval %s: %s", cases[i].text, err);
		ck_assert_msg(cfg.stats_interval_ms == cases[i].ms, "%s: %u ms, expected %u",
			      cases[i].text, cfg.stats_interval_ms, cases[i].ms);
	}
}
END_TEST

START_TEST(test_args_stats_format)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-format", "json"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_JSON);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--stats-format=kv"), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.stats_format, MCR_STATS_KV);
}
END_TEST

START_TEST(test_args_no_join)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--no-join"), MCR_PARSE_RUN);
	ck_assert(cfg.no_join);
	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert(!cfg.no_join);
}
END_TEST

/* --vlan takes an 802.1Q VLAN ID: 1 to 4094 (0 means a priority tag, 4095 is reserved). */
START_TEST(test_args_vlan)
{
	static const struct {
		const char *text;
		uint16_t vid;
	} ok[] = { { "1", 1 }, { "2", 2 }, { "100", 100 }, { "4093", 4093 }, { "4094", 4094 } };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], joined[32];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, BASE, "--vlan", ok[i].text) == MCR_PARSE_RUN,
			      "--vlan %s: %s", ok[i].text, err);
		ck_assert_uint_eq(cfg.vlan, ok[i].vid);
		snprintf(joined, sizeof(joined), "--vlan=%s", ok[i].text);
		ck_assert_msg(PARSE(&cfg, err, joined, BASE) == MCR_PARSE_RUN, "%s: %s", joined,
			      err);
		ck_assert_uint_eq(cfg.vlan, ok[i].vid);
		/* Nothing else moves. */
		ck_assert_str_eq(cfg.ingress, "eth0");
		ck_assert_uint_eq(cfg.port, 5000);
		ck_assert_int_eq(cfg.dscp, MCR_DSCP_KEEP);
	}
	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.vlan, 0);
}
END_TEST

/* --user takes a name for /etc/passwd or numbers UID:GID; nothing is looked up here. */
START_TEST(test_args_user)
{
	static const char *const ok[] = { "nobody", "mcr", "65534:65534", "0:0", "1000", "a-b_c" };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, BASE, "--user", ok[i]) == MCR_PARSE_RUN,
			      "--user %s: %s", ok[i], err);
		ck_assert_str_eq(cfg.user, ok[i]);
		ck_assert_msg(PARSE(&cfg, err, BASE, "-u", ok[i]) == MCR_PARSE_RUN, "-u %s: %s",
			      ok[i], err);
		ck_assert_str_eq(cfg.user, ok[i]);
	}
	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.user, "");
}
END_TEST

/* --busy-poll: microseconds, 1 to MCR_BUSY_POLL_MAX_US; off (0) unless given. */
START_TEST(test_args_busy_poll)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.busy_poll_us, 0);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--busy-poll", "1"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.busy_poll_us, 1);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--busy-poll=100000"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.busy_poll_us, 100000);
}
END_TEST

START_TEST(test_args_help_version)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "-h"), MCR_PARSE_HELP);
	ck_assert_int_eq(PARSE(&cfg, err, "--help"), MCR_PARSE_HELP);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "-h"), MCR_PARSE_HELP);
	ck_assert_int_eq(PARSE(&cfg, err, "--help", "-i", "eth0"), MCR_PARSE_HELP);
	ck_assert_int_eq(PARSE(&cfg, err, "-V"), MCR_PARSE_VERSION);
	ck_assert_int_eq(PARSE(&cfg, err, "--version"), MCR_PARSE_VERSION);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--version"), MCR_PARSE_VERSION);
	ck_assert_int_eq(PARSE(&cfg, err, "-V", "-g", "239.0.0.1:5000"), MCR_PARSE_VERSION);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Command line: refused                                                                     */

struct arg_error {
	const char *args[16];	/* NULL-terminated */
	const char *culprit;	/* text the message must contain, NULL for none */
	const char *also;	/* a second text it must contain, or NULL */
};

static const struct arg_error arg_errors[] = {
	/* Required options. */
	{ { NULL }, NULL, NULL },
	{ { NO_I }, "-i", NULL },
	{ { NO_G }, "-g", NULL },
	{ { NO_O }, "-o", NULL },
	{ { "--no-join", "-t", "4" }, NULL, NULL },
	/* Unknown options and positional arguments. */
	{ { BASE, "-x" }, "-x", NULL },
	{ { BASE, "-I", "eth1" }, "-I", NULL },
	{ { BASE, "--bogus" }, "--bogus", NULL },
	{ { BASE, "--bogus=1" }, "--bogus", NULL },
	{ { BASE, "--ingress", "eth1" }, "--ingress", NULL },
	{ { BASE, "extra" }, "extra", NULL },
	{ { "eth9", BASE }, "eth9", NULL },
	{ { BASE, "239.0.0.9:5000" }, "239.0.0.9:5000", NULL },
	/* A missing value. */
	{ { NO_I, "-i" }, "-i", NULL },
	{ { NO_I, "--in" }, "--in", NULL },
	{ { NO_G, "-g" }, "-g", NULL },
	{ { NO_G, "--group" }, "--group", NULL },
	{ { NO_O, "-o" }, "-o", NULL },
	{ { NO_O, "--out" }, "--out", NULL },
	{ { BASE, "-s" }, "-s", NULL },
	{ { BASE, "--source" }, "--source", NULL },
	{ { BASE, "-t" }, "-t", NULL },
	{ { BASE, "--ttl" }, "--ttl", NULL },
	{ { BASE, "--dscp" }, "--dscp", NULL },
	{ { BASE, "-c" }, "-c", NULL },
	{ { BASE, "--count" }, "--count", NULL },
	{ { BASE, "--stats-interval" }, "--stats-interval", NULL },
	{ { BASE, "--stats-format" }, "--stats-format", NULL },
	{ { BASE, "--vlan" }, "--vlan", NULL },
	/* Given twice. */
	{ { BASE, "-i", "eth1" }, "-i", "given twice" },
	{ { BASE, "--in=eth1" }, "--in", "given twice" },
	{ { BASE, "-ieth1" }, "-i", "given twice" },
	{ { BASE, "-i", "eth0" }, "-i", "given twice" },
	{ { BASE, "-g", "239.0.0.2:5000" }, "-g", "given twice" },
	{ { BASE, "--group", "239.0.0.1:5000" }, "--group", "given twice" },
	{ { BASE, "-s", "10.0.0.1", "-s", "10.0.0.1" }, "-s", "given twice" },
	{ { BASE, "--source=10.0.0.1", "--source=10.0.0.3" }, "--source", "given twice" },
	{ { BASE, "-t", "1", "-t", "2" }, "-t", "given twice" },
	{ { BASE, "--ttl", "1", "-t", "1" }, "-t", "given twice" },
	{ { BASE, "--dscp", "ef", "--dscp", "ef" }, "--dscp", "given twice" },
	{ { BASE, "--dscp", "keep", "--dscp=cs1" }, "--dscp", "given twice" },
	{ { BASE, "-c", "1", "--count", "1" }, "--count", "given twice" },
	{ { BASE, "--stats-interval", "1", "--stats-interval", "2" }, "--stats-interval",
	  "given twice" },
	{ { BASE, "--stats-format", "kv", "--stats-format", "json" }, "--stats-format",
	  "given twice" },
	{ { BASE, "--no-join", "--no-join" }, "--no-join", "given twice" },
	{ { BASE, "--vlan", "100", "--vlan", "100" }, "--vlan", "given twice" },
	{ { BASE, "--vlan=100", "--vlan=200" }, "--vlan", "given twice" },
	{ { "-h", "-h" }, "-h", "given twice" },
	{ { "--help", "-h" }, "-h", "given twice" },
	{ { "-V", "--version" }, "--version", "given twice" },
	/* A value to an option that takes none. */
	{ { BASE, "--no-join=x" }, "--no-join", NULL },
	{ { BASE, "--no-join=" }, "--no-join", NULL },
	{ { "--help=1" }, "--help", NULL },
	{ { "--version=x" }, "--version", NULL },
	/* -i */
	{ { "-i", "abcdefghijklmnop", NO_I }, "abcdefghijklmnop", NULL },
	{ { "-i", "", NO_I }, "-i", NULL },
	{ { "--in=", NO_I }, "--in", NULL },
	/* -g */
	{ { NO_G, "-g", "239.0.0.1" }, "239.0.0.1", NULL },
	{ { NO_G, "-g", "239.0.0.1:" }, "239.0.0.1:", NULL },
	{ { NO_G, "-g", "239.0.0.1:0" }, "239.0.0.1:0", NULL },
	{ { NO_G, "-g", "239.0.0.1:65536" }, "239.0.0.1:65536", NULL },
	{ { NO_G, "-g", "239.0.0.1:70000" }, "239.0.0.1:70000", NULL },
	{ { NO_G, "-g", "239.0.0.1:99999999999999999999" }, "239.0.0.1:99999999999999999999",
	  NULL },
	{ { NO_G, "-g", "239.0.0.1:abc" }, "239.0.0.1:abc", NULL },
	{ { NO_G, "-g", "239.0.0.1:-1" }, "239.0.0.1:-1", NULL },
	{ { NO_G, "-g", "239.0.0.1:5000x" }, "239.0.0.1:5000x", NULL },
	{ { NO_G, "-g", "239.0.0.1:0x10" }, "239.0.0.1:0x10", NULL },
	{ { NO_G, "-g", "239.0.0.1:5000@eth0" }, "239.0.0.1:5000@eth0", NULL },
	{ { NO_G, "-g", "10.0.0.1:5000" }, "10.0.0.1:5000", NULL },
	{ { NO_G, "-g", "223.255.255.255:5000" }, "223.255.255.255:5000", NULL },
	{ { NO_G, "-g", "240.0.0.1:5000" }, "240.0.0.1:5000", NULL },
	{ { NO_G, "-g", "255.255.255.255:5000" }, "255.255.255.255:5000", NULL },
	{ { NO_G, "-g", "0.0.0.0:5000" }, "0.0.0.0:5000", NULL },
	{ { NO_G, "-g", "239.0.0:5000" }, "239.0.0:5000", NULL },
	{ { NO_G, "-g", "239.0.0.256:5000" }, "239.0.0.256:5000", NULL },
	{ { NO_G, "-g", "group:5000" }, "group:5000", NULL },
	{ { NO_G, "-g", ":5000" }, ":5000", NULL },
	{ { NO_G, "-g", "ff02::1:5000" }, "ff02::1:5000", NULL },
	{ { NO_G, "--group=10.0.0.1:5000" }, "10.0.0.1:5000", NULL },
	{ { NO_G, "-g10.0.0.1:5000" }, "10.0.0.1:5000", NULL },
	/* -s */
	{ { BASE, "-s", "0.0.0.0" }, "0.0.0.0", NULL },
	{ { BASE, "-s", "255.255.255.255" }, "255.255.255.255", NULL },
	{ { BASE, "-s", "224.0.0.0" }, "224.0.0.0", NULL },
	{ { BASE, "-s", "239.1.1.1" }, "239.1.1.1", NULL },
	{ { BASE, "--source=239.255.255.255" }, "239.255.255.255", NULL },
	{ { BASE, "-s", "10.0.0" }, "10.0.0", NULL },
	{ { BASE, "-s", "10.0.0.256" }, "10.0.0.256", NULL },
	{ { BASE, "-s", "10.0.0.1:5000" }, "10.0.0.1:5000", NULL },
	{ { BASE, "-s", "host" }, "host", NULL },
	{ { BASE, "-s", "" }, "-s", NULL },
	/* -o */
	{ { NO_O, "-o", "10.0.0.2" }, "10.0.0.2", NULL },
	{ { NO_O, "-o", "10.0.0.2@eth1" }, "10.0.0.2@eth1", NULL },
	{ { NO_O, "-o", "10.0.0.2:" }, "10.0.0.2:", NULL },
	{ { NO_O, "-o", "10.0.0.2:0" }, "10.0.0.2:0", NULL },
	{ { NO_O, "-o", "10.0.0.2:65536" }, "10.0.0.2:65536", NULL },
	{ { NO_O, "-o", "10.0.0.2:70000" }, "10.0.0.2:70000", NULL },
	{ { NO_O, "-o", "10.0.0.2:abc" }, "10.0.0.2:abc", NULL },
	{ { NO_O, "-o", "10.0.0.2:-5" }, "10.0.0.2:-5", NULL },
	{ { NO_O, "-o", "10.0.0.2:0@eth1" }, "10.0.0.2:0@eth1", NULL },
	{ { NO_O, "-o", "0.0.0.0:6000" }, "0.0.0.0:6000", NULL },
	{ { NO_O, "-o", "0.0.0.0:6000@eth1" }, "0.0.0.0:6000@eth1", NULL },
	{ { NO_O, "-o", "10.0.0.2:6000@" }, "10.0.0.2:6000@", NULL },
	{ { NO_O, "-o", "10.0.0.2:6000@abcdefghijklmnop" }, "10.0.0.2:6000@abcdefghijklmnop",
	  NULL },
	{ { NO_O, "-o", "10.0.0:6000" }, "10.0.0:6000", NULL },
	{ { NO_O, "-o", "host:6000" }, "host:6000", NULL },
	{ { NO_O, "-o", "@eth1" }, "@eth1", NULL },
	{ { NO_O, "-o", "" }, "-o", NULL },
	{ { BASE, "-o", "10.0.0.2:6000" }, "10.0.0.2:6000", NULL },
	{ { BASE, "--out=10.0.0.2:6000" }, "10.0.0.2:6000", NULL },
	{ { BASE, "-o", "10.0.0.2:06000" }, "10.0.0.2:06000", NULL },
	{ { NO_O, "-o", "239.1.1.1:7000@eth1", "-o", "239.1.1.1:7000@eth1" },
	  "239.1.1.1:7000@eth1", NULL },
	/* --user */
	{ { BASE, "--user", "" }, "--user", NULL },
	{ { BASE, "-u", "no body" }, "no body", NULL },
	{ { BASE, "--user", "nobody:x" }, "nobody:x", NULL },
	{ { BASE, "--user", "65534:" }, "65534:", NULL },
	{ { BASE, "--user", ":65534" }, ":65534", NULL },
	{ { BASE, "--user", "1:2:3" }, "1:2:3", NULL },
	{ { BASE, "--user", "a", "-u", "b" }, "given twice", NULL },
	{ { BASE, "--user", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd" },
	  "--user", NULL },
	/* --busy-poll */
	{ { BASE, "--busy-poll", "0" }, "'0'", NULL },
	{ { BASE, "--busy-poll", "100001" }, "100001", NULL },
	{ { BASE, "--busy-poll", "-5" }, "-5", NULL },
	{ { BASE, "--busy-poll", "1ms" }, "1ms", NULL },
	{ { BASE, "--busy-poll" }, "missing value", NULL },
	/* -t */
	{ { BASE, "-t", "0" }, "-t", NULL },
	{ { BASE, "-t", "256" }, "256", NULL },
	{ { BASE, "-t", "1000" }, "1000", NULL },
	{ { BASE, "-t", "-1" }, "-1", NULL },
	{ { BASE, "-t", "abc" }, "abc", NULL },
	{ { BASE, "-t", "" }, "-t", NULL },
	{ { BASE, "-t", "1.5" }, "1.5", NULL },
	{ { BASE, "-t", "64x" }, "64x", NULL },
	{ { BASE, "--ttl=0" }, "--ttl", NULL },
	{ { BASE, "-t0" }, "-t", NULL },
	/* --dscp */
	{ { BASE, "--dscp", "64" }, "64", NULL },
	{ { BASE, "--dscp", "100" }, "100", NULL },
	{ { BASE, "--dscp", "-1" }, "-1", NULL },
	{ { BASE, "--dscp", "" }, "--dscp", NULL },
	{ { BASE, "--dscp", "ef1" }, "ef1", NULL },
	{ { BASE, "--dscp", "af14" }, "af14", NULL },
	{ { BASE, "--dscp", "af51" }, "af51", NULL },
	{ { BASE, "--dscp", "cs8" }, "cs8", NULL },
	{ { BASE, "--dscp", "keep2" }, "keep2", NULL },
	{ { BASE, "--dscp", "x" }, "--dscp", NULL },
	/* -c */
	{ { BASE, "-c", "0" }, "-c", NULL },
	{ { BASE, "-c", "-1" }, "-1", NULL },
	{ { BASE, "-c", "abc" }, "abc", NULL },
	{ { BASE, "-c", "" }, "-c", NULL },
	{ { BASE, "-c", "1.5" }, "1.5", NULL },
	{ { BASE, "-c", "1e3" }, "1e3", NULL },
	{ { BASE, "--count=0" }, "--count", NULL },
	/* --stats-interval */
	{ { BASE, "--stats-interval", "0" }, "--stats-interval", NULL },
	{ { BASE, "--stats-interval", "0.0" }, "0.0", NULL },
	{ { BASE, "--stats-interval", "0.000" }, "0.000", NULL },
	{ { BASE, "--stats-interval", "0.0001" }, "0.0001", NULL },
	{ { BASE, "--stats-interval", "1.2345" }, "1.2345", NULL },
	{ { BASE, "--stats-interval", "86400.001" }, "86400.001", NULL },
	{ { BASE, "--stats-interval", "86401" }, "86401", NULL },
	{ { BASE, "--stats-interval", "1000000" }, "1000000", NULL },
	{ { BASE, "--stats-interval", "-1" }, "-1", NULL },
	{ { BASE, "--stats-interval", "abc" }, "abc", NULL },
	{ { BASE, "--stats-interval", "" }, "--stats-interval", NULL },
	{ { BASE, "--stats-interval", "." }, "--stats-interval", NULL },
	{ { BASE, "--stats-interval", "1e3" }, "1e3", NULL },
	{ { BASE, "--stats-interval", "1,5" }, "1,5", NULL },
	{ { BASE, "--stats-interval", "1.5s" }, "1.5s", NULL },
	{ { BASE, "--stats-interval", "1.2.3" }, "1.2.3", NULL },
	/* --stats-format */
	{ { BASE, "--stats-format", "xml" }, "xml", NULL },
	{ { BASE, "--stats-format", "" }, "--stats-format", NULL },
	{ { BASE, "--stats-format", "kvjson" }, "kvjson", NULL },
	{ { BASE, "--stats-format=jso" }, "jso", NULL },
	/* --vlan: 0 is a priority tag, not a VLAN; 4095 is reserved (IEEE 802.1Q). */
	{ { BASE, "--vlan", "0" }, "--vlan", NULL },
	{ { BASE, "--vlan=0" }, "--vlan", NULL },
	{ { BASE, "--vlan", "4095" }, "4095", NULL },
	{ { BASE, "--vlan", "4096" }, "4096", NULL },
	{ { BASE, "--vlan", "65636" }, "65636", NULL },
	{ { BASE, "--vlan", "99999999999999999999" }, "99999999999999999999", NULL },
	{ { BASE, "--vlan", "abc" }, "abc", NULL },
	{ { BASE, "--vlan", "-1" }, "-1", NULL },
	{ { BASE, "--vlan", "" }, "--vlan", NULL },
	{ { BASE, "--vlan", "1.5" }, "1.5", NULL },
	{ { BASE, "--vlan", "100x" }, "100x", NULL },
	{ { BASE, "--vlan", "0x64" }, "0x64", NULL },
	{ { BASE, "--vlan", " 100" }, " 100", NULL },
	{ { BASE, "--vlan=abc" }, "abc", NULL },
};

#define N_ARG_ERRORS ((int)(sizeof(arg_errors) / sizeof(arg_errors[0])))

START_TEST(test_args_errors)
{
	const struct arg_error *e = &arg_errors[_i];
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], what[512];

	join_args(e->args, what, sizeof(what));
	assert_error(parse_list(&cfg, err, e->args), err, what, e->culprit, e->also);
}
END_TEST

/* However long the culprit, the message keeps its start and the hint. */
START_TEST(test_args_error_long_culprit)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], arg[320], value[200];

	memset(arg, 'x', sizeof(arg) - 1);
	arg[0] = arg[1] = '-';
	arg[sizeof(arg) - 1] = '\0';
	assert_error(PARSE(&cfg, err, BASE, arg), err, "300-char option", "--xxxxxxxxxxxxxxxx",
		     NULL);

	/* A 127-character -o value: under parse.c's own 128-byte limit. */
	snprintf(value, sizeof(value), "10.0.0.%0120d:1", 1);
	ck_assert_uint_eq(strlen(value), 129);
	value[127] = '\0';
	assert_error(PARSE(&cfg, err, NO_O, "-o", value), err, "127-char -o", "-o 10.0.0.000",
		     NULL);
}
END_TEST

/* --coalesce: microseconds, bare or with us, or ms; 0 (off) unless given; 0 to 5000. */
START_TEST(test_args_coalesce)
{
	static const struct {
		const char *v;
		uint32_t us;
	} ok[] = {
		{ "0", 0 },	 { "1", 1 },	   { "500", 500 },   { "500us", 500 },
		{ "2ms", 2000 }, { "2000", 2000 }, { "0ms", 0 },     { "0us", 0 },
		{ "5ms", 5000 }, { "5000", 5000 }, { "5000us", 5000 }, { "007", 7 },
	};
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.coalesce_us, 0);
	ck_assert_uint_eq(MCR_COALESCE_MAX_US, 5000);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, BASE, "--coalesce", ok[i].v) == MCR_PARSE_RUN,
			      "--coalesce %s: %s", ok[i].v, err);
		ck_assert_uint_eq(cfg.coalesce_us, ok[i].us);
	}
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--coalesce=2ms"), MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.coalesce_us, 2000);
	/* Off goes with --busy-poll; only a real wait conflicts with spinning. */
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--coalesce", "0", "--busy-poll", "5"),
			 MCR_PARSE_RUN);
}
END_TEST

/* --coalesce refused: each message names the value, or both options when they conflict. */
static const struct arg_error coalesce_errors[] = {
	{ { BASE, "--coalesce", "5001" }, "'5001'", "5000" },
	{ { BASE, "--coalesce", "5001us" }, "'5001us'", NULL },
	{ { BASE, "--coalesce", "6ms" }, "'6ms'", NULL },
	{ { BASE, "--coalesce", "1000ms" }, "'1000ms'", NULL },
	{ { BASE, "--coalesce", "4294967296" }, "'4294967296'", NULL },
	{ { BASE, "--coalesce", "18446744073709551617" }, "'18446744073709551617'", NULL },
	{ { BASE, "--coalesce", "99999999999999999999999999ms" },
	  "'99999999999999999999999999ms'", NULL },
	{ { BASE, "--coalesce", "9223372036854775807ms" }, "'9223372036854775807ms'", NULL },
	{ { BASE, "--coalesce", "-1" }, "'-1'", NULL },
	{ { BASE, "--coalesce", "+5" }, "'+5'", NULL },
	{ { BASE, "--coalesce", "" }, "--coalesce", NULL },
	{ { BASE, "--coalesce", "us" }, "'us'", NULL },
	{ { BASE, "--coalesce", "ms" }, "'ms'", NULL },
	{ { BASE, "--coalesce", "s" }, "'s'", NULL },
	{ { BASE, "--coalesce", "2s" }, "'2s'", NULL },
	{ { BASE, "--coalesce", "2 ms" }, "'2 ms'", NULL },
	{ { BASE, "--coalesce", "2MS" }, "'2MS'", NULL },
	{ { BASE, "--coalesce", "2msec" }, "'2msec'", NULL },
	{ { BASE, "--coalesce", "1.5ms" }, "'1.5ms'", NULL },
	{ { BASE, "--coalesce", "0x10" }, "'0x10'", NULL },
	{ { BASE, "--coalesce", "2ns" }, "'2ns'", NULL },
	{ { BASE, "--coalesce", "2usus" }, "'2usus'", NULL },
	{ { BASE, "--coalesce", "1", "--coalesce", "2" }, "given twice", NULL },
	{ { BASE, "--coalesce" }, "missing value", NULL },
	{ { BASE, "--coalesce", "500", "--busy-poll", "10" }, "--coalesce", "--busy-poll" },
};

START_TEST(test_args_coalesce_refused)
{
	const struct arg_error *e = &coalesce_errors[_i];
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], what[512];

	join_args(e->args, what, sizeof(what));
	assert_error(parse_list(&cfg, err, e->args), err, what, e->culprit, e->also);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* DSCP names and address text                                                               */

struct dscp_entry {
	char name[16];
	int dscp;
};

/* Every name from its RFC: CSn = 8n (RFC 2474), AFxy = 8x + 2y (RFC 2597), EF = 46 (RFC 3246),
 * VOICE-ADMIT = 44 (RFC 5865), LE = 1 (RFC 8622). */
static int dscp_table(struct dscp_entry *t)
{
	int n = 0;

	for (int c = 0; c <= 7; c++) {
		char name[] = { 'c', 's', (char)('0' + c), '\0' };

		memcpy(t[n].name, name, sizeof(name));
		t[n++].dscp = 8 * c;
	}
	for (int x = 1; x <= 4; x++) {
		for (int y = 1; y <= 3; y++) {
			char name[] = { 'a', 'f', (char)('0' + x), (char)('0' + y), '\0' };

			memcpy(t[n].name, name, sizeof(name));
			t[n++].dscp = 8 * x + 2 * y;
		}
	}
	strcpy(t[n].name, "ef");
	t[n++].dscp = 46;
	strcpy(t[n].name, "va");
	t[n++].dscp = 44;
	strcpy(t[n].name, "le");
	t[n++].dscp = 1;
	return n;
}

START_TEST(test_dscp_names)
{
	struct dscp_entry t[32];
	int n = dscp_table(t);

	ck_assert_int_eq(n, 23);
	for (int i = 0; i < n; i++) {
		char upper[16], mixed[16];
		const char *back;

		for (size_t k = 0; k < sizeof(upper); k++) {
			upper[k] = (char)(t[i].name[k] >= 'a' && t[i].name[k] <= 'z' ?
						  t[i].name[k] - 32 : t[i].name[k]);
			mixed[k] = k % 2 ? upper[k] : t[i].name[k];
		}
		ck_assert_msg(parse_dscp(t[i].name) == t[i].dscp, "parse_dscp(%s) = %d, want %d",
			      t[i].name, parse_dscp(t[i].name), t[i].dscp);
		ck_assert_msg(parse_dscp(upper) == t[i].dscp, "parse_dscp(%s)", upper);
		ck_assert_msg(parse_dscp(mixed) == t[i].dscp, "parse_dscp(%s)", mixed);
		back = dscp_name(t[i].dscp);
		ck_assert_msg(back && !strcmp(back, t[i].name), "dscp_name(%d) = %s, want %s",
			      t[i].dscp, back ? back : "NULL", t[i].name);
		ck_assert_int_eq(parse_dscp(back), t[i].dscp);
	}
}
END_TEST

START_TEST(test_dscp_names_in_args)
{
	struct dscp_entry t[32];
	int n = dscp_table(t);
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(PARSE(&cfg, err, BASE, "--dscp", t[i].name), MCR_PARSE_RUN);
		ck_assert_int_eq(cfg.dscp, t[i].dscp);
	}
}
END_TEST

START_TEST(test_dscp_numbers)
{
	struct dscp_entry t[32];
	int n = dscp_table(t);
	char num[16];

	for (int v = 0; v <= 63; v++) {
		const char *want = NULL, *got = dscp_name(v);

		snprintf(num, sizeof(num), "%d", v);
		ck_assert_int_eq(parse_dscp(num), v);
		for (int i = 0; i < n; i++)
			if (t[i].dscp == v)
				want = t[i].name;
		if (want)
			ck_assert_msg(got && !strcmp(got, want), "dscp_name(%d) = %s, want %s", v,
				      got ? got : "NULL", want);
		else
			ck_assert_msg(!got, "dscp_name(%d) = %s, want NULL", v, got);
	}
	ck_assert_ptr_null(dscp_name(-1));
	ck_assert_ptr_null(dscp_name(64));
	ck_assert_ptr_null(dscp_name(255));
}
END_TEST

START_TEST(test_dscp_invalid)
{
	static const char *const bad[] = { "64", "100", "-1", "", "ef1", "af14", "af51", "af10",
					   "af0", "cs8", "cs", "c s1", "1 ", "1x",
					   "keep", "e", "efx", "99999999999999999999" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_dscp(bad[i]) == -1, "parse_dscp(\"%s\") = %d, want -1", bad[i],
			      parse_dscp(bad[i]));
}
END_TEST

START_TEST(test_format_ip)
{
	static const char *const addrs[] = { "239.0.0.1", "0.0.0.0", "255.255.255.255",
					     "10.1.2.3", "192.0.2.100" };

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct mcr_ip ip = { .family = AF_INET };
		size_t need = strlen(addrs[i]) + 1;
		char *exact = malloc(need), wide[INET_ADDRSTRLEN];

		ck_assert_ptr_nonnull(exact);
		ck_assert_int_eq(inet_pton(AF_INET, addrs[i], &ip.v4), 1);
		ck_assert_int_eq(format_ip(&ip, wide, sizeof(wide)), 0);
		ck_assert_str_eq(wide, addrs[i]);
		/* Exactly enough room, in a buffer ASan guards. */
		ck_assert_int_eq(format_ip(&ip, exact, need), 0);
		ck_assert_str_eq(exact, addrs[i]);
		free(exact);
	}
}
END_TEST

/* One byte short: refused, and nothing written past the buffer (ASan watches). */
START_TEST(test_format_ip_small_buffer)
{
	struct mcr_ip ip = { .family = AF_INET };
	size_t len = strlen("255.255.255.255");
	char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(inet_pton(AF_INET, "255.255.255.255", &ip.v4), 1);
	ck_assert_int_ne(format_ip(&ip, buf, len), 0);
	free(buf);
}
END_TEST

START_TEST(test_verdict_names)
{
	for (int i = 0; i < MCR_VERDICTS; i++) {
		ck_assert_ptr_nonnull(mcr_verdict_name[i]);
		ck_assert_msg(mcr_verdict_name[i][0], "verdict %d has an empty name", i);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(mcr_verdict_name[i], mcr_verdict_name[j]);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Frame builder                                                                             */

/* RFC 1071: ones' complement of the ones' complement sum of 16-bit words. Over a header that
 * carries its checksum, 0 when the checksum is right. */
static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * RFC 768: the same sum over the pseudo-header (source, destination, zero, protocol 17, UDP
 * length) and the len bytes of UDP header and payload. 0 when a checksum in place is right.
 */
static uint16_t udp_csum16(const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
			   uint32_t len)
{
	uint8_t pseudo[12] = { src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2], dst[3],
			       0, 17, (uint8_t)(len >> 8), (uint8_t)len };
	uint32_t sum = (uint16_t)~csum16(pseudo, sizeof(pseudo));

	sum += (uint16_t)~csum16(udp, len);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define GROUP IP4(239, 0, 0, 1)
#define SOURCE IP4(10, 0, 0, 1)
#define GROUP_PORT 5000
#define SPORT 40000

struct frame_spec {
	enum mcr_link link;
	bool vlan_valid;	/* as the kernel reports a stripped tag */
	uint16_t vlan_tci;
	unsigned int n_tags;	/* in-band tags after the MACs */
	uint16_t tag_tpid[2], tag_tci[2];
	uint16_t ethertype;
	uint8_t version, ihl, tos, ttl, proto;
	uint16_t frag;		/* flags and fragment offset */
	int tot_len;		/* IPv4 total length; -1 for the bytes built */
	uint32_t src, dst;	/* host order */
	uint16_t sport, dport;
	int udp_len;		/* -1 for the bytes built */
	uint16_t udp_csum;	/* the checksum field as given, when not udp_csum_auto */
	bool udp_csum_auto;	/* the right checksum over the UDP bytes built */
	bool csum_ok;		/* the frame's claim that the kernel verified it */
	uint16_t ip_id;
	uint32_t payload_len;
	uint32_t trailer;	/* link padding after the datagram */
	uint16_t csum_xor;	/* nonzero: the IPv4 checksum is wrong by these bits */
};

static struct frame_spec spec_default(void)
{
	return (struct frame_spec){
		.link = MCR_LINK_ETHER,
		.ethertype = 0x0800,
		.version = 4,
		.ihl = 5,
		.ttl = 64,
		.proto = 17,
		.tot_len = -1,
		.src = SOURCE,
		.dst = GROUP,
		.sport = SPORT,
		.dport = GROUP_PORT,
		.udp_len = -1,
		.payload_len = PAYLOAD_LEN,
		.ip_id = 0x1c46,
	};
}

struct built {
	uint8_t *buf;		/* exactly len bytes */
	uint32_t len;		/* every byte built, trailer included */
	uint32_t l3;		/* offset of the IPv4 header */
	uint32_t hlen;		/* IPv4 header bytes built */
	uint32_t end;		/* offset just past the payload built */
	struct mcr_frame f;
};

static uint8_t payload_byte(uint32_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static struct built build(const struct frame_spec *s)
{
	struct built b = { 0 };
	uint32_t l2 = s->link == MCR_LINK_ETHER ? ETH_LEN + TAG_LEN * s->n_tags : 0;
	uint32_t hlen = s->ihl >= 5 ? s->ihl * 4u : IP_LEN;
	uint32_t dgram = hlen + UDP_LEN + s->payload_len;
	uint8_t *p, *ip, *udp;

	b.l3 = l2;
	b.hlen = hlen;
	b.end = l2 + dgram;
	b.len = b.end + s->trailer;
	b.buf = malloc(b.len);
	ck_assert_ptr_nonnull(b.buf);
	p = b.buf;
	if (s->link == MCR_LINK_ETHER) {
		static const uint8_t macs[12] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01,
						  0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

		memcpy(p, macs, sizeof(macs));
		p += sizeof(macs);
		for (unsigned int t = 0; t < s->n_tags; t++, p += TAG_LEN) {
			put16(p, s->tag_tpid[t]);
			put16(p + 2, s->tag_tci[t]);
		}
		put16(p, s->ethertype);
		p += 2;
	}
	ip = p;
	ip[0] = (uint8_t)(s->version << 4 | (s->ihl & 0xf));
	ip[1] = s->tos;
	put16(ip + 2, s->tot_len < 0 ? dgram : (uint32_t)s->tot_len);
	put16(ip + 4, s->ip_id);
	put16(ip + 6, s->frag);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	put16(ip + 10, 0);
	put32(ip + 12, s->src);
	put32(ip + 16, s->dst);
	/* Options: Router Alerts (RFC 2113), which ip_options_compile() accepts any number of. */
	for (uint32_t i = IP_LEN; i < hlen; i += 4) {
		ip[i] = IPOPT_RA;
		ip[i + 1] = 4;
		ip[i + 2] = ip[i + 3] = 0;
	}
	put16(ip + 10, csum16(ip, hlen) ^ s->csum_xor);
	udp = ip + hlen;
	put16(udp, s->sport);
	put16(udp + 2, s->dport);
	put16(udp + 4, s->udp_len < 0 ? UDP_LEN + s->payload_len : (uint32_t)s->udp_len);
	put16(udp + 6, s->udp_csum);
	for (uint32_t i = 0; i < s->payload_len; i++)
		udp[UDP_LEN + i] = payload_byte(i);
	if (s->udp_csum_auto) {
		uint16_t c = udp_csum16(ip + 12, ip + 16, udp, UDP_LEN + s->payload_len);

		put16(udp + 6, c ? c : 0xffff);	/* RFC 768: a sum of 0 is sent as all ones */
	}
	memset(b.buf + b.end, 0xee, s->trailer);
	b.f = (struct mcr_frame){ .data = b.buf, .caplen = b.len, .wirelen = b.len,
				  .link = s->link, .vlan_valid = s->vlan_valid,
				  .vlan_tci = s->vlan_tci, .csum_ok = s->csum_ok };
	return b;
}

static struct mcr_match match_default(void)
{
	struct mcr_match m = { .port = GROUP_PORT };

	m.group.family = AF_INET;
	m.group.v4.s_addr = htonl(GROUP);
	m.source.family = AF_UNSPEC;
	return m;
}

static struct mcr_match match_source(uint32_t src)
{
	struct mcr_match m = match_default();

	m.source.family = AF_INET;
	m.source.v4.s_addr = htonl(src);
	return m;
}

static struct mcr_match match_vlan(uint16_t vid)
{
	struct mcr_match m = match_default();

	m.vlan = vid;
	return m;
}

struct outcome {
	enum mcr_verdict v;
	struct mcr_datagram d;
	long payload_off;	/* d.payload - the frame's first byte: relayed, or a fragment */
};

/*
 * parse_frame() on the first caplen bytes of b, copied into a buffer of exactly caplen bytes
 * so that ASan reports any read past the capture. A relayed payload must lie inside it.
 */
static struct outcome run(const struct built *b, uint32_t caplen, uint32_t wirelen,
			  const struct mcr_match *m)
{
	struct outcome o = { .payload_off = -1 };
	uint8_t *copy;
	struct mcr_frame f = b->f;

	ck_assert_uint_le(caplen, b->len);
	copy = malloc(caplen);
	ck_assert(copy || !caplen);
	memcpy(copy, b->buf, caplen);
	f.data = copy;
	f.caplen = caplen;
	f.wirelen = wirelen;
	memset(&o.d, 0xa5, sizeof(o.d));
	o.v = parse_frame(&f, m, &o.d);
	if (o.v == MCR_RELAY || o.v == MCR_FRAGMENT) {
		uintptr_t start = (uintptr_t)copy, p = (uintptr_t)o.d.payload;

		ck_assert_msg(p >= start && p <= start + caplen && o.d.len <= start + caplen - p,
			      "payload outside the frame");
		o.payload_off = (long)(p - start);
	}
	free(copy);
	return o;
}

static struct outcome run_full(const struct built *b, const struct mcr_match *m)
{
	return run(b, b->len, b->len, m);
}

/* Build, parse with the default match at full length, free. */
static struct outcome outcome_of(const struct frame_spec *s)
{
	struct mcr_match m = match_default();
	struct built b = build(s);
	struct outcome o = run_full(&b, &m);

	free(b.buf);
	return o;
}

static void assert_relay(const struct outcome *o, long payload_off, uint32_t len)
{
	assert_verdict(o->v, MCR_RELAY);
	ck_assert_int_eq(o->payload_off, payload_off);
	ck_assert_uint_eq(o->d.len, len);
}

static void expect(const struct frame_spec *s, enum mcr_verdict want)
{
	struct outcome o = outcome_of(s);

	assert_verdict(o.v, want);
}

/* Build, parse with match m at full length, free. */
static struct outcome outcome_with(const struct frame_spec *s, const struct mcr_match *m)
{
	struct built b = build(s);
	struct outcome o = run_full(&b, m);

	free(b.buf);
	return o;
}

static void expect_with(const struct frame_spec *s, const struct mcr_match *m,
			enum mcr_verdict want)
{
	struct outcome o = outcome_with(s, m);

	assert_verdict(o.v, want);
}

/* A fragment: the IP payload from payload_off, len bytes, at byte offset off. */
static void assert_fragment(const struct outcome *o, long payload_off, uint32_t len,
			    uint16_t off, bool more, uint16_t id)
{
	assert_verdict(o->v, MCR_FRAGMENT);
	ck_assert_int_eq(o->payload_off, payload_off);
	ck_assert_uint_eq(o->d.len, len);
	ck_assert_uint_eq(o->d.frag_off, off);
	ck_assert_msg(o->d.frag_more == more, "frag_more %d, expected %d", o->d.frag_more, more);
	ck_assert_uint_eq(o->d.frag_id, id);
}

/* ---------------------------------------------------------------------------------------- */
/* Frames: relayed                                                                           */

/* Our checksum helper against the header of the worked example on Wikipedia's "IPv4 header
 * checksum" (checksum b861). */
START_TEST(test_csum_helper)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	ck_assert_uint_eq(csum16(h, sizeof(h)), 0xb861);
	put16(h + 10, 0xb861);
	ck_assert_uint_eq(csum16(h, sizeof(h)), 0);
}
END_TEST

/*
 * The UDP helper against sums worked by hand: 10.0.0.1 -> 239.0.0.1, port 40000 -> 5000.
 * Empty: 0a00+0001+ef00+0001+0011+0008 (pseudo) + 9c40+1388+0008 = 1a8eb, folded a8ec, so
 * the checksum is 5713. With "abc": both lengths 000b, plus 6162 and 6300 (the odd byte
 * padded) = 26d53, folded 6d55, checksum 92aa.
 */
START_TEST(test_udp_csum_helper)
{
	const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 239, 0, 0, 1 };
	uint8_t udp[11] = { 0x9c, 0x40, 0x13, 0x88, 0x00, 0x08, 0, 0, 'a', 'b', 'c' };

	ck_assert_uint_eq(udp_csum16(src, dst, udp, 8), 0x5713);
	put16(udp + 6, 0x5713);
	ck_assert_uint_eq(udp_csum16(src, dst, udp, 8), 0);
	put16(udp + 4, 11);
	put16(udp + 6, 0);
	ck_assert_uint_eq(udp_csum16(src, dst, udp, 11), 0x92aa);
	put16(udp + 6, 0x92aa);
	ck_assert_uint_eq(udp_csum16(src, dst, udp, 11), 0);
}
END_TEST

START_TEST(test_frame_valid)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);
	struct mcr_datagram d;
	struct in_addr src, dst;

	/* In place too: the payload is a view into the caller's frame, nothing copied. */
	ck_assert_int_eq(parse_frame(&b.f, &m, &d), MCR_RELAY);
	ck_assert_ptr_eq(d.payload, b.buf + ETH_LEN + IP_LEN + UDP_LEN);
	ck_assert_uint_eq(d.len, PAYLOAD_LEN);
	for (uint32_t i = 0; i < d.len; i++)
		ck_assert_uint_eq(d.payload[i], payload_byte(i));
	inet_pton(AF_INET, "10.0.0.1", &src);
	inet_pton(AF_INET, "239.0.0.1", &dst);
	ck_assert_int_eq(d.src.family, AF_INET);
	ck_assert_int_eq(d.dst.family, AF_INET);
	ck_assert_uint_eq(d.src.v4.s_addr, src.s_addr);
	ck_assert_uint_eq(d.dst.v4.s_addr, dst.s_addr);
	ck_assert_uint_eq(d.sport, SPORT);
	ck_assert_uint_eq(d.dport, GROUP_PORT);
	ck_assert_uint_eq(d.dscp, 0);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_fields)
{
	struct frame_spec s = spec_default();
	struct outcome o;
	struct in_addr src;

	s.src = IP4(192, 0, 2, 77);
	s.sport = 1;
	s.tos = 0xb9;		/* EF with ECN 01: DSCP ignores the ECN bits */
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	inet_pton(AF_INET, "192.0.2.77", &src);
	ck_assert_uint_eq(o.d.src.v4.s_addr, src.s_addr);
	ck_assert_uint_eq(o.d.sport, 1);
	ck_assert_uint_eq(o.d.dscp, 46);

	s.sport = 65535;
	s.tos = 0xff;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	ck_assert_uint_eq(o.d.sport, 65535);
	ck_assert_uint_eq(o.d.dscp, 63);
}
END_TEST

START_TEST(test_frame_dscp)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.tos = (uint8_t)(_i << 2 | (_i & 3));	/* the ECN bits vary too */
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	ck_assert_uint_eq(o.d.dscp, (unsigned int)_i);
}
END_TEST

START_TEST(test_frame_link_none)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.link = MCR_LINK_NONE;
	o = outcome_of(&s);
	assert_relay(&o, IP_LEN + UDP_LEN, PAYLOAD_LEN);
	ck_assert_uint_eq(o.d.sport, SPORT);
	ck_assert_uint_eq(o.d.dst.v4.s_addr, htonl(GROUP));
}
END_TEST

START_TEST(test_frame_ip_options)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.ihl = (uint8_t)_i;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + _i * 4 + UDP_LEN, PAYLOAD_LEN);
	ck_assert_uint_eq(o.d.sport, SPORT);
	s.link = MCR_LINK_NONE;
	o = outcome_of(&s);
	assert_relay(&o, _i * 4 + UDP_LEN, PAYLOAD_LEN);
}
END_TEST

/* The checksum covers the options: a flipped last option byte is caught. */
START_TEST(test_frame_ip_options_checksum)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	s.ihl = (uint8_t)_i;
	b = build(&s);
	b.buf[b.l3 + b.hlen - 1] ^= 0x10;
	assert_verdict(run_full(&b, &m).v, MCR_DROP_CHECKSUM);
	free(b.buf);
}
END_TEST

/* Ethernet pads short frames to 60 bytes; the padding is not payload. */
START_TEST(test_frame_padding)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	struct outcome o;

	s.payload_len = 4;
	s.trailer = 60 - (ETH_LEN + IP_LEN + UDP_LEN + 4);
	b = build(&s);
	ck_assert_uint_eq(b.len, 60);
	o = run_full(&b, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 4);
	/* Captured up to the datagram's end only: all of it is there. */
	o = run(&b, b.end, b.len, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 4);
	o = run(&b, b.end - 1, b.len, &m);
	assert_verdict(o.v, MCR_DROP_TRUNCATED);
	free(b.buf);

	/* Zero payload, and the FCS counted in wirelen. */
	s.payload_len = 0;
	s.trailer = 18;
	b = build(&s);
	o = run(&b, b.len, b.len + 4, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 0);
	free(b.buf);

	s.link = MCR_LINK_NONE;
	s.payload_len = 10;
	s.trailer = 7;
	b = build(&s);
	o = run_full(&b, &m);
	assert_relay(&o, IP_LEN + UDP_LEN, 10);
	free(b.buf);
}
END_TEST

/* A datagram whose headers agree on a length shorter than the bytes after it: trailer. */
START_TEST(test_frame_padding_short_datagram)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.tot_len = IP_LEN + UDP_LEN + 10;
	s.udp_len = UDP_LEN + 10;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 10);
}
END_TEST

START_TEST(test_frame_zero_payload)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.payload_len = 0;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 0);
	s.link = MCR_LINK_NONE;
	o = outcome_of(&s);
	assert_relay(&o, IP_LEN + UDP_LEN, 0);
}
END_TEST

START_TEST(test_frame_max_payload)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	struct outcome o;

	s.link = MCR_LINK_NONE;
	s.payload_len = 65535 - IP_LEN - UDP_LEN;
	ck_assert_uint_eq(s.payload_len, MCR_UDP_MAX_PAYLOAD);
	b = build(&s);
	ck_assert_uint_eq(b.len, 65535);
	o = run_full(&b, &m);
	assert_relay(&o, IP_LEN + UDP_LEN, 65507);
	o = run(&b, b.len - 1, b.len, &m);
	assert_verdict(o.v, MCR_DROP_TRUNCATED);
	free(b.buf);

	s.link = MCR_LINK_ETHER;
	b = build(&s);
	o = run_full(&b, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 65507);
	free(b.buf);

	/* The most options with the most payload still fitting 65535. */
	s.ihl = 15;
	s.payload_len = 65535 - 60 - UDP_LEN;
	b = build(&s);
	o = run_full(&b, &m);
	assert_relay(&o, ETH_LEN + 60 + UDP_LEN, 65535 - 60 - UDP_LEN);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_jumbo)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	struct outcome o;

	s.payload_len = JUMBO_MTU - IP_LEN - UDP_LEN;
	ck_assert_uint_eq(s.payload_len, 8972);
	b = build(&s);
	ck_assert_uint_eq(b.len, ETH_LEN + JUMBO_MTU);
	o = run_full(&b, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, 8972);
	free(b.buf);
}
END_TEST

/* RFC 768: a checksum of 0 means the sender computed none; whatever the bytes, relayed. */
START_TEST(test_frame_udp_checksum_zero)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	struct outcome o;

	s.udp_csum = 0;
	b = build(&s);
	b.buf[b.end - 1] ^= 0x5a;
	o = run_full(&b, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	free(b.buf);
}
END_TEST

/* A right checksum: relayed, with odd and even lengths, options, padding, no link layer. */
START_TEST(test_frame_udp_checksum_good)
{
	static const uint32_t lens[] = { 0, 1, 2, 3, 31, 32, 33, 1472, 8972 };
	struct frame_spec s = spec_default();
	struct outcome o;

	s.udp_csum_auto = true;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		s.payload_len = lens[i];
		s.link = MCR_LINK_ETHER;
		s.ihl = 5;
		s.trailer = 0;
		o = outcome_of(&s);
		assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, lens[i]);
		/* Padding after the datagram is outside the sum. */
		s.trailer = 9;
		o = outcome_of(&s);
		assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, lens[i]);
		s.ihl = 11;
		o = outcome_of(&s);
		assert_relay(&o, ETH_LEN + 44 + UDP_LEN, lens[i]);
		s.link = MCR_LINK_NONE;
		o = outcome_of(&s);
		assert_relay(&o, 44 + UDP_LEN, lens[i]);
	}
}
END_TEST

/* A datagram whose right checksum is 0 goes out as ffff (RFC 768), and must check out. */
START_TEST(test_frame_udp_checksum_all_ones)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	uint8_t *ip, *udp;
	uint16_t c, sum;
	struct outcome o;

	s.udp_csum = 0;
	b = build(&s);
	ip = b.buf + b.l3;
	udp = ip + IP_LEN;
	/* Payload bytes 0-1 set so that the ones' complement sum is ffff: checksum 0. */
	put16(udp + UDP_LEN, 0);
	sum = (uint16_t)~udp_csum16(ip + 12, ip + 16, udp, UDP_LEN + PAYLOAD_LEN);
	put16(udp + UDP_LEN, (uint16_t)~sum);
	c = udp_csum16(ip + 12, ip + 16, udp, UDP_LEN + PAYLOAD_LEN);
	ck_assert_uint_eq(c, 0);
	put16(udp + 6, 0xffff);
	o = run_full(&b, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	ck_assert_uint_eq(o.d.len, PAYLOAD_LEN);
	free(b.buf);
}
END_TEST

/*
 * A wrong checksum drops the datagram: a flipped payload byte, a flipped checksum, a field of
 * the pseudo-header (source address, with the IPv4 checksum repaired), the UDP length bytes.
 */
START_TEST(test_frame_udp_checksum_bad)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	uint8_t *ip;

	s.udp_csum_auto = true;
	b = build(&s);
	ip = b.buf + b.l3;
	assert_relay((struct outcome[]){ run_full(&b, &m) }, ETH_LEN + IP_LEN + UDP_LEN,
		     PAYLOAD_LEN);
	for (uint32_t i = b.l3 + IP_LEN; i < b.end; i++) {
		if (i == b.l3 + IP_LEN + 2 || i == b.l3 + IP_LEN + 3 || i == b.l3 + IP_LEN + 4 ||
		    i == b.l3 + IP_LEN + 5)
			continue;	/* the port and the length have verdicts of their own */
		b.buf[i] ^= 0x01;
		ck_assert_msg(run_full(&b, &m).v == MCR_DROP_CHECKSUM, "byte %u flipped: %s", i,
			      verdict_text(run_full(&b, &m).v));
		b.buf[i] ^= 0x01;
	}
	/* Source address in the pseudo-header: IPv4 header checksum repaired, UDP's not. */
	ip[15] ^= 0x04;
	put16(ip + 10, 0);
	put16(ip + 10, csum16(ip, IP_LEN));
	assert_verdict(run_full(&b, &m).v, MCR_DROP_CHECKSUM);
	/* The kernel's word saves the check: csum_ok relays it as it is. */
	b.f.csum_ok = true;
	assert_relay((struct outcome[]){ run_full(&b, &m) }, ETH_LEN + IP_LEN + UDP_LEN,
		     PAYLOAD_LEN);
	free(b.buf);

	/* Wrong checksums given outright, including ffff, the other spelling of zero. */
	static const uint16_t bad[] = { 0x0001, 0xdead, 0xffff, 0x8000 };
	s.udp_csum_auto = false;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.udp_csum = bad[i];
		s.csum_ok = false;
		expect(&s, MCR_DROP_CHECKSUM);
		s.csum_ok = true;
		expect(&s, MCR_RELAY);
		s.link = MCR_LINK_NONE;
		s.csum_ok = false;
		expect(&s, MCR_DROP_CHECKSUM);
		s.link = MCR_LINK_ETHER;
	}
}
END_TEST

/* The checksum is looked at last: truncation, length and port verdicts come first. */
START_TEST(test_frame_udp_checksum_order)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	s.udp_csum = 0xdead;
	b = build(&s);
	assert_verdict(run(&b, b.end - 1, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, b.end - 1, b.end - 1, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
	s.udp_len = UDP_LEN + PAYLOAD_LEN + 2;
	expect(&s, MCR_DROP_MALFORMED);
	s.udp_len = -1;
	s.dport = GROUP_PORT + 1;
	expect(&s, MCR_DROP_UNMATCHED);
	s.dport = GROUP_PORT;
	s.csum_xor = 0x10;
	expect(&s, MCR_DROP_CHECKSUM);	/* the IPv4 header's, but the same verdict */
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Frames: VLAN tags                                                                         */

START_TEST(test_frame_priority_tag)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	s.tag_tci[0] = 0xa000;	/* PCP 5, VID 0 */
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.tag_tci[0] = 0x1000;	/* DEI set, VID 0 */
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.tag_tpid[0] = 0x88a8;
	s.tag_tci[0] = 0;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	/* Two priority tags (802.1ad outer, 802.1Q inner). */
	s.n_tags = 2;
	s.tag_tpid[1] = 0x8100;
	s.tag_tci[1] = 0xe000;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + 2 * TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
}
END_TEST

START_TEST(test_frame_tag_vid)
{
	static const uint16_t vids[] = { 100, 1, 0xfff, 0x800 };
	struct frame_spec s = spec_default();

	s.n_tags = 1;
	for (size_t i = 0; i < sizeof(vids) / sizeof(vids[0]); i++) {
		s.tag_tpid[0] = 0x8100;
		s.tag_tci[0] = vids[i];
		expect(&s, MCR_DROP_VLAN);
		s.tag_tci[0] = (uint16_t)(0xe000 | vids[i]);
		expect(&s, MCR_DROP_VLAN);
		s.tag_tpid[0] = 0x88a8;
		expect(&s, MCR_DROP_VLAN);
	}
}
END_TEST

START_TEST(test_frame_qinq)
{
	struct frame_spec s = spec_default();

	s.n_tags = 2;
	s.tag_tpid[0] = 0x88a8;
	s.tag_tpid[1] = 0x8100;
	s.tag_tci[0] = 200;
	s.tag_tci[1] = 100;
	expect(&s, MCR_DROP_VLAN);
	s.tag_tci[0] = 0;	/* priority-tagged outer, VLAN inner */
	expect(&s, MCR_DROP_VLAN);
	s.tag_tci[0] = 200;	/* VLAN outer, priority-tagged inner */
	s.tag_tci[1] = 0;
	expect(&s, MCR_DROP_VLAN);
	s.tag_tpid[0] = 0x8100;	/* old-style double 802.1Q */
	s.tag_tci[0] = 0;
	s.tag_tci[1] = 5;
	expect(&s, MCR_DROP_VLAN);
}
END_TEST

START_TEST(test_frame_tag_inner_not_ipv4)
{
	struct frame_spec s = spec_default();

	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	s.tag_tci[0] = 0;
	s.ethertype = 0x8847;	/* MPLS */
	expect(&s, MCR_DROP_UNMATCHED);
	s.ethertype = 0x0806;
	expect(&s, MCR_DROP_UNMATCHED);
}
END_TEST

START_TEST(test_frame_stripped_vlan)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	s.vlan_valid = true;
	s.vlan_tci = 100;
	expect(&s, MCR_DROP_VLAN);
	s.vlan_tci = 0xe064;	/* PCP 7, VID 100 */
	expect(&s, MCR_DROP_VLAN);
	s.vlan_tci = 0xfff;
	expect(&s, MCR_DROP_VLAN);
	s.vlan_tci = 0;		/* priority tag stripped: VID 0 */
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.vlan_tci = 0xb000;	/* PCP 5, DEI, VID 0 */
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.vlan_valid = false;	/* no stripped tag: vlan_tci means nothing */
	s.vlan_tci = 100;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
}
END_TEST

/* --vlan 100: the kernel stripped the tag. Its VID decides; PCP and DEI do not matter. */
START_TEST(test_frame_vlan_match_stripped)
{
	static const uint16_t tcis[] = { 100, 0xe064, 0x1064, 0xb064 };
	static const uint16_t others[] = { 101, 99, 1, 4094, 0xfff, 0x164, 0xa0c8 };
	struct frame_spec s = spec_default();
	struct mcr_match m = match_vlan(100);
	struct outcome o;

	s.vlan_valid = true;
	for (size_t i = 0; i < sizeof(tcis) / sizeof(tcis[0]); i++) {
		s.vlan_tci = tcis[i];
		o = outcome_with(&s, &m);
		assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
		ck_assert_uint_eq(o.d.sport, SPORT);
		ck_assert_uint_eq(o.d.dport, GROUP_PORT);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		s.vlan_tci = others[i];
		expect_with(&s, &m, MCR_DROP_VLAN);
	}
	/* Other VLAN IDs asked for: 1 and 4094, the edges. */
	s.vlan_tci = 1;
	m = match_vlan(1);
	assert_relay((struct outcome[]){ outcome_with(&s, &m) }, ETH_LEN + IP_LEN + UDP_LEN,
		     PAYLOAD_LEN);
	s.vlan_tci = 0x2ffe;
	m = match_vlan(4094);
	assert_relay((struct outcome[]){ outcome_with(&s, &m) }, ETH_LEN + IP_LEN + UDP_LEN,
		     PAYLOAD_LEN);
	m = match_vlan(4093);
	expect_with(&s, &m, MCR_DROP_VLAN);
}
END_TEST

/* --vlan 100: an in-band tag with VID 100, 802.1Q or 802.1ad, is the match. */
START_TEST(test_frame_vlan_match_inband)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_vlan(100);
	struct outcome o;

	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	s.tag_tci[0] = 100;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.tag_tci[0] = 0xa064;	/* PCP 5 */
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.tag_tpid[0] = 0x88a8;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.tag_tci[0] = 200;
	expect_with(&s, &m, MCR_DROP_VLAN);

	/* A priority tag (VID 0) around or inside the VLAN tag is skipped. */
	s.n_tags = 2;
	s.tag_tpid[0] = 0x88a8;
	s.tag_tci[0] = 0xe000;
	s.tag_tpid[1] = 0x8100;
	s.tag_tci[1] = 100;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + 2 * TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.tag_tci[0] = 100;
	s.tag_tci[1] = 0x2000;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + 2 * TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	/* Two tags that both name a VLAN: never relayed, even when both name ours. */
	s.tag_tci[0] = 100;
	s.tag_tci[1] = 100;
	expect_with(&s, &m, MCR_DROP_VLAN);
	s.tag_tci[1] = 200;
	expect_with(&s, &m, MCR_DROP_VLAN);
	s.tag_tci[0] = 200;
	s.tag_tci[1] = 100;
	expect_with(&s, &m, MCR_DROP_VLAN);

	/* A stripped VLAN tag and an in-band one: the in-band one is a second VLAN. */
	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	s.tag_tci[0] = 100;
	s.vlan_valid = true;
	s.vlan_tci = 100;
	expect_with(&s, &m, MCR_DROP_VLAN);
	/* A stripped priority tag, then our VLAN in-band: relayed. */
	s.vlan_tci = 0xa000;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	/* Our VLAN stripped, a priority tag in-band: relayed. */
	s.vlan_tci = 100;
	s.tag_tci[0] = 0xa000;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
}
END_TEST

/* --vlan 100: untagged and priority-tagged frames are not on VLAN 100. */
START_TEST(test_frame_vlan_required)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_vlan(100), none = match_default();

	expect_with(&s, &m, MCR_DROP_VLAN);
	expect(&s, MCR_RELAY);
	s.vlan_valid = true;
	s.vlan_tci = 0xa000;
	expect_with(&s, &m, MCR_DROP_VLAN);
	expect_with(&s, &none, MCR_RELAY);
	s.vlan_valid = false;
	s.vlan_tci = 100;	/* not valid: means nothing */
	expect_with(&s, &m, MCR_DROP_VLAN);
	s.n_tags = 2;
	s.tag_tpid[0] = 0x8100;
	s.tag_tpid[1] = 0x88a8;
	s.tag_tci[0] = 0x4000;
	s.tag_tci[1] = 0x6000;
	expect_with(&s, &m, MCR_DROP_VLAN);
	expect_with(&s, &none, MCR_RELAY);
	/* The VLAN verdict comes before the ethertype's, and before anything in IPv4. */
	s = spec_default();
	s.ethertype = 0x0806;
	expect_with(&s, &m, MCR_DROP_VLAN);
	s.ethertype = 0x0800;
	s.csum_xor = 1;
	expect_with(&s, &m, MCR_DROP_VLAN);
	/* Behind our VLAN, the ethertype still has to be IP. */
	s = spec_default();
	s.vlan_valid = true;
	s.vlan_tci = 100;
	s.ethertype = 0x0806;
	expect_with(&s, &m, MCR_DROP_UNMATCHED);
	/* ...and the rest of the checks still apply. */
	s.ethertype = 0x0800;
	s.csum_xor = 1;
	expect_with(&s, &m, MCR_DROP_CHECKSUM);
	s.csum_xor = 0;
	s.dport = 5001;
	expect_with(&s, &m, MCR_DROP_UNMATCHED);
	/* Truncated tag with --vlan: truncated, not a VLAN verdict. */
	s = spec_default();
	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	s.tag_tci[0] = 100;
	struct built b = build(&s);
	assert_verdict(run(&b, ETH_LEN + 2, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_tag_truncated)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	/* One tag: any of its four bytes missing. */
	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	for (int vid = 0; vid <= 100; vid += 100) {
		s.tag_tci[0] = (uint16_t)vid;
		b = build(&s);
		for (uint32_t cap = ETH_LEN; cap < ETH_LEN + TAG_LEN; cap++) {
			assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_TRUNCATED);
			assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
		}
		free(b.buf);
	}
	/* Two tags: the inner one cut. */
	s.n_tags = 2;
	s.tag_tpid[0] = 0x88a8;
	s.tag_tci[0] = 0;
	s.tag_tpid[1] = 0x8100;
	s.tag_tci[1] = 100;
	b = build(&s);
	for (uint32_t cap = ETH_LEN + TAG_LEN; cap < ETH_LEN + 2 * TAG_LEN; cap++) {
		assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_TRUNCATED);
		assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	}
	free(b.buf);
}
END_TEST

START_TEST(test_frame_ethertype)
{
	/* Not 0x86dd: IPv6 has its own parser (and its own header checks). */
	static const uint16_t types[] = { 0x86dc, 0x0806, 0x88cc, 0x8035, 0x0000, 0x0801,
					  0x0008, 0x88e5, 0x9100, 0xffff, 0x8847, 0x86de };
	struct frame_spec s = spec_default();

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		s.ethertype = types[i];
		expect(&s, MCR_DROP_UNMATCHED);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Frames: truncation at every layer                                                         */

START_TEST(test_frame_trunc_ether)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);
	uint32_t cap = (uint32_t)_i;

	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
}
END_TEST

/* Fewer than 20 bytes of IPv4: truncated, whatever wirelen says. */
START_TEST(test_frame_trunc_ip_header)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);
	uint32_t cap = ETH_LEN + (uint32_t)_i;

	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);

	s.link = MCR_LINK_NONE;
	b = build(&s);
	cap = (uint32_t)_i;
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);

	/* Behind a priority tag. */
	s = spec_default();
	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	b = build(&s);
	cap = ETH_LEN + TAG_LEN + (uint32_t)_i;
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
}
END_TEST

/*
 * IHL 15, capture ends inside the options. Cut by the capture (wirelen larger): truncated.
 * Cut on the wire (wirelen == caplen): the total length exceeds the frame, malformed.
 */
START_TEST(test_frame_trunc_ip_options)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	uint32_t cap;

	s.ihl = 15;
	b = build(&s);
	cap = ETH_LEN + (uint32_t)_i;
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);

	s.link = MCR_LINK_NONE;
	b = build(&s);
	cap = (uint32_t)_i;
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_trunc_udp_header)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);
	uint32_t cap = ETH_LEN + IP_LEN + (uint32_t)_i;

	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);

	s.link = MCR_LINK_NONE;
	s.ihl = 7;
	b = build(&s);
	cap = 28 + (uint32_t)_i;
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_trunc_payload)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);
	uint32_t cap = ETH_LEN + IP_LEN + UDP_LEN + (uint32_t)_i;

	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);

	s.link = MCR_LINK_NONE;
	b = build(&s);
	cap = IP_LEN + UDP_LEN + (uint32_t)_i;
	assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

/* wirelen below caplen means nothing was cut: caplen is the frame's length. */
START_TEST(test_frame_wirelen_below_caplen)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);
	struct outcome o;

	o = run(&b, b.len, 0, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	o = run(&b, b.len, b.len - 5, &m);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	o = run(&b, b.len - 1, 0, &m);
	assert_verdict(o.v, MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Frames: headers that contradict each other or the frame                                   */

START_TEST(test_frame_ihl_below_5)
{
	struct frame_spec s = spec_default();

	s.ihl = (uint8_t)_i;
	expect(&s, MCR_DROP_MALFORMED);
	s.link = MCR_LINK_NONE;
	expect(&s, MCR_DROP_MALFORMED);
}
END_TEST

START_TEST(test_frame_version)
{
	struct frame_spec s = spec_default();

	s.version = (uint8_t)(_i < 4 ? _i : _i + 1);	/* 0..3, 5..15 */
	expect(&s, MCR_DROP_MALFORMED);
	s.link = MCR_LINK_NONE;
	expect(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* A real IPv6 header behind ethertype 0x0800. */
START_TEST(test_frame_ipv6_as_ipv4)
{
	uint8_t frame[ETH_LEN + 40 + UDP_LEN] = { 0 };
	struct mcr_frame f = { .data = frame, .caplen = sizeof(frame), .wirelen = sizeof(frame),
			       .link = MCR_LINK_ETHER };
	struct mcr_match m = match_default();
	struct mcr_datagram d;
	uint8_t *ip6 = frame + ETH_LEN;

	put16(frame + 12, 0x0800);
	ip6[0] = 0x60;
	put16(ip6 + 4, UDP_LEN);	/* payload length */
	ip6[6] = 17;
	ip6[7] = 1;
	ip6[8] = 0xfe;
	ip6[9] = 0x80;
	ip6[23] = 1;
	ip6[24] = 0xff;
	ip6[25] = 0x0e;
	ip6[39] = 1;
	put16(ip6 + 40 + 2, GROUP_PORT);
	put16(ip6 + 40 + 4, UDP_LEN);
	assert_verdict(parse_frame(&f, &m, &d), MCR_DROP_MALFORMED);
}
END_TEST

/*
 * A well-formed IPv6 UDP datagram to a group on the port, but the match is an IPv4 group: the
 * group's family says which is relayed, so not this one. Behind Ethernet, and bare (version 6).
 */
START_TEST(test_frame_ipv6_for_ipv4_match)
{
	uint8_t frame[ETH_LEN + 40 + UDP_LEN + 4] = { 0 };
	struct mcr_match m = match_default();
	struct mcr_datagram d;
	uint8_t *ip6 = frame + ETH_LEN, *udp = ip6 + 40;
	uint32_t sum = 0;
	struct mcr_frame f = { .data = frame, .caplen = sizeof(frame), .wirelen = sizeof(frame),
			       .link = MCR_LINK_ETHER };

	put16(frame + 12, 0x86dd);
	ip6[0] = 0x60;
	put16(ip6 + 4, UDP_LEN + 4);
	ip6[6] = 17;
	ip6[7] = 1;
	ip6[8] = 0x20;	/* 2001:db8::1 */
	ip6[9] = 0x01;
	ip6[10] = 0x0d;
	ip6[11] = 0xb8;
	ip6[23] = 1;
	ip6[24] = 0xff;	/* ff3e::1 */
	ip6[25] = 0x3e;
	ip6[39] = 1;
	put16(udp, SPORT);
	put16(udp + 2, GROUP_PORT);
	put16(udp + 4, UDP_LEN + 4);
	memcpy(udp + UDP_LEN, "mcr6", 4);
	/* RFC 8200 8.1: the pseudo-header holds both 128-bit addresses, length, next header. */
	sum = (uint16_t)~csum16(ip6 + 8, 32);
	sum += UDP_LEN + 4 + 17;
	sum += (uint16_t)~csum16(udp, UDP_LEN + 4);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(udp + 6, (uint16_t)~sum ? (uint16_t)~sum : 0xffff);
	assert_verdict(parse_frame(&f, &m, &d), MCR_DROP_UNMATCHED);
	m = match_source(SOURCE);
	assert_verdict(parse_frame(&f, &m, &d), MCR_DROP_UNMATCHED);
	m = match_default();
	f.data = ip6;
	f.caplen = f.wirelen = sizeof(frame) - ETH_LEN;
	f.link = MCR_LINK_NONE;
	assert_verdict(parse_frame(&f, &m, &d), MCR_DROP_UNMATCHED);
}
END_TEST

START_TEST(test_frame_tot_below_ihl)
{
	struct frame_spec s = spec_default();

	s.tot_len = 0;
	expect(&s, MCR_DROP_MALFORMED);
	s.tot_len = IP_LEN - 1;
	expect(&s, MCR_DROP_MALFORMED);
	s.ihl = 6;
	s.tot_len = 23;
	expect(&s, MCR_DROP_MALFORMED);
	s.ihl = 15;
	s.tot_len = 59;
	expect(&s, MCR_DROP_MALFORMED);
}
END_TEST

START_TEST(test_frame_tot_beyond_wire)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;
	uint32_t dgram = IP_LEN + UDP_LEN + PAYLOAD_LEN;

	/* Nothing cut: the header claims one byte the wire never carried. */
	s.tot_len = (int)dgram + 1;
	s.udp_len = UDP_LEN + PAYLOAD_LEN + 1;
	expect(&s, MCR_DROP_MALFORMED);
	s.tot_len = 65535;
	s.udp_len = 65535 - IP_LEN;
	expect(&s, MCR_DROP_MALFORMED);

	/* Capture cut too: the claim is checked against wirelen. */
	s.tot_len = (int)dgram + 1;
	s.udp_len = UDP_LEN + PAYLOAD_LEN + 1;
	b = build(&s);
	assert_verdict(run(&b, 40, b.len, &m).v, MCR_DROP_MALFORMED);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	/* ...and one more byte on the wire makes it merely truncated. */
	assert_verdict(run(&b, 40, b.len + 1, &m).v, MCR_DROP_TRUNCATED);
	assert_verdict(run(&b, b.len, b.len + 1, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_udp_len_mismatch)
{
	static const int lens[] = { UDP_LEN + PAYLOAD_LEN + 1, UDP_LEN - 1, 0, 65535,
				    UDP_LEN + PAYLOAD_LEN + 256 };
	struct frame_spec s = spec_default();

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		s.udp_len = lens[i];
		expect(&s, MCR_DROP_MALFORMED);
	}
	/* The IPv4 total length one byte short of the UDP length. */
	s.udp_len = -1;
	s.tot_len = IP_LEN + UDP_LEN + PAYLOAD_LEN - 1;
	expect(&s, MCR_DROP_MALFORMED);
	/* With options: UDP length ignoring them. */
	s = spec_default();
	s.ihl = 8;
	s.udp_len = 12 + UDP_LEN + PAYLOAD_LEN;
	expect(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* Total length leaves fewer than 8 bytes for the UDP header. */
START_TEST(test_frame_tot_short_of_udp)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	s.tot_len = IP_LEN + _i;
	s.udp_len = _i;
	expect(&s, MCR_DROP_MALFORMED);
	/* Even with the capture ending at the datagram's claimed end. */
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + (uint32_t)_i, b.len, &m).v,
		       MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

START_TEST(test_frame_checksum)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	s.csum_xor = 1;
	expect(&s, MCR_DROP_CHECKSUM);
	s.csum_xor = 0x8000;
	expect(&s, MCR_DROP_CHECKSUM);
	s.link = MCR_LINK_NONE;
	expect(&s, MCR_DROP_CHECKSUM);

	/* A changed field under a kept checksum. */
	s = spec_default();
	b = build(&s);
	b.buf[ETH_LEN + 8] = 63;	/* TTL */
	assert_verdict(run_full(&b, &m).v, MCR_DROP_CHECKSUM);
	b.buf[ETH_LEN + 8] = 64;
	b.buf[ETH_LEN + 15] ^= 0x02;	/* source address */
	assert_verdict(run_full(&b, &m).v, MCR_DROP_CHECKSUM);
	b.buf[ETH_LEN + 15] ^= 0x02;
	put16(b.buf + ETH_LEN + 10, 0);	/* checksum zeroed */
	assert_verdict(run_full(&b, &m).v, MCR_DROP_CHECKSUM);
	free(b.buf);

	/* The checksum covers the header only: payload bytes are not its business. */
	b = build(&s);
	b.buf[b.len - 1] ^= 0xff;
	assert_relay((struct outcome[]){ run_full(&b, &m) }, ETH_LEN + IP_LEN + UDP_LEN,
		     PAYLOAD_LEN);
	free(b.buf);
}
END_TEST

/*
 * Fragments go to reassembly with the IP payload they carry: offset in bytes, the MF flag, the
 * identification, addresses and DSCP. DF, and the reserved bit, alone: a whole datagram.
 */
START_TEST(test_frame_fragments)
{
	static const struct {
		uint16_t field;	/* flags and offset */
		uint16_t off;	/* bytes */
		bool more;
	} frags[] = {
		{ 0x2000, 0, true },		/* first */
		{ 0x2000 | 185, 1480, true },	/* middle */
		{ 185, 1480, false },		/* last */
		{ 0x0001, 8, false },		/* the smallest offset */
		{ 0x2001, 8, true },
		{ 0x6000, 0, true },		/* DF and MF */
		{ 0x4000 | 185, 1480, false },	/* DF and an offset */
		{ 0x8000 | 0x2000 | 7, 56, true },	/* the reserved bit too */
		{ 0x1ff0, 0x1ff0 * 8, false },	/* near the end of 64 KiB */
	};
	struct frame_spec s = spec_default();
	struct outcome o;
	struct in_addr src, dst;

	s.tos = 0xb9;		/* DSCP 46, ECN 01 */
	s.ip_id = 0xbeef;
	s.src = IP4(192, 0, 2, 77);
	inet_pton(AF_INET, "192.0.2.77", &src);
	inet_pton(AF_INET, "239.0.0.1", &dst);
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		s.frag = frags[i].field;
		s.link = MCR_LINK_ETHER;
		s.ihl = 5;
		o = outcome_of(&s);
		ck_assert_msg(o.v == MCR_FRAGMENT, "frag field %04x: %s, expected FRAGMENT",
			      frags[i].field, verdict_text(o.v));
		assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN, frags[i].off,
				frags[i].more, 0xbeef);
		ck_assert_uint_eq(o.d.src.v4.s_addr, src.s_addr);
		ck_assert_uint_eq(o.d.dst.v4.s_addr, dst.s_addr);
		ck_assert_int_eq(o.d.src.family, AF_INET);
		ck_assert_int_eq(o.d.dst.family, AF_INET);
		ck_assert_uint_eq(o.d.dscp, 46);
		/* Options: the payload starts after them, and they are not counted in len. */
		s.ihl = 9;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + 36, UDP_LEN + PAYLOAD_LEN, frags[i].off,
				frags[i].more, 0xbeef);
		s.link = MCR_LINK_NONE;
		o = outcome_of(&s);
		assert_fragment(&o, 36, UDP_LEN + PAYLOAD_LEN, frags[i].off, frags[i].more,
				0xbeef);
	}
	s = spec_default();
	s.frag = 0x4000;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	s.frag = 0x8000;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	/* Identification 0 and ffff are as good as any. */
	s.frag = 0x2000;
	s.ip_id = 0;
	assert_fragment((struct outcome[]){ outcome_of(&s) }, ETH_LEN + IP_LEN,
			UDP_LEN + PAYLOAD_LEN, 0, true, 0);
	s.ip_id = 0xffff;
	assert_fragment((struct outcome[]){ outcome_of(&s) }, ETH_LEN + IP_LEN,
			UDP_LEN + PAYLOAD_LEN, 0, true, 0xffff);
}
END_TEST

/*
 * A fragment carries whatever the datagram has at its offset: no UDP header to check, no UDP
 * length to agree with, no port; any length for the last, a multiple of 8 for the others.
 */
START_TEST(test_frame_fragment_no_udp)
{
	struct frame_spec s = spec_default();
	struct outcome o;

	/* A last fragment of 1 to 7 bytes: shorter than a UDP header. */
	for (int n = 1; n < UDP_LEN; n++) {
		s.frag = 185;
		s.tot_len = IP_LEN + n;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP_LEN, (uint32_t)n, 1480, false, 0x1c46);
		/* As first fragment, MF set: cut to a multiple of 8, nothing left. */
		s.frag = 0x2000;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP_LEN, 0, 0, true, 0x1c46);
	}
	/* The "UDP" bytes of a first fragment are not checked: port, length, checksum. */
	s = spec_default();
	s.frag = 0x2000;
	s.dport = 5001;
	s.udp_len = 3;
	s.udp_csum = 0xdead;
	o = outcome_of(&s);
	assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN, 0, true, 0x1c46);
	/* Odd length for the last fragment; 8 bytes for the others. */
	s = spec_default();
	s.payload_len = 5;
	s.frag = 3;
	o = outcome_of(&s);
	assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + 5, 24, false, 0x1c46);
	s.payload_len = 0;
	s.frag = 0x2003;
	o = outcome_of(&s);
	assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN, 24, true, 0x1c46);
}
END_TEST

/*
 * Fragments the kernel does not refuse alone (ip_frag_queue()): one with more to come is cut
 * to a multiple of 8 bytes; an empty one, or one reaching past 65535 bytes of datagram, goes on
 * to reassembly, where it dooms its datagram (asked of the kernel: none is then delivered).
 */
START_TEST(test_frame_fragment_malformed)
{
	static const uint16_t fields[] = { 0x2000, 0x2000 | 185, 185, 1, 0x1fff };
	struct frame_spec s = spec_default();
	struct outcome o;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		s = spec_default();
		s.frag = fields[i];
		s.tot_len = IP_LEN;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP_LEN, 0, (fields[i] & 0x1fff) * 8u,
				fields[i] & 0x2000, 0x1c46);
		s.ihl = 8;
		s.tot_len = 32;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + 32, 0, (fields[i] & 0x1fff) * 8u,
				fields[i] & 0x2000, 0x1c46);
	}
	/* MF set and 41 to 47 bytes: the 40 of them that make 8-byte units. */
	for (uint32_t n = 1; n < 8; n++) {
		s = spec_default();
		s.payload_len = PAYLOAD_LEN + n;
		s.frag = 0x2000;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN, 0, true, 0x1c46);
		s.frag = 0x2000 | 185;
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN, 1480, true, 0x1c46);
		s.frag = 185;	/* the last fragment keeps them all */
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN + n, 1480, false,
				0x1c46);
	}
	/* Past 65535: taken, for reassembly to refuse. */
	s = spec_default();
	s.frag = 0x2000 | 0x1fff;
	o = outcome_of(&s);
	assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN, 65528, true, 0x1c46);
}
END_TEST

/* A fragment the capture cut short: truncated; one cut on the wire: malformed. */
START_TEST(test_frame_fragment_truncated)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	s.frag = 0x2000 | 185;
	b = build(&s);
	for (uint32_t cap = ETH_LEN + IP_LEN; cap < b.end; cap++) {
		assert_verdict(run(&b, cap, b.len, &m).v, MCR_DROP_TRUNCATED);
		assert_verdict(run(&b, cap, cap, &m).v, MCR_DROP_MALFORMED);
	}
	assert_fragment((struct outcome[]){ run(&b, b.end, b.end, &m) }, ETH_LEN + IP_LEN,
			UDP_LEN + PAYLOAD_LEN, 1480, true, 0x1c46);
	free(b.buf);
	/* A length the kernel cuts, or one past 64 KiB, is no malformed header: truncated. */
	s.payload_len = PAYLOAD_LEN + 1;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + 2, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
	s.payload_len = PAYLOAD_LEN;
	s.frag = 0x1fff;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + 2, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
}
END_TEST

/*
 * A frame the kernel marked as several datagrams glued together (GSO or GRO, from the virtio
 * header): dropped as such before anything else, however sound its headers look.
 */
START_TEST(test_frame_glued)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b = build(&s);

	assert_verdict(run_full(&b, &m).v, MCR_RELAY);
	b.f.glued = true;
	assert_verdict(run_full(&b, &m).v, MCR_DROP_GLUED);
	b.f.link = MCR_LINK_NONE;
	assert_verdict(run_full(&b, &m).v, MCR_DROP_GLUED);
	free(b.buf);
}
END_TEST

/* Fragments on VLAN 100 with --vlan 100; with --vlan 200 or none, the VLAN verdict. */
START_TEST(test_frame_fragment_vlan)
{
	struct frame_spec s = spec_default();
	struct mcr_match m100 = match_vlan(100), m200 = match_vlan(200);
	struct outcome o;

	s.frag = 0x2000 | 185;
	s.vlan_valid = true;
	s.vlan_tci = 100;
	o = outcome_with(&s, &m100);
	assert_fragment(&o, ETH_LEN + IP_LEN, UDP_LEN + PAYLOAD_LEN, 1480, true, 0x1c46);
	expect_with(&s, &m200, MCR_DROP_VLAN);
	expect(&s, MCR_DROP_VLAN);
}
END_TEST

START_TEST(test_frame_protocol)
{
	static const uint8_t protos[] = { 6, 1, 2, 0, 136, 255, 16, 18, 0x91 };
	struct frame_spec s = spec_default();

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		s.proto = protos[i];
		expect(&s, MCR_DROP_UNMATCHED);
	}
}
END_TEST

START_TEST(test_frame_group)
{
	static const uint32_t dsts[] = { IP4(239, 0, 0, 2), IP4(224, 0, 0, 1),
					 IP4(10, 0, 0, 9), IP4(1, 0, 0, 239),
					 IP4(239, 0, 1, 1), IP4(255, 255, 255, 255) };
	struct frame_spec s = spec_default();

	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		s.dst = dsts[i];
		expect(&s, MCR_DROP_UNMATCHED);
	}
}
END_TEST

START_TEST(test_frame_port)
{
	static const uint16_t ports[] = { 5001, 4999, 0, 0x8813, 65535, SPORT };
	struct frame_spec s = spec_default();

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		s.dport = ports[i];
		expect(&s, MCR_DROP_UNMATCHED);
	}
	/* The group's port as the source port is no match either. */
	s.sport = GROUP_PORT;
	s.dport = 6000;
	expect(&s, MCR_DROP_UNMATCHED);
}
END_TEST

START_TEST(test_frame_source)
{
	struct frame_spec s = spec_default();
	struct mcr_match any = match_default(), only = match_source(SOURCE);
	struct built b;
	struct outcome o;

	b = build(&s);
	o = run_full(&b, &only);
	assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
	free(b.buf);

	static const uint32_t others[] = { IP4(10, 0, 0, 2), IP4(1, 0, 0, 10),
					   IP4(192, 0, 2, 1), IP4(0, 0, 0, 1) };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		s.src = others[i];
		b = build(&s);
		assert_verdict(run_full(&b, &only).v, MCR_DROP_UNMATCHED);
		o = run_full(&b, &any);
		assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, PAYLOAD_LEN);
		ck_assert_uint_eq(o.d.src.v4.s_addr, htonl(others[i]));
		free(b.buf);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Frames: the first failing check decides                                                   */

START_TEST(test_order_link)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	/* Short Ethernet header beats a stripped VLAN tag. */
	s.vlan_valid = true;
	s.vlan_tci = 100;
	b = build(&s);
	assert_verdict(run(&b, 10, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
	/* A stripped VLAN tag beats the ethertype. */
	s.ethertype = 0x0806;
	expect(&s, MCR_DROP_VLAN);
	/* An in-band VLAN beats a bad IPv4 checksum. */
	s = spec_default();
	s.n_tags = 1;
	s.tag_tpid[0] = 0x8100;
	s.tag_tci[0] = 100;
	s.csum_xor = 0xff;
	expect(&s, MCR_DROP_VLAN);
	/* The ethertype beats a bad IPv4 checksum and a bad version. */
	s = spec_default();
	s.ethertype = 0x0806;
	s.csum_xor = 0xff;
	s.version = 6;
	expect(&s, MCR_DROP_UNMATCHED);
}
END_TEST

START_TEST(test_order_ip)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	/* Malformed beats checksum. */
	s.version = 6;
	s.csum_xor = 1;
	expect(&s, MCR_DROP_MALFORMED);
	s = spec_default();
	s.tot_len = IP_LEN + UDP_LEN + PAYLOAD_LEN + 1;
	s.csum_xor = 1;
	expect(&s, MCR_DROP_MALFORMED);
	/* IHL beyond the capture beats a bad checksum (it cannot be verified). */
	s = spec_default();
	s.ihl = 10;
	s.csum_xor = 1;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + 30, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
	/* Checksum beats protocol, group, source and fragment checks. */
	s = spec_default();
	s.csum_xor = 1;
	s.proto = 6;
	expect(&s, MCR_DROP_CHECKSUM);
	s.proto = 17;
	s.dst = IP4(239, 9, 9, 9);
	s.frag = 0x2000;
	expect(&s, MCR_DROP_CHECKSUM);
	s.dst = GROUP;
	s.tot_len = IP_LEN + 3;	/* a malformed fragment too */
	expect(&s, MCR_DROP_CHECKSUM);
	/* Unmatched beats fragment. */
	s = spec_default();
	s.frag = 0x2000;
	s.proto = 1;
	expect(&s, MCR_DROP_UNMATCHED);
	s.proto = 17;
	s.dst = IP4(239, 9, 9, 9);
	expect(&s, MCR_DROP_UNMATCHED);
	s.dst = GROUP;
	s.src = IP4(10, 9, 9, 9);
	b = build(&s);
	struct mcr_match only = match_source(SOURCE);
	assert_verdict(run_full(&b, &only).v, MCR_DROP_UNMATCHED);
	assert_verdict(run_full(&b, &m).v, MCR_FRAGMENT);
	free(b.buf);
	/* Unmatched beats a malformed fragment. */
	s = spec_default();
	s.frag = 0x2000;
	s.tot_len = IP_LEN + 3;
	s.proto = 6;
	expect(&s, MCR_DROP_UNMATCHED);
	s.proto = 17;
	expect(&s, MCR_FRAGMENT);	/* cut to nothing, for reassembly to refuse */
}
END_TEST

START_TEST(test_order_udp)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	/* A non-first fragment carries no UDP header: fragment, not malformed. */
	s.frag = 185;
	s.tot_len = IP_LEN + 4;
	expect(&s, MCR_FRAGMENT);
	/* A fragment the capture cut: truncated, whatever the UDP header would have said. */
	s.tot_len = -1;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + 3, b.len, &m).v, MCR_DROP_TRUNCATED);
	free(b.buf);
	/* A first fragment's port is not checked (the kernel filter did). */
	s.frag = 0x2000;
	s.dport = 5001;
	expect(&s, MCR_FRAGMENT);
	/* Too short for UDP beats a UDP header beyond the capture. */
	s = spec_default();
	s.tot_len = IP_LEN + 4;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + 4, b.len, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
	/* Wrong port beats a UDP length mismatch and a truncated payload. */
	s = spec_default();
	s.dport = 5001;
	s.udp_len = 9;
	expect(&s, MCR_DROP_UNMATCHED);
	s.udp_len = -1;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + UDP_LEN + 1, b.len, &m).v,
		       MCR_DROP_UNMATCHED);
	free(b.buf);
	/* A UDP length past the IP payload beats a truncated payload. */
	s = spec_default();
	s.udp_len = UDP_LEN + PAYLOAD_LEN + 1;
	b = build(&s);
	assert_verdict(run(&b, ETH_LEN + IP_LEN + UDP_LEN + 1, b.len, &m).v,
		       MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Issue 10: the kernel's verdicts, each asked of the kernel in tests/netns_oracle.sh        */

/* A UDP length short of the IP payload: __udp4_lib_rcv() trims to it and delivers. */
START_TEST(test_frame_udp_len_short)
{
	static const int lens[] = { UDP_LEN, UDP_LEN + 1, UDP_LEN + PAYLOAD_LEN - 1 };
	struct frame_spec s = spec_default();
	struct outcome o;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		s.udp_len = lens[i];
		o = outcome_of(&s);
		assert_relay(&o, ETH_LEN + IP_LEN + UDP_LEN, (uint32_t)lens[i] - UDP_LEN);
	}
}
END_TEST

/* The options' bytes (padded with End of List) and what ip_options_compile() made of them. */
static const struct {
	const char *hex;
	enum mcr_verdict v;
} kernel_options[] = {
	{ "94040000", MCR_RELAY },		/* Router Alert */
	{ "94040001", MCR_RELAY },
	{ "940300", MCR_DROP_MALFORMED },	/* Router Alert, 3 bytes */
	{ "9404000094040000", MCR_RELAY },
	{ "0701", MCR_DROP_MALFORMED },		/* length 1 */
	{ "0728", MCR_DROP_MALFORMED },		/* past the header */
	{ "01010107", MCR_DROP_MALFORMED },	/* no room for a length */
	{ "830704c6120101", MCR_DROP_MARTIAN },	/* LSRR */
	{ "890704c6120101", MCR_DROP_MARTIAN },	/* SSRR */
	{ "830704c6120101830704c6120101", MCR_DROP_MALFORMED },
	{ "830703c6120101", MCR_DROP_MALFORMED },
	{ "07070400000000", MCR_RELAY },	/* Record Route */
	{ "07070800000000", MCR_RELAY },
	{ "07070600000000", MCR_DROP_MALFORMED },
	{ "0707040000000007070400000000", MCR_DROP_MALFORMED },
	{ "4408050000000000", MCR_RELAY },	/* Timestamp */
	{ "440809e000000000", MCR_RELAY },
	{ "440809f000000000", MCR_DROP_MALFORMED },
	{ "440305", MCR_DROP_MALFORMED },
	{ "4408040000000000", MCR_DROP_MALFORMED },
	{ "4408050100000000", MCR_DROP_MALFORMED },
	{ "1e02", MCR_RELAY },			/* unknown */
	{ "820300", MCR_RELAY },		/* Security */
	{ "000107", MCR_RELAY },		/* after End of List */
	{ "860a0000000101040000", MCR_DROP_MALFORMED },	/* CIPSO */
};

START_TEST(test_frame_ip_options_kernel)
{
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	const char *hex = kernel_options[_i].hex;
	uint32_t n = (uint32_t)strlen(hex) / 2;
	struct built b;
	uint8_t *ip;
	unsigned int byte;

	s.ihl = (uint8_t)(5 + (n + 3) / 4);
	b = build(&s);
	ip = b.buf + b.l3;
	memset(ip + IP_LEN, 0, b.hlen - IP_LEN);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &byte), 1);
		ip[IP_LEN + i] = (uint8_t)byte;
	}
	put16(ip + 10, 0);
	put16(ip + 10, csum16(ip, b.hlen));
	ck_assert_msg(run_full(&b, &m).v == kernel_options[_i].v, "options %s: %s, expected %s",
		      hex, verdict_text(run_full(&b, &m).v), verdict_text(kernel_options[_i].v));
	free(b.buf);
}
END_TEST

/* ip_mc_validate_source(); a frame this host sent and looped back skips it, as in the kernel. */
START_TEST(test_frame_martian_source)
{
	static const struct {
		uint32_t src, dst;
		enum mcr_verdict v;
	} cases[] = {
		{ IP4(127, 0, 0, 1), GROUP, MCR_DROP_MARTIAN },
		{ IP4(127, 255, 0, 9), GROUP, MCR_DROP_MARTIAN },
		{ IP4(224, 0, 0, 5), GROUP, MCR_DROP_MARTIAN },
		{ IP4(239, 0, 0, 7), GROUP, MCR_DROP_MARTIAN },
		{ IP4(255, 255, 255, 255), GROUP, MCR_DROP_MARTIAN },
		{ IP4(0, 0, 0, 0), GROUP, MCR_DROP_MARTIAN },
		{ IP4(0, 0, 0, 0), IP4(224, 0, 0, 251), MCR_RELAY },
		{ IP4(0, 0, 0, 1), GROUP, MCR_RELAY },
		{ IP4(240, 0, 0, 1), GROUP, MCR_RELAY },
		{ IP4(198, 19, 50, 255), GROUP, MCR_RELAY },
	};
	struct frame_spec s = spec_default();
	struct mcr_match m = match_default();
	struct built b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.src = cases[i].src;
		s.dst = cases[i].dst;
		m.group.v4.s_addr = htonl(cases[i].dst);
		b = build(&s);
		assert_verdict(run_full(&b, &m).v, cases[i].v);
		b.f.loopback = true;
		assert_verdict(run_full(&b, &m).v, MCR_RELAY);
		free(b.buf);
	}
}
END_TEST

/* -s refuses a loopback source: the kernel drops it from the wire. */
START_TEST(test_args_source_loopback)
{
	static const char *const bad[] = { "127.0.0.1", "127.1.2.3", "::1" };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_error(PARSE(&cfg, err, BASE, "-s", bad[i]), err, bad[i], bad[i],
			     "loopback");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Robustness                                                                                */

/* One base frame for the robustness tests, and the VLAN ID to ask for. */
struct robust_variant {
	struct frame_spec s;
	uint16_t vlan;		/* the match's --vlan */
};

static struct robust_variant robust_variant(int variant)
{
	struct robust_variant v = { .s = spec_default() };
	struct frame_spec *s = &v.s;

	switch (variant) {
	case 1:
		s->payload_len = 0;
		break;
	case 2:
		s->ihl = 15;
		break;
	case 3:
		s->n_tags = 1;
		s->tag_tpid[0] = 0x8100;
		s->tag_tci[0] = 0x6000;
		break;
	case 4:
		s->n_tags = 2;
		s->tag_tpid[0] = 0x88a8;
		s->tag_tpid[1] = 0x8100;
		break;
	case 5:
		s->link = MCR_LINK_NONE;
		break;
	case 6:
		s->link = MCR_LINK_NONE;
		s->ihl = 9;
		s->payload_len = 1;
		break;
	case 7:
		s->payload_len = 4;
		s->trailer = 14;
		break;
	case 8:		/* a UDP checksum to verify, odd length, padding */
		s->udp_csum_auto = true;
		s->payload_len = 33;
		s->trailer = 5;
		break;
	case 9:		/* our VLAN, in-band, with a UDP checksum */
		s->n_tags = 1;
		s->tag_tpid[0] = 0x8100;
		s->tag_tci[0] = 0xa000 | 100;
		s->udp_csum_auto = true;
		v.vlan = 100;
		break;
	case 10:	/* first fragment */
		s->frag = 0x2000;
		s->udp_csum_auto = true;
		break;
	case 11:	/* middle fragment, with options */
		s->frag = 0x2000 | 3;
		s->ihl = 7;
		break;
	case 12:	/* last fragment, odd length */
		s->frag = 185;
		s->payload_len = 5;
		break;
	case 13:	/* middle fragment, no link layer */
		s->link = MCR_LINK_NONE;
		s->frag = 0x2000 | 100;
		break;
	}
	return v;
}

#define ROBUST_VARIANTS 14

static bool is_fragment(const struct frame_spec *s)
{
	return s->frag & 0x3fff;
}

/*
 * Every capture length of a valid frame. Cut by the capture (wirelen = full): truncated until
 * the datagram's last byte. Cut on the wire (wirelen = caplen): truncated until the IPv4
 * header's 20 bytes, malformed after (total length beyond the wire), relayed (or taken as a
 * fragment) at the end.
 */
START_TEST(test_robust_every_caplen)
{
	struct robust_variant v = robust_variant(_i);
	const struct frame_spec *s = &v.s;
	struct mcr_match m = match_vlan(v.vlan);
	struct built b = build(s);
	bool frag = is_fragment(s);
	enum mcr_verdict whole = frag ? MCR_FRAGMENT : MCR_RELAY;
	long off = (long)(b.l3 + b.hlen + (frag ? 0 : UDP_LEN));
	uint32_t len = s->payload_len + (frag ? UDP_LEN : 0);

	for (uint32_t cap = 0; cap <= b.len; cap++) {
		struct outcome cut = run(&b, cap, b.len, &m), wire = run(&b, cap, cap, &m);
		enum mcr_verdict want_cut, want_wire;

		want_cut = cap < b.end ? MCR_DROP_TRUNCATED : whole;
		if (cap < b.l3 + IP_LEN)
			want_wire = MCR_DROP_TRUNCATED;
		else
			want_wire = cap < b.end ? MCR_DROP_MALFORMED : whole;
		ck_assert_msg(cut.v == want_cut, "variant %d caplen %u wirelen %u: %s, expected %s",
			      _i, cap, b.len, verdict_text(cut.v), verdict_text(want_cut));
		ck_assert_msg(wire.v == want_wire,
			      "variant %d caplen %u = wirelen: %s, expected %s", _i, cap,
			      verdict_text(wire.v), verdict_text(want_wire));
		if (cut.v == whole) {
			ck_assert_int_eq(cut.payload_off, off);
			ck_assert_uint_eq(cut.d.len, len);
		}
		if (wire.v == whole) {
			ck_assert_int_eq(wire.payload_off, off);
			ck_assert_uint_eq(wire.d.len, len);
		}
	}
	free(b.buf);
}
END_TEST

/* What the model expects of a relayed datagram or a fragment, besides the verdict. */
struct model_out {
	uint32_t ip_off, payload_off, len;
	uint16_t frag_off, frag_id;
	bool frag_more;
};

/*
 * IPv4 options as ip_options_compile() takes them, written out again: an error is malformed,
 * a source route martian.
 */
static enum mcr_verdict model_options(const uint8_t *o, uint32_t n)
{
	uint32_t i = 0, len;
	int seen_srr = 0, seen_rr = 0, seen_ts = 0;

	while (i < n && o[i] != 0) {
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (n - i < 2)
			return MCR_DROP_MALFORMED;
		len = o[i + 1];
		if (len < 2 || len > n - i)
			return MCR_DROP_MALFORMED;
		switch (o[i]) {
		case 131:	/* LSRR */
		case 137:	/* SSRR */
			if (len < 3 || o[i + 2] < 4 || seen_srr++)
				return MCR_DROP_MALFORMED;
			break;
		case 7:		/* record route */
			if (seen_rr++ || len < 3 || o[i + 2] < 4)
				return MCR_DROP_MALFORMED;
			if (o[i + 2] <= len && o[i + 2] + 3 > (int)len)
				return MCR_DROP_MALFORMED;
			break;
		case 68:	/* timestamp */
			if (seen_ts++ || len < 4 || o[i + 2] < 5)
				return MCR_DROP_MALFORMED;
			if (o[i + 2] <= len) {
				uint32_t fl = o[i + 3] & 15, need = fl == 1 || fl == 3 ? 7 : 3;

				if (o[i + 2] + need > len)
					return MCR_DROP_MALFORMED;
			} else if ((o[i + 3] & 15) != 3 && (o[i + 3] >> 4) == 15) {
				return MCR_DROP_MALFORMED;
			}
			break;
		case 148:	/* router alert */
			if (len < 4)
				return MCR_DROP_MALFORMED;
			break;
		case 134:	/* CIPSO: no DOI configured */
			return MCR_DROP_MALFORMED;
		}
		i += len;
	}
	return seen_srr ? MCR_DROP_MARTIAN : MCR_RELAY;
}

/* The spec's checks, written out independently, for the mutation loop to compare against. */
static enum mcr_verdict model_verdict(const uint8_t *p, uint32_t cap, uint32_t wirelen,
				      const struct mcr_frame *f, const struct mcr_match *m,
				      struct model_out *out)
{
	uint32_t off = 0, have, wire, hl, tot, ulen, frag;
	const uint8_t *ip, *udp;
	uint32_t dst, src;
	bool v6 = f->link == MCR_LINK_NONE && cap && p[0] >> 4 == 6;

	if (f->glued)
		return MCR_DROP_GLUED;
	if (f->link == MCR_LINK_ETHER) {
		uint16_t type, vid;
		bool matched = false;

		if (cap < ETH_LEN)
			return MCR_DROP_TRUNCATED;
		if (f->vlan_valid && (f->vlan_tci & 0x0fff) != 0) {
			if ((f->vlan_tci & 0x0fff) != m->vlan)
				return MCR_DROP_VLAN;
			matched = true;
		}
		type = be16(p + 12);
		off = ETH_LEN;
		while (type == 0x8100 || type == 0x88a8) {
			if (cap < off + TAG_LEN)
				return MCR_DROP_TRUNCATED;
			vid = be16(p + off) & 0x0fff;
			if (vid != 0) {
				if (matched || vid != m->vlan)
					return MCR_DROP_VLAN;
				matched = true;
			}
			type = be16(p + off + 2);
			off += TAG_LEN;
		}
		if (m->vlan != 0 && !matched)
			return MCR_DROP_VLAN;
		if (type != 0x0800 && type != 0x86dd)
			return MCR_DROP_UNMATCHED;
		v6 = type == 0x86dd;
	} else if (m->vlan != 0) {
		return MCR_DROP_VLAN;	/* no link header, so no tag: --vlan never matches */
	}
	have = cap - off;
	ip = p + off;
	wire = wirelen > cap ? wirelen - off : have;
	/*
	 * IPv6 (the match here is always an IPv4 group): the fixed header's own checks, then
	 * unmatched, for the group's family decides what is relayed.
	 */
	if (v6) {
		if (have < 40)
			return MCR_DROP_TRUNCATED;
		tot = 40 + be16(ip + 4);
		if (ip[0] >> 4 != 6 || tot == 40 || tot > wire)
			return MCR_DROP_MALFORMED;
		return MCR_DROP_UNMATCHED;
	}
	if (have < IP_LEN)
		return MCR_DROP_TRUNCATED;
	hl = (ip[0] & 0x0fu) * 4;
	tot = be16(ip + 2);
	if (ip[0] >> 4 != 4 || hl < IP_LEN || tot < hl || tot > wire)
		return MCR_DROP_MALFORMED;
	if (hl > have)
		return MCR_DROP_TRUNCATED;
	if (csum16(ip, hl) != 0)
		return MCR_DROP_CHECKSUM;
	dst = (uint32_t)be16(ip + 16) << 16 | be16(ip + 18);
	src = (uint32_t)be16(ip + 12) << 16 | be16(ip + 14);
	if (ip[9] != 17 || dst != ntohl(m->group.v4.s_addr) ||
	    (m->source.family == AF_INET && src != ntohl(m->source.v4.s_addr)))
		return MCR_DROP_UNMATCHED;
	if (src >> 28 == 0xe || src == 0xffffffffu || src >> 24 == 127 ||
	    (src == 0 && dst >> 8 != 0xe00000))
		return MCR_DROP_MARTIAN;
	if (hl > IP_LEN) {
		enum mcr_verdict v = model_options(ip + IP_LEN, hl - IP_LEN);

		if (v != MCR_RELAY)
			return v;
	}
	frag = be16(ip + 6);
	if ((frag & 0x2000) || (frag & 0x1fff)) {
		uint32_t data = tot - hl, at = (frag & 0x1fff) * 8;
		bool more = frag & 0x2000;

		/* ip_frag_queue(): cut to 8-byte units with more to come; empty or past 64 KiB
		 * is for reassembly to refuse. */
		if (more)
			data -= data % 8;
		if (have < tot)
			return MCR_DROP_TRUNCATED;
		*out = (struct model_out){ .ip_off = off, .payload_off = off + hl, .len = data,
					   .frag_off = (uint16_t)at, .frag_id = be16(ip + 4),
					   .frag_more = more };
		return MCR_FRAGMENT;
	}
	if (tot - hl < UDP_LEN)
		return MCR_DROP_MALFORMED;
	if (have < hl + UDP_LEN)
		return MCR_DROP_TRUNCATED;
	udp = ip + hl;
	if (be16(udp + 2) != m->port)
		return MCR_DROP_UNMATCHED;
	/* The kernel trims the datagram to a UDP length short of the IP payload. */
	ulen = be16(udp + 4);
	if (ulen < UDP_LEN || ulen > tot - hl)
		return MCR_DROP_MALFORMED;
	if (have < hl + ulen)
		return MCR_DROP_TRUNCATED;
	if (be16(udp + 6) != 0 && !f->csum_ok && udp_csum16(ip + 12, ip + 16, udp, ulen) != 0)
		return MCR_DROP_CHECKSUM;
	*out = (struct model_out){ .ip_off = off, .payload_off = off + hl + UDP_LEN,
				   .len = ulen - UDP_LEN };
	return MCR_RELAY;
}

/* A relayed datagram or a fragment as the model says, inside the capture. */
static void assert_as_model(long iter, const uint8_t *copy, uint32_t cap, enum mcr_verdict v,
			    const struct mcr_datagram *d, const struct model_out *want)
{
	uintptr_t start = (uintptr_t)copy, p = (uintptr_t)d->payload;

	ck_assert_msg(p >= start && p <= start + cap && d->len <= start + cap - p,
		      "iteration %ld: payload outside the capture", iter);
	ck_assert_msg(p - start == want->payload_off && d->len == want->len,
		      "iteration %ld: payload at %lu len %u, spec says %u len %u", iter,
		      (unsigned long)(p - start), d->len, want->payload_off, want->len);
	ck_assert_uint_eq(d->dscp, copy[want->ip_off + 1] >> 2);
	ck_assert_int_eq(memcmp(&d->src.v4, copy + want->ip_off + 12, 4), 0);
	ck_assert_int_eq(memcmp(&d->dst.v4, copy + want->ip_off + 16, 4), 0);
	if (v == MCR_RELAY) {
		ck_assert_uint_eq(d->len, (uint32_t)be16(copy + want->payload_off - 4) - UDP_LEN);
		ck_assert_uint_eq(d->sport, be16(copy + want->payload_off - UDP_LEN));
		ck_assert_uint_eq(d->dport, GROUP_PORT);
	} else {
		ck_assert_uint_eq(d->frag_off, want->frag_off);
		ck_assert_uint_eq(d->frag_id, want->frag_id);
		ck_assert_msg(d->frag_more == want->frag_more, "iteration %ld: frag_more %d",
			      iter, d->frag_more);
	}
}

/*
 * Valid frames with random bytes flipped, random capture and wire lengths, --vlan or not, the
 * kernel's checksum word or not, and (half the time) the IPv4 checksum repaired so the later
 * checks are reached. Every verdict must be the spec's; every relayed payload and fragment
 * must lie where the spec says, inside the capture.
 */
START_TEST(test_robust_mutations)
{
	struct built bases[ROBUST_VARIANTS];
	uint64_t rng = MUTATION_SEED;
	unsigned long hits[MCR_VERDICTS] = { 0 };
	uint8_t work[512];

	for (int i = 0; i < ROBUST_VARIANTS; i++) {
		struct robust_variant v = robust_variant(i);

		bases[i] = build(&v.s);
		ck_assert_uint_le(bases[i].len, sizeof(work));
	}
	for (long iter = 0; iter < MUTATIONS; iter++) {
		const struct built *b = &bases[next_random(&rng) % ROBUST_VARIANTS];
		uint32_t headers = b->l3 + b->hlen + UDP_LEN + 2, cap, wirelen;
		struct mcr_match m = next_random(&rng) % 2 ? match_source(SOURCE) : match_default();
		struct mcr_frame f = b->f;
		struct mcr_datagram d;
		struct model_out want_out = { 0 };
		enum mcr_verdict got, want;
		int flips = (int)(next_random(&rng) % 4);	/* 0: the base frame as it is */
		uint8_t *copy;

		memcpy(work, b->buf, b->len);
		for (int k = 0; k < flips; k++) {
			uint64_t r = next_random(&rng);
			uint32_t span = r % 4 && headers < b->len ? headers : b->len;
			uint32_t pos = (uint32_t)((r >> 8) % span);

			if (r & 0x10000)
				work[pos] ^= (uint8_t)(1u << ((r >> 20) % 8));
			else
				work[pos] = (uint8_t)(r >> 24);
		}
		if (next_random(&rng) % 2 && b->l3 + IP_LEN <= b->len) {
			uint8_t *ip = work + b->l3;
			uint32_t hl = (ip[0] & 0x0fu) * 4;

			if (hl >= IP_LEN && b->l3 + hl <= b->len) {
				put16(ip + 10, 0);
				put16(ip + 10, csum16(ip, hl));
			}
		}
		switch (next_random(&rng) % 10) {
		case 0: case 1: case 2:
			cap = (uint32_t)(next_random(&rng) % (b->len + 1));
			break;
		default:
			cap = b->len;
		}
		switch (next_random(&rng) % 8) {
		case 0: case 1:
			wirelen = b->len;
			break;
		case 2:
			wirelen = cap + (uint32_t)(next_random(&rng) % 70000);
			break;
		case 3:
			wirelen = (uint32_t)(next_random(&rng) % (cap + 1));
			break;
		default:
			wirelen = cap;
		}
		switch (next_random(&rng) % 4) {
		case 0:
			m.vlan = 100;
			break;
		case 1:
			m.vlan = (uint16_t)(1 + next_random(&rng) % 4094);
			break;
		default:
			m.vlan = 0;
		}
		f.vlan_valid = next_random(&rng) % 8 == 0;
		f.vlan_tci = (uint16_t)next_random(&rng);
		switch (next_random(&rng) % 4) {
		case 0:
			f.vlan_tci &= 0xf000;
			break;
		case 1:
			f.vlan_tci = (uint16_t)((f.vlan_tci & 0xf000) | 100);
			break;
		}
		f.csum_ok = next_random(&rng) % 4 == 0;
		f.glued = next_random(&rng) % 64 == 0;

		copy = malloc(cap);
		ck_assert(copy || !cap);
		memcpy(copy, work, cap);
		f.data = copy;
		f.caplen = cap;
		f.wirelen = wirelen;
		memset(&d, 0xa5, sizeof(d));
		got = parse_frame(&f, &m, &d);
		want = model_verdict(copy, cap, wirelen, &f, &m, &want_out);
		ck_assert_msg(got == want, "iteration %ld (variant %ld, caplen %u, wirelen %u, "
			      "vlan %u): %s, spec: %s", iter, (long)(b - bases), cap, wirelen,
			      m.vlan, verdict_text(got), verdict_text(want));
		if (got == MCR_RELAY || got == MCR_FRAGMENT)
			assert_as_model(iter, copy, cap, got, &d, &want_out);
		free(copy);
		hits[got]++;
	}
	/*
	 * parse_frame() never refuses a fragment itself: reassembly does (ring.c counts it). The
	 * model knows no IGMP queries; check_health.c tests those byte by byte.
	 */
	for (int v = 0; v < MCR_VERDICTS; v++)
		if (v != MCR_DROP_FRAGMENT && v != MCR_QUERY)
			ck_assert_msg(hits[v] > 0, "the mutation loop never produced %s",
				      verdict_text(v));
	for (int i = 0; i < ROBUST_VARIANTS; i++)
		free(bases[i].buf);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */

static Suite *args_suite(void)
{
	Suite *s = suite_create("parse_args");
	TCase *ok = tcase_create("accepted"), *bad = tcase_create("refused");

	tcase_add_test(ok, test_args_defaults);
	tcase_add_test(ok, test_args_long_separate);
	tcase_add_test(ok, test_args_long_equals);
	tcase_add_test(ok, test_args_short_attached);
	tcase_add_test(ok, test_args_short_separate);
	tcase_add_test(ok, test_args_any_order);
	tcase_add_test(ok, test_args_ingress_name_length);
	tcase_add_test(ok, test_args_out_max);
	tcase_add_test(ok, test_args_out_same_dest_elsewhere);
	tcase_add_test(ok, test_args_out_forms);
	tcase_add_test(ok, test_args_out_text_long);
	tcase_add_test(ok, test_args_group_edges);
	tcase_add_test(ok, test_args_source_edges);
	tcase_add_test(ok, test_args_ttl_range);
	tcase_add_test(ok, test_args_dscp_values);
	tcase_add_test(ok, test_args_count);
	tcase_add_test(ok, test_args_stats_interval);
	tcase_add_test(ok, test_args_stats_format);
	tcase_add_test(ok, test_args_no_join);
	tcase_add_test(ok, test_args_vlan);
	tcase_add_test(ok, test_args_user);
	tcase_add_test(ok, test_args_busy_poll);
	tcase_add_test(ok, test_args_help_version);
	tcase_add_loop_test(bad, test_args_errors, 0, N_ARG_ERRORS);
	tcase_add_test(bad, test_args_out_too_many);
	tcase_add_test(bad, test_args_count_overflow);
	tcase_add_test(bad, test_args_error_long_culprit);
	tcase_add_test(ok, test_args_coalesce);
	tcase_add_loop_test(bad, test_args_coalesce_refused, 0,
			    (int)(sizeof(coalesce_errors) / sizeof(coalesce_errors[0])));
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	return s;
}

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("dscp and addresses");

	tcase_add_test(tc, test_dscp_names);
	tcase_add_test(tc, test_dscp_names_in_args);
	tcase_add_test(tc, test_dscp_numbers);
	tcase_add_test(tc, test_dscp_invalid);
	tcase_add_test(tc, test_format_ip);
	tcase_add_test(tc, test_format_ip_small_buffer);
	tcase_add_test(tc, test_verdict_names);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *frame_suite(void)
{
	Suite *s = suite_create("parse_frame");
	TCase *ok = tcase_create("relayed"), *vlan = tcase_create("vlan");
	TCase *trunc = tcase_create("truncated"), *bad = tcase_create("dropped");
	TCase *order = tcase_create("order");

	tcase_add_test(ok, test_csum_helper);
	tcase_add_test(ok, test_frame_valid);
	tcase_add_test(ok, test_frame_fields);
	tcase_add_loop_test(ok, test_frame_dscp, 0, 64);
	tcase_add_test(ok, test_frame_link_none);
	tcase_add_loop_test(ok, test_frame_ip_options, 6, 16);
	tcase_add_test(ok, test_frame_padding);
	tcase_add_test(ok, test_frame_padding_short_datagram);
	tcase_add_test(ok, test_frame_zero_payload);
	tcase_add_test(ok, test_frame_max_payload);
	tcase_add_test(ok, test_frame_jumbo);
	tcase_add_test(ok, test_udp_csum_helper);
	tcase_add_test(ok, test_frame_udp_checksum_zero);
	tcase_add_test(ok, test_frame_udp_checksum_good);
	tcase_add_test(ok, test_frame_udp_checksum_all_ones);
	tcase_add_test(bad, test_frame_udp_checksum_bad);
	tcase_add_test(order, test_frame_udp_checksum_order);
	tcase_add_test(ok, test_frame_wirelen_below_caplen);

	tcase_add_test(vlan, test_frame_priority_tag);
	tcase_add_test(vlan, test_frame_tag_vid);
	tcase_add_test(vlan, test_frame_qinq);
	tcase_add_test(vlan, test_frame_tag_inner_not_ipv4);
	tcase_add_test(vlan, test_frame_stripped_vlan);
	tcase_add_test(vlan, test_frame_tag_truncated);
	tcase_add_test(vlan, test_frame_vlan_match_stripped);
	tcase_add_test(vlan, test_frame_vlan_match_inband);
	tcase_add_test(vlan, test_frame_vlan_required);
	tcase_add_test(vlan, test_frame_ethertype);

	tcase_add_loop_test(trunc, test_frame_trunc_ether, 0, ETH_LEN);
	tcase_add_loop_test(trunc, test_frame_trunc_ip_header, 0, IP_LEN);
	tcase_add_loop_test(trunc, test_frame_trunc_ip_options, IP_LEN, 60);
	tcase_add_loop_test(trunc, test_frame_trunc_udp_header, 0, UDP_LEN);
	tcase_add_loop_test(trunc, test_frame_trunc_payload, 0, PAYLOAD_LEN);

	tcase_add_loop_test(bad, test_frame_ip_options_checksum, 6, 16);
	tcase_add_loop_test(bad, test_frame_ihl_below_5, 0, 5);
	tcase_add_loop_test(bad, test_frame_version, 0, 15);
	tcase_add_test(bad, test_frame_ipv6_as_ipv4);
	tcase_add_test(bad, test_frame_ipv6_for_ipv4_match);
	tcase_add_test(bad, test_frame_tot_below_ihl);
	tcase_add_test(bad, test_frame_tot_beyond_wire);
	tcase_add_test(bad, test_frame_udp_len_mismatch);
	tcase_add_loop_test(bad, test_frame_tot_short_of_udp, 0, UDP_LEN);
	tcase_add_test(bad, test_frame_checksum);
	tcase_add_test(ok, test_frame_fragments);
	tcase_add_test(ok, test_frame_fragment_no_udp);
	tcase_add_test(bad, test_frame_fragment_malformed);
	tcase_add_test(bad, test_frame_glued);
	tcase_add_test(trunc, test_frame_fragment_truncated);
	tcase_add_test(vlan, test_frame_fragment_vlan);
	tcase_add_test(bad, test_frame_protocol);
	tcase_add_test(bad, test_frame_group);
	tcase_add_test(bad, test_frame_port);
	tcase_add_test(bad, test_frame_source);
	tcase_add_test(bad, test_frame_udp_len_short);
	tcase_add_loop_test(bad, test_frame_ip_options_kernel, 0,
			    (int)(sizeof(kernel_options) / sizeof(kernel_options[0])));
	tcase_add_test(bad, test_frame_martian_source);
	tcase_add_test(bad, test_args_source_loopback);

	tcase_add_test(order, test_order_link);
	tcase_add_test(order, test_order_ip);
	tcase_add_test(order, test_order_udp);

	suite_add_tcase(s, ok);
	suite_add_tcase(s, vlan);
	suite_add_tcase(s, trunc);
	suite_add_tcase(s, bad);
	suite_add_tcase(s, order);
	return s;
}

static Suite *robust_suite(void)
{
	Suite *s = suite_create("robustness");
	TCase *tc = tcase_create("robustness");

	tcase_set_timeout(tc, 300);	/* seconds: 200k iterations under ASan on a slow box */
	tcase_add_loop_test(tc, test_robust_every_caplen, 0, ROBUST_VARIANTS);
	tcase_add_test(tc, test_robust_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(args_suite());

	srunner_add_suite(sr, names_suite());
	srunner_add_suite(sr, frame_suite());
	srunner_add_suite(sr, robust_suite());
	return run_suites(sr, "check_parse");
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for parse.c's IPv6: the address forms of -g, -s and -o, every parse_frame()
 * verdict of an IPv6 frame (the fixed header, each extension header of RFC 8200 section 4 and
 * the chain they make, fragments, the mandatory UDP checksum of section 8.1), and reassembly
 * of IPv6 fragments as ring.c runs it: each fragment through parse_frame(), then reasm_add().
 *
 * Frames are built byte by byte here, their checksums from our own RFC 1071 helper, checked
 * against sums worked by hand. Each frame is parsed from a buffer of exactly the captured
 * length, so that ASan reports any read past it. Expected values come from the RFCs and
 * mcr.1, never from the code under test.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define IP6_LEN 40		/* bytes: the fixed IPv6 header */
#define IP4_LEN 20
#define EXT_UNIT 8		/* bytes: extension header lengths count these */
#define FRAG_LEN 8		/* bytes: the fragment header */
#define PAYLOAD_LEN 40		/* bytes: payload of the default test datagram */
#define EXT_MAX 16		/* headers a test frame may carry */
#define OPT_SKIP 0x1e		/* RFC 4727: an experimental option, action bits 00 */
#define CHAIN_LIMIT 12		/* mcr.1: extension headers followed, at most (the kernel's) */
#define IPV6_MAX_PLEN 65535	/* RFC 8200: the payload length field, without jumbograms */
#define MUTATIONS 100000
#define MUTATION_SEED 0x2545f4914f6cdd1dull
#define T0 100000		/* ms: the reassembly clock at the start of a test */

/* RFC 8200 section 4 and IANA's protocol numbers. */
#define NH_HOPOPTS 0
#define NH_TCP 6
#define NH_UDP 17
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_ESP 50
#define NH_AH 51
#define NH_ICMPV6 58
#define NH_NONE 59
#define NH_DSTOPTS 60
#define NH_MOBILITY 135

#define GROUP6 "ff3e::1234"
#define SOURCE6 "fd00:1::5"
#define GROUP_PORT 5000
#define SPORT 40000

/* ---------------------------------------------------------------------------------------- */
/* Command line                                                                              */

/* One line, ends with the hint, names the culprit (and says `also`, when given). */
static void assert_error(enum mcr_parse_result r, const char *err, const char *culprit,
			 const char *also)
{
	size_t n = strnlen(err, MCR_ERR_LEN);

	ck_assert_msg(r == MCR_PARSE_ERROR, "%s: result %d, expected an error", culprit, r);
	ck_assert_msg(n < MCR_ERR_LEN, "%s: error not terminated", culprit);
	ck_assert_msg(n > strlen(HINT) && !strcmp(err + n - strlen(HINT), HINT),
		      "%s: error \"%s\" does not end with the hint", culprit, err);
	ck_assert_msg(!strchr(err, '\n'), "%s: error \"%s\" is not one line", culprit, err);
	ck_assert_msg(strstr(err, culprit), "error \"%s\" does not name \"%s\"", err, culprit);
	if (also)
		ck_assert_msg(strstr(err, also), "error \"%s\" does not say \"%s\"", err, also);
}

static struct in6_addr a6(const char *text)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, text, &a), 1);
	return a;
}

static void assert_ip6(const struct mcr_ip *ip, const char *text)
{
	struct in6_addr want = a6(text);
	char got[INET6_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET6, &ip->v6, got, sizeof(got));
	ck_assert_msg(ip->family == AF_INET6, "family %d, expected AF_INET6 for %s", ip->family,
		      text);
	ck_assert_msg(!memcmp(&ip->v6, &want, 16), "address %s, expected %s", got, text);
}

static void assert_ip4(const struct mcr_ip *ip, const char *text)
{
	struct in_addr want;

	ck_assert_int_eq(inet_pton(AF_INET, text, &want), 1);
	ck_assert_int_eq(ip->family, AF_INET);
	ck_assert_uint_eq(ip->v4.s_addr, want.s_addr);
}

/* Every way of writing the group, each the same address and port. */
static const char *const group_forms[] = {
	"[ff3e::1234]:5000", "[FF3E::1234]:5000", "[ff3e:0:0:0:0:0:0:1234]:5000",
	"[ff3e:0000:0000:0000:0000:0000:0000:1234]:5000", "[ff3e::0.0.18.52]:5000",
};
#define N_GROUP_FORMS (int)(sizeof(group_forms) / sizeof(group_forms[0]))

START_TEST(test_args_group_forms)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", group_forms[_i], "-o",
			       "[fd00::5]:6000"),
			 MCR_PARSE_RUN);
	assert_ip6(&cfg.group, GROUP6);	/* 0.0.18.52 is 0x0012, 0x34: the same 1234 */
	ck_assert_uint_eq(cfg.port, 5000);
	ck_assert_int_eq(cfg.source.family, AF_UNSPEC);
	ck_assert_uint_eq(cfg.n_out, 1);
	assert_ip6(&cfg.out[0].addr, "fd00::5");
	ck_assert_uint_eq(cfg.out[0].port, 6000);
	ck_assert_str_eq(cfg.out[0].ifname, "");
	ck_assert_str_eq(cfg.out[0].text, "[fd00::5]:6000");
}
END_TEST

/* Every scope of multicast is a group: the ingress names the link. */
START_TEST(test_args_group_scopes)
{
	static const char *const groups[] = { "[ff02::1:3]:5000", "[ff05::101]:5000",
					      "[ff15::9]:5000", "[ff3e::8000:1]:5000" };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", groups[i], "-o",
				       "10.0.0.2:6000"),
				 MCR_PARSE_RUN);
		ck_assert_int_eq(cfg.group.family, AF_INET6);
		ck_assert_uint_eq(cfg.group.v6.s6_addr[0], 0xff);
	}
}
END_TEST

/* Forms of -g that are not [IPV6]:PORT, each refused naming the text. */
static const struct {
	const char *arg, *also;
} bad_groups[] = {
	{ "ff3e::1234:5000", "bracket" },	/* bare: which colon is the port's? */
	{ "ff3e::1234", NULL },
	{ "[ff3e::1234]", NULL },
	{ "[ff3e::1234]:", NULL },
	{ "[ff3e::1234]:0", "port" },
	{ "[ff3e::1234]:65536", "port" },
	{ "[ff3e::1234]:50x", "port" },
	{ "[ff3e::1234:5000", NULL },
	{ "ff3e::1234]:5000", NULL },
	{ "[[ff3e::1234]]:5000", NULL },
	{ "[ff3e::1234]5000", NULL },
	{ "[]:5000", NULL },
	{ "[ff3e::12345]:5000", NULL },
	{ "[ff3e::1234%eth0]:5000", NULL },
	{ "[239.0.0.1]:5000", NULL },	/* brackets are for IPv6 only */
	{ "[ff3e:::1234]:5000", NULL },
	{ "[fd00::1]:5000", "multicast" },	/* unicast */
	{ "[::1]:5000", "multicast" },
	{ "[fe80::1]:5000", "multicast" },
	{ "[::]:5000", "multicast" },
	{ "[::ffff:239.0.0.1]:5000", "multicast" },	/* IPv4-mapped: an IPv6 unicast address */
};
#define N_BAD_GROUPS (int)(sizeof(bad_groups) / sizeof(bad_groups[0]))

START_TEST(test_args_group_refused)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	enum mcr_parse_result r;

	r = PARSE(&cfg, err, "-i", "eth0", "-g", bad_groups[_i].arg, "-o", "10.0.0.2:6000");
	assert_error(r, err, bad_groups[_i].arg, bad_groups[_i].also);
	ck_assert_msg(strstr(err, "-g"), "error \"%s\" does not name -g", err);
}
END_TEST

START_TEST(test_args_source_forms)
{
	static const char *const forms[] = { "fd00:1::5", "[fd00:1::5]", "FD00:1:0::5",
					     "[fd00:1:0:0:0:0:0:5]" };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-s",
				       forms[i], "-o", "[fd00::5]:6000"),
				 MCR_PARSE_RUN);
		assert_ip6(&cfg.source, SOURCE6);
		assert_ip6(&cfg.group, GROUP6);
	}
	/* Either order of -s and -g. */
	ck_assert_int_eq(PARSE(&cfg, err, "-s", "fd00:1::5", "-i", "eth0", "-g",
			       "[ff3e::1234]:5000", "-o", "[fd00::5]:6000"),
			 MCR_PARSE_RUN);
	assert_ip6(&cfg.source, SOURCE6);
	/* A link-local source is a unicast address too. */
	ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-s",
			       "fe80::1", "-o", "[fd00::5]:6000"),
			 MCR_PARSE_RUN);
	assert_ip6(&cfg.source, "fe80::1");
}
END_TEST

static const struct {
	const char *arg, *also;
} bad_sources[] = {
	{ "ff3e::1", "unicast" },	/* a group is no source */
	{ "[ff02::1]", "unicast" },
	{ "::", "unicast" },
	{ "[::]", "unicast" },
	{ "[fd00::1", NULL },
	{ "fd00::1]", NULL },
	{ "[fd00::1]:5000", NULL },	/* -s takes no port */
	{ "[10.0.0.1]", NULL },
	{ "fd00::1::2", NULL },
	{ "fd00::1%eth0", NULL },
};
#define N_BAD_SOURCES (int)(sizeof(bad_sources) / sizeof(bad_sources[0]))

START_TEST(test_args_source_refused)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	enum mcr_parse_result r;

	r = PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-s", bad_sources[_i].arg,
		  "-o", "[fd00::5]:6000");
	assert_error(r, err, bad_sources[_i].arg, bad_sources[_i].also);
}
END_TEST

/* A source of the other family can never send to the group: refused, whichever comes first. */
START_TEST(test_args_family_mismatch)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	assert_error(PARSE(&cfg, err, "-i", "eth0", "-g", "239.0.0.1:5000", "-s", "fd00:1::5",
			   "-o", "10.0.0.2:6000"),
		     err, "-s", "IPv6");
	assert_error(PARSE(&cfg, err, "-s", "fd00:1::5", "-i", "eth0", "-g", "239.0.0.1:5000",
			   "-o", "10.0.0.2:6000"),
		     err, "-s", "-g");
	assert_error(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-s", "10.0.0.1",
			   "-o", "[fd00::5]:6000"),
		     err, "-s", "IPv4");
	/* The same, with the destinations' families mixed: those may differ. */
	ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-s",
			       "fd00:1::5", "-o", "10.0.0.2:6000", "-o", "[fd00::5]:6000"),
			 MCR_PARSE_RUN);
}
END_TEST

/* Destinations of either family, whatever the group's; link scope with @IFACE. */
START_TEST(test_args_out_forms)
{
	static const struct {
		const char *arg, *addr, *ifname;
		uint16_t port;
	} forms[] = {
		{ "[fd00::5]:6000", "fd00::5", "", 6000 },
		{ "[fd00::5]:6000@eth1", "fd00::5", "eth1", 6000 },
		{ "[ff3e::5]:6000@eth1", "ff3e::5", "eth1", 6000 },
		{ "[ff3e::5]:6000", "ff3e::5", "", 6000 },	/* global scope: routes decide */
		{ "[ff05::1:3]:1", "ff05::1:3", "", 1 },	/* site scope */
		{ "[fec0::1]:65535", "fec0::1", "", 65535 },	/* old site-local: not fe80::/10 */
		{ "[fe80::1]:6000@eth1", "fe80::1", "eth1", 6000 },
		{ "[febf::1]:6000@eth1", "febf::1", "eth1", 6000 },	/* fe80::/10's last */
		{ "[ff02::1]:6000@eth1", "ff02::1", "eth1", 6000 },
		{ "[ff01::1]:6000@lo", "ff01::1", "lo", 6000 },
		{ "[ff12::1]:6000@eth1", "ff12::1", "eth1", 6000 },	/* transient, link scope */
		{ "[::ffff:10.0.0.2]:6000", "::ffff:10.0.0.2", "", 6000 },
	};
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, "-i", "eth0", "-g", "239.0.0.1:5000", "-o",
				    forms[i].arg) == MCR_PARSE_RUN,
			      "%s: %s", forms[i].arg, err);
		ck_assert_uint_eq(cfg.n_out, 1);
		assert_ip6(&cfg.out[0].addr, forms[i].addr);
		ck_assert_uint_eq(cfg.out[0].port, forms[i].port);
		ck_assert_str_eq(cfg.out[0].ifname, forms[i].ifname);
		ck_assert_str_eq(cfg.out[0].text, forms[i].arg);
	}
	/* IPv6 in, IPv4 out, and both families out at once. */
	ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-o",
			       "198.51.100.7:6000", "-o", "[ff3e::99]:6000@eth2", "-o",
			       "239.0.0.2:6000@eth2"),
			 MCR_PARSE_RUN);
	ck_assert_uint_eq(cfg.n_out, 3);
	assert_ip4(&cfg.out[0].addr, "198.51.100.7");
	assert_ip6(&cfg.out[1].addr, "ff3e::99");
	assert_ip4(&cfg.out[2].addr, "239.0.0.2");
}
END_TEST

/*
 * The longest IPv6 destination written in full (45 characters of address, the last 32 bits
 * dotted) with the longest interface name fits the text kept for counters, exactly.
 */
START_TEST(test_args_out_longest)
{
	const char *arg = "[fd00:1234:5678:9abc:def0:1234:255.255.255.255]:65535@abcdefghijklmno";
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_uint_eq(strlen("abcdefghijklmno"), IF_NAMESIZE - 1);
	ck_assert_uint_eq(strlen(arg), sizeof(cfg.out[0].text) - 1);
	ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-o", arg),
			 MCR_PARSE_RUN);
	ck_assert_str_eq(cfg.out[0].text, arg);
	ck_assert_str_eq(cfg.out[0].ifname, "abcdefghijklmno");
	ck_assert_uint_eq(cfg.out[0].port, 65535);
	assert_ip6(&cfg.out[0].addr, "fd00:1234:5678:9abc:def0:1234:ffff:ffff");
}
END_TEST

static const struct {
	const char *arg, *also;
} bad_outs[] = {
	{ "fd00::5:6000", "bracket" },	/* bare */
	{ "fd00::5", NULL },
	{ "[fd00::5]", NULL },
	{ "[fd00::5]:0", "port" },
	{ "[fd00::5]:6000@", "interface" },
	{ "[fd00::5]:6000@a/b", "interface" },
	{ "[fd00::5%eth1]:6000", NULL },
	{ "[fe80::1]:6000", "@IFACE" },	/* link-local unicast */
	{ "[febf:ffff::1]:6000", "@IFACE" },
	{ "[ff02::1]:6000", "@IFACE" },	/* link-scope multicast */
	{ "[ff01::1]:6000", "@IFACE" },	/* interface-local */
	{ "[ff32::1]:6000", "@IFACE" },	/* flags 3, link scope */
	{ "[::]:6000", "unspecified" },
	{ "[::]:6000@eth1", "unspecified" },
	{ "[0:0::0]:6000", "unspecified" },
	{ "[10.0.0.2]:6000", NULL },
};
#define N_BAD_OUTS (int)(sizeof(bad_outs) / sizeof(bad_outs[0]))

START_TEST(test_args_out_refused)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];
	enum mcr_parse_result r;

	r = PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-o", bad_outs[_i].arg);
	assert_error(r, err, bad_outs[_i].arg, bad_outs[_i].also);
	ck_assert_msg(strstr(err, "-o"), "error \"%s\" does not name -o", err);
}
END_TEST

/* The same address, port and interface twice, however the address is written: refused. */
START_TEST(test_args_out_duplicates)
{
	static const char *const twice[][2] = {
		{ "[fd00::5]:6000", "[fd00:0::5]:6000" },
		{ "[fd00::5]:6000", "[FD00::5]:6000" },
		{ "[fd00::5]:6000", "[fd00:0:0:0:0:0:0:5]:6000" },
		{ "[ff3e::99]:6000@eth1", "[ff3e:0::99]:6000@eth1" },
		{ "[fe80::1]:6000@eth1", "[fe80::0:1]:6000@eth1" },
	};
	static const char *const different[][2] = {
		{ "[fd00::5]:6000", "[fd00::5]:6001" },
		{ "[fd00::5]:6000", "[fd00::5]:6000@eth1" },
		{ "[fe80::1]:6000@eth1", "[fe80::1]:6000@eth2" },
		{ "[fd00::5]:6000", "[fd00::6]:6000" },
		{ "[::ffff:10.0.0.2]:6000", "10.0.0.2:6000" },	/* another family */
	};
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++)
		assert_error(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-o",
				   twice[i][0], "-o", twice[i][1]),
			     err, twice[i][1], "twice");
	for (size_t i = 0; i < sizeof(different) / sizeof(different[0]); i++) {
		ck_assert_msg(PARSE(&cfg, err, "-i", "eth0", "-g", "[ff3e::1234]:5000", "-o",
				    different[i][0], "-o", different[i][1]) == MCR_PARSE_RUN,
			      "%s and %s: %s", different[i][0], different[i][1], err);
		ck_assert_uint_eq(cfg.n_out, 2);
	}
}
END_TEST

/* RFC 5952 text for IPv6, dotted quad for IPv4; a buffer too small is refused. */
START_TEST(test_format_ip6)
{
	struct mcr_ip ip = { .family = AF_INET6 };
	char buf[INET6_ADDRSTRLEN];

	ip.v6 = a6("ff3e:0:0:0:0:0:0:1234");
	ck_assert_int_eq(format_ip(&ip, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "ff3e::1234");
	ip.v6 = a6("FD00:0001:0000:0000:0000:0000:0000:0005");
	ck_assert_int_eq(format_ip(&ip, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "fd00:1::5");
	ck_assert_int_eq(format_ip(&ip, buf, strlen("fd00:1::5")), -1);
}
END_TEST

START_TEST(test_ip_helpers6)
{
	struct mcr_ip g = { .family = AF_INET6 }, u = { .family = AF_INET6 };
	struct mcr_ip v4 = { .family = AF_INET };

	g.v6 = a6("ff3e::1234");
	u.v6 = a6("fd00:1::5");
	ck_assert(ip_is_multicast(&g));
	ck_assert(!ip_is_multicast(&u));
	ck_assert(ip_equal(&g, &g));
	ck_assert(!ip_equal(&g, &u));
	/* The same first four bytes, another family: not the same address. */
	memcpy(&v4.v4, g.v6.s6_addr, 4);
	ck_assert(!ip_equal(&g, &v4));
	ck_assert(!ip_equal(&v4, &g));
	/* An IPv4 group's bytes read as IPv6 would start 0xef: IPv4 rules for IPv4. */
	v4.v4.s_addr = htonl(0xef000001);
	ck_assert(ip_is_multicast(&v4));
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Checksums                                                                                 */

/*
 * RFC 8200 section 8.1: the pseudo-header is source, destination, the upper-layer length in
 * 32 bits, three zero bytes and next header 17. 0 when a checksum in place is right.
 */
static uint16_t udp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
			  uint32_t len)
{
	uint8_t pseudo[40];

	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	put32(pseudo + 32, len);
	put32(pseudo + 36, NH_UDP);
	return (uint16_t)~sum16(udp, len, sum16(pseudo, sizeof(pseudo), 0));
}

/* RFC 768's IPv4 pseudo-header, for the test that IPv6 does not use it. */
static uint16_t udp4_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
			  uint32_t len)
{
	uint8_t pseudo[12] = { src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2], dst[3],
			       0, NH_UDP, (uint8_t)(len >> 8), (uint8_t)len };

	return (uint16_t)~sum16(udp, len, sum16(pseudo, sizeof(pseudo), 0));
}

/*
 * Sums worked by hand: fd00::1 -> ff3e::1234, port 40000 -> 5000. Empty: fd00+0001 (source)
 * + ff3e+1234 (destination) + 0008 (length) + 0011 + 9c40+1388+0008 = 2be5c, folded be5e,
 * checksum 41a1. With "abc": both lengths 000b, plus 6162 and 6300 = 382c4, folded 82c7,
 * checksum 7d38.
 */
START_TEST(test_udp6_csum_helper)
{
	struct in6_addr src = a6("fd00::1"), dst = a6("ff3e::1234");
	uint8_t udp[11] = { 0x9c, 0x40, 0x13, 0x88, 0x00, 0x08, 0, 0, 'a', 'b', 'c' };

	ck_assert_uint_eq(udp6_csum(src.s6_addr, dst.s6_addr, udp, 8), 0x41a1);
	put16(udp + 6, 0x41a1);
	ck_assert_uint_eq(udp6_csum(src.s6_addr, dst.s6_addr, udp, 8), 0);
	put16(udp + 4, 11);
	put16(udp + 6, 0);
	ck_assert_uint_eq(udp6_csum(src.s6_addr, dst.s6_addr, udp, 11), 0x7d38);
	put16(udp + 6, 0x7d38);
	ck_assert_uint_eq(udp6_csum(src.s6_addr, dst.s6_addr, udp, 11), 0);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* IPv6 frame builder                                                                        */

/* One extension header. Options headers are filled with one PadN option (RFC 8200 4.2). */
struct ext {
	uint8_t type;		/* NH_HOPOPTS, NH_ROUTING, NH_DSTOPTS or NH_FRAGMENT */
	uint8_t units;		/* Hdr Ext Len: 8-byte units past the first 8 */
	uint8_t seg_left;	/* routing */
	uint16_t frag_off;	/* fragment: bytes, a multiple of 8 */
	bool frag_more;
	uint8_t frag_res;	/* fragment: the two reserved bits, and the reserved byte */
	uint32_t frag_id;
};

struct spec6 {
	enum mcr_link link;
	uint16_t ethertype;
	bool tag;		/* one in-band 802.1Q tag of tag_vid */
	uint16_t tag_vid;
	uint8_t version, tclass, hop_limit;
	uint32_t flow;
	struct in6_addr src, dst;
	struct ext ext[EXT_MAX];
	unsigned int n_ext;
	uint8_t proto;		/* the next header after the chain */
	int plen;		/* the payload length field; -1 for the bytes built */
	const uint8_t *body;	/* non-NULL: these bytes follow the chain instead of UDP */
	uint32_t body_len;
	uint16_t sport, dport;
	int udp_len;		/* -1 for the bytes built */
	bool csum_auto;		/* the right checksum (0 sent as ffff), else udp_csum as given */
	uint16_t udp_csum;
	uint32_t payload_len;
	uint32_t trailer;	/* link padding after the datagram */
	bool csum_ok;		/* the frame's claim that the kernel verified it */
};

struct built6 {
	uint8_t *buf;		/* exactly len bytes */
	uint32_t len;
	uint32_t l3;		/* offset of the IPv6 header */
	uint32_t ext_off[EXT_MAX];
	uint32_t l4;		/* offset of UDP (or the body) */
	uint32_t end;		/* just past the datagram */
	struct mcr_frame f;
};

static uint8_t payload_byte(uint32_t i)
{
	return (uint8_t)(i * 13 + 5);
}

static struct spec6 spec6_default(void)
{
	return (struct spec6){
		.link = MCR_LINK_ETHER,
		.ethertype = 0x86dd,
		.version = 6,
		.hop_limit = 64,
		.src = a6(SOURCE6),
		.dst = a6(GROUP6),
		.proto = NH_UDP,
		.plen = -1,
		.sport = SPORT,
		.dport = GROUP_PORT,
		.udp_len = -1,
		.csum_auto = true,
		.payload_len = PAYLOAD_LEN,
	};
}

static void add_ext(struct spec6 *s, struct ext e)
{
	ck_assert_uint_lt(s->n_ext, EXT_MAX);
	s->ext[s->n_ext++] = e;
}

static uint32_t ext_len(const struct ext *e)
{
	return e->type == NH_FRAGMENT ? FRAG_LEN : (e->units + 1u) * EXT_UNIT;
}

static struct built6 build6(const struct spec6 *s)
{
	struct built6 b = { 0 };
	uint32_t l2 = s->link == MCR_LINK_ETHER ? ETH_LEN + (s->tag ? TAG_LEN : 0) : 0;
	uint32_t chain = 0, body, at;
	uint8_t *ip, *p;

	for (unsigned int i = 0; i < s->n_ext; i++)
		chain += ext_len(&s->ext[i]);
	body = s->body ? s->body_len : UDP_LEN + s->payload_len;
	b.l3 = l2;
	b.l4 = l2 + IP6_LEN + chain;
	b.end = b.l4 + body;
	b.len = b.end + s->trailer;
	b.buf = calloc(1, b.len);
	ck_assert_ptr_nonnull(b.buf);
	if (s->link == MCR_LINK_ETHER) {
		/* RFC 2464: 33:33 and the group's low 32 bits; a locally administered source. */
		uint8_t macs[12] = { 0x33, 0x33, s->dst.s6_addr[12], s->dst.s6_addr[13],
				     s->dst.s6_addr[14], s->dst.s6_addr[15], 0x02, 0, 0, 0, 0, 1 };

		memcpy(b.buf, macs, sizeof(macs));
		p = b.buf + sizeof(macs);
		if (s->tag) {
			put16(p, 0x8100);
			put16(p + 2, s->tag_vid);
			p += TAG_LEN;
		}
		put16(p, s->ethertype);
	}
	ip = b.buf + l2;
	put32(ip, (uint32_t)s->version << 28 | (uint32_t)s->tclass << 20 | (s->flow & 0xfffff));
	put16(ip + 4, s->plen < 0 ? chain + body : (uint32_t)s->plen);
	ip[6] = s->n_ext ? s->ext[0].type : s->proto;
	ip[7] = s->hop_limit;
	memcpy(ip + 8, &s->src, 16);
	memcpy(ip + 24, &s->dst, 16);
	at = IP6_LEN;
	for (unsigned int i = 0; i < s->n_ext; i++) {
		const struct ext *e = &s->ext[i];
		uint32_t n = ext_len(e);

		p = ip + at;
		b.ext_off[i] = l2 + at;
		p[0] = i + 1 < s->n_ext ? s->ext[i + 1].type : s->proto;
		if (e->type == NH_FRAGMENT) {
			p[1] = e->frag_res;
			put16(p + 2, e->frag_off | (e->frag_res & 3u) << 1 | e->frag_more);
			put32(p + 4, e->frag_id);
		} else if (e->type == NH_ROUTING) {
			p[1] = e->units;
			p[2] = 253;	/* RFC 4727: for experiments */
			p[3] = e->seg_left;
			for (uint32_t k = 8; k < n; k++)
				p[k] = (uint8_t)(0xfd + k);	/* addresses: content not checked */
		} else {
			/*
			 * PadN over the rest, up to the 7 bytes of padding the kernel takes; past
			 * that RFC 4727's experimental option 0x1e, which a receiver skips.
			 */
			p[1] = e->units;
			p[2] = n > EXT_UNIT ? OPT_SKIP : 1;
			p[3] = (uint8_t)(n - 4);
		}
		at += n;
	}
	p = ip + at;
	if (s->body) {
		memcpy(p, s->body, s->body_len);
	} else {
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, s->udp_len < 0 ? UDP_LEN + s->payload_len : (uint32_t)s->udp_len);
		put16(p + 6, s->udp_csum);
		for (uint32_t i = 0; i < s->payload_len; i++)
			p[UDP_LEN + i] = payload_byte(i);
		if (s->csum_auto) {
			uint16_t c;

			put16(p + 6, 0);
			c = udp6_csum(ip + 8, ip + 24, p, UDP_LEN + s->payload_len);
			put16(p + 6, c ? c : 0xffff);	/* a sum of 0 goes as all ones */
		}
	}
	memset(b.buf + b.end, 0xee, s->trailer);
	b.f = (struct mcr_frame){ .data = b.buf, .caplen = b.len, .wirelen = b.len,
				  .link = s->link, .csum_ok = s->csum_ok };
	return b;
}

static struct mcr_match match6(void)
{
	struct mcr_match m = { .port = GROUP_PORT };

	m.group.family = AF_INET6;
	m.group.v6 = a6(GROUP6);
	m.source.family = AF_UNSPEC;
	return m;
}

static struct mcr_match match6_source(const char *src)
{
	struct mcr_match m = match6();

	m.source.family = AF_INET6;
	m.source.v6 = a6(src);
	return m;
}

static struct mcr_match match4(void)
{
	struct mcr_match m = { .port = GROUP_PORT };

	m.group.family = AF_INET;
	m.group.v4.s_addr = htonl(0xef000001);	/* 239.0.0.1 */
	m.source.family = AF_UNSPEC;
	return m;
}

struct outcome {
	enum mcr_verdict v;
	struct mcr_datagram d;
	long payload_off;	/* d.payload - the frame's first byte: relayed, or a fragment */
	uint8_t copy[64];	/* the first relayed bytes, read while the frame existed */
};

/*
 * parse_frame() on the first caplen bytes of b, copied into a buffer of exactly caplen bytes
 * so that ASan reports any read past the capture. A payload must lie inside it.
 */
static struct outcome run(const struct built6 *b, uint32_t caplen, uint32_t wirelen,
			  const struct mcr_match *m)
{
	struct outcome o = { .payload_off = -1 };
	struct mcr_frame f = b->f;
	uint8_t *copy;

	ck_assert_uint_le(caplen, b->len);
	copy = malloc(caplen ? caplen : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b->buf, caplen);
	f.data = copy;
	f.caplen = caplen;
	f.wirelen = wirelen;
	memset(&o.d, 0xa5, sizeof(o.d));
	o.v = parse_frame(&f, m, &o.d);
	ck_assert_msg((unsigned int)o.v < MCR_VERDICTS, "verdict %d out of range", o.v);
	if (o.v == MCR_RELAY || o.v == MCR_FRAGMENT) {
		uintptr_t start = (uintptr_t)copy, p = (uintptr_t)o.d.payload;

		ck_assert_msg(p >= start && p <= start + caplen && o.d.len <= start + caplen - p,
			      "payload outside the frame");
		o.payload_off = (long)(p - start);
		memcpy(o.copy, o.d.payload, o.d.len < sizeof(o.copy) ? o.d.len : sizeof(o.copy));
	}
	free(copy);
	return o;
}

static struct outcome outcome_with(const struct spec6 *s, const struct mcr_match *m)
{
	struct built6 b = build6(s);
	struct outcome o = run(&b, b.len, b.len, m);

	free(b.buf);
	return o;
}

static struct outcome outcome_of(const struct spec6 *s)
{
	struct mcr_match m = match6();

	return outcome_with(s, &m);
}

static void expect6(const struct spec6 *s, enum mcr_verdict want)
{
	struct outcome o = outcome_of(s);

	assert_verdict(o.v, want);
}

/* Relayed: the payload at payload_off, len bytes, the bytes the builder put there. */
static void assert_relay(const struct outcome *o, long payload_off, uint32_t len)
{
	assert_verdict(o->v, MCR_RELAY);
	ck_assert_int_eq(o->payload_off, payload_off);
	ck_assert_uint_eq(o->d.len, len);
	for (uint32_t i = 0; i < len && i < sizeof(o->copy); i++)
		ck_assert_uint_eq(o->copy[i], payload_byte(i));
}

static void assert_fragment(const struct outcome *o, long payload_off, uint32_t len,
			    uint32_t off, bool more, uint32_t id, uint8_t nh)
{
	assert_verdict(o->v, MCR_FRAGMENT);
	ck_assert_int_eq(o->payload_off, payload_off);
	ck_assert_uint_eq(o->d.len, len);
	ck_assert_uint_eq(o->d.frag_off, off);
	ck_assert_msg(o->d.frag_more == more, "frag_more %d, expected %d", o->d.frag_more, more);
	ck_assert_uint_eq(o->d.frag_id, id);
	ck_assert_uint_eq(o->d.frag_nh, nh);
}

static const struct ext HBH = { .type = NH_HOPOPTS };
static const struct ext DST = { .type = NH_DSTOPTS };
static const struct ext RT0 = { .type = NH_ROUTING, .units = 2 };	/* one address, done */
static const struct ext ATOMIC = { .type = NH_FRAGMENT, .frag_id = 0x01020304 };

/* ---------------------------------------------------------------------------------------- */
/* Frames: relayed                                                                           */

START_TEST(test_frame_valid)
{
	struct spec6 s = spec6_default();
	struct outcome o = outcome_of(&s);
	struct in6_addr src = a6(SOURCE6), grp = a6(GROUP6);

	assert_relay(&o, ETH_LEN + IP6_LEN + UDP_LEN, PAYLOAD_LEN);
	ck_assert_int_eq(o.d.src.family, AF_INET6);
	ck_assert_int_eq(o.d.dst.family, AF_INET6);
	ck_assert(!memcmp(&o.d.src.v6, &src, 16));
	ck_assert(!memcmp(&o.d.dst.v6, &grp, 16));
	ck_assert_uint_eq(o.d.sport, SPORT);
	ck_assert_uint_eq(o.d.dport, GROUP_PORT);
	ck_assert_uint_eq(o.d.dscp, 0);
}
END_TEST

/* An empty datagram: UDP length 8, nothing to relay but the datagram itself. */
START_TEST(test_frame_zero_payload)
{
	struct spec6 s = spec6_default();
	struct outcome o;

	s.payload_len = 0;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP6_LEN + UDP_LEN, 0);
}
END_TEST

/* RFC 2474 and 3168: the traffic class is DSCP (6 bits) then ECN (2); ECN is not DSCP. */
START_TEST(test_frame_dscp)
{
	struct spec6 s = spec6_default();

	for (unsigned int ecn = 0; ecn < 4; ecn++) {
		struct outcome o;

		s.tclass = (uint8_t)(_i << 2 | ecn);
		s.flow = 0xfffff;	/* a flow label next to it changes nothing */
		o = outcome_of(&s);
		assert_verdict(o.v, MCR_RELAY);
		ck_assert_uint_eq(o.d.dscp, (unsigned int)_i);
	}
}
END_TEST

/* No link layer: the IPv6 header first, known by its version. */
START_TEST(test_frame_link_none)
{
	struct spec6 s = spec6_default();
	struct outcome o;

	s.link = MCR_LINK_NONE;
	o = outcome_of(&s);
	assert_relay(&o, IP6_LEN + UDP_LEN, PAYLOAD_LEN);
	ck_assert_int_eq(o.d.src.family, AF_INET6);
}
END_TEST

/* Ethernet padding after the datagram: the payload length says where it ends. */
START_TEST(test_frame_padding)
{
	struct spec6 s = spec6_default();
	struct outcome o;

	s.trailer = 18;
	s.payload_len = 2;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP6_LEN + UDP_LEN, 2);
}
END_TEST

/* Capture layers that report a wire length below the capture: the capture is what counts. */
START_TEST(test_frame_wirelen_below_caplen)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	struct built6 b = build6(&s);
	struct outcome o = run(&b, b.len, b.len - 30, &m);

	assert_relay(&o, ETH_LEN + IP6_LEN + UDP_LEN, PAYLOAD_LEN);
	free(b.buf);
}
END_TEST

/* The largest datagram the payload length field allows, UDP header included. */
START_TEST(test_frame_max_payload)
{
	struct spec6 s = spec6_default();
	struct outcome o;

	s.payload_len = IPV6_MAX_PLEN - UDP_LEN;
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP6_LEN + UDP_LEN, IPV6_MAX_PLEN - UDP_LEN);
}
END_TEST

/* One in-band 802.1Q tag, and --vlan of its ID. */
START_TEST(test_frame_vlan)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	struct outcome o;

	s.tag = true;
	s.tag_vid = 100;
	m.vlan = 100;
	o = outcome_with(&s, &m);
	assert_relay(&o, ETH_LEN + TAG_LEN + IP6_LEN + UDP_LEN, PAYLOAD_LEN);
	m.vlan = 101;
	assert_verdict(outcome_with(&s, &m).v, MCR_DROP_VLAN);
	m.vlan = 0;
	assert_verdict(outcome_with(&s, &m).v, MCR_DROP_VLAN);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Extension headers                                                                         */

/*
 * Each options header alone, of each length its field allows up to 4 units; a routing header
 * of any length the kernel drops on a multicast destination (ipv6_rthdr_rcv()).
 */
START_TEST(test_ext_each)
{
	static const uint8_t types[] = { NH_HOPOPTS, NH_DSTOPTS, NH_ROUTING };

	for (size_t t = 0; t < sizeof(types); t++) {
		for (uint8_t units = 0; units <= 4; units++) {
			struct spec6 s = spec6_default();
			struct outcome o;

			add_ext(&s, (struct ext){ .type = types[t], .units = units });
			o = outcome_of(&s);
			if (types[t] == NH_ROUTING) {
				assert_verdict(o.v, MCR_DROP_MALFORMED);
				continue;
			}
			assert_relay(&o, ETH_LEN + IP6_LEN + (units + 1) * EXT_UNIT + UDP_LEN,
				     PAYLOAD_LEN);
		}
	}
}
END_TEST

/*
 * RFC 8200 4.1's recommended order, every header once but routing (which a multicast
 * destination never takes), the fragment header atomic; with the routing header, dropped.
 */
START_TEST(test_ext_full_chain)
{
	struct spec6 s = spec6_default();
	struct outcome o;

	add_ext(&s, HBH);
	add_ext(&s, DST);
	add_ext(&s, ATOMIC);
	add_ext(&s, (struct ext){ .type = NH_DSTOPTS, .units = 1 });
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP6_LEN + 8 + 8 + 8 + 16 + UDP_LEN, PAYLOAD_LEN);
	s.n_ext = 2;
	add_ext(&s, RT0);
	add_ext(&s, ATOMIC);
	add_ext(&s, (struct ext){ .type = NH_DSTOPTS, .units = 1 });
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* Up to 12 extension headers are followed (Linux's IP6_MAX_EXT_HDRS_CNT); a 13th is refused. */
START_TEST(test_ext_chain_limit)
{
	unsigned int n = (unsigned int)_i;

	for (int hbh_first = 0; hbh_first < 2; hbh_first++) {
		struct spec6 s = spec6_default();
		struct outcome o;

		for (unsigned int i = 0; i < n; i++)
			add_ext(&s, hbh_first && i == 0 ? HBH : DST);
		o = outcome_of(&s);
		if (n <= CHAIN_LIMIT)
			assert_relay(&o, ETH_LEN + IP6_LEN + n * EXT_UNIT + UDP_LEN, PAYLOAD_LEN);
		else
			assert_verdict(o.v, MCR_DROP_MALFORMED);
	}
}
END_TEST

/* RFC 8200 4.3: hop-by-hop options come first or not at all. */
START_TEST(test_ext_hbh_not_first)
{
	const struct ext before[] = { DST, RT0, ATOMIC, HBH };

	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		struct spec6 s = spec6_default();

		add_ext(&s, before[i]);
		add_ext(&s, HBH);
		expect6(&s, MCR_DROP_MALFORMED);
	}
}
END_TEST

/*
 * A routing header on a multicast destination, done with or not: ipv6_rthdr_rcv() drops it
 * before it looks at the segments left (asked of the kernel: it delivers neither).
 */
START_TEST(test_ext_routing_segments_left)
{
	struct spec6 s = spec6_default();
	struct ext rt = RT0;

	rt.seg_left = (uint8_t)_i;
	add_ext(&s, HBH);
	add_ext(&s, rt);
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/*
 * Options as ip6_parse_tlv() takes them, each case asked of the kernel (a joined socket on a
 * routable namespace): in a hop-by-hop or destination options header of 16 bytes, the 14
 * bytes after its first two. 0x1e: an unknown option to skip (action 00); 0x5e, 0x9e, 0xde:
 * unknown options whose action bits (01, 10, 11) say drop.
 */
struct opt_case {
	const char *what;
	uint8_t body[14];
	bool hbh, dst;		/* delivered in a hop-by-hop header, in a destination header */
};

static const struct opt_case opt_cases[] = {
	{ "skip 00", { 0x1e, 12 }, true, true },
	{ "drop 01", { 0x5e, 12 }, false, false },
	{ "drop 10", { 0x9e, 12 }, false, false },
	{ "drop 11", { 0xde, 12 }, false, false },
	{ "Router Alert, 2 bytes", { 5, 2, 0, 0, 0x1e, 8 }, true, true },
	{ "Router Alert, 3 bytes", { 5, 3, 0, 0, 0, 0x1e, 7 }, false, true },
	{ "Pad1 x7 then an option", { 0, 0, 0, 0, 0, 0, 0, 0x1e, 5 }, true, true },
	{ "Pad1 x8", { 0, 0, 0, 0, 0, 0, 0, 0, 0x1e, 4 }, false, false },
	{ "PadN of 7 then an option", { 1, 5, 0, 0, 0, 0, 0, 0x1e, 5 }, true, true },
	{ "PadN of 8", { 1, 6, 0, 0, 0, 0, 0, 0, 0x1e, 4 }, false, false },
	{ "PadN then Pad1: 8", { 1, 5, 0, 0, 0, 0, 0, 0, 0x1e, 4 }, false, false },
	{ "PadN not zero", { 1, 2, 0, 1, 0x1e, 8 }, false, false },
	{ "option past the header", { 0x1e, 13 }, false, false },
	{ "one byte left over", { 0x1e, 11, [13] = 0x1e }, false, false },
	{ "7 options", { 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0 }, true,
	  true },
	{ "jumbo payload", { 0xc2, 4, 0, 1, 0, 0, 1, 6 }, false, false },
};

#define N_OPT_CASES ((int)(sizeof(opt_cases) / sizeof(opt_cases[0])))

START_TEST(test_ext_options)
{
	const struct opt_case *c = &opt_cases[_i];

	for (int hbh = 0; hbh < 2; hbh++) {
		struct spec6 s = spec6_default();
		struct mcr_match m = match6();
		struct built6 b;
		enum mcr_verdict v;
		bool want;

		add_ext(&s, (struct ext){ .type = hbh ? NH_HOPOPTS : NH_DSTOPTS, .units = 1 });
		b = build6(&s);
		memcpy(b.buf + b.ext_off[0] + 2, c->body, sizeof(c->body));
		v = run(&b, b.len, b.len, &m).v;
		want = hbh ? c->hbh : c->dst;
		ck_assert_msg(v == (want ? MCR_RELAY : MCR_DROP_MALFORMED), "%s in %s: %s",
			      c->what, hbh ? "hop-by-hop" : "destination options", verdict_text(v));
		free(b.buf);
	}
}
END_TEST

/* Nine options in one header of 24 bytes, for each kind: more than the kernel's 8. */
START_TEST(test_ext_options_count)
{
	for (int hbh = 0; hbh < 2; hbh++) {
		for (unsigned int n = 8; n <= 9; n++) {
			struct spec6 s = spec6_default();
			struct mcr_match m = match6();
			struct built6 b;
			uint8_t *p;

			add_ext(&s, (struct ext){ .type = hbh ? NH_HOPOPTS : NH_DSTOPTS, .units = 2 });
			b = build6(&s);
			p = b.buf + b.ext_off[0] + 2;
			memset(p, 0, 22);
			for (unsigned int i = 0; i < n; i++)
				p[2 * i] = OPT_SKIP;	/* 2 bytes each, then Pad1 to the end */
			assert_verdict(run(&b, b.len, b.len, &m).v,
				       n <= 8 ? MCR_RELAY : MCR_DROP_MALFORMED);
			free(b.buf);
		}
	}
}
END_TEST

/* Not UDP, after the chain or instead of it: not the stream. */
START_TEST(test_ext_other_protocols)
{
	static const uint8_t protos[] = { NH_TCP, NH_ICMPV6, NH_NONE, NH_ESP, NH_AH,
					  NH_MOBILITY, 4, 41, 136, 255 };

	for (size_t i = 0; i < sizeof(protos); i++) {
		for (int with_hbh = 0; with_hbh < 2; with_hbh++) {
			struct spec6 s = spec6_default();

			if (with_hbh) {
				add_ext(&s, HBH);
				add_ext(&s, DST);
			}
			s.proto = protos[i];
			expect6(&s, MCR_DROP_UNMATCHED);
		}
	}
}
END_TEST

/* A header whose length runs past the payload length: malformed, never read past. */
START_TEST(test_ext_overrun)
{
	struct spec6 s = spec6_default();
	struct built6 b;
	struct mcr_match m = match6();
	uint32_t off;

	add_ext(&s, DST);
	b = build6(&s);
	off = b.ext_off[0];
	/* Claim 2048 bytes, then just one unit more than the datagram holds. */
	b.buf[off + 1] = 255;
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	b.buf[off + 1] = (uint8_t)((UDP_LEN + PAYLOAD_LEN) / EXT_UNIT + 1);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	/* Exactly to the end: no room for UDP. */
	b.buf[off + 1] = (uint8_t)((UDP_LEN + PAYLOAD_LEN) / EXT_UNIT);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

/* The payload length ends inside an extension header's first 8 bytes, or UDP's. */
START_TEST(test_ext_plen_short)
{
	for (int plen = 1; plen < EXT_UNIT + EXT_UNIT + UDP_LEN; plen++) {
		struct spec6 s = spec6_default();

		add_ext(&s, HBH);
		add_ext(&s, DST);
		s.plen = plen;
		expect6(&s, MCR_DROP_MALFORMED);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Lengths, versions, addresses                                                              */

/*
 * A payload length of 0 announces a jumbogram (RFC 2675). Without hop-by-hop options the kernel
 * trims the packet to its header: nothing left. With them it takes the frame whole as the packet
 * and delivers it (asked of the kernel), unless a jumbo payload option is there: no frame is
 * long enough for one to be right.
 */
START_TEST(test_frame_jumbo)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	struct built6 b;
	struct outcome o;

	s.plen = 0;
	expect6(&s, MCR_DROP_MALFORMED);
	add_ext(&s, HBH);
	o = outcome_of(&s);
	assert_relay(&o, ETH_LEN + IP6_LEN + EXT_UNIT + UDP_LEN, PAYLOAD_LEN);
	/* Jumbo payload (0xc2, 4 bytes at 4n + 2): 65536 bytes, then the frame's own length. */
	b = build6(&s);
	memcpy(b.buf + b.ext_off[0] + 2, "\xc2\x04\x00\x01\x00\x00", 6);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	put32(b.buf + b.ext_off[0] + 4, b.len - ETH_LEN - IP6_LEN);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
	/* And with a payload length, a jumbo payload option is refused too. */
	s.plen = -1;
	b = build6(&s);
	memcpy(b.buf + b.ext_off[0] + 2, "\xc2\x04\x00\x01\x00\x00", 6);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_MALFORMED);
	free(b.buf);
}
END_TEST

/* A payload length past the frame on the wire: malformed, whatever the capture. */
START_TEST(test_frame_plen_past_frame)
{
	static const int extra[] = { 1, 7, 8, 100 };
	struct spec6 s = spec6_default();

	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		s.plen = UDP_LEN + PAYLOAD_LEN + extra[i];
		expect6(&s, MCR_DROP_MALFORMED);
	}
	s.plen = IPV6_MAX_PLEN;
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* The IP version must be the ethertype's: 0x86dd carries version 6 only. */
START_TEST(test_frame_version)
{
	struct spec6 s = spec6_default();

	if (_i == 6)
		return;
	s.version = (uint8_t)_i;
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* A real IPv6 header behind ethertype 0x0800, for an IPv6 group: the version contradicts it. */
START_TEST(test_frame_v6_as_ipv4)
{
	struct spec6 s = spec6_default();

	s.ethertype = 0x0800;
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* A well-formed IPv4 UDP frame to 239.0.0.1:5000 against the IPv6 group, and back. */
START_TEST(test_frame_family_mismatch)
{
	uint8_t f4[ETH_LEN + IP4_LEN + UDP_LEN + 4] = { 0x01, 0x00, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 1,
							 0x08, 0x00 };
	uint8_t *ip = f4 + ETH_LEN, *udp = ip + IP4_LEN;
	struct mcr_frame f = { .data = f4, .caplen = sizeof(f4), .wirelen = sizeof(f4) };
	struct mcr_match m6 = match6(), m4 = match4();
	struct mcr_datagram d;
	struct spec6 s = spec6_default();
	uint16_t c;

	ip[0] = 0x45;
	put16(ip + 2, IP4_LEN + UDP_LEN + 4);
	ip[8] = 64;
	ip[9] = NH_UDP;
	put32(ip + 12, 0xc0000201);	/* 192.0.2.1 */
	put32(ip + 16, 0xef000001);	/* 239.0.0.1 */
	put16(ip + 10, (uint16_t)~sum16(ip, IP4_LEN, 0));
	put16(udp, SPORT);
	put16(udp + 2, GROUP_PORT);
	put16(udp + 4, UDP_LEN + 4);
	memcpy(udp + UDP_LEN, "abcd", 4);
	c = udp4_csum(ip + 12, ip + 16, udp, UDP_LEN + 4);
	put16(udp + 6, c ? c : 0xffff);
	/* The frame is good: the IPv4 group relays it. */
	assert_verdict(parse_frame(&f, &m4, &d), MCR_RELAY);
	assert_verdict(parse_frame(&f, &m6, &d), MCR_DROP_UNMATCHED);
	f.link = MCR_LINK_NONE;
	f.data = ip;
	f.caplen = f.wirelen = sizeof(f4) - ETH_LEN;
	assert_verdict(parse_frame(&f, &m4, &d), MCR_RELAY);
	assert_verdict(parse_frame(&f, &m6, &d), MCR_DROP_UNMATCHED);

	/* And an IPv6 frame, good for the IPv6 group, against the IPv4 one. */
	assert_verdict(outcome_with(&s, &m6).v, MCR_RELAY);
	assert_verdict(outcome_with(&s, &m4).v, MCR_DROP_UNMATCHED);
	s.link = MCR_LINK_NONE;
	assert_verdict(outcome_with(&s, &m6).v, MCR_RELAY);
	assert_verdict(outcome_with(&s, &m4).v, MCR_DROP_UNMATCHED);
}
END_TEST

/* MCR_LINK_NONE: the first nibble says the version; 6 goes to IPv6's checks. */
START_TEST(test_frame_link_none_version)
{
	struct spec6 s = spec6_default();
	struct outcome o;

	s.link = MCR_LINK_NONE;
	add_ext(&s, HBH);
	o = outcome_of(&s);
	assert_relay(&o, IP6_LEN + EXT_UNIT + UDP_LEN, PAYLOAD_LEN);
	s.plen = 1;	/* IPv6's own rules apply */
	expect6(&s, MCR_DROP_MALFORMED);
	s.plen = -1;
	s.version = 5;	/* neither: malformed, never relayed */
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/* Every byte of the group and of the source matters; the port too. */
START_TEST(test_frame_group_source_port)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6_source(SOURCE6);

	assert_verdict(outcome_with(&s, &m).v, MCR_RELAY);
	for (int i = 0; i < 16; i++) {
		s = spec6_default();
		s.dst.s6_addr[i] ^= 0x01;
		assert_verdict(outcome_of(&s).v, MCR_DROP_UNMATCHED);
		s = spec6_default();
		s.src.s6_addr[i] ^= 0x80;
		assert_verdict(outcome_with(&s, &m).v, MCR_DROP_UNMATCHED);
		assert_verdict(outcome_of(&s).v, MCR_RELAY);	/* any source without -s */
	}
	s = spec6_default();
	s.dport = GROUP_PORT + 1;
	expect6(&s, MCR_DROP_UNMATCHED);
	s.dport = GROUP_PORT - 1;
	add_ext(&s, HBH);	/* behind extension headers, just the same */
	add_ext(&s, DST);
	expect6(&s, MCR_DROP_UNMATCHED);
	/* The source port is anyone's. */
	s = spec6_default();
	s.sport = GROUP_PORT + 7;
	expect6(&s, MCR_RELAY);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* UDP                                                                                       */

/* RFC 8200 8.1: IPv6 receivers discard UDP with a zero checksum, verified or not. */
START_TEST(test_udp_csum_zero)
{
	struct spec6 s = spec6_default();

	s.csum_auto = false;
	s.udp_csum = 0;
	expect6(&s, MCR_DROP_CHECKSUM);
	s.csum_ok = true;	/* the kernel would not vouch for it, but even so */
	expect6(&s, MCR_DROP_CHECKSUM);
	add_ext(&s, HBH);
	expect6(&s, MCR_DROP_CHECKSUM);
}
END_TEST

/* A wrong checksum is a drop, unless the kernel says it verified the frame. */
START_TEST(test_udp_csum_bad)
{
	struct spec6 s = spec6_default();
	struct built6 b;
	struct mcr_match m = match6();
	uint16_t good;

	b = build6(&s);
	good = be16(b.buf + b.l4 + 6);
	for (int bit = 0; bit < 16; bit++) {
		uint16_t bad = good ^ (uint16_t)(1u << bit);

		if (!bad)
			continue;
		put16(b.buf + b.l4 + 6, bad);
		b.f.csum_ok = false;
		assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_CHECKSUM);
		b.f.csum_ok = true;
		assert_verdict(run(&b, b.len, b.len, &m).v, MCR_RELAY);
	}
	/* A payload byte changed under a right checksum. */
	put16(b.buf + b.l4 + 6, good);
	b.f.csum_ok = false;
	b.buf[b.l4 + UDP_LEN + 3] ^= 0x40;
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_CHECKSUM);
	free(b.buf);
}
END_TEST

/* The pseudo-header is IPv6's: source, destination, length, 17; IPv4's would not do. */
START_TEST(test_udp_csum_pseudo_header)
{
	struct spec6 s = spec6_default();
	struct built6 b;
	struct mcr_match m = match6();
	uint8_t *udp;
	uint16_t c;

	add_ext(&s, HBH);	/* the checksum covers UDP only, not the chain */
	add_ext(&s, DST);
	b = build6(&s);
	udp = b.buf + b.l4;
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_RELAY);
	/* The same datagram summed over an IPv4-style pseudo-header of the addresses' tails. */
	put16(udp + 6, 0);
	c = udp4_csum(b.buf + b.l3 + 20, b.buf + b.l3 + 36, udp, UDP_LEN + PAYLOAD_LEN);
	put16(udp + 6, c ? c : 0xffff);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_CHECKSUM);
	/* Over the payload length (chain included) instead of the UDP length. */
	put16(udp + 6, 0);
	{
		uint8_t pseudo[40];

		memcpy(pseudo, b.buf + b.l3 + 8, 32);
		put32(pseudo + 32, 16 + UDP_LEN + PAYLOAD_LEN);
		put32(pseudo + 36, NH_UDP);
		c = (uint16_t)~sum16(udp, UDP_LEN + PAYLOAD_LEN, sum16(pseudo, 40, 0));
	}
	put16(udp + 6, c ? c : 0xffff);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_CHECKSUM);
	free(b.buf);
}
END_TEST

/*
 * A datagram whose sum comes to 0: sent as ffff (RFC 768, kept by RFC 8200), which is right.
 * The last two payload bytes are chosen to make it so.
 */
START_TEST(test_udp_csum_all_ones)
{
	struct spec6 s = spec6_default();
	struct built6 b = build6(&s);
	struct mcr_match m = match6();
	uint8_t *udp = b.buf + b.l4, *last = udp + UDP_LEN + PAYLOAD_LEN - 2;
	uint16_t c;

	put16(udp + 6, 0);
	put16(last, 0);
	/* With the last word w, the checksum is ~(S + w); S + w = ffff makes it 0. */
	c = udp6_csum(b.buf + b.l3 + 8, b.buf + b.l3 + 24, udp, UDP_LEN + PAYLOAD_LEN);
	put16(last, c);
	ck_assert_uint_eq(udp6_csum(b.buf + b.l3 + 8, b.buf + b.l3 + 24, udp,
				    UDP_LEN + PAYLOAD_LEN), 0);
	put16(udp + 6, 0xffff);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_RELAY);
	put16(udp + 6, 0);	/* and the same sum sent as 0: no checksum, refused */
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_DROP_CHECKSUM);
	free(b.buf);
}
END_TEST

/* The UDP length must be what the IPv6 payload length leaves for it. */
START_TEST(test_udp_length)
{
	static const int lens[] = { 1, 7, UDP_LEN + PAYLOAD_LEN + 1, UDP_LEN + PAYLOAD_LEN + 8,
				    65535 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct spec6 s = spec6_default();

		s.udp_len = lens[i];
		expect6(&s, MCR_DROP_MALFORMED);
		add_ext(&s, DST);
		expect6(&s, MCR_DROP_MALFORMED);
	}
}
END_TEST

/*
 * __udp6_lib_rcv() trims to a UDP length short of the payload, and takes 0 for all of it
 * (asked of the kernel in tests/netns_oracle.sh). The checksum here is the kernel's claim.
 */
START_TEST(test_udp_length_short)
{
	static const int lens[] = { 0, UDP_LEN, UDP_LEN + 1, UDP_LEN + PAYLOAD_LEN - 1 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct spec6 s = spec6_default();
		uint32_t want = lens[i] ? (uint32_t)lens[i] - UDP_LEN : PAYLOAD_LEN;
		struct outcome o;

		s.udp_len = lens[i];
		s.csum_ok = true;
		o = outcome_of(&s);
		assert_relay(&o, ETH_LEN + IP6_LEN + UDP_LEN, want);
	}
}
END_TEST

/* ip6_rcv_core(): a multicast or loopback source; ::1 is fine from the loopback device. */
START_TEST(test_martian_source)
{
	static const char *const martian[] = { "ff0e::5", "ff02::1", "::1" };
	static const char *const fine[] = { "::", "::ffff:198.19.50.5", "fe80::5", "::2" };
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	struct built6 b;

	for (size_t i = 0; i < sizeof(martian) / sizeof(martian[0]); i++) {
		s.src = a6(martian[i]);
		expect6(&s, MCR_DROP_MARTIAN);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		s.src = a6(fine[i]);
		expect6(&s, MCR_RELAY);
	}
	s.src = a6("::1");
	b = build6(&s);
	b.f.loopback = true;
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_RELAY);
	free(b.buf);
}
END_TEST

/* -g refuses the scopes ip6_rcv_core() drops from the wire: reserved (0), interface-local (1). */
START_TEST(test_args_group_scope_refused)
{
	static const char *const groups[] = { "[ff01::1]:5000", "[ff11::1]:5000", "[ff31::1]:5000",
					      "[ff00::1]:5000", "[ff30::1]:5000" };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		ck_assert_int_eq(PARSE(&cfg, err, "-i", "eth0", "-g", groups[i], "-o",
				       "10.0.0.2:6000"),
				 MCR_PARSE_ERROR);
		ck_assert_msg(strstr(err, "scope"), "%s: %s", groups[i], err);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Truncation                                                                                */

/*
 * Captured short of what the headers say (the wire length whole): truncated at every byte,
 * never read past, whichever header the capture ends in.
 */
START_TEST(test_trunc_every_byte)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	struct built6 b;
	struct outcome o;

	s.link = _i ? MCR_LINK_NONE : MCR_LINK_ETHER;
	add_ext(&s, (struct ext){ .type = NH_HOPOPTS, .units = 1 });
	add_ext(&s, (struct ext){ .type = NH_DSTOPTS, .units = 2 });
	add_ext(&s, ATOMIC);
	add_ext(&s, DST);
	b = build6(&s);
	o = run(&b, b.len, b.len, &m);
	assert_relay(&o, b.l4 + UDP_LEN, PAYLOAD_LEN);
	for (uint32_t cap = 0; cap < b.len; cap++) {
		o = run(&b, cap, b.len, &m);
		ck_assert_msg(o.v == MCR_DROP_TRUNCATED, "caplen %u of %u: verdict %s", cap, b.len,
			      verdict_text(o.v));
	}
	free(b.buf);
}
END_TEST

/* The same for a fragment: its header, and the data the payload length promises. */
START_TEST(test_trunc_fragment)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	uint8_t body[48];
	struct built6 b;

	for (uint32_t i = 0; i < sizeof(body); i++)
		body[i] = payload_byte(i);
	add_ext(&s, HBH);
	add_ext(&s, (struct ext){ .type = NH_FRAGMENT, .frag_off = 1448, .frag_more = true,
				  .frag_id = 7 });
	s.body = body;
	s.body_len = sizeof(body);
	b = build6(&s);
	assert_verdict(run(&b, b.len, b.len, &m).v, MCR_FRAGMENT);
	for (uint32_t cap = 0; cap < b.len; cap++) {
		enum mcr_verdict v = run(&b, cap, b.len, &m).v;

		ck_assert_msg(v == MCR_DROP_TRUNCATED, "caplen %u of %u: verdict %s", cap, b.len,
			      verdict_text(v));
	}
	free(b.buf);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Fragments                                                                                 */

static uint8_t frag_body[65536];

/* A fragment of len bytes of frag_body at off; proto is the fragmentable part's first header. */
static struct spec6 spec_fragment(uint32_t off, uint32_t len, bool more, uint32_t id)
{
	struct spec6 s = spec6_default();

	for (uint32_t i = 0; i < len; i++)
		frag_body[i] = payload_byte(off + i);
	add_ext(&s, (struct ext){ .type = NH_FRAGMENT, .frag_off = (uint16_t)off,
				  .frag_more = more, .frag_id = id });
	s.body = frag_body;
	s.body_len = len;
	return s;
}

/* A second fragment header, after an atomic one or with it: ipv6_frag_rcv() drops it. */
START_TEST(test_ext_fragment_after_atomic)
{
	struct spec6 s = spec6_default();

	add_ext(&s, ATOMIC);
	expect6(&s, MCR_RELAY);
	add_ext(&s, ATOMIC);
	expect6(&s, MCR_DROP_MALFORMED);
	s.n_ext = 1;
	add_ext(&s, (struct ext){ .type = NH_FRAGMENT, .frag_more = true, .frag_id = 7 });
	s.ext[1].frag_off = 0;
	s.body = frag_body;
	s.body_len = 64;
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/*
 * RFC 8200 4.5 (RFC 7112): a first fragment must hold the headers through UDP's. The kernel
 * walks them by length bytes alone: one that starts past the fragment lets it by (asked of it).
 */
START_TEST(test_frag_first_holds_udp)
{
	static const struct {
		const char *what;
		uint8_t body[16];
		uint32_t len;
		bool taken;
	} cases[] = {
		{ "options then no UDP", { NH_UDP, 0, 1, 4 }, 8, false },
		{ "options then UDP", { NH_UDP, 0, 1, 4, 0, 0, 0, 0, 0x9c, 0x40, 0x13, 0x88 }, 16,
		  true },
		{ "24 bytes of options cut at 8", { NH_UDP, 2, 0x1e, 20 }, 8, false },
		{ "a second header past the end", { NH_DSTOPTS, 0, 1, 4 }, 8, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec6 s = spec_fragment(0, cases[i].len, true, 77);
		struct outcome o;

		memcpy(frag_body, cases[i].body, cases[i].len);
		s.proto = NH_DSTOPTS;
		o = outcome_of(&s);
		ck_assert_msg(o.v == (cases[i].taken ? MCR_FRAGMENT : MCR_DROP_MALFORMED), "%s: %s",
			      cases[i].what, verdict_text(o.v));
	}
}
END_TEST

/* RFC 6946: offset 0 without more fragments is the whole datagram, whatever the reserved bits. */
START_TEST(test_frag_atomic)
{
	for (uint8_t res = 0; res < 4; res++) {
		struct spec6 s = spec6_default();
		struct ext e = ATOMIC;
		struct outcome o;

		e.frag_res = res == 3 ? 0xff : res;
		add_ext(&s, e);
		o = outcome_of(&s);
		assert_relay(&o, ETH_LEN + IP6_LEN + FRAG_LEN + UDP_LEN, PAYLOAD_LEN);
		ck_assert_uint_eq(o.d.sport, SPORT);
	}
}
END_TEST

/* First, middle and last: the fields of each, the 32-bit identification whole. */
START_TEST(test_frag_fields)
{
	static const struct {
		uint32_t off, len;
		bool more;
		uint32_t id;
	} frags[] = {
		{ 0, 1448, true, 0xdeadbeef },
		{ 1448, 1448, true, 0x00012345 },
		{ 2896, 13, false, 0xffffffff },
		{ 8, 8, true, 0 },
		{ 65528, 7, false, 0x80000000 },	/* offset + length = 65535, the most */
	};

	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		struct spec6 s = spec_fragment(frags[i].off, frags[i].len, frags[i].more,
					       frags[i].id);
		struct in6_addr src = a6(SOURCE6), grp = a6(GROUP6);
		struct outcome o;

		s.tclass = 0xb9;	/* DSCP 46 (EF), ECN 01 */
		o = outcome_of(&s);
		assert_fragment(&o, ETH_LEN + IP6_LEN + FRAG_LEN, frags[i].len, frags[i].off,
				frags[i].more, frags[i].id, NH_UDP);
		ck_assert_int_eq(o.d.src.family, AF_INET6);
		ck_assert(!memcmp(&o.d.src.v6, &src, 16));
		ck_assert(!memcmp(&o.d.dst.v6, &grp, 16));
		ck_assert_uint_eq(o.d.dscp, 46);
		for (uint32_t k = 0; k < frags[i].len && k < sizeof(o.copy); k++)
			ck_assert_uint_eq(o.copy[k], payload_byte(frags[i].off + k));
	}
}
END_TEST

/* The header the fragmentable part starts with, and headers before the fragment header. */
START_TEST(test_frag_headers)
{
	struct spec6 s = spec_fragment(0, 64, true, 99);
	struct outcome o;

	s.proto = NH_DSTOPTS;
	frag_body[0] = NH_UDP;	/* 8 bytes of options, then UDP's header: all in this fragment */
	frag_body[1] = 0;
	o = outcome_of(&s);
	assert_fragment(&o, ETH_LEN + IP6_LEN + FRAG_LEN, 64, 0, true, 99, NH_DSTOPTS);

	s = spec_fragment(64, 32, false, 99);
	s.n_ext = 0;
	add_ext(&s, HBH);
	add_ext(&s, (struct ext){ .type = NH_DSTOPTS, .units = 2 });
	add_ext(&s, (struct ext){ .type = NH_FRAGMENT, .frag_off = 64, .frag_id = 99 });
	o = outcome_of(&s);
	assert_fragment(&o, ETH_LEN + IP6_LEN + 8 + 24 + FRAG_LEN, 32, 64, false, 99, NH_UDP);
	ck_assert_uint_eq(o.d.frag_hlen, 8 + 24);
	ck_assert_uint_eq(o.d.frag_chain, 3);

	/* A routing header before the fragment, done with or not: refused before reassembly. */
	s.ext[1] = RT0;
	expect6(&s, MCR_DROP_MALFORMED);
}
END_TEST

/*
 * RFC 8200 4.5: every fragment but the last carries a multiple of 8 bytes, or is dropped alone
 * (ip6_frag_queue()); an empty one goes on to reassembly, where it kills its datagram.
 */
START_TEST(test_frag_lengths)
{
	uint32_t len = (uint32_t)_i;

	for (int more = 0; more < 2; more++) {
		struct spec6 s = spec_fragment(1448, len, more, 5);
		struct outcome o = outcome_of(&s);

		if (more && len % 8)
			assert_verdict(o.v, MCR_DROP_MALFORMED);
		else
			assert_fragment(&o, ETH_LEN + IP6_LEN + FRAG_LEN, len, 1448, more, 5,
					NH_UDP);
	}
}
END_TEST

/* RFC 8200 4.5: offset plus length past 65535 makes a datagram no payload length can carry. */
START_TEST(test_frag_past_64k)
{
	static const struct {
		uint32_t off, len;
		bool more, ok;
	} cases[] = {
		{ 65528, 7, false, true },  { 65528, 8, false, false }, { 65528, 8, true, false },
		{ 65520, 15, false, true }, { 65520, 16, true, false }, { 65520, 16, false, false },
		{ 65520, 8, true, true },   { 32768, 32768, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec6 s = spec_fragment(cases[i].off, cases[i].len, cases[i].more, 1);

		expect6(&s, cases[i].ok ? MCR_FRAGMENT : MCR_DROP_MALFORMED);
	}
}
END_TEST

/* Fragments of another group, or from another source than -s: not the stream. */
START_TEST(test_frag_unmatched)
{
	struct spec6 s = spec_fragment(0, 64, true, 3);
	struct mcr_match m = match6_source(SOURCE6);

	assert_verdict(outcome_with(&s, &m).v, MCR_FRAGMENT);
	s.src.s6_addr[15] ^= 1;
	assert_verdict(outcome_with(&s, &m).v, MCR_DROP_UNMATCHED);
	s = spec_fragment(1448, 64, true, 3);
	s.dst.s6_addr[2] ^= 1;
	expect6(&s, MCR_DROP_UNMATCHED);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Reassembly of IPv6 fragments, each through parse_frame() first, as ring.c does           */

/* The fragmentable part of a datagram: optional headers, then UDP, its checksum right. */
struct part6 {
	uint8_t *buf;
	uint32_t len;
	uint8_t nh;		/* the header it starts with */
	uint32_t udp;		/* offset of the UDP header */
	struct in6_addr src, dst;
};

/* Headers of types[0..n), 8 bytes each (a routing header 24), then UDP of payload bytes. */
static struct part6 part_make(const uint8_t *types, unsigned int n, uint32_t payload,
			      uint16_t dport, uint32_t seed)
{
	struct part6 g = { .src = a6(SOURCE6), .dst = a6(GROUP6), .nh = n ? types[0] : NH_UDP };
	uint32_t at = 0;
	uint16_t c;

	for (unsigned int i = 0; i < n; i++)
		g.udp += types[i] == NH_ROUTING ? 24 : EXT_UNIT;
	g.len = g.udp + UDP_LEN + payload;
	g.buf = calloc(1, g.len);
	ck_assert_ptr_nonnull(g.buf);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = g.buf + at;

		p[0] = i + 1 < n ? types[i + 1] : NH_UDP;
		if (types[i] == NH_ROUTING) {
			p[1] = 2;
			p[2] = 253;
			at += 24;
		} else {
			p[2] = 1;	/* PadN */
			p[3] = EXT_UNIT - 4;
			at += EXT_UNIT;
		}
	}
	put16(g.buf + g.udp, SPORT);
	put16(g.buf + g.udp + 2, dport);
	put16(g.buf + g.udp + 4, UDP_LEN + payload);
	for (uint32_t i = 0; i < payload; i++)
		g.buf[g.udp + UDP_LEN + i] = filler(seed, i);
	c = udp6_csum(g.src.s6_addr, g.dst.s6_addr, g.buf + g.udp, UDP_LEN + payload);
	put16(g.buf + g.udp + 6, c ? c : 0xffff);
	return g;
}

static struct part6 udp_part(uint32_t payload, uint32_t seed)
{
	return part_make(NULL, 0, payload, GROUP_PORT, seed);
}

/* The checksum again, after a test changed the datagram's bytes. */
static void part_recsum(struct part6 *g)
{
	uint8_t *udp = g->buf + g->udp;
	uint16_t c;

	put16(udp + 6, 0);
	c = udp6_csum(g->src.s6_addr, g->dst.s6_addr, udp, g->len - g->udp);
	put16(udp + 6, c ? c : 0xffff);
}

/*
 * Bytes [off, off + len) of g as one IPv6 fragment frame, through parse_frame() (which must
 * call it a fragment), then reasm_add(). The frame is wiped and freed right after, as the ring
 * takes it back, so a rebuilt datagram that pointed into it would show.
 */
static enum mcr_reasm_result feed(struct mcr_reasm *t, const struct part6 *g, uint32_t off,
				  uint32_t len, bool more, uint32_t id, uint8_t tclass,
				  uint64_t now, struct mcr_datagram *out)
{
	struct spec6 s = spec6_default();
	struct mcr_match m = match6();
	struct mcr_datagram d;
	struct built6 b;
	enum mcr_verdict v;
	enum mcr_reasm_result r;

	s.src = g->src;
	s.dst = g->dst;
	s.tclass = tclass;
	s.proto = g->nh;
	add_ext(&s, (struct ext){ .type = NH_FRAGMENT, .frag_off = (uint16_t)off,
				  .frag_more = more, .frag_id = id });
	s.body = g->buf + off;
	s.body_len = len;
	b = build6(&s);
	memset(&d, 0xa5, sizeof(d));
	v = parse_frame(&b.f, &m, &d);
	ck_assert_msg(v == MCR_FRAGMENT, "fragment [%u, %u): verdict %s", off, off + len,
		      verdict_text(v));
	r = reasm_add(t, &d, &m, now, out);
	memset(b.buf, 0x5a, b.len);
	free(b.buf);
	return r;
}

static struct mcr_reasm *table(void)
{
	struct mcr_reasm *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	return t;
}

/* The rebuilt datagram is g's UDP payload, from g's addresses, with dscp. */
static void assert_rebuilt(const struct mcr_datagram *d, const struct part6 *g, uint8_t dscp)
{
	uint32_t payload = g->len - g->udp - UDP_LEN;

	ck_assert_uint_eq(d->len, payload);
	ck_assert_msg(!memcmp(d->payload, g->buf + g->udp + UDP_LEN, payload),
		      "rebuilt payload differs");
	ck_assert_int_eq(d->src.family, AF_INET6);
	ck_assert_int_eq(d->dst.family, AF_INET6);
	ck_assert(!memcmp(&d->src.v6, &g->src, 16));
	ck_assert(!memcmp(&d->dst.v6, &g->dst, 16));
	ck_assert_uint_eq(d->sport, SPORT);
	ck_assert_uint_eq(d->dport, GROUP_PORT);
	ck_assert_uint_eq(d->dscp, dscp);
}

/* k pieces of 1448 bytes (a 1500-byte MTU's worth after 40 + 8), the last what is left. */
static unsigned int pieces(uint32_t total, uint32_t *off, uint32_t *len)
{
	unsigned int k = 0;

	for (uint32_t at = 0; at < total; at += 1448, k++) {
		off[k] = at;
		len[k] = total - at < 1448 ? total - at : 1448;
	}
	return k;
}

START_TEST(test_reasm_in_order)
{
	struct mcr_reasm *t = table();
	struct part6 g = udp_part(4000, 1);
	uint32_t off[64], len[64];
	unsigned int k = pieces(g.len, off, len);
	struct mcr_datagram d;

	ck_assert_uint_eq(k, 3);
	for (unsigned int i = 0; i < k; i++) {
		enum mcr_reasm_result r = feed(t, &g, off[i], len[i], i + 1 < k, 0x10001,
					       0xb8, T0, &d);

		ck_assert_int_eq(r, i + 1 < k ? MCR_REASM_QUEUED : MCR_REASM_DONE);
	}
	assert_rebuilt(&d, &g, 46);
	ck_assert_uint_eq(t->reassembled, 1);
	ck_assert_uint_eq(t->invalid, 0);
	reasm_release(t);
	ck_assert(!reasm_pending(t));
	free(g.buf);
	free(t);
}
END_TEST

/* Reversed: the DSCP is the first fragment's, though it comes last. */
START_TEST(test_reasm_reverse)
{
	struct mcr_reasm *t = table();
	struct part6 g = udp_part(5000, 2);
	uint32_t off[64], len[64];
	unsigned int k = pieces(g.len, off, len);
	struct mcr_datagram d;

	for (unsigned int i = k; i-- > 0;) {
		enum mcr_reasm_result r = feed(t, &g, off[i], len[i], i + 1 < k, 77,
					       i ? 0 : 10 << 2, T0, &d);

		ck_assert_int_eq(r, i ? MCR_REASM_QUEUED : MCR_REASM_DONE);
	}
	assert_rebuilt(&d, &g, 10);
	free(g.buf);
	free(t);
}
END_TEST

/* RFC 8200 4.5: the fragmentable part may begin with destination options. */
START_TEST(test_reasm_fragmentable_headers)
{
	static const uint8_t dst[] = { NH_DSTOPTS };
	static const uint8_t dst_dst[] = { NH_DSTOPTS, NH_DSTOPTS };
	const struct {
		const uint8_t *types;
		unsigned int n;
	} sets[] = { { dst, 1 }, { dst_dst, 2 } };

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct mcr_reasm *t = table();
		struct part6 g = part_make(sets[i].types, sets[i].n, 2000, GROUP_PORT, 3);
		uint32_t off[64], len[64];
		unsigned int k = pieces(g.len, off, len);
		enum mcr_reasm_result r = MCR_REASM_QUEUED;
		struct mcr_datagram d;

		ck_assert_uint_eq(g.nh, sets[i].types[0]);
		for (unsigned int f = 0; f < k; f++)
			r = feed(t, &g, off[f], len[f], f + 1 < k, 5, 0, T0, &d);
		ck_assert_int_eq(r, MCR_REASM_DONE);
		assert_rebuilt(&d, &g, 0);
		free(g.buf);
		free(t);
	}
}
END_TEST

/* Headers in the fragmentable part that the kernel would refuse: the datagram is invalid. */
START_TEST(test_reasm_fragmentable_refused)
{
	static const uint8_t hbh[] = { NH_HOPOPTS };	/* hop-by-hop belongs in front */
	static const uint8_t rt[] = { NH_ROUTING };
	static const uint8_t tcp_like[] = { NH_DSTOPTS };

	for (int c = 0; c < 3; c++) {
		struct mcr_reasm *t = table();
		struct part6 g = part_make(c == 0 ? hbh : c == 1 ? rt : tcp_like, 1, 2000,
					   GROUP_PORT, 4);
		uint32_t off[64], len[64];
		unsigned int k = pieces(g.len, off, len);
		enum mcr_reasm_result r = MCR_REASM_QUEUED;
		struct mcr_datagram d;

		if (c == 2)
			g.buf[0] = NH_TCP;	/* after the options, not UDP */
		for (unsigned int f = 0; f < k; f++)
			r = feed(t, &g, off[f], len[f], f + 1 < k, 6, 0, T0, &d);
		ck_assert_msg(r == MCR_REASM_INVALID, "case %d: result %d", c, r);
		ck_assert_uint_eq(t->invalid, 1);
		ck_assert_uint_eq(t->reassembled, 0);
		free(g.buf);
		free(t);
	}
}
END_TEST

/*
 * Headers are counted over the whole chain, the fragment header too: 10 destination options
 * headers after it make 11 and are followed, 12 make 13 and are not.
 */
START_TEST(test_reasm_fragmentable_chain_limit)
{
	uint8_t types[CHAIN_LIMIT];

	memset(types, NH_DSTOPTS, sizeof(types));
	for (unsigned int n = CHAIN_LIMIT - 2; n <= CHAIN_LIMIT; n++) {
		struct mcr_reasm *t = table();
		struct part6 g = part_make(types, n, 3000, GROUP_PORT, 5);
		struct mcr_datagram d;
		enum mcr_reasm_result r;

		r = feed(t, &g, 0, 1448, true, 8, 0, T0, &d);
		ck_assert_int_eq(r, MCR_REASM_QUEUED);
		r = feed(t, &g, 1448, g.len - 1448, false, 8, 0, T0, &d);
		ck_assert_msg(r == (n + 1 <= CHAIN_LIMIT ? MCR_REASM_DONE : MCR_REASM_INVALID),
			      "%u headers: result %d", n, r);
		free(g.buf);
		free(t);
	}
}
END_TEST

/*
 * RFC 8200 4.5: the identification is 32 bits. Two datagrams whose IDs differ only above bit
 * 15, their fragments interleaved, are two datagrams.
 */
START_TEST(test_reasm_32bit_ids)
{
	struct mcr_reasm *t = table();
	struct part6 a = udp_part(3000, 10), b = udp_part(3000, 11);
	uint32_t off[64], len[64];
	unsigned int k = pieces(a.len, off, len);
	struct mcr_datagram da, db;
	enum mcr_reasm_result ra = MCR_REASM_QUEUED, rb = MCR_REASM_QUEUED;

	for (unsigned int f = 0; f < k; f++) {
		ra = feed(t, &a, off[f], len[f], f + 1 < k, 0x00011234, 0, T0, &da);
		rb = feed(t, &b, off[f], len[f], f + 1 < k, 0x00021234, 0, T0, &db);
	}
	ck_assert_int_eq(ra, MCR_REASM_DONE);
	ck_assert_int_eq(rb, MCR_REASM_DONE);
	assert_rebuilt(&da, &a, 0);
	assert_rebuilt(&db, &b, 0);
	ck_assert_uint_eq(t->reassembled, 2);
	free(a.buf);
	free(b.buf);
	free(t);
}
END_TEST

/* The same ID from two sources: two datagrams. */
START_TEST(test_reasm_keys)
{
	struct mcr_reasm *t = table();
	struct part6 a = udp_part(2000, 12), b = udp_part(2000, 13);
	struct mcr_datagram da, db;

	b.src = a6("fd00:1::6");
	part_recsum(&b);
	ck_assert_int_eq(feed(t, &a, 0, 1448, true, 42, 0, T0, &da), MCR_REASM_QUEUED);
	ck_assert_int_eq(feed(t, &b, 0, 1448, true, 42, 0, T0, &db), MCR_REASM_QUEUED);
	ck_assert_int_eq(feed(t, &a, 1448, a.len - 1448, false, 42, 0, T0, &da), MCR_REASM_DONE);
	ck_assert_int_eq(feed(t, &b, 1448, b.len - 1448, false, 42, 0, T0, &db), MCR_REASM_DONE);
	assert_rebuilt(&da, &a, 0);
	assert_rebuilt(&db, &b, 0);
	free(a.buf);
	free(b.buf);
	free(t);
}
END_TEST

/*
 * An IPv4 datagram with the same identification, in flight at once: the families keep them
 * apart. The IPv4 fragments are handed over as parse_frame() would describe them.
 */
START_TEST(test_reasm_v4_and_v6)
{
	struct mcr_reasm *t = table();
	struct part6 g = udp_part(2000, 14);
	uint8_t udp4[UDP_LEN + 2000];
	const uint8_t s4[4] = { 198, 19, 50, 5 }, d4[4] = { 239, 0, 0, 1 };
	struct mcr_datagram f4 = { 0 }, d6, d;
	uint16_t c;

	put16(udp4, SPORT);
	put16(udp4 + 2, GROUP_PORT);
	put16(udp4 + 4, sizeof(udp4));
	put16(udp4 + 6, 0);
	for (uint32_t i = 0; i < 2000; i++)
		udp4[UDP_LEN + i] = filler(99, i);
	c = udp4_csum(s4, d4, udp4, sizeof(udp4));
	put16(udp4 + 6, c ? c : 0xffff);
	f4.src.family = f4.dst.family = AF_INET;
	memcpy(&f4.src.v4, s4, 4);
	memcpy(&f4.dst.v4, d4, 4);
	f4.frag_id = 42;
	f4.frag_nh = NH_UDP;

	ck_assert_int_eq(feed(t, &g, 0, 1448, true, 42, 0, T0, &d6), MCR_REASM_QUEUED);
	f4.payload = udp4;
	f4.len = 1480;
	f4.frag_more = true;
	ck_assert_int_eq(reasm_add(t, &f4, &(struct mcr_match){ .port = GROUP_PORT }, T0, &d),
			 MCR_REASM_QUEUED);
	ck_assert_int_eq(feed(t, &g, 1448, g.len - 1448, false, 42, 0, T0, &d6), MCR_REASM_DONE);
	assert_rebuilt(&d6, &g, 0);
	f4.payload = udp4 + 1480;
	f4.len = sizeof(udp4) - 1480;
	f4.frag_off = 1480;
	f4.frag_more = false;
	ck_assert_int_eq(reasm_add(t, &f4, &(struct mcr_match){ .port = GROUP_PORT }, T0, &d),
			 MCR_REASM_DONE);
	ck_assert_int_eq(d.src.family, AF_INET);
	ck_assert_uint_eq(d.len, 2000);
	ck_assert(!memcmp(d.payload, udp4 + UDP_LEN, 2000));
	free(g.buf);
	free(t);
}
END_TEST

/* Rebuilt, the datagram must check out as IPv6 UDP: a zero checksum is none, so refused. */
START_TEST(test_reasm_checksum)
{
	for (int c = 0; c < 4; c++) {
		struct mcr_reasm *t = table();
		struct part6 g = udp_part(3000, 20 + (uint32_t)c);
		uint8_t *udp = g.buf + g.udp;
		struct mcr_datagram d;
		enum mcr_reasm_result r;

		if (c == 0)
			put16(udp + 6, 0);	/* zero */
		else if (c == 1)
			put16(udp + 6, be16(udp + 6) ^ 0x0100);	/* bad */
		else if (c == 2)
			udp[UDP_LEN + 2999] ^= 1;	/* a last byte changed in flight */
		ck_assert_int_eq(feed(t, &g, 0, 1448, true, 9, 0, T0, &d), MCR_REASM_QUEUED);
		ck_assert_int_eq(feed(t, &g, 1448, 1448, true, 9, 0, T0, &d), MCR_REASM_QUEUED);
		r = feed(t, &g, 2896, g.len - 2896, false, 9, 0, T0, &d);
		if (c == 3) {
			ck_assert_int_eq(r, MCR_REASM_DONE);	/* untouched: the control */
			ck_assert_uint_eq(t->invalid, 0);
		} else {
			ck_assert_msg(r == MCR_REASM_INVALID, "case %d: result %d", c, r);
			ck_assert_uint_eq(t->invalid, 1);
		}
		free(g.buf);
		free(t);
	}
}
END_TEST

/* Rebuilt, it must be to the port, and its UDP length the reassembled length. */
START_TEST(test_reasm_port_and_length)
{
	for (int c = 0; c < 3; c++) {
		struct mcr_reasm *t = table();
		struct part6 g = part_make(NULL, 0, 3000, c == 0 ? GROUP_PORT + 1 : GROUP_PORT, 30);
		struct mcr_datagram d;
		enum mcr_reasm_result r;

		if (c == 1) {
			put16(g.buf + g.udp + 4, g.len - 8);	/* shorter than the datagram */
			part_recsum(&g);
		} else if (c == 2) {
			put16(g.buf + g.udp + 4, g.len + 8);
			part_recsum(&g);
		}
		ck_assert_int_eq(feed(t, &g, 0, 1448, true, 11, 0, T0, &d), MCR_REASM_QUEUED);
		r = feed(t, &g, 1448, g.len - 1448, false, 11, 0, T0, &d);
		ck_assert_msg(r == MCR_REASM_INVALID, "case %d: result %d", c, r);
		free(g.buf);
		free(t);
	}
}
END_TEST

/* The largest IPv6 fragmentable part: 65535 bytes, the UDP length field's most. */
START_TEST(test_reasm_max)
{
	struct mcr_reasm *t = table();
	struct part6 g = udp_part(IPV6_MAX_PLEN - UDP_LEN, 40);
	uint32_t off[64], len[64];
	unsigned int k = pieces(g.len, off, len);
	enum mcr_reasm_result r = MCR_REASM_QUEUED;
	struct mcr_datagram d;

	ck_assert_uint_le(k, 64);
	for (unsigned int f = 0; f < k; f++)
		r = feed(t, &g, off[f], len[f], f + 1 < k, 0xfffffffe, 0, T0, &d);
	ck_assert_int_eq(r, MCR_REASM_DONE);
	assert_rebuilt(&d, &g, 0);
	free(g.buf);
	free(t);
}
END_TEST

/* RFC 5722: an overlap discards the datagram; an exact duplicate is dropped alone. */
START_TEST(test_reasm_overlap_duplicate)
{
	struct mcr_reasm *t = table();
	struct part6 g = udp_part(3000, 50);
	struct mcr_datagram d;

	ck_assert_int_eq(feed(t, &g, 0, 1448, true, 1, 0, T0, &d), MCR_REASM_QUEUED);
	ck_assert_int_eq(feed(t, &g, 0, 1448, true, 1, 0, T0, &d), MCR_REASM_DUPLICATE);
	ck_assert_int_eq(feed(t, &g, 1440, 1448, true, 1, 0, T0, &d), MCR_REASM_INVALID);
	ck_assert_uint_eq(t->invalid, 1);
	/* Sent again whole, with a new ID, it goes through. */
	ck_assert_int_eq(feed(t, &g, 0, 1448, true, 2, 0, T0, &d), MCR_REASM_QUEUED);
	ck_assert_int_eq(feed(t, &g, 1448, 1448, true, 2, 0, T0, &d), MCR_REASM_QUEUED);
	ck_assert_int_eq(feed(t, &g, 2896, g.len - 2896, false, 2, 0, T0, &d), MCR_REASM_DONE);
	assert_rebuilt(&d, &g, 0);
	free(g.buf);
	free(t);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Robustness                                                                                */

/*
 * Valid IPv6 frames (chains, fragments) with random bytes changed, cut at random lengths:
 * parse_frame() gives a verdict in range, and any payload lies inside the capture (run()
 * checks; ASan watches every read). A relayed one has its UDP length's worth of payload.
 */
START_TEST(test_robust_mutations)
{
	struct spec6 specs[4];
	struct built6 b[4];
	struct mcr_match m = match6();
	uint64_t x = MUTATION_SEED;
	uint8_t *orig[4];

	specs[0] = spec6_default();
	specs[1] = spec6_default();
	add_ext(&specs[1], HBH);
	add_ext(&specs[1], RT0);
	add_ext(&specs[1], DST);
	specs[2] = spec_fragment(0, 64, true, 1);
	specs[3] = spec6_default();
	specs[3].link = MCR_LINK_NONE;
	add_ext(&specs[3], ATOMIC);
	for (int i = 0; i < 4; i++) {
		b[i] = build6(&specs[i]);
		orig[i] = malloc(b[i].len);
		ck_assert_ptr_nonnull(orig[i]);
		memcpy(orig[i], b[i].buf, b[i].len);
	}
	for (int it = 0; it < MUTATIONS; it++) {
		int k = (int)(next_random(&x) % 4);
		unsigned int flips = 1 + (unsigned int)(next_random(&x) % 4);
		uint32_t cap, wire;
		struct outcome o;

		memcpy(b[k].buf, orig[k], b[k].len);
		for (unsigned int f = 0; f < flips; f++) {
			/* Mostly the headers: that is where the bounds are. */
			uint32_t at = (uint32_t)(next_random(&x) % (b[k].l4 + UDP_LEN < b[k].len ?
								    b[k].l4 + UDP_LEN : b[k].len));

			b[k].buf[at] = (uint8_t)next_random(&x);
		}
		cap = (uint32_t)(next_random(&x) % (b[k].len + 1));
		wire = next_random(&x) % 2 ? b[k].len : cap;
		b[k].f.csum_ok = next_random(&x) % 2;
		o = run(&b[k], cap, wire, &m);
		if (o.v == MCR_RELAY)
			ck_assert_uint_le(o.payload_off + o.d.len, cap);
	}
	for (int i = 0; i < 4; i++) {
		free(b[i].buf);
		free(orig[i]);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------- */

static Suite *args_suite(void)
{
	Suite *s = suite_create("IPv6 arguments");
	TCase *ok = tcase_create("accepted"), *bad = tcase_create("refused");

	tcase_add_loop_test(ok, test_args_group_forms, 0, N_GROUP_FORMS);
	tcase_add_test(ok, test_args_group_scopes);
	tcase_add_test(ok, test_args_group_scope_refused);
	tcase_add_test(ok, test_args_source_forms);
	tcase_add_test(ok, test_args_out_forms);
	tcase_add_test(ok, test_args_out_longest);
	tcase_add_test(ok, test_format_ip6);
	tcase_add_test(ok, test_ip_helpers6);
	tcase_add_loop_test(bad, test_args_group_refused, 0, N_BAD_GROUPS);
	tcase_add_loop_test(bad, test_args_source_refused, 0, N_BAD_SOURCES);
	tcase_add_test(bad, test_args_family_mismatch);
	tcase_add_loop_test(bad, test_args_out_refused, 0, N_BAD_OUTS);
	tcase_add_test(bad, test_args_out_duplicates);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	return s;
}

static Suite *frame_suite(void)
{
	Suite *s = suite_create("IPv6 parse_frame");
	TCase *ok = tcase_create("relayed"), *ext = tcase_create("extension headers");
	TCase *bad = tcase_create("dropped"), *udp = tcase_create("udp");
	TCase *trunc = tcase_create("truncated"), *frag = tcase_create("fragments");

	tcase_add_test(ok, test_udp6_csum_helper);
	tcase_add_test(ok, test_frame_valid);
	tcase_add_test(ok, test_frame_zero_payload);
	tcase_add_loop_test(ok, test_frame_dscp, 0, 64);
	tcase_add_test(ok, test_frame_link_none);
	tcase_add_test(ok, test_frame_padding);
	tcase_add_test(ok, test_frame_wirelen_below_caplen);
	tcase_add_test(ok, test_frame_max_payload);
	tcase_add_test(ok, test_frame_vlan);

	tcase_add_test(ext, test_ext_each);
	tcase_add_test(ext, test_ext_full_chain);
	tcase_add_loop_test(ext, test_ext_chain_limit, 0, CHAIN_LIMIT + 4);
	tcase_add_test(ext, test_ext_hbh_not_first);
	tcase_add_loop_test(ext, test_ext_routing_segments_left, 0, 256);
	tcase_add_loop_test(ext, test_ext_options, 0, N_OPT_CASES);
	tcase_add_test(ext, test_ext_options_count);
	tcase_add_test(ext, test_ext_fragment_after_atomic);
	tcase_add_test(ext, test_frag_first_holds_udp);
	tcase_add_test(ext, test_ext_other_protocols);
	tcase_add_test(ext, test_ext_overrun);
	tcase_add_test(ext, test_ext_plen_short);

	tcase_add_test(bad, test_frame_jumbo);
	tcase_add_test(bad, test_frame_plen_past_frame);
	tcase_add_loop_test(bad, test_frame_version, 0, 16);
	tcase_add_test(bad, test_frame_v6_as_ipv4);
	tcase_add_test(bad, test_frame_family_mismatch);
	tcase_add_test(bad, test_frame_link_none_version);
	tcase_add_test(bad, test_frame_group_source_port);

	tcase_add_test(udp, test_udp_csum_zero);
	tcase_add_test(udp, test_udp_csum_bad);
	tcase_add_test(udp, test_udp_csum_pseudo_header);
	tcase_add_test(udp, test_udp_csum_all_ones);
	tcase_add_test(udp, test_udp_length);
	tcase_add_test(udp, test_udp_length_short);
	tcase_add_test(udp, test_martian_source);

	tcase_add_loop_test(trunc, test_trunc_every_byte, 0, 2);
	tcase_add_test(trunc, test_trunc_fragment);

	tcase_add_test(frag, test_frag_atomic);
	tcase_add_test(frag, test_frag_fields);
	tcase_add_test(frag, test_frag_headers);
	tcase_add_loop_test(frag, test_frag_lengths, 0, 33);
	tcase_add_test(frag, test_frag_past_64k);
	tcase_add_test(frag, test_frag_unmatched);

	suite_add_tcase(s, ok);
	suite_add_tcase(s, ext);
	suite_add_tcase(s, bad);
	suite_add_tcase(s, udp);
	suite_add_tcase(s, trunc);
	suite_add_tcase(s, frag);
	return s;
}

static Suite *reasm_suite(void)
{
	Suite *s = suite_create("IPv6 reassembly");
	TCase *tc = tcase_create("reassembly");

	tcase_add_test(tc, test_reasm_in_order);
	tcase_add_test(tc, test_reasm_reverse);
	tcase_add_test(tc, test_reasm_fragmentable_headers);
	tcase_add_test(tc, test_reasm_fragmentable_refused);
	tcase_add_test(tc, test_reasm_fragmentable_chain_limit);
	tcase_add_test(tc, test_reasm_32bit_ids);
	tcase_add_test(tc, test_reasm_keys);
	tcase_add_test(tc, test_reasm_v4_and_v6);
	tcase_add_test(tc, test_reasm_checksum);
	tcase_add_test(tc, test_reasm_port_and_length);
	tcase_add_test(tc, test_reasm_max);
	tcase_add_test(tc, test_reasm_overlap_duplicate);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *robust_suite(void)
{
	Suite *s = suite_create("IPv6 robustness");
	TCase *tc = tcase_create("robustness");

	tcase_set_timeout(tc, 300);	/* seconds: under ASan on a slow box */
	tcase_add_test(tc, test_robust_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(args_suite());

	srunner_add_suite(sr, frame_suite());
	srunner_add_suite(sr, reasm_suite());
	srunner_add_suite(sr, robust_suite());
	return run_suites(sr, "check_ipv6");
}

// SPDX-License-Identifier: MIT
/*
 * inject6 - craft IPv6 Ethernet frames, good and bad, and put them on the wire with an
 * AF_PACKET socket: the extension header chain (RFC 8200 section 4), UDP checksums, lengths
 * and fragments, as a real link can deliver them to the relay's parser. Payloads follow
 * payload.h, so whatever gets relayed can be checked by the receiver.
 *
 * Every header is first made valid (the bytes a kernel would send), then only the field the
 * case is about is bent. The fragment identification is 32 bits (RFC 8200 section 4.5):
 * ((seq + 1) << 16) | 0x1234, so the IDs of different datagrams differ only above bit 16.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "payload.h"
#include "addr.h"
#include "frame.h"

#define MAX_COUNT 1000000
#define DEFAULT_MAX_S 30
#define MAX_MAX_S 3600
#define DEFAULT_LEN 64			/* payload bytes */
#define MAX_LEN 65527			/* payload bytes: UDP and these fill 65535, IPv6 fragmentable most */
#define FRAME_MAX (ETH_HLEN + 40 + 65535 + 64)
#define DEFAULT_SRC "fd00:1::5"
#define DEFAULT_GROUP "[ff3e::1234]:5000"
#define HOP_LIMIT 8
#define IP6_HLEN 40
#define EXT_UNIT 8			/* bytes: extension header lengths count these */
#define FRAG_HLEN 8
#define FRAG_ID_LOW 0x1234		/* the low 16 bits of every fragment ID */
#define ROUTING_TYPE 253		/* RFC 4727: for experiments */
#define ROUTING_UNITS 2			/* 24 bytes: the fixed part and one address */
#define CHAIN_LONG 9			/* headers in "chain9": one past what mcr once followed */
#define CHAIN_OK 8
#define CHAIN_KERNEL 12			/* "chain12": Linux's IP6_MAX_EXT_HDRS_CNT */
#define OVERRUN_UNITS 255		/* "ext-overrun": claims 2048 bytes */
#define PLEN_LONG_EXTRA 40		/* bytes the payload length overstates for "plen-long" */
#define UDPLEN_LONG_EXTRA 16
#define DEFAULT_FRAGS 3			/* fragments per datagram, -k */
#define MAX_FRAGS 64
#define OVERLAP_BYTES 8			/* "frags-overlap": how far back the second one starts */
#define FRAG_PAST_OFFSET 65528		/* "frag-past": bytes; with 16 more, past 65535 */
#define ODD_CUT 3			/* "frag-odd": bytes off a multiple of 8 */
#define EXT_MAX 16

#define NH_HOPOPTS 0
#define NH_TCP 6
#define NH_UDP 17
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_DSTOPTS 60

enum inject_case {
	C_VALID, C_HBH, C_DSTOPTS, C_ROUTING_DONE, C_ROUTING_LEFT, C_HBH_LATE, C_CHAIN8, C_CHAIN9,
	C_EXT_OVERRUN, C_ATOMIC, C_CSUM_ZERO, C_CSUM_BAD, C_PLEN_LONG, C_PLEN_ZERO,
	C_UDPLEN_LONG, C_UDPLEN_SHORT, C_VERSION, C_TCP, C_HBH_TCP, C_HBH_OTHER_PORT,
	C_OTHER_PORT, C_OTHER_GROUP, C_OTHER_SOURCE, C_FRAG_ODD, C_FRAG_PAST, C_FRAG_EMPTY,
	C_FRAGS, C_FRAGS_DSTOPTS, C_FRAGS_HBH, C_FRAGS_OVERLAP, C_FRAGS_INTERLEAVE,
	C_OPT_SKIP, C_OPT_DROP, C_HBH_OPT_DROP, C_HBH_RA, C_HBH_RA_LONG, C_PAD_LONG, C_PADN_DIRTY,
	C_OPTS8, C_OPTS9, C_JUMBO_OPT, C_PLEN0_HBH, C_ATOMIC2, C_CHAIN12, C_CHAIN13,
	C_FRAGS_NO_UDP, C_FRAGS_ROUTING, C_FRAGS_DUP_INSIDE, C_FRAGS_SPAN, C_FRAGS_EMPTY,
	C_FRAGS_ECN, C_FRAGS_UNFRAG_MAX,
	C_CASES
};

static const char *const case_name[C_CASES] = {
	[C_VALID] = "valid",
	[C_HBH] = "hbh",
	[C_DSTOPTS] = "dstopts",
	[C_ROUTING_DONE] = "routing-done",
	[C_ROUTING_LEFT] = "routing-left",
	[C_HBH_LATE] = "hbh-late",
	[C_CHAIN8] = "chain8",
	[C_CHAIN9] = "chain9",
	[C_EXT_OVERRUN] = "ext-overrun",
	[C_ATOMIC] = "atomic",
	[C_CSUM_ZERO] = "csum-zero",
	[C_CSUM_BAD] = "csum-bad",
	[C_PLEN_LONG] = "plen-long",
	[C_PLEN_ZERO] = "plen-zero",
	[C_UDPLEN_LONG] = "udplen-long",
	[C_UDPLEN_SHORT] = "udplen-short",
	[C_VERSION] = "version",
	[C_TCP] = "tcp",
	[C_HBH_TCP] = "hbh-tcp",
	[C_HBH_OTHER_PORT] = "hbh-other-port",
	[C_OTHER_PORT] = "other-port",
	[C_OTHER_GROUP] = "other-group",
	[C_OTHER_SOURCE] = "other-source",
	[C_FRAG_ODD] = "frag-odd",
	[C_FRAG_PAST] = "frag-past",
	[C_FRAG_EMPTY] = "frag-empty",
	[C_FRAGS] = "frags",
	[C_FRAGS_DSTOPTS] = "frags-dstopts",
	[C_FRAGS_HBH] = "frags-hbh",
	[C_FRAGS_OVERLAP] = "frags-overlap",
	[C_FRAGS_INTERLEAVE] = "frags-interleave",
	[C_OPT_SKIP] = "opt-skip",
	[C_OPT_DROP] = "opt-drop",
	[C_HBH_OPT_DROP] = "hbh-opt-drop",
	[C_HBH_RA] = "hbh-ra",
	[C_HBH_RA_LONG] = "hbh-ra-long",
	[C_PAD_LONG] = "pad-long",
	[C_PADN_DIRTY] = "padn-dirty",
	[C_OPTS8] = "opts8",
	[C_OPTS9] = "opts9",
	[C_JUMBO_OPT] = "jumbo-opt",
	[C_PLEN0_HBH] = "plen0-hbh",
	[C_ATOMIC2] = "atomic2",
	[C_CHAIN12] = "chain12",
	[C_CHAIN13] = "chain13",
	[C_FRAGS_NO_UDP] = "frags-no-udp",
	[C_FRAGS_ROUTING] = "frags-routing",
	[C_FRAGS_DUP_INSIDE] = "frags-dup-inside",
	[C_FRAGS_SPAN] = "frags-span",
	[C_FRAGS_EMPTY] = "frags-empty",
	[C_FRAGS_ECN] = "frags-ecn",
	[C_FRAGS_UNFRAG_MAX] = "frags-unfrag-max",
};

/*
 * The options of the first options header of a case, as ip6_parse_tlv() would read them: a
 * header of (units + 1) * 8 bytes, these bytes after its first two. 0x1e is RFC 4727's
 * experimental type with action bits 00 (skip); 0x5e and 0xde say 01 and 11 (drop).
 */
static const struct {
	enum inject_case c;
	uint8_t units;
	uint8_t body[22];
} case_opts[] = {
	{ C_OPT_SKIP, 1, { 0x1e, 12 } },
	{ C_OPT_DROP, 1, { 0x5e, 12 } },
	{ C_HBH_OPT_DROP, 1, { 0xde, 12 } },
	{ C_HBH_RA, 1, { 5, 2, 0, 0, 0x1e, 8 } },
	{ C_HBH_RA_LONG, 1, { 5, 3, 0, 0, 0, 0x1e, 7 } },
	{ C_PAD_LONG, 1, { 1, 6, 0, 0, 0, 0, 0, 0, 0x1e, 4 } },
	{ C_PADN_DIRTY, 1, { 1, 2, 0, 7, 0x1e, 8 } },
	{ C_OPTS8, 2, { 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0 } },
	{ C_OPTS9, 2, { 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0, 0x1e, 0,
			0x1e, 0 } },
	{ C_JUMBO_OPT, 1, { 0xc2, 4, 0, 1, 0, 0, 0x1e, 6 } },
};

struct inject {
	struct wire wire;
	struct in6_addr src, group;
	uint16_t port;			/* host byte order */
	uint32_t len, stream;
	uint64_t first_seq;
	unsigned int frags;		/* -k */
	bool dst_mac_set;		/* -M: every frame to this MAC, not the group's */
	uint8_t dst_mac[ETH_ALEN];
	int32_t udp_len;		/* -U: the plain cases' UDP length field, -1 for none */
};

/* One unfragmented frame's recipe: a valid datagram and what the case bends. */
struct plan {
	uint8_t ext[EXT_MAX];		/* extension headers in order, after the fixed header */
	unsigned int n_ext;
	uint8_t proto;			/* what follows the chain */
	uint8_t version;
	uint8_t seg_left;		/* of a routing header */
	uint8_t overrun;		/* nonzero: the first header claims this length */
	struct in6_addr src, dst;
	uint16_t dport;
	int32_t plen;			/* payload length field, -1 for the true one */
	int32_t udp_len;		/* UDP length field, -1 for the true one */
	bool csum_zero, csum_bad;
	const uint8_t *opts;		/* the first options header's body, or NULL for PadN */
	uint8_t opts_units;
};

static uint8_t frame[FRAME_MAX];
static uint8_t part[2][65536];		/* fragmentable parts of datagrams, to be cut */

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: inject6 -I IFACE -c CASE [-n N] [-S SRC6] [-g [GROUP6]:PORT] [-l LEN]\n"
		"               [-s STREAM_ID] [-q FIRST_SEQ] [-k FRAGMENTS] [-M DST_MAC]\n"
		"               [-U UDP_LEN]\n"
		"       inject6 -c list\n");
	return code;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, (uint16_t)v);
}

/*
 * RFC 8200 section 8.1: over source, destination, the 32-bit upper-layer length and next
 * header 17, then the UDP bytes. A sum of 0 goes out as all ones; 0 means none, never valid.
 */
static uint16_t udp6_csum(const struct in6_addr *src, const struct in6_addr *dst,
			  const uint8_t *udp, uint32_t len)
{
	uint64_t sum = csum_add(0, src->s6_addr, 16);
	uint16_t c;

	sum = csum_add(sum, dst->s6_addr, 16);
	sum += len + NH_UDP;
	c = csum_fold(csum_add(sum, udp, len));
	return c ? c : 0xffff;
}

/* Ethernet to the group's MAC (RFC 2464: 33:33 and its low 32 bits), from ours. */
static void put_eth(const struct inject *in, const struct in6_addr *dst)
{
	frame[0] = frame[1] = 0x33;
	memcpy(frame + 2, dst->s6_addr + 12, 4);
	if (in->dst_mac_set)
		memcpy(frame, in->dst_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, in->wire.mac, ETH_ALEN);
	put_be16(frame + 12, ETHERTYPE_IPV6);
}

static void put_ip6(uint8_t *ip, uint8_t version, uint16_t plen, uint8_t nh,
		    const struct in6_addr *src, const struct in6_addr *dst)
{
	memset(ip, 0, IP6_HLEN);
	ip[0] = (uint8_t)(version << 4);
	put_be16(ip + 4, plen);
	ip[6] = nh;
	ip[7] = HOP_LIMIT;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

/* Options header (hop-by-hop or destination): 8 bytes, one PadN option filling it. */
static uint32_t put_opts(uint8_t *p, uint8_t nh)
{
	memset(p, 0, EXT_UNIT);
	p[0] = nh;
	p[1] = 0;
	p[2] = 1;			/* PadN */
	p[3] = EXT_UNIT - 4;
	return EXT_UNIT;
}

/* A routing header of one address (type 253, RFC 4727), with segments left as given. */
static uint32_t put_routing(uint8_t *p, uint8_t nh, uint8_t seg_left)
{
	uint32_t len = (ROUTING_UNITS + 1) * EXT_UNIT;

	memset(p, 0, len);
	p[0] = nh;
	p[1] = ROUTING_UNITS;
	p[2] = ROUTING_TYPE;
	p[3] = seg_left;
	inet_pton(AF_INET6, "fd00:1::7", p + 8);
	return len;
}

static uint32_t put_frag(uint8_t *p, uint8_t nh, uint32_t off, bool more, uint32_t id)
{
	p[0] = nh;
	p[1] = 0;
	put_be16(p + 2, (uint16_t)(off | more));	/* the offset's low 3 bits are 0 */
	put_be32(p + 4, id);
	return FRAG_HLEN;
}

/* The extension headers of plan p at q, chained; returns their bytes. */
static uint32_t put_chain(const struct plan *p, uint8_t *q)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < p->n_ext; i++) {
		uint8_t nh = i + 1 < p->n_ext ? p->ext[i + 1] : p->proto;

		switch (p->ext[i]) {
		case NH_ROUTING:
			n += put_routing(q + n, nh, p->seg_left);
			break;
		case NH_FRAGMENT:
			n += put_frag(q + n, nh, 0, false, 0);	/* atomic: RFC 6946 */
			break;
		default:
			if (p->opts && n == 0) {
				memset(q, 0, (p->opts_units + 1u) * EXT_UNIT);
				q[0] = nh;
				q[1] = p->opts_units;
				memcpy(q + 2, p->opts, (p->opts_units + 1u) * EXT_UNIT - 2);
				n += (p->opts_units + 1u) * EXT_UNIT;
			} else {
				n += put_opts(q + n, nh);
			}
		}
	}
	if (p->overrun)
		q[1] = p->overrun;
	return n;
}

static uint32_t frag_id(uint64_t seq)
{
	return (uint32_t)((seq + 1) << 16 | FRAG_ID_LOW);
}

static void plan_case(const struct inject *in, enum inject_case c, struct plan *p)
{
	*p = (struct plan){
		.proto = NH_UDP, .version = 6, .src = in->src, .dst = in->group,
		.dport = in->port, .plen = -1, .udp_len = -1,
	};
	switch (c) {
	case C_HBH:
		p->ext[p->n_ext++] = NH_HOPOPTS;
		break;
	case C_DSTOPTS:
		p->ext[p->n_ext++] = NH_DSTOPTS;
		break;
	case C_ROUTING_LEFT:
		p->seg_left = 1;
		/* fall through */
	case C_ROUTING_DONE:
		p->ext[p->n_ext++] = NH_ROUTING;
		break;
	case C_HBH_LATE:
		p->ext[p->n_ext++] = NH_DSTOPTS;
		p->ext[p->n_ext++] = NH_HOPOPTS;
		break;
	case C_CHAIN8:
	case C_CHAIN9:
		while (p->n_ext < (c == C_CHAIN8 ? CHAIN_OK : CHAIN_LONG))
			p->ext[p->n_ext++] = NH_DSTOPTS;
		break;
	case C_EXT_OVERRUN:
		p->ext[p->n_ext++] = NH_DSTOPTS;
		p->overrun = OVERRUN_UNITS;
		break;
	case C_ATOMIC:
		p->ext[p->n_ext++] = NH_FRAGMENT;
		break;
	case C_CSUM_ZERO:
		p->csum_zero = true;
		break;
	case C_CSUM_BAD:
		p->csum_bad = true;
		break;
	case C_PLEN_LONG:
		p->plen = UDP_HLEN + (int32_t)in->len + PLEN_LONG_EXTRA;
		break;
	case C_PLEN_ZERO:
		p->plen = 0;
		break;
	case C_UDPLEN_LONG:
		p->udp_len = UDP_HLEN + (int32_t)in->len + UDPLEN_LONG_EXTRA;
		break;
	case C_UDPLEN_SHORT:
		p->udp_len = UDP_HLEN + (int32_t)in->len / 2;
		break;
	case C_VERSION:
		p->version = 4;
		break;
	case C_HBH_TCP:
		p->ext[p->n_ext++] = NH_HOPOPTS;
		/* fall through */
	case C_TCP:
		p->proto = NH_TCP;
		break;
	case C_HBH_OTHER_PORT:
		p->ext[p->n_ext++] = NH_HOPOPTS;
		/* fall through */
	case C_OTHER_PORT:
		p->dport = in->port + 1;
		break;
	case C_OTHER_GROUP:
		p->dst.s6_addr[15]++;
		break;
	case C_OTHER_SOURCE:
		p->src.s6_addr[15]++;
		break;
	case C_PLEN0_HBH:
		p->ext[p->n_ext++] = NH_HOPOPTS;
		p->plen = 0;
		break;
	case C_ATOMIC2:
		p->ext[p->n_ext++] = NH_FRAGMENT;
		p->ext[p->n_ext++] = NH_FRAGMENT;
		break;
	case C_CHAIN12:
	case C_CHAIN13:
		while (p->n_ext < (c == C_CHAIN12 ? CHAIN_KERNEL : CHAIN_KERNEL + 1))
			p->ext[p->n_ext++] = NH_DSTOPTS;
		break;
	default:
		break;
	}
	if (in->udp_len >= 0)
		p->udp_len = in->udp_len;
	for (size_t i = 0; i < sizeof(case_opts) / sizeof(case_opts[0]); i++) {
		if (case_opts[i].c != c)
			continue;
		p->ext[p->n_ext++] = c == C_HBH_OPT_DROP || c == C_HBH_RA || c == C_HBH_RA_LONG ||
				     c == C_JUMBO_OPT ? NH_HOPOPTS : NH_DSTOPTS;
		p->opts = case_opts[i].body;
		p->opts_units = case_opts[i].units;
	}
}

/* The whole frame of plan p for sequence number seq; returns its length. */
static size_t build_plan(const struct inject *in, const struct plan *p, uint64_t seq)
{
	uint8_t *ip = frame + ETH_HLEN, *udp;
	uint32_t chain = put_chain(p, ip + IP6_HLEN);
	uint32_t udp_true = UDP_HLEN + in->len, plen = chain + udp_true;
	uint32_t udp_len = p->udp_len >= 0 ? (uint32_t)p->udp_len : udp_true;
	uint16_t csum;

	put_eth(in, &p->dst);
	put_ip6(ip, p->version, (uint16_t)(p->plen >= 0 ? (uint32_t)p->plen : plen),
		p->n_ext ? p->ext[0] : p->proto, &p->src, &p->dst);
	udp = ip + IP6_HLEN + chain;
	payload_build(udp + UDP_HLEN, in->len, in->stream, seq, now_ns());
	put_udp(udp, p->dport, (uint16_t)udp_len);
	/*
	 * Over the bytes the UDP length claims, as far as they were built; a length of 0
	 * claims them all (a jumbogram's, RFC 2675).
	 */
	csum = udp6_csum(&p->src, &p->dst, udp,
			 udp_len && udp_len < udp_true ? udp_len : udp_true);
	if (p->csum_bad)
		csum = csum_break(csum);
	put_be16(udp + 6, p->csum_zero ? 0 : csum);
	return ETH_HLEN + IP6_HLEN + plen;
}

/* One fragment, on its own: the cases that bend a fragment's length or offset. */
static size_t build_bad_fragment(const struct inject *in, enum inject_case c, uint64_t seq)
{
	uint8_t *ip = frame + ETH_HLEN, *data = ip + IP6_HLEN + FRAG_HLEN;
	uint32_t off = 0, len = 16;
	bool more = true;

	if (c == C_FRAG_ODD) {
		len = 16 + ODD_CUT;
	} else if (c == C_FRAG_PAST) {
		off = FRAG_PAST_OFFSET;
		more = false;
	} else {
		len = 0;
	}
	put_eth(in, &in->group);
	put_ip6(ip, 6, (uint16_t)(FRAG_HLEN + len), NH_FRAGMENT, &in->src, &in->group);
	put_frag(ip + IP6_HLEN, NH_UDP, off, more, frag_id(seq));
	payload_fill(data, len, in->stream, seq);
	return ETH_HLEN + IP6_HLEN + FRAG_HLEN + len;
}

/*
 * The fragmentable part of datagram seq into buf: destination options first for
 * "frags-dstopts", then the UDP datagram. Returns its length; *nh is its first header.
 */
static uint32_t build_part(const struct inject *in, enum inject_case c, uint64_t seq,
			   uint8_t *buf, uint8_t *nh)
{
	uint32_t n = 0, udp_len = UDP_HLEN + in->len;
	uint8_t *udp;

	*nh = NH_UDP;
	if (c == C_FRAGS_DSTOPTS || c == C_FRAGS_NO_UDP) {
		n = put_opts(buf, NH_UDP);
		*nh = NH_DSTOPTS;
	} else if (c == C_FRAGS_ROUTING) {
		n = put_routing(buf, NH_UDP, 0);
		*nh = NH_ROUTING;
	}
	udp = buf + n;
	payload_build(udp + UDP_HLEN, in->len, in->stream, seq, now_ns());
	put_udp(udp, in->port, (uint16_t)udp_len);
	put_be16(udp + 6, udp6_csum(&in->src, &in->group, udp, udp_len));
	return n + udp_len;
}

/* Fragment [off, off + len) of buf into frame, with hop-by-hop before it for "frags-hbh". */
static size_t build_fragment(const struct inject *in, enum inject_case c, const uint8_t *buf,
			     uint8_t nh, uint32_t id, uint32_t off, uint32_t len, bool more)
{
	uint8_t *ip = frame + ETH_HLEN, *q = ip + IP6_HLEN;
	uint32_t unfrag = 0;

	put_eth(in, &in->group);
	if (c == C_FRAGS_HBH || c == C_FRAGS_UNFRAG_MAX)
		unfrag = put_opts(q, NH_FRAGMENT);
	put_ip6(ip, 6, (uint16_t)(unfrag + FRAG_HLEN + len), unfrag ? NH_HOPOPTS : NH_FRAGMENT,
		&in->src, &in->group);
	/* "frags-ecn": the first not ECN-capable, the others CE; the kernel refuses the mix. */
	if (c == C_FRAGS_ECN && off)
		ip[1] |= 3 << 4;
	put_frag(q + unfrag, nh, off, more, id);
	memcpy(q + unfrag + FRAG_HLEN, buf + off, len);
	return ETH_HLEN + IP6_HLEN + unfrag + FRAG_HLEN + len;
}

/*
 * The frame a case sends after the first fragment: one inside it ("frags-dup-inside", a
 * duplicate), one over both runs ("frags-span", an overlap), an empty one ("frags-empty", which
 * kills the datagram). Returns 0 or the errno.
 */
static int send_rule_fragment(struct inject *in, enum inject_case c, const uint8_t *buf,
			      uint8_t nh, uint32_t id, uint32_t chunk)
{
	switch (c) {
	case C_FRAGS_DUP_INSIDE:
		return send_frame(&in->wire, frame,
				  build_fragment(in, c, buf, nh, id, EXT_UNIT, EXT_UNIT, true));
	case C_FRAGS_SPAN:
		return send_frame(&in->wire, frame,
				  build_fragment(in, c, buf, nh, id, 0, chunk + EXT_UNIT, true));
	case C_FRAGS_EMPTY:
		return send_frame(&in->wire, frame, build_fragment(in, c, buf, nh, id, chunk, 0,
								   true));
	default:
		return 0;
	}
}

/*
 * Datagrams seq .. seq + n - 1 (n is 1, or 2 for "frags-interleave") as in->frags fragments
 * each: all but the last carry the same multiple of 8 bytes, the last the rest. Interleaved,
 * the fragments alternate between the two datagrams. Returns 0 or the first errno.
 */
static int send_fragments(struct inject *in, enum inject_case c, uint64_t seq, unsigned int n)
{
	uint32_t total = 0, chunk;
	int e, first = 0;
	uint8_t nh = NH_UDP;

	for (unsigned int d = 0; d < n; d++)
		total = build_part(in, c, seq + d, part[d], &nh);	/* the same length each */
	chunk = total / in->frags / EXT_UNIT * EXT_UNIT;
	for (unsigned int f = 0; f < in->frags; f++) {
		for (unsigned int d = 0; d < n; d++) {
			uint32_t off = f * chunk, len = f + 1 == in->frags ? total - off : chunk;

			if (c == C_FRAGS_OVERLAP && f == 1) {
				off -= OVERLAP_BYTES;	/* the same 8 bytes twice */
				len += OVERLAP_BYTES;
			}
			/* "frags-span": the second before the first, two runs side by side. */
			if (c == C_FRAGS_SPAN && f < 2) {
				off = (1 - f) * chunk;
				len = chunk;
			}
			/* "frags-no-udp": a first fragment of the options alone, no UDP header. */
			if (c == C_FRAGS_NO_UDP && in->frags == 2) {
				len = f ? total - EXT_UNIT : EXT_UNIT;
				off = f ? EXT_UNIT : 0;
			}
			e = send_frame(&in->wire, frame,
				       build_fragment(in, c, part[d], nh, frag_id(seq + d), off,
						      len, f + 1 < in->frags));
			/* After the first fragment sent (the second one, for "frags-span"). */
			if (!e && f == (c == C_FRAGS_SPAN ? 1u : 0u))
				e = send_rule_fragment(in, c, part[d], nh, frag_id(seq + d), chunk);
			if (e && !first)
				first = e;
		}
	}
	return first;
}

int main(int argc, char *argv[])
{
	struct inject in = { .wire.fd = -1, .len = DEFAULT_LEN, .frags = DEFAULT_FRAGS,
			     .udp_len = -1 };
	const char *ifname = NULL;	/* -I */
	const char *case_arg = NULL;	/* -c */
	uint64_t count = 1;		/* -n */
	uint64_t max_s = DEFAULT_MAX_S;	/* -T */
	uint64_t injected = 0, deadline;
	struct sockaddr_storage ss;
	socklen_t ss_len;
	enum inject_case c;
	struct plan plan;
	int first_err = 0, e, opt;
	unsigned int per;

	inet_pton(AF_INET6, DEFAULT_SRC, &in.src);
	parse_addr_port("group", DEFAULT_GROUP, &ss, &ss_len);
	in.group = ((struct sockaddr_in6 *)&ss)->sin6_addr;
	in.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	while ((opt = getopt(argc, argv, "I:c:n:S:g:l:s:q:T:k:M:U:h")) != -1) {
		switch (opt) {
		case 'I':
			ifname = optarg;
			break;
		case 'c':
			case_arg = optarg;
			break;
		case 'n':
			count = parse_num("count", optarg, 1, MAX_COUNT);
			break;
		case 'S':
			parse_addr("source", optarg, &ss, &ss_len);
			if (ss.ss_family != AF_INET6)
				errx(EXIT_SETUP, "source %s: not an IPv6 address", optarg);
			in.src = ((struct sockaddr_in6 *)&ss)->sin6_addr;
			break;
		case 'g':
			parse_addr_port("group", optarg, &ss, &ss_len);
			if (ss.ss_family != AF_INET6)
				errx(EXIT_SETUP, "group %s: not an IPv6 address", optarg);
			in.group = ((struct sockaddr_in6 *)&ss)->sin6_addr;
			in.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			break;
		case 'l':
			in.len = (uint32_t)parse_num("length", optarg, 0, MAX_LEN);
			break;
		case 's':
			in.stream = (uint32_t)parse_num("stream id", optarg, 0, UINT32_MAX);
			break;
		case 'q':
			in.first_seq = parse_num("first seq", optarg, 0, UINT64_MAX - MAX_COUNT);
			break;
		case 'T':
			max_s = parse_num("max seconds", optarg, 1, MAX_MAX_S);
			break;
		case 'k':
			in.frags = (unsigned int)parse_num("fragments", optarg, 2, MAX_FRAGS);
			break;
		case 'M':
			parse_mac(optarg, in.dst_mac);
			in.dst_mac_set = true;
			break;
		case 'U':
			in.udp_len = (int32_t)parse_num("UDP length", optarg, 0, 65535);
			break;
		case 'h':
			return usage(0);
		default:
			return usage(EXIT_SETUP);
		}
	}
	if (optind != argc || !case_arg)
		return usage(EXIT_SETUP);
	if (!strcmp(case_arg, "list")) {
		list_cases(case_name, C_CASES);
		return 0;
	}
	c = find_case(case_name, C_CASES, case_arg, "inject6");
	if (!ifname)
		return usage(EXIT_SETUP);
	if (c == C_UDPLEN_SHORT && in.len < 2)
		errx(EXIT_SETUP, "udplen-short needs -l 2 or more, to lie between 8 and the truth");
	if (c >= C_FRAGS && UDP_HLEN + in.len < EXT_UNIT * in.frags)
		errx(EXIT_SETUP, "%s: -k %u needs -l %u or more, 8 bytes a fragment", case_arg,
		     in.frags, EXT_UNIT * in.frags - UDP_HLEN);
	if (c == C_FRAGS_INTERLEAVE && count % 2)
		errx(EXIT_SETUP, "frags-interleave sends datagrams in pairs: give an even -n");
	open_wire(&in.wire, ifname);
	stop_on_signals();

	deadline = now_ns() + max_s * NSEC_PER_SEC;
	per = c == C_FRAGS_INTERLEAVE ? 2 : 1;
	for (uint64_t i = 0; i < count && !stop; i += per) {
		uint64_t seq = in.first_seq + i;

		if (now_ns() >= deadline) {
			warnx("stopped after %" PRIu64 " of %" PRIu64 " datagrams (-T reached)", i,
			      count);
			break;
		}
		if ((c >= C_FRAGS && c <= C_FRAGS_INTERLEAVE) || c >= C_FRAGS_NO_UDP) {
			e = send_fragments(&in, c, seq, per);
		} else if (c >= C_FRAG_ODD && c < C_FRAGS) {
			e = send_frame(&in.wire, frame, build_bad_fragment(&in, c, seq));
		} else {
			plan_case(&in, c, &plan);
			e = send_frame(&in.wire, frame, build_plan(&in, &plan, seq));
		}
		if (!e)
			injected += per;
		else if (!first_err)
			first_err = e;
	}
	if (first_err)
		warnx("%s: %" PRIu64 " send errors, the first: %s", case_arg, in.wire.errors,
		      strerror(first_err));
	/* injected counts datagrams (all of whose fragments went out), frames every frame. */
	printf("injected=%" PRIu64 " case=%s errors=%" PRIu64 " frames=%" PRIu64 "\n", injected,
	       case_arg, in.wire.errors, in.wire.frames);
	close(in.wire.fd);
	return injected == count ? 0 : 1;
}

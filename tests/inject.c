// SPDX-License-Identifier: MIT
/*
 * inject - craft Ethernet frames, good and bad, and put them on the wire with an AF_PACKET
 * socket, to test the relay's frame parser against what a real link can deliver.
 * Payloads follow payload.h, so whatever gets relayed can be checked by the receiver.
 * The frags cases send each datagram as real IPv4 fragments (RFC 791), in order or not, with
 * a duplicate, an overlap or a piece missing; the IP identification is the sequence number.
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
#include <unistd.h>

#include "payload.h"
#include "frame.h"

#define MAX_COUNT 1000000
#define MAX_RATE 10000000		/* pps */
#define DEFAULT_MAX_S 30
#define MAX_MAX_S 3600
#define DEFAULT_LEN 64			/* payload bytes */
#define MAX_LEN (65535 - 60 - 8)	/* payload bytes: fits IPv4 total length with 40 option bytes */
#define MAX_FRAGS_LEN (65535 - 20 - 8)	/* payload bytes of a fragmented datagram */
#define FRAME_MAX (ETH_HLEN + 4 + 65535 + 64)
#define DEFAULT_SRC "198.19.50.5"
#define OTHER_SRC "198.19.50.6"
#define DEFAULT_GROUP "239.0.0.1:5000"
#define OTHER_GROUP "239.0.0.99"
#define SRC6 "2001:2::5"		/* RFC 5180 benchmarking range */
#define GROUP6 "ff3e::1"
#define TTL 8
#define TRAILER_LEN 20			/* bytes of nonzero Ethernet padding for "padded" */
#define TRUNC_ETH_LEN 10		/* bytes of the whole frame for "trunc-eth" */
#define TRUNC_IP_LEN 12			/* bytes of IPv4 header for "trunc-ip" */
#define TRUNC_UDP_LEN 4			/* bytes of UDP header for "trunc-udp" */
#define TRUNC_PAYLOAD_CUT 10		/* bytes missing at the end for "trunc-payload" */
#define IPLEN_LONG_EXTRA 40		/* bytes the total length overstates for "iplen-long" */
#define UDPLEN_LONG_EXTRA 16
#define FRAG_OFFSET 185			/* 8-byte units: where a 1500-MTU second fragment starts */
#define VLAN_VID 100			/* default of -V */
#define DEFAULT_FRAGS 3			/* fragments per datagram, -k */
#define MAX_FRAGS 8192			/* 8-byte units in the 13-bit fragment offset */
#define FRAG_UNIT 8			/* bytes: fragment offsets count these */
#define OVERLAP_BYTES 8			/* "frags-overlap": how far back the second one starts */
#define SHUFFLE_SEED 0x5deece66dull	/* "frags-shuffle": the same orders every run */
#define IP_HLEN 20
#define VLAN0_TCI (5 << 13)		/* PCP 5 (video), VID 0: a priority tag */
#define IP_FLAG_MF 0x2000
#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IP_OPTS_MAX 40			/* bytes of options an IHL of 15 holds */
#define ROUTER_ALERT_HEX "94040000"	/* "opts" without -O: RFC 2113, valid */

enum inject_case {
	C_VALID, C_IPOPTS, C_PADDED, C_ZERO, C_MAX,
	C_TRUNC_ETH, C_TRUNC_IP, C_TRUNC_UDP, C_TRUNC_PAYLOAD,
	C_IPLEN_LONG, C_IPLEN_SHORT, C_UDPLEN_LONG, C_UDPLEN_SHORT, C_UDPLEN_TINY,
	C_IHL_SMALL, C_VERSION, C_BADCSUM_IP, C_BADCSUM_UDP, C_NOCSUM_UDP,
	C_FRAG_FIRST, C_FRAG_MIDDLE, C_FRAG_LAST, C_TCP, C_ICMP,
	C_OTHER_GROUP, C_OTHER_PORT, C_OTHER_SOURCE, C_VLAN, C_VLAN0, C_IPV6,
	C_OPTS, C_VLAN0_VLAN, C_VLAN0_VLAN0,
	/* From here on, every case is a fragmented datagram: is_frags(). */
	C_FRAGS, C_FRAGS_REVERSE, C_FRAGS_SHUFFLE, C_FRAGS_DUP, C_FRAGS_OVERLAP, C_FRAGS_INCOMPLETE,
	C_FRAGS_DUP_INSIDE, C_FRAGS_SPAN, C_FRAGS_ODD_MF, C_FRAGS_EMPTY, C_FRAGS_PAST, C_FRAGS_ECN,
	C_FRAGS_ECN_CE, C_FRAGS_IPOPTS,
	C_CASES
};

static const char *const case_name[C_CASES] = {
	[C_VALID] = "valid",
	[C_IPOPTS] = "ipopts",
	[C_PADDED] = "padded",
	[C_ZERO] = "zero",
	[C_MAX] = "max",
	[C_TRUNC_ETH] = "trunc-eth",
	[C_TRUNC_IP] = "trunc-ip",
	[C_TRUNC_UDP] = "trunc-udp",
	[C_TRUNC_PAYLOAD] = "trunc-payload",
	[C_IPLEN_LONG] = "iplen-long",
	[C_IPLEN_SHORT] = "iplen-short",
	[C_UDPLEN_LONG] = "udplen-long",
	[C_UDPLEN_SHORT] = "udplen-short",
	[C_UDPLEN_TINY] = "udplen-tiny",
	[C_IHL_SMALL] = "ihl-small",
	[C_VERSION] = "version",
	[C_BADCSUM_IP] = "badcsum-ip",
	[C_BADCSUM_UDP] = "badcsum-udp",
	[C_NOCSUM_UDP] = "nocsum-udp",
	[C_FRAG_FIRST] = "frag-first",
	[C_FRAG_MIDDLE] = "frag-middle",
	[C_FRAG_LAST] = "frag-last",
	[C_TCP] = "tcp",
	[C_ICMP] = "icmp",
	[C_OTHER_GROUP] = "other-group",
	[C_OTHER_PORT] = "other-port",
	[C_OTHER_SOURCE] = "other-source",
	[C_VLAN] = "vlan",
	[C_VLAN0] = "vlan0",
	[C_IPV6] = "ipv6",
	[C_FRAGS] = "frags",
	[C_FRAGS_REVERSE] = "frags-reverse",
	[C_FRAGS_SHUFFLE] = "frags-shuffle",
	[C_FRAGS_DUP] = "frags-dup",
	[C_FRAGS_OVERLAP] = "frags-overlap",
	[C_FRAGS_INCOMPLETE] = "frags-incomplete",
	[C_OPTS] = "opts",
	[C_VLAN0_VLAN] = "vlan0-vlan",
	[C_VLAN0_VLAN0] = "vlan0-vlan0",
	[C_FRAGS_DUP_INSIDE] = "frags-dup-inside",
	[C_FRAGS_SPAN] = "frags-span",
	[C_FRAGS_ODD_MF] = "frags-odd-mf",
	[C_FRAGS_EMPTY] = "frags-empty",
	[C_FRAGS_PAST] = "frags-past",
	[C_FRAGS_ECN] = "frags-ecn",
	[C_FRAGS_ECN_CE] = "frags-ecn-ce",
	[C_FRAGS_IPOPTS] = "frags-ipopts",
};

struct inject {
	struct wire wire;
	struct in_addr src, group;
	uint16_t port;			/* host byte order */
	uint32_t len, stream;
	uint64_t first_seq;
	uint16_t vid;			/* -V: the VLAN ID of the "vlan" case */
	unsigned int frags;		/* -k: fragments per datagram of the frags cases */
	uint64_t shuffle;		/* xorshift64 state of "frags-shuffle" */
	bool dst_mac_set;		/* -M: every frame to this MAC, not the group's */
	uint8_t dst_mac[ETH_ALEN];
	uint8_t opts[IP_OPTS_MAX];	/* -O: the options of the "opts" case */
	uint32_t opts_len;
	int32_t udp_len;		/* -U: the UDP length field of every case, -1 for none */
};

/* One frame's recipe: a valid IPv4 UDP frame and what the case does to it. */
struct plan {
	struct in_addr src, dst;
	uint16_t dport;
	uint8_t version, ihl, proto;
	uint16_t frag;			/* flags and fragment offset, host order */
	bool vlan;
	uint16_t tci;
	bool vlan2;			/* a second tag inside the first */
	uint16_t tci2;
	uint32_t payload_len;		/* UDP payload bytes built */
	uint32_t l4_len;		/* bytes after the IP header that belong to the datagram */
	int32_t ip_len;			/* total length field, -1 for the true one */
	int32_t udp_len;		/* UDP length field, -1 for the true one */
	uint32_t trailer;		/* bytes of Ethernet padding after the datagram */
	uint32_t cut;			/* bytes left off the end of the frame */
	uint32_t frame_len;		/* when nonzero, the frame is just this long */
	bool bad_ip_csum, bad_udp_csum, no_udp_csum;
};

static uint8_t frame[FRAME_MAX];
static uint8_t dgram[65536];		/* a whole UDP datagram, to be cut into fragments */

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: inject -I IFACE -c CASE [-n N] [-S SRC] [-g GROUP:PORT] [-l LEN]\n"
		"              [-s STREAM_ID] [-q FIRST_SEQ] [-r PPS] [-T MAX_SECONDS]\n"
		"              [-k FRAGMENTS] [-V VLAN_ID] [-M DST_MAC] [-O HEX_OPTIONS]\n"
		"              [-U UDP_LEN]\n"
		"       inject -c list\n");
	return code;
}

static void put_mcast_mac(uint8_t *mac, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if (!IN_MULTICAST(h)) {
		memset(mac, 0xff, ETH_ALEN);
		return;
	}
	/* RFC 1112: 01:00:5e and the group's low 23 bits */
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (h >> 16) & 0x7f;
	mac[4] = h >> 8;
	mac[5] = h;
}

/* The group's MAC, or -M's: a unicast MAC not ours makes the frame PACKET_OTHERHOST. */
static void put_dst_mac(const struct inject *in, uint8_t *mac, struct in_addr group)
{
	if (in->dst_mac_set)
		memcpy(mac, in->dst_mac, ETH_ALEN);
	else
		put_mcast_mac(mac, group);
}

static void plan_case(const struct inject *in, enum inject_case c, uint64_t index,
		      struct plan *p)
{
	*p = (struct plan){
		.src = in->src, .dst = in->group, .dport = in->port,
		.version = 4, .ihl = 5, .proto = IPPROTO_UDP,
		.payload_len = in->len, .l4_len = 8 + in->len,
		.ip_len = -1, .udp_len = -1,
	};
	switch (c) {
	case C_VALID:
	case C_MAX:
	case C_IPV6:
	case C_FRAGS:
	case C_FRAGS_REVERSE:
	case C_FRAGS_SHUFFLE:
	case C_FRAGS_DUP:
	case C_FRAGS_OVERLAP:
	case C_FRAGS_INCOMPLETE:
	case C_FRAGS_DUP_INSIDE:
	case C_FRAGS_SPAN:
	case C_FRAGS_ODD_MF:
	case C_FRAGS_EMPTY:
	case C_FRAGS_PAST:
	case C_FRAGS_ECN:
	case C_FRAGS_ECN_CE:
	case C_FRAGS_IPOPTS:
	case C_CASES:
		break;
	case C_IPOPTS:
		p->ihl = 6 + index % 10;	/* every IHL from 6 to 15 in turn */
		break;
	case C_PADDED:
		p->trailer = TRAILER_LEN;
		break;
	case C_ZERO:
		p->payload_len = 0;
		p->l4_len = 8;
		break;
	case C_TRUNC_ETH:
		p->frame_len = TRUNC_ETH_LEN;
		break;
	case C_TRUNC_IP:
		p->frame_len = ETH_HLEN + TRUNC_IP_LEN;
		break;
	case C_TRUNC_UDP:
		p->l4_len = TRUNC_UDP_LEN;
		break;
	case C_TRUNC_PAYLOAD:
		p->cut = TRUNC_PAYLOAD_CUT;
		break;
	case C_IPLEN_LONG:
		p->ip_len = 20 + 8 + in->len + IPLEN_LONG_EXTRA;
		break;
	case C_IPLEN_SHORT:
		p->ip_len = 5 * 4 - 4;
		break;
	case C_UDPLEN_LONG:
		p->udp_len = 8 + in->len + UDPLEN_LONG_EXTRA;
		break;
	case C_UDPLEN_SHORT:
		p->udp_len = 8 + in->len / 2;
		break;
	case C_UDPLEN_TINY:
		p->udp_len = 4;
		break;
	case C_IHL_SMALL:
		p->ihl = 4;
		break;
	case C_VERSION:
		p->version = 6;
		break;
	case C_BADCSUM_IP:
		p->bad_ip_csum = true;
		break;
	case C_BADCSUM_UDP:
		p->bad_udp_csum = true;
		break;
	case C_NOCSUM_UDP:
		p->no_udp_csum = true;
		break;
	case C_FRAG_FIRST:
		p->frag = IP_FLAG_MF;
		break;
	case C_FRAG_MIDDLE:
		p->frag = IP_FLAG_MF | FRAG_OFFSET;
		break;
	case C_FRAG_LAST:
		p->frag = FRAG_OFFSET;
		break;
	case C_TCP:
		p->proto = IPPROTO_TCP;
		break;
	case C_ICMP:
		p->proto = IPPROTO_ICMP;
		break;
	case C_OTHER_GROUP:
		inet_pton(AF_INET, OTHER_GROUP, &p->dst);
		break;
	case C_OTHER_PORT:
		p->dport = in->port + 1;
		break;
	case C_OTHER_SOURCE:
		inet_pton(AF_INET, OTHER_SRC, &p->src);
		break;
	case C_VLAN:
		p->vlan = true;
		p->tci = in->vid;
		break;
	case C_VLAN0:
		p->vlan = true;
		p->tci = VLAN0_TCI;
		break;
	case C_OPTS:
		p->ihl = (uint8_t)(5 + (in->opts_len + 3) / 4);
		break;
	case C_VLAN0_VLAN:
	case C_VLAN0_VLAN0:
		p->vlan = p->vlan2 = true;
		p->tci = VLAN0_TCI;
		p->tci2 = c == C_VLAN0_VLAN ? in->vid : VLAN0_TCI;
		break;
	}
	if (in->udp_len >= 0)
		p->udp_len = in->udp_len;
}

/*
 * Builds the frame for one plan. Every header is first made valid (the same bytes a kernel
 * would send), then only the field the case is about is bent, so the frame tests one thing.
 */
static size_t build_ipv4(const struct inject *in, const struct plan *p, uint64_t seq)
{
	size_t eth_len = ETH_HLEN + (p->vlan ? 4 : 0) + (p->vlan2 ? 4 : 0);
	uint32_t hdr = p->ihl * 4u < 20 ? 20 : p->ihl * 4u;	/* bytes of IP header written */
	uint8_t *ip = frame + eth_len, *udp = ip + hdr;
	uint32_t udp_true = 8 + p->payload_len, ip_true = hdr + p->l4_len;
	uint32_t udp_len = p->udp_len >= 0 ? (uint32_t)p->udp_len : udp_true;
	uint64_t sum;
	uint16_t csum;
	size_t len;

	put_dst_mac(in, frame, p->dst);
	memcpy(frame + ETH_ALEN, in->wire.mac, ETH_ALEN);
	if (p->vlan) {
		put_be16(frame + 12, ETHERTYPE_VLAN);
		put_be16(frame + 14, p->tci);
	}
	if (p->vlan2) {
		put_be16(frame + 16, ETHERTYPE_VLAN);
		put_be16(frame + 18, p->tci2);
	}
	put_be16(frame + eth_len - 2, ETHERTYPE_IP);

	payload_build(udp + 8, p->payload_len, in->stream, seq, now_ns());
	put_udp(udp, p->dport, (uint16_t)udp_len);

	ip[0] = (uint8_t)(p->version << 4 | p->ihl);
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(p->ip_len >= 0 ? (uint32_t)p->ip_len : ip_true));
	put_be16(ip + 4, (uint16_t)seq);
	put_be16(ip + 6, p->frag);
	ip[8] = TTL;
	ip[9] = p->proto;
	put_be16(ip + 10, 0);
	memcpy(ip + 12, &p->src, 4);
	memcpy(ip + 16, &p->dst, 4);
	if (hdr > 20 && in->opts_len) {
		memset(ip + 20, IPOPT_EOL, hdr - 20);
		memcpy(ip + 20, in->opts, in->opts_len);
	} else if (hdr > 20) {
		memset(ip + 20, IPOPT_NOP, hdr - 20 - 1);
		ip[hdr - 1] = IPOPT_EOL;
	}

	/* Over the bytes the UDP length claims, as far as they were built. */
	sum = csum_add(0, ip + 12, 8);
	sum += IPPROTO_UDP + udp_len;
	sum = csum_add(sum, udp, udp_len < udp_true ? udp_len : udp_true);
	csum = csum_fold(sum);
	if (!csum)
		csum = 0xffff;		/* RFC 768: 0 would mean "no checksum" */
	if (p->bad_udp_csum)
		csum = csum_break(csum);
	if (p->no_udp_csum)
		csum = 0;
	put_be16(udp + 6, csum);

	csum = csum_fold(csum_add(0, ip, hdr));
	put_be16(ip + 10, p->bad_ip_csum ? csum_break(csum) : csum);

	len = eth_len + ip_true;
	for (uint32_t i = 0; i < p->trailer; i++)
		frame[len++] = 0xa0 | (i & 0x0f);
	len -= p->cut;
	if (p->frame_len)
		len = p->frame_len;
	return len;
}

static size_t build_ipv6(const struct inject *in, uint64_t seq)
{
	uint8_t *ip6 = frame + ETH_HLEN, *udp = ip6 + 40;
	uint32_t udp_len = 8 + in->len;
	uint64_t sum;
	uint16_t csum;

	/* RFC 2464: 33:33 and the group's low 32 bits */
	memcpy(frame, "\x33\x33\x00\x00\x00\x01", ETH_ALEN);
	if (in->dst_mac_set)
		memcpy(frame, in->dst_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, in->wire.mac, ETH_ALEN);
	put_be16(frame + 12, ETHERTYPE_IPV6);

	memset(ip6, 0, 40);
	ip6[0] = 0x60;
	put_be16(ip6 + 4, (uint16_t)udp_len);
	ip6[6] = IPPROTO_UDP;
	ip6[7] = TTL;
	inet_pton(AF_INET6, SRC6, ip6 + 8);
	inet_pton(AF_INET6, GROUP6, ip6 + 24);

	payload_build(udp + 8, in->len, in->stream, seq, now_ns());
	put_udp(udp, in->port, (uint16_t)udp_len);
	sum = csum_add(0, ip6 + 8, 32);
	sum += udp_len + IPPROTO_UDP;
	csum = csum_fold(csum_add(sum, udp, udp_len));
	put_be16(udp + 6, csum ? csum : 0xffff);
	return ETH_HLEN + 40 + udp_len;
}

static bool is_frags(enum inject_case c)
{
	return c >= C_FRAGS;
}

/* The UDP datagram of sequence number seq, whole, in dgram; returns its length. */
static uint32_t build_datagram(const struct inject *in, uint64_t seq)
{
	uint32_t len = UDP_HLEN + in->len;
	uint32_t claim = in->udp_len >= 0 ? (uint32_t)in->udp_len : len;	/* -U */
	uint64_t sum;
	uint16_t csum;

	payload_build(dgram + UDP_HLEN, in->len, in->stream, seq, now_ns());
	put_udp(dgram, in->port, (uint16_t)claim);
	/*
	 * RFC 768 over the datagram, as far as the UDP length claims: the receiver's kernel
	 * checks it once reassembled.
	 */
	if (claim < len)
		len = claim;
	sum = csum_add(0, (const uint8_t *)&in->src, 4);
	sum = csum_add(sum, (const uint8_t *)&in->group, 4);
	sum += IPPROTO_UDP + len;
	csum = csum_fold(csum_add(sum, dgram, len));
	put_be16(dgram + 6, csum ? csum : 0xffff);
	return UDP_HLEN + in->len;
}

/*
 * One IPv4 fragment of dgram into frame: bytes [off, off + n), MF when more follow, with ECN
 * field ecn and opts bytes of NOP options (a multiple of 4).
 */
static size_t build_fragment_with(const struct inject *in, uint64_t seq, uint32_t off,
				  uint32_t n, bool more, uint8_t ecn, uint32_t opts)
{
	uint8_t *ip = frame + ETH_HLEN;
	uint32_t hl = IP_HLEN + opts;

	put_dst_mac(in, frame, in->group);
	memcpy(frame + ETH_ALEN, in->wire.mac, ETH_ALEN);
	put_be16(frame + 12, ETHERTYPE_IP);
	ip[0] = (uint8_t)(0x40 | hl / 4);
	ip[1] = ecn;
	put_be16(ip + 2, (uint16_t)(hl + n));
	put_be16(ip + 4, (uint16_t)seq);
	put_be16(ip + 6, (uint16_t)((more ? IP_FLAG_MF : 0) | off / FRAG_UNIT));
	ip[8] = TTL;
	ip[9] = IPPROTO_UDP;
	put_be16(ip + 10, 0);
	memcpy(ip + 12, &in->src, 4);
	memcpy(ip + 16, &in->group, 4);
	memset(ip + IP_HLEN, 1, opts);	/* NOP */
	put_be16(ip + 10, csum_fold(csum_add(0, ip, hl)));
	if (off < sizeof(dgram))
		memcpy(ip + hl, dgram + off, off + n > sizeof(dgram) ? sizeof(dgram) - off : n);
	return ETH_HLEN + hl + n;
}

static size_t build_fragment(const struct inject *in, uint64_t seq, uint32_t off, uint32_t n,
			     bool more)
{
	return build_fragment_with(in, seq, off, n, more, 0, 0);
}

/*
 * The kernel's own rules for fragments (ip_frag_queue(), inet_frag_queue_insert()), a case
 * each, around fragment f of a datagram cut in chunks: the extra frame sent after it, or the
 * way fragment f itself is sent. Returns 0, or the first errno.
 */
static int send_rule_fragment(struct inject *in, enum inject_case c, uint64_t seq, unsigned int f,
			      uint32_t off, uint32_t len, bool more, uint32_t chunk)
{
	uint8_t ecn = 0;
	uint32_t opts = 0;
	int e;

	switch (c) {
	case C_FRAGS_ODD_MF:	/* 3 bytes more than 8-byte units: the kernel cuts them */
		if (f == 0)
			len += 3;
		break;
	case C_FRAGS_ECN:	/* not-ECT, then CE: refused whole */
	case C_FRAGS_ECN_CE:	/* ECT(0), then CE: taken */
		ecn = f ? 3 : c == C_FRAGS_ECN ? 0 : 2;
		break;
	case C_FRAGS_IPOPTS:	/* 4 bytes of options on the first: 65535 counts them */
		opts = f ? 0 : 4;
		break;
	default:
		break;
	}
	e = send_frame(&in->wire, frame, build_fragment_with(in, seq, off, len, more, ecn, opts));
	if (e || f != 0)
		return e;
	switch (c) {
	case C_FRAGS_DUP_INSIDE:	/* inside the first: a duplicate, dropped alone */
		return send_frame(&in->wire, frame, build_fragment(in, seq, FRAG_UNIT, FRAG_UNIT,
								    true));
	case C_FRAGS_EMPTY:	/* nothing at all: kills the datagram */
		return send_frame(&in->wire, frame, build_fragment(in, seq, chunk, 0, true));
	case C_FRAGS_PAST:	/* past 65535 bytes: dooms the datagram */
		return send_frame(&in->wire, frame, build_fragment(in, seq, 65528, FRAG_UNIT,
								    true));
	default:
		return 0;
	}
}

/*
 * The order the case sends a datagram's k fragments in, into order[]; a fragment may appear
 * twice. Returns how many frames that is.
 */
static unsigned int frag_order(struct inject *in, enum inject_case c, unsigned int k,
			       unsigned int *order)
{
	unsigned int n = 0, i;

	switch (c) {
	case C_FRAGS_REVERSE:
		for (i = k; i-- > 0;)
			order[n++] = i;
		break;
	case C_FRAGS_SHUFFLE:
		for (i = 0; i < k; i++)
			order[i] = i;
		for (i = k - 1; i > 0; i--) {
			uint64_t x = in->shuffle;	/* xorshift64 */
			unsigned int j, t;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			in->shuffle = x;
			j = (unsigned int)(x % (i + 1));
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		/* Shuffled means out of order: the identity becomes first and last swapped. */
		for (i = 0; i < k && order[i] == i; i++)
			;
		if (i == k) {
			order[0] = k - 1;
			order[k - 1] = 0;
		}
		n = k;
		break;
	case C_FRAGS_DUP:
		for (i = 0; i < k; i++) {
			order[n++] = i;
			if (i == k / 2)
				order[n++] = i;
		}
		break;
	case C_FRAGS_INCOMPLETE:
		for (i = 0; i + 1 < k; i++)
			order[n++] = i;
		break;
	case C_FRAGS_SPAN:	/* the second, then the first: two runs side by side */
		order[n++] = 1;
		order[n++] = 0;
		for (i = 2; i < k; i++)
			order[n++] = i;
		break;
	default:
		for (i = 0; i < k; i++)
			order[n++] = i;
	}
	return n;
}

/*
 * Datagram seq as in->frags IPv4 fragments: all but the last carry the same multiple of 8
 * bytes, the last the rest. Returns 0 when every frame went out, or the first errno.
 */
static int send_fragments(struct inject *in, enum inject_case c, uint64_t seq)
{
	static unsigned int order[MAX_FRAGS + 1];
	uint32_t total = build_datagram(in, seq);
	uint32_t chunk = total / in->frags / FRAG_UNIT * FRAG_UNIT;
	unsigned int n = frag_order(in, c, in->frags, order);
	int e, first = 0;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int f = order[i];
		uint32_t off = f * chunk;
		uint32_t len = f + 1 == in->frags ? total - off : chunk;
		bool more = f + 1 < in->frags;

		/* The second fragment starts 8 bytes early: the same bytes, twice. */
		if (c == C_FRAGS_OVERLAP && f == 1) {
			off -= OVERLAP_BYTES;
			len += OVERLAP_BYTES;
		}
		e = send_rule_fragment(in, c, seq, f, off, len, more, chunk);
		/* Over both runs: an overlap to the kernel, though every byte is held. */
		if (!e && c == C_FRAGS_SPAN && f == 0)
			e = send_frame(&in->wire, frame,
				       build_fragment(in, seq, 0, chunk + FRAG_UNIT, true));
		if (e && !first)
			first = e;
	}
	return first;
}

int main(int argc, char *argv[])
{
	struct inject in = { .wire.fd = -1, .len = DEFAULT_LEN, .port = 5000, .vid = VLAN_VID,
			     .frags = DEFAULT_FRAGS, .shuffle = SHUFFLE_SEED, .udp_len = -1 };
	const char *ifname = NULL;	/* -I */
	const char *case_arg = NULL;	/* -c */
	uint64_t count = 1;		/* -n */
	uint64_t rate = 0;		/* -r, pps; 0 for as fast as possible */
	uint64_t max_s = DEFAULT_MAX_S;	/* -T */
	uint64_t injected = 0, start, deadline, wake;
	struct sockaddr_in group;
	enum inject_case c;
	struct plan plan;
	int first_err = 0, e, opt;
	size_t len;

	inet_pton(AF_INET, DEFAULT_SRC, &in.src);
	parse_ipv4_port("group", DEFAULT_GROUP, &group);
	while ((opt = getopt(argc, argv, "I:c:n:S:g:l:s:q:r:T:k:V:M:O:U:h")) != -1) {
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
			if (inet_pton(AF_INET, optarg, &in.src) != 1)
				errx(EXIT_SETUP, "source %s: not an IPv4 address", optarg);
			break;
		case 'g':
			parse_ipv4_port("group", optarg, &group);
			break;
		case 'l':
			in.len = (uint32_t)parse_num("length", optarg, 0, MAX_FRAGS_LEN);
			break;
		case 's':
			in.stream = (uint32_t)parse_num("stream id", optarg, 0, UINT32_MAX);
			break;
		case 'q':
			in.first_seq = parse_num("first seq", optarg, 0, UINT64_MAX - MAX_COUNT);
			break;
		case 'r':
			rate = parse_num("rate", optarg, 0, MAX_RATE);
			break;
		case 'T':
			max_s = parse_num("max seconds", optarg, 1, MAX_MAX_S);
			break;
		case 'k':
			in.frags = (unsigned int)parse_num("fragments", optarg, 2, MAX_FRAGS);
			break;
		case 'V':
			in.vid = (uint16_t)parse_num("VLAN ID", optarg, 1, 4094);
			break;
		case 'M':
			parse_mac(optarg, in.dst_mac);
			in.dst_mac_set = true;
			break;
		case 'O':
			in.opts_len = parse_hex(optarg, in.opts, IP_OPTS_MAX);
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
	c = find_case(case_name, C_CASES, case_arg, "inject");
	if (!ifname)
		return usage(EXIT_SETUP);
	if (!is_frags(c) && in.len > MAX_LEN)
		errx(EXIT_SETUP, "length %u: out of range 0..%d for %s", in.len, MAX_LEN, case_arg);
	if (c == C_UDPLEN_SHORT && in.len < 2)
		errx(EXIT_SETUP, "udplen-short needs -l 2 or more, to lie between 8 and the truth");
	if (c == C_TRUNC_PAYLOAD && in.len < TRUNC_PAYLOAD_CUT)
		errx(EXIT_SETUP, "trunc-payload needs -l %d or more, to cut into the payload",
		     TRUNC_PAYLOAD_CUT);
	/* Every fragment but the last a multiple of 8 bytes, none empty. */
	if (is_frags(c) && UDP_HLEN + in.len < FRAG_UNIT * in.frags)
		errx(EXIT_SETUP, "%s: -k %u needs -l %u or more, %u bytes a fragment", case_arg,
		     in.frags, FRAG_UNIT * in.frags - UDP_HLEN, FRAG_UNIT);
	if (c == C_OPTS && !in.opts_len)
		in.opts_len = parse_hex(ROUTER_ALERT_HEX, in.opts, IP_OPTS_MAX);
	if (c != C_OPTS && in.opts_len)
		errx(EXIT_SETUP, "-O goes with the opts case only");
	if (c == C_FRAGS_DUP && in.frags < 3)
		errx(EXIT_SETUP, "frags-dup needs -k 3 or more, to have a middle fragment");
	in.group = group.sin_addr;
	in.port = ntohs(group.sin_port);
	open_wire(&in.wire, ifname);
	stop_on_signals();

	start = now_ns();
	deadline = start + max_s * NSEC_PER_SEC;
	for (uint64_t i = 0; i < count && !stop; i++) {
		if (rate) {
			wake = start + (uint64_t)((unsigned __int128)i * NSEC_PER_SEC / rate);
			if (wake > now_ns())
				sleep_until_ns(wake < deadline ? wake : deadline);
		}
		if (now_ns() >= deadline) {
			warnx("stopped after %" PRIu64 " of %" PRIu64 " frames (-T reached)", i,
			      count);
			break;
		}
		if (is_frags(c)) {
			e = send_fragments(&in, c, in.first_seq + i);
		} else {
			if (c == C_IPV6) {
				len = build_ipv6(&in, in.first_seq + i);
			} else {
				plan_case(&in, c, i, &plan);
				len = build_ipv4(&in, &plan, in.first_seq + i);
			}
			e = send_frame(&in.wire, frame, len);
		}
		if (!e)
			injected++;
		else if (!first_err)
			first_err = e;
	}
	if (first_err == EINVAL && c == C_TRUNC_ETH)
		warnx("%s: the kernel refuses frames shorter than the device's link header"
		      " (dev_validate_header), so no such frame can reach a peer", case_arg);
	else if (first_err)
		warnx("%s: %" PRIu64 " send errors, the first: %s", case_arg, in.wire.errors,
		      strerror(first_err));
	/* injected counts datagrams (all of whose fragments went out), frames every frame. */
	printf("injected=%" PRIu64 " case=%s errors=%" PRIu64 " frames=%" PRIu64 "\n", injected,
	       case_arg, in.wire.errors, in.wire.frames);
	close(in.wire.fd);
	return injected == count ? 0 : 1;
}

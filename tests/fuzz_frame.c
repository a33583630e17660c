// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for parse_frame() and reassembly: hostile frames, alone or in a sequence,
 * checked against what mcr.h promises for each verdict. Headers are re-read here by our own
 * walk and checksums recomputed by our own sum, never by asking parse.c again.
 *
 * Input: one match byte, then frames, each a 7-byte header followed by its bytes.
 *   match   bit 0: only from the source; bit 1: --vlan 100 (else untagged only);
 *           bit 2: the IPv6 group and source (else the IPv4 ones)
 *   header  flags: bit 0 MCR_LINK_NONE, bit 1 vlan_valid, bit 2 csum_ok, bit 3 reasm_expire()
 *           first, bit 4 make the checksums hold; vlan_tci (2 bytes, big-endian); wirelen over
 *           caplen (1); clock step (1); frame length (2, big-endian; the last frame takes what
 *           is left if it says more)
 * Bit 4 rewrites the IPv4 header checksum and a whole datagram's non-zero UDP checksum before
 * parse_frame() sees the frame, so that mutated lengths and addresses get past them. As in
 * ring.c, a pass ends (datagrams handed out are released) before a frame when reasm_crowded();
 * bit 5 carries on regardless, which only a caller ignoring that advice would do.
 * Like mcr's own table, the reassembly table and its clock live across inputs; with
 * MCR_FUZZ_FRESH=1 in the environment each input starts on an empty table at time 0, which is
 * how to replay one saved input alone.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "fuzz_util.h"

#define MATCH_GROUP4	 "239.0.0.1"
#define MATCH_SOURCE4	 "198.19.50.5"
#define MATCH_GROUP6	 "ff3e::1234"
#define MATCH_SOURCE6	 "2001:db8::5"
#define MATCH_PORT	 5000
#define MATCH_VLAN	 100
#define MATCH_HAS_SOURCE 0x01
#define MATCH_HAS_VLAN	 0x02
#define MATCH_IPV6	 0x04

#define FRAME_HDR_LEN	 7 /* bytes before each frame's own */
#define FRAME_LINK_NONE	 0x01
#define FRAME_VLAN_VALID 0x02
#define FRAME_CSUM_OK	 0x04
#define FRAME_EXPIRE	 0x08
#define FRAME_FIX_SUMS	 0x10
#define FRAME_GREEDY	 0x20
#define FRAMES_MAX	 64 /* frames of one input; past these the rest is ignored */

#define ETH_HLEN       14
#define VLAN_HLEN      4
#define IPV4_MIN_HLEN  20
#define IPV6_HLEN      40
#define IPV6_EXT_MAX   12 /* extension headers parse.c follows; more are malformed */
#define EXT_HLEN       8 /* bytes: the least an IPv6 extension header takes */
#define UDP_HLEN       8
#define UDP	       17
#define IP_MAX_PAYLOAD 65535 /* bytes of fragmentable part, however fragmented */

/* One reassembled datagram handed out, to prove it still reads the same until release. */
struct handed {
	const uint8_t *payload;
	uint32_t len;
	uint64_t hash;
};

static struct mcr_reasm table;
static uint64_t now_ms; /* the fuzzer's clock: only ever moves forward */
static bool fresh;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* 16-bit words summed the plain way (RFC 1071); folded, 0xffff when a checksum holds. */
static uint64_t sum16(const uint8_t *p, size_t len, uint64_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold16(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum over the pseudo-header of RFC 768 (alen 4) or RFC 8200 (alen 16). */
static bool udp_sum_holds(const void *src, const void *dst, size_t alen, const uint8_t *udp,
			  uint32_t len)
{
	uint64_t sum = sum16(src, alen, 0);

	sum = sum16(dst, alen, sum);
	sum += UDP + len;
	return fold16(sum16(udp, len, sum)) == 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Set the UDP checksum of len bytes at udp to what makes it hold, unless it says "none". */
static void fix_udp_sum(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t *udp,
			uint32_t len)
{
	uint16_t sum;

	if (!be16(udp + 6))
		return;
	put16(udp + 6, 0);
	sum = (uint16_t)~fold16(sum16(udp, len, sum16(dst, alen, sum16(src, alen, 0)) + UDP + len));
	put16(udp + 6, sum ? sum : 0xffff);
}

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static size_t addr_len(const struct mcr_ip *ip)
{
	return ip->family == AF_INET6 ? 16 : 4;
}

static bool same_addr(const struct mcr_ip *ip, const uint8_t *wire)
{
	return (ip->family == AF_INET || ip->family == AF_INET6) &&
	       !memcmp(&ip->v6, wire, addr_len(ip));
}

/*
 * Where the IP header starts, by our own walk over 802.1Q/802.1ad tags, or -1 when the frame is
 * too short or carries neither IPv4 nor IPv6; *vids counts the non-zero VLAN IDs seen, the one
 * stripped into the ring header included, and *vid is the last of them.
 */
static long ip_offset(const struct mcr_frame *f, unsigned int *vids, uint16_t *vid, int *version)
{
	uint32_t off = ETH_HLEN;
	uint16_t type;

	*vids = 0;
	*vid = 0;
	if (f->vlan_valid && (f->vlan_tci & 0x0fff)) {
		(*vids)++;
		*vid = f->vlan_tci & 0x0fff;
	}
	if (f->link == MCR_LINK_NONE) {
		*version = f->caplen && f->data[0] >> 4 == 6 ? 6 : 4;
		return 0;
	}
	if (f->caplen < ETH_HLEN)
		return -1;
	type = be16(f->data + 12);
	while (type == 0x8100 || type == 0x88a8) {
		if (f->caplen < off + VLAN_HLEN)
			return -1;
		if (be16(f->data + off) & 0x0fff) {
			(*vids)++;
			*vid = be16(f->data + off) & 0x0fff;
		}
		type = be16(f->data + off + 2);
		off += VLAN_HLEN;
	}
	*version = type == 0x86dd ? 6 : 4;
	return type == 0x0800 || type == 0x86dd ? (long)off : -1;
}

/*
 * Make the checksums of a frame hold where its headers lie inside the capture: the IPv4
 * header's, and the UDP checksum of a whole datagram (not a fragment) in IPv4 or IPv6.
 */
static void fix_sums(const struct mcr_frame *f, uint8_t *buf)
{
	unsigned int vids;
	uint16_t vid;
	int version;
	long off = ip_offset(f, &vids, &vid, &version);
	uint32_t avail, ihl, end, hl, at = IPV6_HLEN;
	uint8_t *ip, nh;

	if (off < 0 || f->caplen <= (uint32_t)off)
		return;
	ip = buf + off;
	avail = f->caplen - (uint32_t)off;
	if (version == 4) {
		ihl = (ip[0] & 0x0fu) * 4;
		if (ip[0] >> 4 != 4 || ihl < IPV4_MIN_HLEN || ihl > avail)
			return;
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold16(sum16(ip, ihl, 0)));
		end = be16(ip + 2);
		if (ip[9] == UDP && !(be16(ip + 6) & 0x3fff) && end >= ihl + UDP_HLEN &&
		    end <= avail && be16(ip + ihl + 4) == end - ihl)
			fix_udp_sum(ip + 12, ip + 16, 4, ip + ihl, end - ihl);
		return;
	}
	if (avail < IPV6_HLEN || ip[0] >> 4 != 6)
		return;
	end = IPV6_HLEN + be16(ip + 4);
	if (end > avail)
		return;
	for (nh = ip[6]; nh != UDP;) {
		if ((nh != 0 && nh != 43 && nh != 44 && nh != 60) || at + EXT_HLEN > end)
			return;
		if (nh == 44 && (be16(ip + at + 2) & 0xfff9))
			return;
		hl = nh == 44 ? EXT_HLEN : (ip[at + 1] + 1u) * 8;
		nh = ip[at];
		at += hl;
	}
	if (at + UDP_HLEN <= end && be16(ip + at + 4) == end - at)
		fix_udp_sum(ip + 8, ip + 24, 16, ip + at, end - at);
}

/* What the IPv4 header promises for a datagram relayed whole or a fragment taken in. */
static void check_ipv4(const struct mcr_frame *f, const struct mcr_match *m, uint32_t off,
		       enum mcr_verdict v, const struct mcr_datagram *d)
{
	const uint8_t *ip = f->data + off, *udp;
	uint32_t ihl, tot, wire;
	uint16_t frag;

	CHECK(f->caplen >= off + IPV4_MIN_HLEN);
	ihl = (ip[0] & 0x0fu) * 4;
	tot = be16(ip + 2);
	wire = (f->wirelen > f->caplen ? f->wirelen : f->caplen) - off;
	CHECK(ip[0] >> 4 == 4 && ihl >= IPV4_MIN_HLEN && tot >= ihl);
	CHECK(tot <= wire);
	CHECK(fold16(sum16(ip, ihl, 0)) == 0xffff);
	CHECK(ip[9] == UDP);
	CHECK(same_addr(&m->group, ip + 16));
	CHECK(!m->source.family || same_addr(&m->source, ip + 12));
	CHECK(d->src.family == AF_INET && same_addr(&d->src, ip + 12));
	CHECK(d->dst.family == AF_INET && same_addr(&d->dst, ip + 16));
	CHECK(d->dscp == ip[1] >> 2);
	frag = be16(ip + 6);

	if (v == MCR_FRAGMENT) {
		CHECK(frag & 0x3fff);
		CHECK(tot <= f->caplen - off);
		/* Cut to 8-byte units with more to come; empty or past 64 KiB for reassembly. */
		CHECK(d->payload == ip + ihl && d->len <= tot - ihl && tot - ihl - d->len < 8);
		CHECK(d->frag_id == be16(ip + 4) && d->frag_nh == UDP && d->frag_hlen == ihl);
		CHECK(d->frag_off == (frag & 0x1fff) * 8 && d->frag_more == !!(frag & 0x2000));
		CHECK(d->frag_more ? d->len % 8 == 0 : d->len == tot - ihl);
		return;
	}
	CHECK((frag & 0x3fff) == 0);
	udp = ip + ihl;
	CHECK(udp + UDP_HLEN == d->payload);
	/* A UDP length short of the IP payload is trimmed to, as __udp4_lib_rcv() does. */
	CHECK(tot >= ihl + UDP_HLEN + d->len && be16(udp + 4) == UDP_HLEN + d->len);
	/* Captured through the UDP length: the bytes past it are never read. */
	CHECK(ihl + UDP_HLEN + d->len <= f->caplen - off);
	CHECK(d->dport == MATCH_PORT && be16(udp + 2) == MATCH_PORT && d->sport == be16(udp));
	if (be16(udp + 6) && !f->csum_ok)
		CHECK(udp_sum_holds(ip + 12, ip + 16, 4, udp, UDP_HLEN + d->len));
}

/*
 * What the IPv6 header and its extension chain promise (RFC 8200): hop-by-hop options only
 * first, no routing header, every header inside the payload length, at most IPV6_EXT_MAX of
 * them; an atomic fragment header (offset 0, no more) is passed over, once. A payload length
 * of 0 with hop-by-hop options first takes the frame whole.
 */
static void check_ipv6(const struct mcr_frame *f, const struct mcr_match *m, uint32_t off,
		       enum mcr_verdict v, const struct mcr_datagram *d)
{
	const uint8_t *ip = f->data + off, *p = NULL, *udp;
	uint32_t end, wire, at = IPV6_HLEN;
	uint8_t nh;
	int n = 0;

	CHECK(f->caplen >= off + IPV6_HLEN);
	end = IPV6_HLEN + be16(ip + 4);
	wire = (f->wirelen > f->caplen ? f->wirelen : f->caplen) - off;
	if (end == IPV6_HLEN && ip[6] == 0)
		end = wire;
	CHECK(ip[0] >> 4 == 6 && end > IPV6_HLEN && end <= wire);
	CHECK(same_addr(&m->group, ip + 24));
	CHECK(!m->source.family || same_addr(&m->source, ip + 8));
	CHECK(d->src.family == AF_INET6 && same_addr(&d->src, ip + 8));
	CHECK(d->dst.family == AF_INET6 && same_addr(&d->dst, ip + 24));
	CHECK(d->dscp == (be16(ip) >> 6 & 0x3f));

	for (nh = ip[6]; nh != UDP; n++) {
		CHECK(nh == 0 || nh == 43 || nh == 44 || nh == 60);
		CHECK(n < IPV6_EXT_MAX && (nh != 0 || n == 0) && at + EXT_HLEN <= end);
		p = ip + at;
		if (nh == 44 && (be16(p + 2) & 0xfff9) != 0)
			break;
		if (nh == 44) {
			nh = p[0];
			at += EXT_HLEN;
			p = NULL;
			continue;
		}
		CHECK(at + (p[1] + 1u) * 8 <= end && nh != 43);
		nh = p[0];
		at += (p[1] + 1u) * 8;
		p = NULL;
	}

	if (v == MCR_FRAGMENT) {
		CHECK(p && nh == 44 && end <= f->caplen - off);
		CHECK(d->payload == p + EXT_HLEN && d->len == end - at - EXT_HLEN);
		CHECK(d->frag_id == be32(p + 4) && d->frag_nh == p[0]);
		CHECK(d->frag_off == (be16(p + 2) & 0xfff8) && d->frag_more == (be16(p + 2) & 1));
		CHECK(!d->frag_more || d->len % 8 == 0);
		CHECK(d->frag_off + d->len <= IP_MAX_PAYLOAD);
		return;
	}
	CHECK(!p && nh == UDP && end - at >= UDP_HLEN);
	udp = ip + at;
	CHECK(udp + UDP_HLEN == d->payload);
	/* Trimmed to a shorter UDP length; 0 means all of it (__udp6_lib_rcv()). */
	CHECK(end - at >= UDP_HLEN + d->len && at + UDP_HLEN + d->len <= f->caplen - off);
	CHECK(be16(udp + 4) == UDP_HLEN + d->len ||
	      (!be16(udp + 4) && end - at == UDP_HLEN + d->len));
	CHECK(d->dport == MATCH_PORT && be16(udp + 2) == MATCH_PORT && d->sport == be16(udp));
	/* IPv6 has no "no checksum": zero is a drop. */
	CHECK(be16(udp + 6));
	if (!f->csum_ok)
		CHECK(udp_sum_holds(ip + 8, ip + 24, 16, udp, UDP_HLEN + d->len));
}

/* What RELAY and FRAGMENT both promise: a view inside the capture, of the stream asked for. */
static void check_datagram(const struct mcr_frame *f, const struct mcr_match *m, enum mcr_verdict v,
			   const struct mcr_datagram *d)
{
	const uint8_t *end = f->data + f->caplen;
	unsigned int vids;
	uint16_t vid;
	int version;
	long off = ip_offset(f, &vids, &vid, &version);

	CHECK(d->payload >= f->data && d->payload <= end);
	CHECK(d->len <= (size_t)(end - d->payload));
	CHECK(off >= 0 && f->caplen > (uint32_t)off);
	/* The ring header's tag and the frame's own: one VLAN ID at most, and the one asked for. */
	if (f->link == MCR_LINK_ETHER)
		CHECK(m->vlan ? vids == 1 && vid == m->vlan : vids == 0);
	CHECK(d->dst.family == m->group.family);
	if (m->group.family == AF_INET6) {
		CHECK(version == 6);
		check_ipv6(f, m, (uint32_t)off, v, d);
	} else {
		CHECK(version == 4);
		check_ipv4(f, m, (uint32_t)off, v, d);
	}
}

/* The table between calls: nothing both collecting and handed out, nothing past its bounds. */
static void check_table(void)
{
	bool busy = false;

	for (int i = 0; i < MCR_REASM_SLOTS; i++) {
		const struct mcr_reasm_slot *s = &table.slot[i];

		CHECK(!(reasm_busy(&table, i) && reasm_sent(&table, i)));
		if (!reasm_busy(&table, i))
			continue;
		busy = true;
		CHECK(s->tail >= 1 && s->tail <= MCR_REASM_UNITS * MCR_REASM_UNIT);
		CHECK(s->meat >= 1 && s->meat <= s->tail && s->len >= s->tail);
		CHECK(!(s->first_in && s->last_in) || s->meat < s->len);
	}
	CHECK(reasm_pending(&table) == busy);
}

/* No slot free, and some only wait for their sends: what reasm_crowded() is to say. */
static bool crowded(void)
{
	bool sent = false;

	for (int i = 0; i < MCR_REASM_SLOTS; i++) {
		if (!reasm_busy(&table, i) && !reasm_sent(&table, i))
			return false;
		sent = sent || reasm_sent(&table, i);
	}
	return sent;
}

/* The sends of a pass completed: what was handed out still reads the same, then is released. */
static void end_pass(struct handed *out, unsigned int *n_out)
{
	for (unsigned int i = 0; i < *n_out; i++)
		CHECK(fnv1a(out[i].payload, out[i].len) == out[i].hash);
	*n_out = 0;
	reasm_release(&table);
	for (int i = 0; i < MCR_REASM_SLOTS; i++)
		CHECK(!reasm_sent(&table, i));
	check_table();
}

/*
 * A slot still collecting: units held up to the furthest end and no further, every run
 * starting on a held unit, and the bytes it has filling its units but the last.
 */
static void check_slot(const struct mcr_reasm_slot *s)
{
	uint32_t units = 0, last = 0;

	for (uint32_t u = 0; u < MCR_REASM_UNITS; u++) {
		bool held = s->held[u / 64] >> (u % 64) & 1, run = s->run[u / 64] >> (u % 64) & 1;

		CHECK(held || !run);
		if (held) {
			units++;
			last = u + 1;
		}
	}
	CHECK(last == (s->tail + MCR_REASM_UNIT - 1) / MCR_REASM_UNIT);
	CHECK(s->meat <= units * MCR_REASM_UNIT && s->meat + MCR_REASM_UNIT > units * MCR_REASM_UNIT);
}

/* The bytes of a fragment the slot keeps: those inside its 64 KiB. */
static bool slot_holds(const struct mcr_reasm_slot *s, const struct mcr_datagram *frag)
{
	uint32_t end = frag->frag_off + frag->len;

	if (end > sizeof(s->buf))
		end = sizeof(s->buf);
	return !memcmp(s->buf + frag->frag_off, frag->payload, end - frag->frag_off);
}

static const struct mcr_reasm_slot *slot_of(const struct mcr_datagram *frag)
{
	for (int i = 0; i < MCR_REASM_SLOTS; i++) {
		const struct mcr_reasm_slot *s = &table.slot[i];

		if (reasm_busy(&table, i) && s->id == frag->frag_id && s->src.family == frag->src.family &&
		    !memcmp(&s->src.v6, &frag->src.v6, addr_len(&s->src)) &&
		    !memcmp(&s->dst.v6, &frag->dst.v6, addr_len(&s->dst)))
			return s;
	}
	return NULL;
}

static void check_done(const struct mcr_match *m, const struct mcr_datagram *frag,
		       const struct mcr_datagram *d)
{
	const struct mcr_reasm_slot *s = NULL;
	const uint8_t *udp = d->payload - UDP_HLEN;
	bool v6 = frag->src.family == AF_INET6;
	int k = -1;

	for (int i = 0; i < MCR_REASM_SLOTS; i++)
		if (d->payload >= table.slot[i].buf + UDP_HLEN &&
		    d->payload <= table.slot[i].buf + sizeof(table.slot[i].buf))
			s = &table.slot[k = i];
	CHECK(s && reasm_sent(&table, k) && !reasm_busy(&table, k));
	CHECK(d->len <= (size_t)(s->buf + sizeof(s->buf) - d->payload));
	/* In IPv4 the UDP header starts the datagram; IPv6 options may come before it. */
	CHECK(v6 || udp == s->buf);
	CHECK(!memcmp(s->buf + frag->frag_off, frag->payload, frag->len));
	CHECK(be16(udp + 4) == UDP_HLEN + d->len || (v6 && !be16(udp + 4)));
	CHECK(d->dport == MATCH_PORT && be16(udp + 2) == MATCH_PORT && d->sport == be16(udp));
	CHECK(d->src.family == frag->src.family && same_addr(&d->src, frag->src.v6.s6_addr));
	CHECK(d->dst.family == m->group.family && same_addr(&d->dst, m->group.v6.s6_addr));
	CHECK(!v6 || be16(udp + 6));
	if (be16(udp + 6))
		CHECK(udp_sum_holds(&d->src.v6, &d->dst.v6, v6 ? 16 : 4, udp, UDP_HLEN + d->len));
}

/* A fragment into the table, as ring.c does it: the same datagram in and out. */
static void reassemble(const struct mcr_match *m, struct mcr_datagram *d,
		       struct handed *out, unsigned int *n_out)
{
	const struct mcr_datagram frag = *d;
	const uint64_t done = table.reassembled, invalid = table.invalid;
	const struct mcr_reasm_slot *s;
	enum mcr_reasm_result r = reasm_add(&table, d, m, now_ms, d);

	switch (r) {
	case MCR_REASM_DONE:
		CHECK(table.reassembled == done + 1 && table.invalid == invalid);
		check_done(m, &frag, d);
		out[*n_out].payload = d->payload;
		out[*n_out].len = d->len;
		out[*n_out].hash = fnv1a(d->payload, d->len);
		(*n_out)++;
		break;
	case MCR_REASM_QUEUED:
		CHECK(table.reassembled == done && table.invalid == invalid);
		s = slot_of(&frag);
		CHECK(s);
		CHECK(slot_holds(s, &frag));
		check_slot(s);
		break;
	case MCR_REASM_INVALID:
		CHECK(table.reassembled == done && table.invalid == invalid + 1);
		break;
	case MCR_REASM_DUPLICATE:
		CHECK(table.reassembled == done && table.invalid == invalid);
		s = slot_of(&frag);
		CHECK(s);
		check_slot(s);
		break;
	case MCR_REASM_NO_ROOM:
		/* Refused only for a new datagram while every slot is taken. */
		CHECK(!slot_of(&frag));
		for (int i = 0; i < MCR_REASM_SLOTS; i++)
			CHECK(reasm_busy(&table, i) || reasm_sent(&table, i));
		break;
	default:
		CHECK(!"reasm_add() result out of range");
	}
	check_table();
}

static void run_frame(const uint8_t *hdr, const uint8_t *bytes, uint32_t len,
		      const struct mcr_match *m, struct handed *out, unsigned int *n_out)
{
	struct mcr_frame f = { 0 };
	struct mcr_datagram d;
	enum mcr_verdict v;
	uint8_t *buf = malloc(len); /* exactly sized: a read past the capture is a finding */

	CHECK(buf || !len);
	if (len)
		memcpy(buf, bytes, len);
	f.data = buf;
	f.caplen = len;
	f.link = hdr[0] & FRAME_LINK_NONE ? MCR_LINK_NONE : MCR_LINK_ETHER;
	f.vlan_valid = hdr[0] & FRAME_VLAN_VALID;
	f.csum_ok = hdr[0] & FRAME_CSUM_OK;
	f.vlan_tci = be16(hdr + 1);
	/* A little more on the wire than captured; sometimes much more; once in a while less. */
	if (hdr[3] < 240)
		f.wirelen = len + hdr[3];
	else if (hdr[3] < 255)
		f.wirelen = len + (hdr[3] - 239u) * 4096;
	else
		f.wirelen = len / 2;
	now_ms += hdr[4] < 200 ? hdr[4] : (hdr[4] - 199u) * 250;
	if (hdr[0] & FRAME_EXPIRE) {
		reasm_expire(&table, now_ms);
		check_table();
	}
	CHECK(reasm_crowded(&table) == crowded());
	if (!(hdr[0] & FRAME_GREEDY) && crowded())
		end_pass(out, n_out);

	if (hdr[0] & FRAME_FIX_SUMS)
		fix_sums(&f, buf);

	memset(&d, 0xa5, sizeof(d));
	v = parse_frame(&f, m, &d);
	CHECK(v >= 0 && v < MCR_VERDICTS && mcr_verdict_name[v]);
	if (v == MCR_RELAY || v == MCR_FRAGMENT)
		check_datagram(&f, m, v, &d);
	if (v == MCR_FRAGMENT)
		reassemble(m, &d, out, n_out);
	free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("MCR_FUZZ_FRESH");

	(void)argc;
	(void)argv;
	fresh = e && !strcmp(e, "1");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcr_match m = { 0 };
	struct handed out[FRAMES_MAX];
	unsigned int n_out = 0;
	size_t pos = 1;
	bool v6;

	if (size < 1)
		return 0;
	if (fresh) {
		memset(&table, 0, sizeof(table));
		now_ms = 0;
	}
	v6 = data[0] & MATCH_IPV6;
	m.group.family = v6 ? AF_INET6 : AF_INET;
	CHECK(inet_pton(m.group.family, v6 ? MATCH_GROUP6 : MATCH_GROUP4, &m.group.v6) == 1);
	m.port = MATCH_PORT;
	if (data[0] & MATCH_HAS_SOURCE) {
		m.source.family = m.group.family;
		CHECK(inet_pton(m.source.family, v6 ? MATCH_SOURCE6 : MATCH_SOURCE4,
				&m.source.v6) == 1);
	}
	m.vlan = data[0] & MATCH_HAS_VLAN ? MATCH_VLAN : 0;

	for (int n = 0; n < FRAMES_MAX && size - pos >= FRAME_HDR_LEN; n++) {
		const uint8_t *hdr = data + pos;
		size_t len = be16(hdr + 5);

		pos += FRAME_HDR_LEN;
		if (len > size - pos)
			len = size - pos;
		run_frame(hdr, data + pos, (uint32_t)len, &m, out, &n_out);
		pos += len;
	}

	/* An input is a pass at most: whole datagrams stay put until released at its end. */
	end_pass(out, &n_out);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for the IPv4 reassembly in parse.c: reasm_add(), reasm_expire(), reasm_release()
 * and reasm_pending(). Every datagram is a UDP datagram built here, its checksum from our own
 * RFC 768 helper (checked against a sum worked by hand), cut into fragments by our own
 * helpers. Each fragment is handed over in a buffer of its own that is wiped and freed right
 * after the call, as the packet ring takes a frame back, so a reassembled datagram that still
 * pointed into a fragment would show (and ASan would say where). Expected values come from
 * the spec, never from the code under test.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define IP_HLEN 20		/* bytes: an IPv4 header without options */
#define IP_MAX_PAYLOAD 65515	/* bytes: 65535 less a 20-byte IPv4 header */
#define MTU_DATA 1480		/* bytes of data per fragment at MTU 1500 */
#define GROUP_PORT 5000
#define SPORT 40000
#define T0 100000		/* ms: the clock at the start of a test */
#define SHUFFLE_SEED 0x2545f4914f6cdd1dull
#define FRAGS_LOOP 64		/* the loop tests cut a datagram into 2 to this many pieces */
#define UNITS_MAX (65536 / 8)	/* the most 8-byte pieces a datagram can be cut into */

#define GROUP IP4(239, 0, 0, 1)
#define SOURCE IP4(198, 19, 50, 5)

/* ---------------------------------------------------------------------------------------- */
/* Datagrams and fragments                                                                  */

/* RFC 768: the checksum over pseudo-header and datagram; 0 when a checksum in place is right. */
static uint16_t udp_csum(uint32_t src, uint32_t dst, const uint8_t *udp, uint32_t len)
{
	uint8_t pseudo[12];
	uint32_t sum;

	put16(pseudo, src >> 16);
	put16(pseudo + 2, src);
	put16(pseudo + 4, dst >> 16);
	put16(pseudo + 6, dst);
	put16(pseudo + 8, 17);
	put16(pseudo + 10, len);
	sum = sum16(udp, len, sum16(pseudo, sizeof(pseudo), 0));
	return (uint16_t)~sum;
}

/* A whole UDP datagram as its sender had it: header and payload, total bytes. */
struct dgram {
	uint8_t *udp;
	uint32_t total;		/* IP payload bytes: UDP header and payload */
	uint32_t src, dst;	/* host order */
	uint16_t id;
	uint8_t dscp;
};

/* payload bytes of filler seeded by id, to dport, with the right checksum. */
static struct dgram dgram_make(uint32_t payload, uint16_t id, uint16_t dport)
{
	struct dgram g = { .total = UDP_LEN + payload, .src = SOURCE, .dst = GROUP, .id = id,
			   .dscp = 46 };
	uint16_t c;

	g.udp = malloc(g.total);
	ck_assert_ptr_nonnull(g.udp);
	put16(g.udp, SPORT);
	put16(g.udp + 2, dport);
	put16(g.udp + 4, g.total);
	put16(g.udp + 6, 0);
	for (uint32_t i = 0; i < payload; i++)
		g.udp[UDP_LEN + i] = filler(id, i);
	c = udp_csum(g.src, g.dst, g.udp, g.total);
	put16(g.udp + 6, c ? c : 0xffff);	/* a sum of 0 is sent as all ones */
	return g;
}

/* The checksum again, after a test changed the datagram's bytes. */
static void dgram_recsum(struct dgram *g)
{
	uint16_t c;

	put16(g->udp + 6, 0);
	c = udp_csum(g->src, g->dst, g->udp, g->total);
	put16(g->udp + 6, c ? c : 0xffff);
}

/* One fragment: [off, off + len) of the datagram; more is its MF flag. */
struct piece {
	uint32_t off, len;
	bool more;
};

/*
 * k pieces: all but the last a multiple of 8 bytes, of varying sizes (spread by salt), the last
 * whatever is left and at least one byte. Returns the pieces written.
 */
static unsigned int split_varied(uint32_t total, unsigned int k, unsigned int salt,
				 struct piece *p)
{
	uint32_t off = 0;

	for (unsigned int i = 0; i + 1 < k; i++) {
		/* 8 to 184 bytes, leaving at least 8 per piece still to come (1 for the last). */
		uint32_t left = total - off, len = 8 * (1 + (i * 7 + k + salt) % 23);

		while (len > 8 && (len >= left || left - len < 8 * (k - i - 2) + 1))
			len -= 8;
		p[i] = (struct piece){ off, len, true };
		off += len;
	}
	ck_assert_uint_gt(total, off);
	p[k - 1] = (struct piece){ off, total - off, false };
	return k;
}

/* Pieces of size bytes each (a multiple of 8), the last one the rest; at most cap of them. */
static unsigned int split_even_cap(uint32_t total, uint32_t size, struct piece *p,
				   unsigned int cap)
{
	unsigned int n = 0;
	uint32_t off = 0;

	for (; total - off > size; off += size) {
		ck_assert_uint_lt(n + 1, cap);
		p[n++] = (struct piece){ off, size, true };
	}
	p[n++] = (struct piece){ off, total - off, false };
	return n;
}

#define split_even(total, size, p) split_even_cap(total, size, p, sizeof(p) / sizeof(p[0]))

static void shuffle(struct piece *p, unsigned int n, uint64_t *rng)
{
	for (unsigned int i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(next_random(rng) % (i + 1));
		struct piece t = p[i];

		p[i] = p[j];
		p[j] = t;
	}
}

static void reverse(struct piece *p, unsigned int n)
{
	for (unsigned int i = 0; i < n / 2; i++) {
		struct piece t = p[i];

		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

static const char *result_text(enum mcr_reasm_result r)
{
	switch (r) {
	case MCR_REASM_QUEUED:
		return "QUEUED";
	case MCR_REASM_DONE:
		return "DONE";
	case MCR_REASM_INVALID:
		return "INVALID";
	case MCR_REASM_DUPLICATE:
		return "DUPLICATE";
	case MCR_REASM_NO_ROOM:
		return "NO_ROOM";
	}
	return "out of range";
}

/*
 * reasm_add() for bytes [off, off + len) of g (or, when data is given, those bytes instead),
 * from a buffer of exactly len bytes that is wiped and freed on return.
 */
static uint8_t next_ecn;		/* the ECN field of the next fragment add_bytes() hands over */
static uint16_t next_hlen = IP_HLEN;	/* and its header length */

static enum mcr_reasm_result add_bytes(struct mcr_reasm *t, const struct dgram *g, uint32_t off,
				       uint32_t len, bool more, const uint8_t *data, uint8_t dscp,
				       uint64_t now, struct mcr_datagram *d)
{
	struct mcr_match m = { .port = GROUP_PORT };
	struct mcr_datagram f = { 0 };
	enum mcr_reasm_result r;
	uint8_t *copy = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, data ? data : g->udp + off, len);
	m.group.family = AF_INET;
	m.group.v4.s_addr = htonl(GROUP);
	f.payload = copy;
	f.len = len;
	f.src.family = f.dst.family = AF_INET;
	f.src.v4.s_addr = htonl(g->src);
	f.dst.v4.s_addr = htonl(g->dst);
	f.dscp = dscp;
	f.frag_id = g->id;
	f.frag_nh = 17;		/* IPv4: the fragmentable part is the UDP datagram */
	f.frag_off = (uint16_t)off;
	f.frag_more = more;
	f.frag_hlen = next_hlen;
	f.ecn = next_ecn;
	memset(d, 0xa5, sizeof(*d));
	r = reasm_add(t, &f, &m, now, d);
	memset(copy, 0xdd, len);
	free(copy);
	return r;
}

/* One piece of g; the offset-0 piece carries g's DSCP, the others another one. */
static enum mcr_reasm_result add(struct mcr_reasm *t, const struct dgram *g,
				 const struct piece *p, uint64_t now, struct mcr_datagram *d)
{
	return add_bytes(t, g, p->off, p->len, p->more, NULL, p->off ? 10 : g->dscp, now, d);
}

#define assert_result(got, want)                                                            \
	ck_assert_msg((got) == (want), "result %s, expected %s", result_text(got),          \
		      result_text(want))

/* d is g, whole: every byte, both addresses, both ports, the offset-0 fragment's DSCP. */
static void assert_whole(const struct mcr_datagram *d, const struct dgram *g)
{
	ck_assert_uint_eq(d->len, g->total - UDP_LEN);
	ck_assert_ptr_nonnull(d->payload);
	ck_assert_msg(!memcmp(d->payload, g->udp + UDP_LEN, d->len),
		      "reassembled payload differs from the datagram sent");
	ck_assert_int_eq(d->src.family, AF_INET);
	ck_assert_int_eq(d->dst.family, AF_INET);
	ck_assert_uint_eq(d->src.v4.s_addr, htonl(g->src));
	ck_assert_uint_eq(d->dst.v4.s_addr, htonl(g->dst));
	ck_assert_uint_eq(d->sport, SPORT);
	ck_assert_uint_eq(d->dport, GROUP_PORT);
	ck_assert_uint_eq(d->dscp, g->dscp);
}

static void assert_counters(const struct mcr_reasm *t, uint64_t reassembled, uint64_t timeout,
			    uint64_t evicted, uint64_t invalid)
{
	ck_assert_msg(t->reassembled == reassembled && t->timeout == timeout &&
			      t->evicted == evicted && t->invalid == invalid,
		      "counters reassembled=%lu timeout=%lu evicted=%lu invalid=%lu, expected "
		      "%lu %lu %lu %lu", (unsigned long)t->reassembled, (unsigned long)t->timeout,
		      (unsigned long)t->evicted, (unsigned long)t->invalid,
		      (unsigned long)reassembled, (unsigned long)timeout, (unsigned long)evicted,
		      (unsigned long)invalid);
}

/* A fresh table: zeroed, as the relay's own is. */
static struct mcr_reasm *table(void)
{
	struct mcr_reasm *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	ck_assert(!reasm_pending(t));
	return t;
}

/*
 * Feeds pieces in the order given: every one QUEUED but the last, which must be DONE with
 * the whole datagram.
 */
static void feed_all(struct mcr_reasm *t, const struct dgram *g, const struct piece *p,
		     unsigned int n, uint64_t now)
{
	struct mcr_datagram d;

	for (unsigned int i = 0; i < n; i++) {
		enum mcr_reasm_result r = add(t, g, &p[i], now, &d);

		if (i + 1 < n) {
			ck_assert_msg(r == MCR_REASM_QUEUED, "piece %u of %u [%u, %u): %s", i, n,
				      p[i].off, p[i].off + p[i].len, result_text(r));
			ck_assert(reasm_pending(t));
		} else {
			ck_assert_msg(r == MCR_REASM_DONE, "last piece of %u [%u, %u): %s", n,
				      p[i].off, p[i].off + p[i].len, result_text(r));
			assert_whole(&d, g);
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Whole datagrams                                                                           */

START_TEST(test_csum_helper)
{
	/* 10.0.0.1 -> 239.0.0.1, 40000 -> 5000, no payload: 5713, worked by hand in check_parse. */
	uint8_t udp[11] = { 0x9c, 0x40, 0x13, 0x88, 0x00, 0x08, 0, 0, 'a', 'b', 'c' };

	ck_assert_uint_eq(udp_csum(IP4(10, 0, 0, 1), IP4(239, 0, 0, 1), udp, 8), 0x5713);
	put16(udp + 4, 11);
	ck_assert_uint_eq(udp_csum(IP4(10, 0, 0, 1), IP4(239, 0, 0, 1), udp, 11), 0x92aa);
	put16(udp + 6, 0x92aa);
	ck_assert_uint_eq(udp_csum(IP4(10, 0, 0, 1), IP4(239, 0, 0, 1), udp, 11), 0);
}
END_TEST

/* k = 2 to 64 fragments in order: queued, queued, ..., done. */
START_TEST(test_in_order)
{
	struct mcr_reasm *t = table();
	struct piece p[FRAGS_LOOP];
	unsigned int k = (unsigned int)_i;
	uint32_t total = 0;
	struct dgram g;

	/* Big enough for k pieces of varied sizes. */
	total = 8 * 40 * k + 1 + k % 7;
	g = dgram_make(total - UDP_LEN, (uint16_t)(0x100 + k), GROUP_PORT);
	ck_assert_uint_eq(split_varied(g.total, k, 0, p), k);
	feed_all(t, &g, p, k, T0);
	assert_counters(t, 1, 0, 0, 0);
	ck_assert(!reasm_pending(t));
	reasm_release(t);
	ck_assert(!reasm_pending(t));
	assert_counters(t, 1, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

START_TEST(test_reverse_order)
{
	struct mcr_reasm *t = table();
	struct piece p[FRAGS_LOOP];
	unsigned int k = (unsigned int)_i;
	struct dgram g = dgram_make(8 * 23 * k, (uint16_t)(0x200 + k), GROUP_PORT);

	split_varied(g.total, k, 3, p);
	reverse(p, k);
	ck_assert(!p[0].more);	/* the last fragment first: the total is known at once */
	feed_all(t, &g, p, k, T0);
	assert_counters(t, 1, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/* Several fixed shuffles for each k; the table is reused, released between datagrams. */
START_TEST(test_shuffled)
{
	struct mcr_reasm *t = table();
	struct piece p[FRAGS_LOOP];
	unsigned int k = (unsigned int)_i;
	uint64_t rng = SHUFFLE_SEED + k;

	for (unsigned int round = 0; round < 8; round++) {
		struct dgram g = dgram_make(8 * 11 * k + round, (uint16_t)(round * 100 + k),
					    GROUP_PORT);

		split_varied(g.total, k, round, p);
		shuffle(p, k, &rng);
		feed_all(t, &g, p, k, T0 + round);
		reasm_release(t);
		free(g.udp);
	}
	assert_counters(t, 8, 0, 0, 0);
	free(t);
}
END_TEST

/* Fragments of varied sizes, the data not fragment-aligned at all: 1 to 9 bytes in the last. */
START_TEST(test_sizes)
{
	struct mcr_reasm *t = table();
	struct piece p[FRAGS_LOOP];
	unsigned int n = 0;

	for (uint32_t last = 1; last <= 8; last++) {
		/* 8 + 8 + last: the smallest fragments there are. */
		struct dgram g = dgram_make(8 + last, (uint16_t)last, GROUP_PORT);

		n = split_even(g.total, 8, p);
		ck_assert_uint_eq(n, 3);
		ck_assert_uint_eq(p[2].len, last);
		feed_all(t, &g, p, n, T0);
		reasm_release(t);
		free(g.udp);
	}
	assert_counters(t, 8, 0, 0, 0);
	free(t);
}
END_TEST

/* The largest datagram: 65515 bytes of IP payload, at MTU 1500 and in 8 KiB pieces. */
START_TEST(test_max_size)
{
	struct mcr_reasm *t = table();
	struct piece p[FRAGS_LOOP];
	struct dgram g = dgram_make(IP_MAX_PAYLOAD - UDP_LEN, 0xfffe, GROUP_PORT);
	uint64_t rng = SHUFFLE_SEED;
	unsigned int n;

	ck_assert_uint_eq(g.total, 65515);
	ck_assert_uint_eq(g.total - UDP_LEN, MCR_UDP_MAX_PAYLOAD);
	n = split_even(g.total, MTU_DATA, p);
	ck_assert_uint_eq(n, 45);	/* 44 * 1480 = 65120, and 395 bytes */
	ck_assert_uint_eq(p[44].len, 395);
	feed_all(t, &g, p, n, T0);
	reasm_release(t);
	shuffle(p, n, &rng);
	feed_all(t, &g, p, n, T0);
	reasm_release(t);
	n = split_even(g.total, 8192, p);
	ck_assert_uint_eq(n, 8);
	reverse(p, n);
	feed_all(t, &g, p, n, T0);
	assert_counters(t, 3, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/* The DSCP of the offset-0 fragment, whichever order; addresses and ports from the datagram. */
START_TEST(test_fields)
{
	struct mcr_reasm *t = table();
	struct piece p[4];
	struct dgram g = dgram_make(100, 7, GROUP_PORT);
	struct mcr_datagram d;

	split_even(g.total, 32, p);
	g.dscp = 34;
	feed_all(t, &g, p, 4, T0);
	reasm_release(t);
	g.dscp = 0;
	reverse(p, 4);
	feed_all(t, &g, p, 4, T0);
	reasm_release(t);
	/* The offset-0 fragment in the middle, the others with DSCP 63. */
	g.dscp = 8;
	reverse(p, 4);
	assert_result(add_bytes(t, &g, p[1].off, p[1].len, true, NULL, 63, T0, &d),
		      MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, p[0].off, p[0].len, true, NULL, 8, T0, &d),
		      MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, p[3].off, p[3].len, false, NULL, 63, T0, &d),
		      MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, p[2].off, p[2].len, true, NULL, 63, T0, &d),
		      MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 3, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/*
 * Datagrams told apart by identification, source and destination: the same ID from two
 * sources, or to two groups, interleaved, are two datagrams (the same pieces of one datagram
 * would be duplicates). The one to another group is left to time out: the match's group is
 * parse_frame()'s business, and what reassembly makes of it is not said.
 */
START_TEST(test_keys)
{
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram a = dgram_make(40, 77, GROUP_PORT), b = dgram_make(40, 77, GROUP_PORT);
	struct dgram c = dgram_make(40, 77, GROUP_PORT), e = dgram_make(40, 78, GROUP_PORT);
	struct dgram *all[4] = { &a, &b, &c, &e };
	struct mcr_datagram d;

	b.src = IP4(198, 19, 50, 6);
	c.dst = IP4(239, 0, 0, 2);
	/* Different payloads, so a mix-up shows in the bytes. */
	for (int i = 0; i < 4; i++) {
		for (uint32_t k = UDP_LEN; k < all[i]->total; k++)
			all[i]->udp[k] = (uint8_t)(k * (i + 3));
		dgram_recsum(all[i]);
	}
	split_even(a.total, 16, p);
	for (int piece = 0; piece < 2; piece++)
		for (int i = 0; i < 4; i++)
			assert_result(add(t, all[i], &p[piece], T0, &d), MCR_REASM_QUEUED);
	for (int i = 0; i < 4; i++) {
		if (all[i] == &c)
			continue;
		assert_result(add(t, all[i], &p[2], T0, &d), MCR_REASM_DONE);
		assert_whole(&d, all[i]);
		reasm_release(t);
	}
	assert_counters(t, 3, 0, 0, 0);
	ck_assert(reasm_pending(t));
	reasm_expire(t, T0 + MCR_REASM_TIMEOUT_MS);
	assert_counters(t, 3, 1, 0, 0);
	for (int i = 0; i < 4; i++)
		free(all[i]->udp);
	free(t);
}
END_TEST

/* reasm_pending: only while a datagram is being collected. */
START_TEST(test_pending)
{
	struct mcr_reasm *t = table();
	struct piece p[2];
	struct dgram g = dgram_make(20, 5, GROUP_PORT);
	struct mcr_datagram d;

	split_even(g.total, 16, p);
	ck_assert(!reasm_pending(t));
	reasm_expire(t, T0);
	reasm_release(t);
	assert_counters(t, 0, 0, 0, 0);
	assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_QUEUED);
	ck_assert(reasm_pending(t));
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_DONE);
	ck_assert(!reasm_pending(t));	/* whole, in flight: nothing left to wait for */
	reasm_release(t);
	ck_assert(!reasm_pending(t));
	free(g.udp);
	free(t);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Fragments refused                                                                         */

/* 64 fragments make a datagram; the 65th is one too many, whichever it is. */
/*
 * No limit on fragments but the datagram's size, as in the kernel: 64 KiB at MTU 1000 (976
 * bytes a fragment, 68 of them), and every one of 8190 pieces of 8 bytes, shuffled.
 */
START_TEST(test_many_fragments)
{
	struct mcr_reasm *t = table();
	struct piece *p = calloc(UNITS_MAX, sizeof(*p));
	struct dgram g = dgram_make(MCR_UDP_MAX_PAYLOAD, 65, GROUP_PORT);
	uint64_t rng = SHUFFLE_SEED;
	unsigned int n;

	ck_assert_ptr_nonnull(p);
	n = split_even_cap(g.total, 976, p, UNITS_MAX);
	ck_assert_uint_eq(n, 68);	/* 67 * 976 = 65392, and 123 bytes */
	feed_all(t, &g, p, n, T0);
	reasm_release(t);
	shuffle(p, n, &rng);
	feed_all(t, &g, p, n, T0);
	reasm_release(t);
	n = split_even_cap(g.total, 8, p, UNITS_MAX);
	ck_assert_uint_eq(n, 8190);	/* 8189 * 8 = 65512, and 3 bytes */
	shuffle(p, n, &rng);
	feed_all(t, &g, p, n, T0);
	assert_counters(t, 3, 0, 0, 0);
	free(p);
	free(g.udp);
	free(t);
}
END_TEST

/* An exact duplicate is dropped alone: the datagram still completes, with the first copy. */
START_TEST(test_duplicate)
{
	struct mcr_reasm *t = table();
	struct piece p[4];
	struct dgram g = dgram_make(56, 9, GROUP_PORT);
	struct mcr_datagram d;
	uint8_t junk[24];

	memset(junk, 0xee, sizeof(junk));
	split_even(g.total, 16, p);	/* [0,16) [16,32) [32,48) [48,64) */
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_DUPLICATE);
	assert_result(add(t, &g, &p[3], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[3], T0, &d), MCR_REASM_DUPLICATE);
	/* Same place, other bytes: still a duplicate, and the first copy stays. */
	assert_result(add_bytes(t, &g, p[3].off, p[3].len, false, junk, 10, T0, &d),
		      MCR_REASM_DUPLICATE);
	assert_result(add_bytes(t, &g, p[0].off, p[0].len, true, junk, 10, T0, &d),
		      MCR_REASM_DUPLICATE);
	ck_assert(reasm_pending(t));
	assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_DUPLICATE);
	assert_result(add(t, &g, &p[2], T0, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/*
 * Every shape of overlap with a fragment held at [16, 40): the datagram is dropped whole, and
 * its remaining fragments start over. Touching edges are not an overlap.
 */
struct overlap {
	const char *what;
	uint32_t off, len;
	bool more;
};

static const struct overlap overlaps[] = {
	{ "partial front", 8, 16, true },
	{ "partial back", 32, 16, true },
	{ "containing", 8, 40, true },
	{ "same start, longer", 16, 32, true },
	{ "over two runs side by side", 8, 16, true },
	{ "same end, earlier start", 8, 32, true },
	{ "last fragment over its end", 32, 32, false },
	{ "last fragment containing it", 8, 56, false },
	{ "first fragment over its start", 0, 24, true },
};

#define N_OVERLAPS ((int)(sizeof(overlaps) / sizeof(overlaps[0])))

START_TEST(test_overlap)
{
	const struct overlap *o = &overlaps[_i];
	struct mcr_reasm *t = table();
	/* total 64: [0,16) [16,40) [40,64) */
	const struct piece first = { 0, 16, true }, mid = { 16, 24, true };
	const struct piece last = { 40, 24, false };
	struct dgram g = dgram_make(64 - UDP_LEN, 11, GROUP_PORT);
	struct mcr_datagram d;
	uint8_t junk[64];

	memset(junk, 0xee, sizeof(junk));
	assert_result(add(t, &g, &mid, T0, &d), MCR_REASM_QUEUED);
	/* [8,16) before [16,40): a run of its own, not one with it. */
	if (!strcmp(o->what, "over two runs side by side"))
		assert_result(add_bytes(t, &g, 8, 8, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	ck_assert_msg(add_bytes(t, &g, o->off, o->len, o->more, junk, 10, T0, &d) ==
			      MCR_REASM_INVALID, "%s [%u, %u): not INVALID", o->what, o->off,
		      o->off + o->len);
	assert_counters(t, 0, 0, 0, 1);
	ck_assert(!reasm_pending(t));
	/* The held [16,40) went with it: the other two alone do not complete. */
	assert_result(add(t, &g, &first, T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &last, T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &mid, T0, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 0, 0, 1);
	free(g.udp);
	free(t);
}
END_TEST

/*
 * A fragment inside one run of held data is a duplicate, whatever its edges (the kernel's
 * inet_frag_queue_insert() finds the run and returns IPFRAG_DUP): dropped alone, the first
 * copy kept. Fragments appended in order make one run; [0,16) over [0,8) and [8,16) taken in
 * order is inside it.
 */
START_TEST(test_duplicate_inside)
{
	static const struct piece inside[] = {
		{ 24, 8, true }, { 16, 8, true }, { 24, 16, true }, { 16, 24, true },
	};
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 15, GROUP_PORT);
	struct mcr_datagram d;
	uint8_t junk[64];

	memset(junk, 0xee, sizeof(junk));
	assert_result(add_bytes(t, &g, 16, 24, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	for (unsigned int i = 0; i < sizeof(inside) / sizeof(inside[0]); i++)
		assert_result(add_bytes(t, &g, inside[i].off, inside[i].len, true, junk, 10, T0, &d),
			      MCR_REASM_DUPLICATE);
	assert_result(add_bytes(t, &g, 0, 8, true, NULL, g.dscp, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 8, 8, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 0, 8, true, junk, 10, T0, &d), MCR_REASM_DUPLICATE);
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 0, 0, 0);

	/* In order: [0,8) then [8,16) are one run, and [0,16) lies inside it. */
	assert_result(add_bytes(t, &g, 0, 8, true, NULL, g.dscp, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 8, 8, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 0, 16, true, junk, 10, T0, &d), MCR_REASM_DUPLICATE);
	assert_result(add_bytes(t, &g, 16, 48, false, NULL, 10, T0, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 2, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

START_TEST(test_touching_edges)
{
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 12, GROUP_PORT);
	struct mcr_datagram d;

	/* [16,40) then [8,16) and [40,48) and [0,8) and [48,64) */
	assert_result(add_bytes(t, &g, 16, 24, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 8, 8, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 40, 8, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 0, 8, true, NULL, g.dscp, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 48, 16, false, NULL, 10, T0, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/* Two last fragments that disagree on the total: the datagram is dropped whole. */
START_TEST(test_two_lasts)
{
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 13, GROUP_PORT);
	struct mcr_datagram d;

	/* Total 64, then a last fragment ending at 72. */
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 64, 8, false, g.udp, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 1);
	ck_assert(!reasm_pending(t));
	/* Total 64, then a last fragment ending at 32, before it. */
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 16, 16, false, NULL, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 2);
	ck_assert(!reasm_pending(t));
	/* The same in the other order. */
	assert_result(add_bytes(t, &g, 16, 16, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 3);
	ck_assert(!reasm_pending(t));
	free(g.udp);
	free(t);
}
END_TEST

/* Data past a total already known, and a total short of data already held. */
START_TEST(test_past_total)
{
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 14, GROUP_PORT);
	struct mcr_datagram d;

	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 64, 8, true, g.udp, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 1);
	ck_assert(!reasm_pending(t));
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 128, 16, true, g.udp, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 2);
	/* Held [64,72) with more to come; then a last fragment saying the total is 64. */
	assert_result(add_bytes(t, &g, 64, 8, true, g.udp, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 3);
	ck_assert(!reasm_pending(t));
	/* A non-last fragment ending exactly at the total is no contradiction. */
	assert_result(add_bytes(t, &g, 40, 24, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 32, 8, true, NULL, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 0, 32, true, NULL, g.dscp, T0, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 0, 0, 3);
	free(g.udp);
	free(t);
}
END_TEST

/* An empty fragment kills the datagram (ip_frag_queue(): end == offset), first or last. */
START_TEST(test_empty_kills)
{
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 16, GROUP_PORT);
	struct mcr_datagram d;

	for (int last = 0; last < 2; last++) {
		assert_result(add_bytes(t, &g, 0, 8, true, NULL, g.dscp, T0, &d), MCR_REASM_QUEUED);
		assert_result(add_bytes(t, &g, last ? 64 : 8, 0, !last, NULL, 10, T0, &d),
			      MCR_REASM_INVALID);
		assert_result(add_bytes(t, &g, 8, 56, false, NULL, 10, T0, &d), MCR_REASM_QUEUED);
		reasm_expire(t, T0 + MCR_REASM_TIMEOUT_MS);
	}
	assert_counters(t, 0, 2, 0, 2);
	free(g.udp);
	free(t);
}
END_TEST

/*
 * An IPv4 fragment reaching past 65535 bytes dooms its datagram: the kernel takes it, and the
 * true last fragment then falls short of the length it set.
 */
START_TEST(test_past_64k_dooms)
{
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 17, GROUP_PORT);
	struct mcr_datagram d;

	assert_result(add_bytes(t, &g, 0, 16, true, NULL, g.dscp, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 65528, 16, true, g.udp, 10, T0, &d), MCR_REASM_QUEUED);
	assert_result(add_bytes(t, &g, 16, 48, false, NULL, 10, T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 1);
	ck_assert(!reasm_pending(t));
	free(g.udp);
	free(t);
}
END_TEST

/*
 * 65535 bytes counts the first fragment's header: 65515 bytes of data with a 20-byte header
 * complete, with a 24-byte one (IP options) they do not; 65511 with 24 do.
 */
START_TEST(test_size_with_header)
{
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(IP_MAX_PAYLOAD - UDP_LEN, 18, GROUP_PORT);
	struct dgram h = dgram_make(IP_MAX_PAYLOAD - 4 - UDP_LEN, 19, GROUP_PORT);
	struct piece p[64];
	struct mcr_datagram d;
	unsigned int n;

	n = split_even(g.total, MTU_DATA, p);
	feed_all(t, &g, p, n, T0);
	reasm_release(t);
	next_hlen = IP_HLEN + 4;
	for (unsigned int i = 0; i + 1 < n; i++)
		assert_result(add(t, &g, &p[i], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[n - 1], T0, &d), MCR_REASM_INVALID);
	n = split_even(h.total, MTU_DATA, p);
	feed_all(t, &h, p, n, T0);
	next_hlen = IP_HLEN;
	assert_counters(t, 2, 0, 0, 1);
	free(g.udp);
	free(h.udp);
	free(t);
}
END_TEST

/*
 * ECN (ip_frag_ecn_table): a not-ECT fragment with an ECT or CE one kills the datagram; ECT(0),
 * ECT(1) and CE mix. Fragment 0 carries the first field, fragment 1 the second.
 */
START_TEST(test_ecn_mix)
{
	static const struct {
		uint8_t a, b;
		bool whole;
	} mix[] = {
		{ 0, 0, true }, { 0, 1, false }, { 0, 2, false }, { 0, 3, false }, { 3, 0, false },
		{ 1, 2, true }, { 2, 3, true }, { 1, 3, true }, { 3, 3, true },
	};
	struct mcr_reasm *t = table();
	struct dgram g = dgram_make(64 - UDP_LEN, 20, GROUP_PORT);
	struct mcr_datagram d;

	for (unsigned int i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		next_ecn = mix[i].a;
		assert_result(add_bytes(t, &g, 0, 32, true, NULL, g.dscp, T0, &d), MCR_REASM_QUEUED);
		next_ecn = mix[i].b;
		ck_assert_msg(add_bytes(t, &g, 32, 32, false, NULL, 10, T0, &d) ==
			      (mix[i].whole ? MCR_REASM_DONE : MCR_REASM_INVALID),
			      "ECN %u then %u", mix[i].a, mix[i].b);
		reasm_release(t);
	}
	next_ecn = 0;
	assert_counters(t, 5, 0, 0, 4);
	free(g.udp);
	free(t);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* The rebuilt datagram                                                                     */

/* Whole, but not the datagram the match asked for, or not a sound one: dropped whole. */
START_TEST(test_rebuilt_wrong_port)
{
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram g = dgram_make(200, 21, GROUP_PORT + 1);
	struct mcr_datagram d;

	split_even(g.total, 80, p);
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[2], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 1);
	ck_assert(!reasm_pending(t));
	free(g.udp);
	/* The group's port as the source port is no match either. */
	g = dgram_make(200, 22, 6000);
	put16(g.udp, GROUP_PORT);
	dgram_recsum(&g);
	split_even(g.total, 80, p);
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[2], T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 2);
	free(g.udp);
	free(t);
}
END_TEST

/* One byte wrong anywhere in the datagram: the checksum catches it. */
START_TEST(test_rebuilt_bad_checksum)
{
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram g = dgram_make(201, 23, GROUP_PORT);
	struct mcr_datagram d;
	uint32_t flips[] = { 0, 1, 6, 7, 8, 100, 208 };	/* sport, checksum, payload */

	split_even(g.total, 80, p);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		g.udp[flips[i]] ^= 0x20;
		assert_result(add(t, &g, &p[2], T0, &d), MCR_REASM_QUEUED);
		assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_QUEUED);
		assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_INVALID);
		g.udp[flips[i]] ^= 0x20;
		assert_counters(t, 0, 0, 0, i + 1);
	}
	/* From another source than the sum was made for: the pseudo-header catches it. */
	g.src = IP4(198, 19, 50, 9);
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[2], T0, &d), MCR_REASM_INVALID);
	assert_counters(t, 0, 0, 0, 8);
	/* The right sum for this source: done. */
	dgram_recsum(&g);
	feed_all(t, &g, p, 3, T0);
	assert_counters(t, 1, 0, 0, 8);
	free(g.udp);
	free(t);
}
END_TEST

/* No checksum (0): nothing to verify, relayed whatever the bytes. ffff for a sum of 0 holds. */
START_TEST(test_rebuilt_no_checksum)
{
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram g = dgram_make(201, 24, GROUP_PORT);
	uint16_t sum;

	split_even(g.total, 80, p);
	put16(g.udp + 6, 0);
	g.udp[150] ^= 0x5a;
	feed_all(t, &g, p, 3, T0);
	reasm_release(t);
	/* Payload bytes 0-1 chosen so that the right checksum is 0, sent as ffff. */
	put16(g.udp + UDP_LEN, 0);
	put16(g.udp + 6, 0);
	sum = (uint16_t)~udp_csum(g.src, g.dst, g.udp, g.total);
	put16(g.udp + UDP_LEN, (uint16_t)~sum);
	ck_assert_uint_eq(udp_csum(g.src, g.dst, g.udp, g.total), 0);
	put16(g.udp + 6, 0xffff);
	feed_all(t, &g, p, 3, T0);
	assert_counters(t, 2, 0, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/* The UDP length must be the reassembled total: shorter, longer, 0, under 8. */
START_TEST(test_rebuilt_udp_length)
{
	static const int32_t delta[] = { -1, 1, -8, 8, -200, 1000 };
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram g = dgram_make(201, 25, GROUP_PORT);
	struct mcr_datagram d;
	uint64_t invalid = 0;

	split_even(g.total, 80, p);
	for (size_t i = 0; i < sizeof(delta) / sizeof(delta[0]) + 2; i++) {
		uint32_t len = i < sizeof(delta) / sizeof(delta[0]) ? g.total + delta[i] :
				(i % 2 ? 0 : 7);
		uint16_t c;

		/* A checksum right for the bytes as they are, so only the length is wrong. */
		put16(g.udp + 4, len);
		put16(g.udp + 6, 0);
		c = udp_csum(g.src, g.dst, g.udp, g.total);
		put16(g.udp + 6, c ? c : 0xffff);
		for (int k = 0; k < 3; k++)
			assert_result(add(t, &g, &p[k], T0, &d),
				      k < 2 ? MCR_REASM_QUEUED : MCR_REASM_INVALID);
		assert_counters(t, 0, 0, 0, ++invalid);
		ck_assert(!reasm_pending(t));
	}
	put16(g.udp + 4, g.total);
	dgram_recsum(&g);
	feed_all(t, &g, p, 3, T0);
	assert_counters(t, 1, 0, 0, invalid);
	free(g.udp);
	free(t);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Time, eviction and room                                                                   */

/* 1000 ms from the first fragment: at 999 still waiting, at 1000 given up. */
START_TEST(test_timeout_expire)
{
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram g = dgram_make(100, 31, GROUP_PORT);
	struct mcr_datagram d;

	split_even(g.total, 40, p);
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_QUEUED);
	reasm_expire(t, T0 + MCR_REASM_TIMEOUT_MS - 1);
	ck_assert(reasm_pending(t));
	assert_counters(t, 0, 0, 0, 0);
	reasm_expire(t, T0 + MCR_REASM_TIMEOUT_MS);
	ck_assert(!reasm_pending(t));
	assert_counters(t, 0, 1, 0, 0);
	reasm_expire(t, T0 + 5 * MCR_REASM_TIMEOUT_MS);	/* counted once */
	assert_counters(t, 0, 1, 0, 0);
	/* What was held is gone: the other two alone do not complete. */
	assert_result(add(t, &g, &p[1], T0 + 1000, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[2], T0 + 1000, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[0], T0 + 1000, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 1, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/* reasm_add() expires too: a fragment 999 ms after the first joins it, 1000 ms after does not. */
START_TEST(test_timeout_on_add)
{
	struct mcr_reasm *t = table();
	struct piece p[3];
	struct dgram g = dgram_make(100, 32, GROUP_PORT);
	struct mcr_datagram d;

	split_even(g.total, 40, p);
	assert_result(add(t, &g, &p[0], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0 + 999, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[2], T0 + 999, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 1, 0, 0, 0);
	reasm_release(t);

	assert_result(add(t, &g, &p[0], T0 + 2000, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0 + 2600, &d), MCR_REASM_QUEUED);
	/* 1000 ms after the first fragment, 400 after the latest: the first one counts. */
	assert_result(add(t, &g, &p[2], T0 + 3000, &d), MCR_REASM_QUEUED);
	assert_counters(t, 1, 1, 0, 0);
	ck_assert(reasm_pending(t));	/* [p2] alone, started at T0 + 3000 */
	assert_result(add(t, &g, &p[0], T0 + 3999, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g, &p[1], T0 + 3999, &d), MCR_REASM_DONE);
	assert_whole(&d, &g);
	assert_counters(t, 2, 1, 0, 0);
	free(g.udp);
	free(t);
}
END_TEST

/* Each datagram has its own clock. */
START_TEST(test_timeout_each)
{
	struct mcr_reasm *t = table();
	struct piece p[2];
	struct dgram a = dgram_make(20, 33, GROUP_PORT), b = dgram_make(20, 34, GROUP_PORT);
	struct mcr_datagram d;

	split_even(a.total, 16, p);
	assert_result(add(t, &a, &p[0], T0, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &b, &p[0], T0 + 500, &d), MCR_REASM_QUEUED);
	reasm_expire(t, T0 + 1000);
	assert_counters(t, 0, 1, 0, 0);
	ck_assert(reasm_pending(t));
	assert_result(add(t, &b, &p[1], T0 + 1499, &d), MCR_REASM_DONE);
	assert_whole(&d, &b);
	assert_result(add(t, &a, &p[1], T0 + 1499, &d), MCR_REASM_QUEUED);
	reasm_release(t);
	reasm_expire(t, T0 + 2498);
	assert_counters(t, 1, 1, 0, 0);
	reasm_expire(t, T0 + 2499);
	assert_counters(t, 1, 2, 0, 0);
	ck_assert(!reasm_pending(t));
	free(a.udp);
	free(b.udp);
	free(t);
}
END_TEST

/* Datagram i of n: payload and ID its own. */
static struct dgram *dgrams(unsigned int n, uint32_t payload)
{
	struct dgram *g = calloc(n, sizeof(*g));

	ck_assert_ptr_nonnull(g);
	for (unsigned int i = 0; i < n; i++)
		g[i] = dgram_make(payload + i % 32, (uint16_t)(1000 + i), GROUP_PORT);
	return g;
}

/* Three pieces: [0,40) [40,80) [80,total), total 81 to 120. */
static void split3(const struct dgram *g, struct piece p[3])
{
	ck_assert_uint_gt(g->total, 80);
	ck_assert_uint_le(g->total, 120);
	ck_assert_uint_eq(split_even_cap(g->total, 40, p, 3), 3);
}

static void dgrams_free(struct dgram *g, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(g[i].udp);
	free(g);
}

/*
 * One datagram more than there are slots begins, one a millisecond: the last finds no room
 * (the kernel too refuses rather than evicts), and the others all complete. Then it has room.
 */
START_TEST(test_refuse_new)
{
	const unsigned int n = MCR_REASM_SLOTS + 1;
	struct mcr_reasm *t = table();
	struct dgram *g = dgrams(n, 80);
	struct piece p[3];
	struct mcr_datagram d;

	for (unsigned int i = 0; i < n; i++) {
		split3(&g[i], p);
		assert_result(add(t, &g[i], &p[0], T0 + i, &d),
			      i + 1 < n ? MCR_REASM_QUEUED : MCR_REASM_NO_ROOM);
	}
	split3(&g[n - 1], p);
	assert_result(add(t, &g[n - 1], &p[1], T0 + 100, &d), MCR_REASM_NO_ROOM);
	for (unsigned int i = 0; i + 1 < n; i++) {
		split3(&g[i], p);
		assert_result(add(t, &g[i], &p[1], T0 + 100, &d), MCR_REASM_QUEUED);
		assert_result(add(t, &g[i], &p[2], T0 + 100, &d), MCR_REASM_DONE);
		assert_whole(&d, &g[i]);
		reasm_release(t);
	}
	assert_counters(t, n - 1, 0, 0, 0);
	split3(&g[n - 1], p);
	feed_all(t, &g[n - 1], p, 3, T0 + 200);
	assert_counters(t, n, 0, 0, 0);
	dgrams_free(g, n);
	free(t);
}
END_TEST

/*
 * Datagrams of 3 fragments interleaved round-robin, one fragment a millisecond: 17 of them
 * (which with 16 slots that evicted the oldest never completed one), and as many as there are
 * slots. All complete.
 */
START_TEST(test_round_robin)
{
	const unsigned int n = _i ? MCR_REASM_SLOTS : 17, k = 3;
	struct mcr_reasm *t = table();
	struct dgram *g = dgrams(n, 80);
	struct piece p[3];
	struct mcr_datagram d;
	uint64_t now = T0;

	for (unsigned int j = 0; j < k; j++) {
		for (unsigned int i = 0; i < n; i++) {
			split3(&g[i], p);
			assert_result(add(t, &g[i], &p[j], now++, &d),
				      j + 1 < k ? MCR_REASM_QUEUED : MCR_REASM_DONE);
			if (j + 1 == k) {
				assert_whole(&d, &g[i]);
				reasm_release(t);
			}
		}
	}
	assert_counters(t, n, 0, 0, 0);
	ck_assert(!reasm_pending(t));
	dgrams_free(g, n);
	free(t);
}
END_TEST

/*
 * One more than there are slots, round-robin: the last is refused until the others complete,
 * then takes a slot with its last fragment and times out, never evicting one.
 */
START_TEST(test_round_robin_full)
{
	const unsigned int n = MCR_REASM_SLOTS + 1, k = 3;
	struct mcr_reasm *t = table();
	struct dgram *g = dgrams(n, 80);
	struct piece p[3];
	struct mcr_datagram d;
	uint64_t now = T0;

	for (unsigned int j = 0; j < k; j++) {
		for (unsigned int i = 0; i < n; i++) {
			enum mcr_reasm_result want = j + 1 < k ? MCR_REASM_QUEUED : MCR_REASM_DONE;

			if (i + 1 == n)
				want = j + 1 < k ? MCR_REASM_NO_ROOM : MCR_REASM_QUEUED;
			split3(&g[i], p);
			assert_result(add(t, &g[i], &p[j], now++, &d), want);
			if (want == MCR_REASM_DONE)
				reasm_release(t);
		}
	}
	assert_counters(t, n - 1, 0, 0, 0);
	reasm_expire(t, now + MCR_REASM_TIMEOUT_MS);
	assert_counters(t, n - 1, 1, 0, 0);
	ck_assert(!reasm_pending(t));
	dgrams_free(g, n);
	free(t);
}
END_TEST

/*
 * Every slot's datagram whole and in flight: no room for one more until reasm_release().
 * Meanwhile their payloads stay as they were.
 */
START_TEST(test_no_room)
{
	const unsigned int n = MCR_REASM_SLOTS + 1;
	struct mcr_reasm *t = table();
	struct dgram *g = dgrams(n, 80);
	struct mcr_datagram done[MCR_REASM_SLOTS], d;
	struct piece p[3];

	for (unsigned int i = 0; i < MCR_REASM_SLOTS; i++) {
		split3(&g[i], p);
		assert_result(add(t, &g[i], &p[1], T0, &d), MCR_REASM_QUEUED);
		assert_result(add(t, &g[i], &p[0], T0, &d), MCR_REASM_QUEUED);
		assert_result(add(t, &g[i], &p[2], T0, &done[i]), MCR_REASM_DONE);
	}
	ck_assert(!reasm_pending(t));
	split3(&g[n - 1], p);
	for (int k = 0; k < 3; k++)
		assert_result(add(t, &g[n - 1], &p[k], T0 + 1, &d), MCR_REASM_NO_ROOM);
	/* A fragment of a datagram already whole has no room either. */
	split3(&g[3], p);
	assert_result(add(t, &g[3], &p[0], T0 + 1, &d), MCR_REASM_NO_ROOM);
	/* Nor does the timer free a datagram in flight. */
	reasm_expire(t, T0 + 10 * MCR_REASM_TIMEOUT_MS);
	split3(&g[n - 1], p);
	assert_result(add(t, &g[n - 1], &p[0], T0 + 10 * MCR_REASM_TIMEOUT_MS, &d),
		      MCR_REASM_NO_ROOM);
	assert_counters(t, MCR_REASM_SLOTS, 0, 0, 0);
	ck_assert(!reasm_pending(t));
	for (unsigned int i = 0; i < MCR_REASM_SLOTS; i++)
		assert_whole(&done[i], &g[i]);
	reasm_release(t);
	feed_all(t, &g[n - 1], p, 3, T0 + 10 * MCR_REASM_TIMEOUT_MS);
	assert_counters(t, MCR_REASM_SLOTS + 1, 0, 0, 0);
	dgrams_free(g, n);
	free(t);
}
END_TEST

/* All but one in flight and one being collected: a new datagram is refused, not evicting it. */
START_TEST(test_no_room_but_one)
{
	const unsigned int n = MCR_REASM_SLOTS + 1;
	struct mcr_reasm *t = table();
	struct dgram *g = dgrams(n, 80);
	struct mcr_datagram d;
	struct piece p[3];

	for (unsigned int i = 0; i < MCR_REASM_SLOTS - 1; i++) {
		split3(&g[i], p);
		feed_all(t, &g[i], p, 3, T0);
	}
	split3(&g[n - 2], p);
	assert_result(add(t, &g[n - 2], &p[0], T0 + 1, &d), MCR_REASM_QUEUED);
	split3(&g[n - 1], p);
	assert_result(add(t, &g[n - 1], &p[0], T0 + 2, &d), MCR_REASM_NO_ROOM);
	split3(&g[n - 2], p);
	assert_result(add(t, &g[n - 2], &p[1], T0 + 2, &d), MCR_REASM_QUEUED);
	assert_result(add(t, &g[n - 2], &p[2], T0 + 2, &d), MCR_REASM_DONE);
	assert_whole(&d, &g[n - 2]);
	assert_counters(t, MCR_REASM_SLOTS, 0, 0, 0);
	dgrams_free(g, n);
	free(t);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */

static Suite *reasm_suite(void)
{
	Suite *s = suite_create("reassembly");
	TCase *whole = tcase_create("whole"), *refused = tcase_create("refused");
	TCase *rebuilt = tcase_create("rebuilt"), *room = tcase_create("time and room");

	tcase_add_test(whole, test_csum_helper);
	tcase_add_loop_test(whole, test_in_order, 2, FRAGS_LOOP + 1);
	tcase_add_loop_test(whole, test_reverse_order, 2, FRAGS_LOOP + 1);
	tcase_add_loop_test(whole, test_shuffled, 2, FRAGS_LOOP + 1);
	tcase_add_test(whole, test_sizes);
	tcase_add_test(whole, test_max_size);
	tcase_add_test(whole, test_fields);
	tcase_add_test(whole, test_keys);
	tcase_add_test(whole, test_pending);

	tcase_add_test(whole, test_many_fragments);
	tcase_add_test(refused, test_duplicate);
	tcase_add_loop_test(refused, test_overlap, 0, N_OVERLAPS);
	tcase_add_test(refused, test_duplicate_inside);
	tcase_add_test(refused, test_touching_edges);
	tcase_add_test(refused, test_two_lasts);
	tcase_add_test(refused, test_past_total);
	tcase_add_test(refused, test_empty_kills);
	tcase_add_test(refused, test_past_64k_dooms);
	tcase_add_test(refused, test_size_with_header);
	tcase_add_test(refused, test_ecn_mix);

	tcase_add_test(rebuilt, test_rebuilt_wrong_port);
	tcase_add_test(rebuilt, test_rebuilt_bad_checksum);
	tcase_add_test(rebuilt, test_rebuilt_no_checksum);
	tcase_add_test(rebuilt, test_rebuilt_udp_length);

	tcase_add_test(room, test_timeout_expire);
	tcase_add_test(room, test_timeout_on_add);
	tcase_add_test(room, test_timeout_each);
	tcase_add_test(room, test_refuse_new);
	tcase_add_loop_test(room, test_round_robin, 0, 2);
	tcase_add_test(room, test_round_robin_full);
	tcase_add_test(room, test_no_room);
	tcase_add_test(room, test_no_room_but_one);

	suite_add_tcase(s, whole);
	suite_add_tcase(s, refused);
	suite_add_tcase(s, rebuilt);
	suite_add_tcase(s, room);
	return s;
}

int main(void)
{
	return run_suites(srunner_create(reasm_suite()), "check_reasm");
}

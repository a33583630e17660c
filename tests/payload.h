/* SPDX-License-Identifier: MIT */
/*
 * payload.h - the test datagram, the contract between sender, inject and receiver.
 *
 * All integers little-endian:
 *   0..3    magic "MCRT"
 *   4..7    stream id
 *   8..15   sequence number, from 0
 *   16..23  send time, CLOCK_MONOTONIC ns, taken just before the send
 *   24..27  payload length in bytes
 *   28..31  FNV-1a 32 over bytes 0..27, then bytes 32..len-1
 *   32..    filler from a xorshift64 seeded by (stream id, sequence), so the receiver can
 *           regenerate and compare every byte
 *
 * Also the few helpers the three tools share: checked numbers, addresses, the clock.
 */
#ifndef MCR_TESTS_PAYLOAD_H
#define MCR_TESTS_PAYLOAD_H

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAYLOAD_MAGIC "MCRT"
#define PAYLOAD_HDR_LEN 32	/* bytes before the filler */
#define PAYLOAD_MAX_LEN 65507	/* bytes: the largest IPv4 UDP payload */

#define FNV1A32_OFFSET 0x811c9dc5u
#define FNV1A32_PRIME 0x01000193u

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_USEC 1000ULL

#define EXIT_SETUP 2		/* bad command line or a socket we could not set up */

/* What payload_check() found. */
enum payload_verdict {
	PAYLOAD_OK,
	PAYLOAD_FOREIGN,	/* shorter than the header or no magic: not ours at all */
	PAYLOAD_CORRUPT,	/* ours, but length, hash or a filler byte is wrong */
};

struct payload_info {
	uint32_t stream;
	uint64_t seq;
	uint64_t sent_ns;
	uint32_t len;
};

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* splitmix64's finaliser, so neighbouring sequence numbers get unrelated fillers. */
static inline uint64_t payload_seed(uint32_t stream, uint64_t seq)
{
	uint64_t z = (seq ^ ((uint64_t)stream * 0xd1b54a32d192ed03ULL)) + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 1;	/* xorshift never leaves 0 */
}

static inline uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Bytes 32..len-1; with len < 32 (inject's short cases) the whole payload, no header. */
static inline void payload_fill(uint8_t *buf, uint32_t len, uint32_t stream, uint64_t seq)
{
	uint64_t state = payload_seed(stream, seq);
	uint32_t off = len >= PAYLOAD_HDR_LEN ? PAYLOAD_HDR_LEN : 0;
	uint8_t word[8];

	for (; off + 8 <= len; off += 8)
		put_le64(buf + off, xorshift64(&state));
	if (off < len) {
		put_le64(word, xorshift64(&state));
		memcpy(buf + off, word, len - off);
	}
}

static inline bool payload_fill_matches(const uint8_t *buf, uint32_t len, uint32_t stream,
					uint64_t seq)
{
	uint64_t state = payload_seed(stream, seq);
	uint32_t off = PAYLOAD_HDR_LEN;
	uint8_t word[8];

	for (; off + 8 <= len; off += 8)
		if (get_le64(buf + off) != xorshift64(&state))
			return false;
	if (off < len) {
		put_le64(word, xorshift64(&state));
		if (memcmp(buf + off, word, len - off))
			return false;
	}
	return true;
}

static inline uint32_t fnv1a32(uint32_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= FNV1A32_PRIME;
	}
	return h;
}

/* The hash skips its own four bytes (28..31). */
static inline uint32_t payload_hash(const uint8_t *buf, uint32_t len)
{
	uint32_t h = fnv1a32(FNV1A32_OFFSET, buf, 28);

	return fnv1a32(h, buf + PAYLOAD_HDR_LEN, len - PAYLOAD_HDR_LEN);
}

/* Header and hash over a filler already in place; len >= PAYLOAD_HDR_LEN. */
static inline void payload_stamp(uint8_t *buf, uint32_t len, uint32_t stream, uint64_t seq,
				 uint64_t sent_ns)
{
	memcpy(buf, PAYLOAD_MAGIC, 4);
	put_le32(buf + 4, stream);
	put_le64(buf + 8, seq);
	put_le64(buf + 16, sent_ns);
	put_le32(buf + 24, len);
	put_le32(buf + 28, payload_hash(buf, len));
}

static inline void payload_build(uint8_t *buf, uint32_t len, uint32_t stream, uint64_t seq,
				 uint64_t sent_ns)
{
	payload_fill(buf, len, stream, seq);
	if (len >= PAYLOAD_HDR_LEN)
		payload_stamp(buf, len, stream, seq, sent_ns);
}

/* Checks every byte of a received datagram of n bytes; fills info unless FOREIGN. */
static inline enum payload_verdict payload_check(const uint8_t *buf, uint32_t n,
						 struct payload_info *info)
{
	if (n < PAYLOAD_HDR_LEN || memcmp(buf, PAYLOAD_MAGIC, 4))
		return PAYLOAD_FOREIGN;
	info->stream = get_le32(buf + 4);
	info->seq = get_le64(buf + 8);
	info->sent_ns = get_le64(buf + 16);
	info->len = get_le32(buf + 24);
	if (info->len != n || get_le32(buf + 28) != payload_hash(buf, n) ||
	    !payload_fill_matches(buf, n, info->stream, info->seq))
		return PAYLOAD_CORRUPT;
	return PAYLOAD_OK;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC reaches t; a signal just ends the sleep early. */
static inline void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* A decimal number in [min, max], or exit naming the option and the bad value. */
static inline unsigned long long parse_num(const char *what, const char *s,
					   unsigned long long min, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		errx(EXIT_SETUP, "%s %s: not a number", what, s);
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		errx(EXIT_SETUP, "%s %s: not a number", what, s);
	if (v < min || v > max)
		errx(EXIT_SETUP, "%s %s: out of range %llu..%llu", what, s, min, max);
	return v;
}

/* "239.0.0.1:5000" -> sin; port 1..65535. */
static inline void parse_ipv4_port(const char *what, const char *s, struct sockaddr_in *sin)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN], *end;
	unsigned long port;
	size_t n;

	if (!colon || (n = colon - s) == 0 || n >= sizeof(host))
		errx(EXIT_SETUP, "%s %s: want IPV4:PORT, e.g. 239.0.0.1:5000", what, s);
	memcpy(host, s, n);
	host[n] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		errx(EXIT_SETUP, "%s %s: %s is not an IPv4 address", what, s, host);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end != '\0' || colon[1] < '0' || colon[1] > '9' || port < 1 || port > 65535)
		errx(EXIT_SETUP, "%s %s: port %s is not a number in 1..65535", what, s, colon + 1);
	sin->sin_port = htons((uint16_t)port);
}

#endif

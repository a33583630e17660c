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
 *   28..31  hash of the whole payload, with bytes 28..31 read as 0: its 8-byte words w[i]
 *           (the last one zero-padded) feed four lanes, lane[i % 4] = (lane[i % 4] ^ w[i]) * K;
 *           then h = len, h = (h ^ lane[j]) * K for j = 0..3, and the hash is the low 32 bits
 *           of h ^ (h >> 32) (K = HASH_K, the lanes start at HASH_SEED0..3)
 *   32..    filler: 8-byte words s, s + W, s + 2W, ... (mod 2^64, W = FILL_W, the last word
 *           cut short), s from splitmix64 of (stream id, sequence), so the receiver can
 *           regenerate and compare every byte
 *
 * Hash and filler go a word at a time, four multiplies in flight, so that sender and receiver
 * spend well under 1 us on a 1472-byte datagram and are not what a benchmark measures.
 *
 * Also the few helpers the three tools share: checked numbers, addresses, the clock.
 */
#ifndef MCR_TESTS_PAYLOAD_H
#define MCR_TESTS_PAYLOAD_H

#include <arpa/inet.h>
#include <endian.h>
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

#define HASH_K 0x9fb21c651e98df25ULL	/* odd, so each lane step is a bijection */
#define HASH_SEED0 0x243f6a8885a308d3ULL	/* lane seeds: digits of pi */
#define HASH_SEED1 0x13198a2e03707344ULL
#define HASH_SEED2 0xa4093822299f31d0ULL
#define HASH_SEED3 0x082efa98ec4e6c89ULL
#define FILL_W 0x9e3779b97f4a7c15ULL	/* the filler's step: 2^64 / golden ratio */

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

/* An unaligned little-endian 64-bit load; one instruction on x86 and arm64. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* splitmix64's finaliser, so neighbouring sequence numbers get unrelated fillers. */
static inline uint64_t payload_seed(uint32_t stream, uint64_t seq)
{
	uint64_t z = (seq ^ ((uint64_t)stream * 0xd1b54a32d192ed03ULL)) + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bytes 32..len-1; with len < 32 (inject's short cases) the whole payload, no header. */
static inline void payload_fill(uint8_t *buf, uint32_t len, uint32_t stream, uint64_t seq)
{
	uint64_t w = payload_seed(stream, seq);
	uint32_t off = len >= PAYLOAD_HDR_LEN ? PAYLOAD_HDR_LEN : 0;
	uint8_t word[8];

	for (; off + 8 <= len; off += 8, w += FILL_W)
		store_le64(buf + off, w);
	if (off < len) {
		store_le64(word, w);
		memcpy(buf + off, word, len - off);
	}
}

/* No early exit: the loop stays branch-free, and a mismatch is rare. */
static inline bool payload_fill_matches(const uint8_t *buf, uint32_t len, uint32_t stream,
					uint64_t seq)
{
	uint64_t w = payload_seed(stream, seq), diff = 0;
	uint32_t off = PAYLOAD_HDR_LEN;
	uint8_t word[8];

	for (; off + 8 <= len; off += 8, w += FILL_W)
		diff |= load_le64(buf + off) ^ w;
	if (off < len) {
		store_le64(word, w);
		if (memcmp(buf + off, word, len - off))
			return false;
	}
	return diff == 0;
}

/* See the layout above; len >= PAYLOAD_HDR_LEN. */
static inline uint32_t payload_hash(const uint8_t *buf, uint32_t len)
{
	uint64_t lane[4] = { HASH_SEED0, HASH_SEED1, HASH_SEED2, HASH_SEED3 }, h = len;
	uint8_t word[8] = { 0 };
	uint32_t off, j;

	lane[0] = (lane[0] ^ load_le64(buf)) * HASH_K;
	lane[1] = (lane[1] ^ load_le64(buf + 8)) * HASH_K;
	lane[2] = (lane[2] ^ load_le64(buf + 16)) * HASH_K;
	lane[3] = (lane[3] ^ (load_le64(buf + 24) & 0xffffffffULL)) * HASH_K;	/* 28..31 as 0 */
	for (off = PAYLOAD_HDR_LEN; off + 32 <= len; off += 32)
		for (j = 0; j < 4; j++)
			lane[j] = (lane[j] ^ load_le64(buf + off + 8 * j)) * HASH_K;
	for (j = 0; off + 8 <= len; off += 8, j++)
		lane[j] = (lane[j] ^ load_le64(buf + off)) * HASH_K;
	if (off < len) {
		memcpy(word, buf + off, len - off);
		lane[j] = (lane[j] ^ load_le64(word)) * HASH_K;
	}
	for (j = 0; j < 4; j++)
		h = (h ^ lane[j]) * HASH_K;
	return (uint32_t)(h ^ (h >> 32));
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

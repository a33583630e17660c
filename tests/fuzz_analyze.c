// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for --analyze: hostile datagrams into analyze_datagram(), checked against
 * what mcr.h promises of its counters after each one. Counts are re-derived here only where a
 * promise says how: lost is expected less received; received never passes expected.
 *
 * Input: one mode byte (low two bits: 1 rtp, 2 ts, else auto), then datagrams, each a 2-byte
 * big-endian length and its bytes (the last takes what is left if it says more). Each input
 * starts on fresh state: the state is the caller's, and the caller here is the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "fuzz_util.h"

#define DGRAM_HDR_LEN 2

static struct mcr_analysis an;
static uint8_t copy[65536];

/* What must hold after every datagram, given the counters before it. */
static void check_counters(const struct mcr_stream_counters *before, uint32_t len)
{
	const struct mcr_stream_counters *c = &an.c;

	CHECK(c->rtp_received <= c->rtp_expected);
	CHECK(c->rtp_lost == c->rtp_expected - c->rtp_received);
	CHECK(c->rtp_received >= before->rtp_received);
	CHECK(c->rtp_expected >= before->rtp_expected);
	CHECK(c->rtp_duplicate >= before->rtp_duplicate);
	CHECK(c->rtp_reordered >= before->rtp_reordered);
	CHECK(c->rtp_resets >= before->rtp_resets);
	CHECK(c->rtp_ssrc_changes >= before->rtp_ssrc_changes);
	CHECK(c->rtp_invalid >= before->rtp_invalid);
	/* One datagram: at most 2 counted on a (re)start, or one gap short of MAX_DROPOUT. */
	CHECK(c->rtp_received - before->rtp_received <= 2);
	CHECK(c->rtp_expected - before->rtp_expected < MCR_RTP_MAX_DROPOUT);
	/* TS: per 188 bytes one packet or one sync error at most, and one for a ragged end. */
	CHECK((c->ts_packets - before->ts_packets) + (c->ts_sync_errors - before->ts_sync_errors) <=
	      len / MCR_TS_PACKET_LEN + 1);
	CHECK(c->ts_cc_errors - before->ts_cc_errors <= c->ts_packets - before->ts_packets);
	CHECK(c->ts_pids <= MCR_TS_PIDS && c->ts_pids >= before->ts_pids);
	CHECK(c->ts_pids <= c->ts_packets);
	/* Once known, the kind holds; rtp mode knows from the start. */
	CHECK(before->kind == MCR_STREAM_UNKNOWN || c->kind == before->kind);
	CHECK(c->kind <= MCR_STREAM_RTP_TS);
	if (an.mode == MCR_ANALYZE_RTP)
		CHECK(c->kind == MCR_STREAM_RTP);
	if (an.mode == MCR_ANALYZE_TS)
		CHECK(c->kind != MCR_STREAM_RTP);
	if (c->kind == MCR_STREAM_TS)
		CHECK(c->rtp_received == 0 && c->rtp_invalid == 0);
	if (c->kind == MCR_STREAM_RTP)
		CHECK(c->ts_packets == 0 && c->ts_sync_errors == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum mcr_analyze modes[4] = { MCR_ANALYZE_AUTO, MCR_ANALYZE_RTP,
						   MCR_ANALYZE_TS, MCR_ANALYZE_AUTO };
	size_t at = 1;

	if (size < 1)
		return 0;
	analyze_init(&an, modes[data[0] & 3]);
	while (at + DGRAM_HDR_LEN <= size) {
		uint32_t len = (uint32_t)data[at] << 8 | data[at + 1];
		struct mcr_stream_counters before = an.c;
		uint32_t off, plen;
		uint8_t *d;

		at += DGRAM_HDR_LEN;
		if (len > size - at)
			len = (uint32_t)(size - at);
		/* Exactly its length, so ASan sees any read past the datagram. */
		d = malloc(len ? len : 1);
		CHECK(d);
		memcpy(d, data + at, len);
		memcpy(copy, d, len);
		analyze_datagram(&an, d, len);
		CHECK(!memcmp(copy, d, len));	/* never changes what is relayed */
		check_counters(&before, len);
		if (rtp_payload(d, len, &off, &plen))
			CHECK(off >= MCR_RTP_HLEN && off <= len && plen <= len - off);
		free(d);
		at += len;
	}
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for --analyze: the option, the RTP header walk, RTP sequence accounting (RFC 3550
 * A.1's rules), MPEG-TS continuity and sync (ETSI TR 101 290 1.2 and 1.4) and the auto rule.
 * Datagrams are built byte by byte here; expected counts come from the standards and mcr(1).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mcr.h"

#define BASE "-i", "eth0", "-g", "239.0.0.1:5000", "-o", "198.18.2.2:6000"
#define SSRC_A 0x11223344u
#define SSRC_B 0x55667788u
#define PT_DYNAMIC 96
#define TS_LEN 188
#define TS_PER_DATAGRAM 7
#define PID_VIDEO 0x100
#define PID_AUDIO 0x101
#define PID_PAT 0x000

/* ---------------------------------------------------------------------------------------- */
/* Builders                                                                                  */

/* An RTP v2 header at p: payload type pt, seq, ssrc, no CSRC, no extension, no padding. */
static uint32_t rtp_header(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = pt;
	put16(p + 2, seq);
	put32(p + 4, 90000u * seq);
	put32(p + 8, ssrc);
	return MCR_RTP_HLEN;
}

/* A TS packet at p: PID, continuity counter, adaptation_field_control bits, discontinuity. */
static void ts_packet(uint8_t *p, uint16_t pid, uint8_t cc, bool payload, bool adapt, bool disc)
{
	memset(p, 0xff, TS_LEN);
	p[0] = MCR_TS_SYNC;
	p[1] = (uint8_t)(pid >> 8 & 0x1f);
	p[2] = (uint8_t)pid;
	p[3] = (uint8_t)((adapt ? 0x20 : 0) | (payload ? 0x10 : 0) | (cc & 0x0f));
	if (adapt) {
		p[4] = payload ? 7 : 183;	/* adaptation_field_length */
		p[5] = disc ? 0x80 : 0x00;
	}
}

static struct mcr_analysis an;

static void start(enum mcr_analyze mode)
{
	memset(&an, 0xa5, sizeof(an));
	analyze_init(&an, mode);
}

/* One RTP datagram with a small opaque payload. */
static void rtp(uint16_t seq, uint32_t ssrc)
{
	uint8_t d[MCR_RTP_HLEN + 20];

	rtp_header(d, PT_DYNAMIC, seq, ssrc);
	memset(d + MCR_RTP_HLEN, 0x5a, 20);
	analyze_datagram(&an, d, sizeof(d));
}

/* RTP datagrams for each number in seqs, one source. */
static void rtp_list(uint32_t ssrc, const uint32_t *seqs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rtp((uint16_t)seqs[i], ssrc);
}

#define RTP_SEQ(ssrc, ...)                                                                     \
	rtp_list(ssrc, (const uint32_t[]){ __VA_ARGS__ },                                      \
		 sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

/* received, expected, lost, duplicate, reordered, resets as one line for a failure message. */
#define ASSERT_RTP(rx, ex, lo, du, re, rs)                                                     \
	ck_assert_msg(an.c.rtp_received == (rx) && an.c.rtp_expected == (ex) &&                \
			      an.c.rtp_lost == (lo) && an.c.rtp_duplicate == (du) &&               \
			      an.c.rtp_reordered == (re) && an.c.rtp_resets == (rs),               \
		      "received %llu expected %llu lost %llu duplicate %llu reordered %llu "     \
		      "resets %llu; want %d %d %d %d %d %d",                                     \
		      (unsigned long long)an.c.rtp_received,                                     \
		      (unsigned long long)an.c.rtp_expected, (unsigned long long)an.c.rtp_lost,  \
		      (unsigned long long)an.c.rtp_duplicate,                                    \
		      (unsigned long long)an.c.rtp_reordered,                                    \
		      (unsigned long long)an.c.rtp_resets, rx, ex, lo, du, re, rs)

/* A datagram of n TS packets on one PID with counters from cc on, each with a payload. */
static uint32_t ts_run(uint8_t *d, uint16_t pid, uint8_t cc, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		ts_packet(d + i * TS_LEN, pid, (uint8_t)(cc + i), true, false, false);
	return n * TS_LEN;
}

/* TS packets each alone in a datagram: PID and CC pairs. */
static void ts_one(uint16_t pid, uint8_t cc, bool payload, bool adapt, bool disc)
{
	uint8_t d[TS_LEN];

	ts_packet(d, pid, cc, payload, adapt, disc);
	analyze_datagram(&an, d, sizeof(d));
}

static void ts_ccs(uint16_t pid, const uint32_t *ccs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ts_one(pid, (uint8_t)ccs[i], true, false, false);
}

#define TS_CC(pid, ...)                                                                        \
	ts_ccs(pid, (const uint32_t[]){ __VA_ARGS__ },                                         \
	       sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

/* ---------------------------------------------------------------------------------------- */
/* --analyze                                                                                 */

START_TEST(test_option_default_off)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE), MCR_PARSE_RUN);
	ck_assert_int_eq(cfg.analyze, MCR_ANALYZE_OFF);
}
END_TEST

START_TEST(test_option_accepted)
{
	static const struct {
		const char *text;
		enum mcr_analyze mode;
	} forms[] = { { "rtp", MCR_ANALYZE_RTP }, { "ts", MCR_ANALYZE_TS },
		      { "auto", MCR_ANALYZE_AUTO } };
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], attached[32];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		ck_assert_int_eq(PARSE(&cfg, err, BASE, "--analyze", forms[i].text), MCR_PARSE_RUN);
		ck_assert_int_eq(cfg.analyze, forms[i].mode);
		snprintf(attached, sizeof(attached), "--analyze=%s", forms[i].text);
		ck_assert_int_eq(PARSE(&cfg, err, attached, BASE), MCR_PARSE_RUN);
		ck_assert_int_eq(cfg.analyze, forms[i].mode);
	}
}
END_TEST

static const char *const bad_modes[] = { "", "RTP", "Ts", "none", "off", "rtp,ts", "tsx",
					 " auto", "mpegts", "1" };

START_TEST(test_option_refused)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN], want[64];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--analyze", bad_modes[_i]), MCR_PARSE_ERROR);
	snprintf(want, sizeof(want), "--analyze '%s': read the stream as rtp, ts or auto",
		 bad_modes[_i]);
	ck_assert_msg(strstr(err, want) && strstr(err, HINT), "\"%s\"", err);
}
END_TEST

START_TEST(test_option_misuse)
{
	struct mcr_config cfg;
	char err[MCR_ERR_LEN];

	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--analyze", "rtp", "--analyze", "ts"),
			 MCR_PARSE_ERROR);
	ck_assert_msg(strstr(err, "--analyze: given twice"), "\"%s\"", err);
	ck_assert_int_eq(PARSE(&cfg, err, BASE, "--analyze"), MCR_PARSE_ERROR);
	ck_assert_msg(strstr(err, "--analyze: missing value"), "\"%s\"", err);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* The RTP header: RFC 3550 5.1, 5.3.1                                                       */

START_TEST(test_rtp_payload_forms)
{
	uint8_t d[256];
	uint32_t off = 0, len = 0;

	memset(d, 0x33, sizeof(d));
	rtp_header(d, PT_DYNAMIC, 7, SSRC_A);
	ck_assert(rtp_payload(d, 100, &off, &len));
	ck_assert_uint_eq(off, 12);
	ck_assert_uint_eq(len, 88);
	ck_assert(rtp_payload(d, 12, &off, &len));	/* an empty payload is RTP too */
	ck_assert_uint_eq(len, 0);
	/* Two CSRCs: 8 bytes more. */
	d[0] = 0x82;
	ck_assert(rtp_payload(d, 100, &off, &len));
	ck_assert_uint_eq(off, 20);
	ck_assert_uint_eq(len, 80);
	/* CSRC count 1, an extension of 3 words: 12 + 4 + 4 + 12. */
	d[0] = 0x91;
	put16(d + 16, 0xbede);
	put16(d + 18, 3);
	ck_assert(rtp_payload(d, 100, &off, &len));
	ck_assert_uint_eq(off, 32);
	ck_assert_uint_eq(len, 68);
	/* And 5 bytes of padding, the count in the last byte. */
	d[0] = 0xb1;
	d[99] = 5;
	ck_assert(rtp_payload(d, 100, &off, &len));
	ck_assert_uint_eq(off, 32);
	ck_assert_uint_eq(len, 63);
	/* Padding of the whole payload leaves nothing, and is allowed. */
	d[99] = 68;
	ck_assert(rtp_payload(d, 100, &off, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_rtp_payload_refused)
{
	uint8_t d[64];
	uint32_t off, len;

	memset(d, 0, sizeof(d));
	rtp_header(d, PT_DYNAMIC, 7, SSRC_A);
	ck_assert(!rtp_payload(d, 11, &off, &len));	/* shorter than the fixed header */
	ck_assert(!rtp_payload(d, 0, &off, &len));
	d[0] = 0x40;					/* version 1 */
	ck_assert(!rtp_payload(d, 64, &off, &len));
	d[0] = 0xc0;					/* version 3 */
	ck_assert(!rtp_payload(d, 64, &off, &len));
	d[0] = 0x8f;					/* 15 CSRCs: 72 bytes */
	ck_assert(!rtp_payload(d, 64, &off, &len));
	ck_assert(rtp_payload(d, 72, &off, &len));
	d[0] = 0x90;					/* an extension header cut */
	ck_assert(!rtp_payload(d, 15, &off, &len));
	put16(d + 14, 20);				/* 80 bytes of extension */
	ck_assert(!rtp_payload(d, 64, &off, &len));
	d[0] = 0xa0;					/* padding count 0 */
	d[63] = 0;
	ck_assert(!rtp_payload(d, 64, &off, &len));
	d[63] = 53;					/* more than the 52-byte payload */
	ck_assert(!rtp_payload(d, 64, &off, &len));
	d[63] = 52;
	ck_assert(rtp_payload(d, 64, &off, &len));
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* RTP sequence                                                                              */

START_TEST(test_rtp_in_order)
{
	start(MCR_ANALYZE_RTP);
	for (uint16_t s = 1000; s < 1100; s++)
		rtp(s, SSRC_A);
	ASSERT_RTP(100, 100, 0, 0, 0, 0);
	ck_assert_uint_eq(an.c.rtp_ssrc_changes, 0);
	ck_assert_uint_eq(an.c.rtp_invalid, 0);
	ck_assert_int_eq(an.c.kind, MCR_STREAM_RTP);
}
END_TEST

START_TEST(test_rtp_wrap)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5);
	ASSERT_RTP(12, 12, 0, 0, 0, 0);
	/* Around the wrap many times: 200000 numbers, none lost. */
	for (uint32_t s = 6; s < 200006; s++)
		rtp((uint16_t)s, SSRC_A);
	ASSERT_RTP(200012, 200012, 0, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_loss)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2, 3, 7, 8, 10);	/* 4, 5, 6 and 9 never come */
	ASSERT_RTP(6, 10, 4, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_loss_across_wrap)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 65533, 65534, 2, 3);	/* 65535, 0 and 1 never come */
	ASSERT_RTP(4, 7, 3, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_largest_gap_is_loss)
{
	/* MAX_DROPOUT - 1 ahead is still the same sequence: 2998 lost. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 100, 101, 101 + 2999, 101 + 3000);
	ASSERT_RTP(4, 3002, 2998, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_duplicate)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2, 3, 3, 4, 5, 2, 5, 5);	/* 3 again, 2 late again, 5 twice more */
	ASSERT_RTP(5, 5, 0, 4, 0, 0);
}
END_TEST

START_TEST(test_rtp_duplicate_far_behind)
{
	/* The window is 128 numbers in two words: numbers 64 to 99 behind are in the second. */
	start(MCR_ANALYZE_RTP);
	for (uint16_t s = 1; s <= 200; s++)
		rtp(s, SSRC_A);
	RTP_SEQ(SSRC_A, 200 - 70, 200 - 99, 200 - 64, 200 - 63);
	ASSERT_RTP(200, 200, 0, 4, 0, 0);
	/* Moved up by 64 or more at once: what was at the top is now in the second word. */
	RTP_SEQ(SSRC_A, 200 + 70, 200, 200 + 70 - 68);
	ASSERT_RTP(202, 270, 68, 5, 1, 0);
}
END_TEST

START_TEST(test_rtp_duplicate_across_wrap)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 65534, 65535, 0, 65535, 1, 0);
	ASSERT_RTP(4, 4, 0, 2, 0, 0);
}
END_TEST

START_TEST(test_rtp_reordered)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2, 4, 3, 5, 8, 6, 7, 9);	/* 3 late by one, 6 and 7 late */
	ASSERT_RTP(9, 9, 0, 0, 3, 0);
	/* Late, then again: the second is a duplicate. */
	RTP_SEQ(SSRC_A, 11, 10, 10);
	ASSERT_RTP(11, 11, 0, 1, 4, 0);
}
END_TEST

START_TEST(test_rtp_reordered_across_wrap)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 65533, 65534, 0, 65535, 2, 1);
	ASSERT_RTP(6, 6, 0, 0, 2, 0);
}
END_TEST

START_TEST(test_rtp_late_window)
{
	/* 99 behind is late within MAX_MISORDER; 100 behind is out of sequence, ignored. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1000, 1001, 1200);	/* 198 lost: 1002 to 1199 */
	ASSERT_RTP(3, 201, 198, 0, 0, 0);
	RTP_SEQ(SSRC_A, 1200 - 99);
	ASSERT_RTP(4, 201, 197, 0, 1, 0);
	RTP_SEQ(SSRC_A, 1200 - 100);
	ASSERT_RTP(4, 201, 197, 0, 1, 0);
	/* And the sequence goes on from 1200, with no reset. */
	RTP_SEQ(SSRC_A, 1201);
	ASSERT_RTP(5, 202, 197, 0, 1, 0);
}
END_TEST

START_TEST(test_rtp_before_start_ignored)
{
	/* Numbers from before the source was first counted say nothing about loss. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 500, 501, 502, 499, 498);
	ASSERT_RTP(3, 3, 0, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_reset)
{
	/* A jump of MAX_DROPOUT or more: the first datagram is held, the second confirms. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2, 3, 4, 5);
	RTP_SEQ(SSRC_A, 5 + 3000);
	ASSERT_RTP(5, 5, 0, 0, 0, 0);
	RTP_SEQ(SSRC_A, 5 + 3001, 5 + 3002, 5 + 3004);
	ASSERT_RTP(9, 10, 1, 0, 0, 1);
}
END_TEST

START_TEST(test_rtp_reset_backwards)
{
	/* A sender that starts over from a lower number: more than MAX_MISORDER behind. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 40000, 40001, 40002, 10, 11, 12);
	ASSERT_RTP(6, 6, 0, 0, 0, 1);
	/* Over the wrap too: from 12 back to 65000, 548 behind. */
	RTP_SEQ(SSRC_A, 65000, 65001);
	ASSERT_RTP(8, 8, 0, 0, 0, 2);
}
END_TEST

START_TEST(test_rtp_stray_is_not_reset)
{
	/* One datagram far out, then the sequence goes on: ignored, no reset, no loss. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2, 3, 30000, 4, 5, 30001);
	ASSERT_RTP(5, 5, 0, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_probation)
{
	/* RFC 3550 A.1: a new source counts once two datagrams come in sequence. */
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 100);
	ASSERT_RTP(0, 0, 0, 0, 0, 0);
	RTP_SEQ(SSRC_A, 300);			/* not in sequence: still on probation */
	ASSERT_RTP(0, 0, 0, 0, 0, 0);
	RTP_SEQ(SSRC_A, 301);			/* 300 and 301 counted */
	ASSERT_RTP(2, 2, 0, 0, 0, 0);
	/* Probation across the wrap. */
	RTP_SEQ(SSRC_B, 65535, 0);
	ck_assert_uint_eq(an.c.rtp_received, 4);
	ck_assert_uint_eq(an.c.rtp_lost, 0);
}
END_TEST

START_TEST(test_rtp_ssrc_change)
{
	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2, 3, 4, 5);
	RTP_SEQ(SSRC_B, 7000, 7001, 7002);
	ck_assert_uint_eq(an.c.rtp_ssrc_changes, 1);
	ASSERT_RTP(8, 8, 0, 0, 0, 0);
	/* Back to the first: its sequence goes on where it was, a gap of one is one loss. */
	RTP_SEQ(SSRC_A, 7, 8);
	ck_assert_uint_eq(an.c.rtp_ssrc_changes, 2);
	ASSERT_RTP(10, 11, 1, 0, 0, 0);
}
END_TEST

START_TEST(test_rtp_table_full)
{
	/* MCR_RTP_SSRCS sources fit; one more replaces the least recent, which starts over. */
	start(MCR_ANALYZE_RTP);
	for (uint32_t i = 0; i <= MCR_RTP_SSRCS; i++)
		RTP_SEQ(SSRC_A + i, 10, 11);
	ck_assert_uint_eq(an.c.rtp_received, 2 * (MCR_RTP_SSRCS + 1));
	ck_assert_uint_eq(an.c.rtp_ssrc_changes, MCR_RTP_SSRCS);
	RTP_SEQ(SSRC_A, 12);		/* on probation again: not counted */
	ck_assert_uint_eq(an.c.rtp_received, 2 * (MCR_RTP_SSRCS + 1));
	RTP_SEQ(SSRC_A, 13);
	ck_assert_uint_eq(an.c.rtp_received, 2 * (MCR_RTP_SSRCS + 1) + 2);
	/* The last source is still known: in sequence at once. */
	RTP_SEQ(SSRC_A + MCR_RTP_SSRCS, 12);
	ck_assert_uint_eq(an.c.rtp_received, 2 * (MCR_RTP_SSRCS + 1) + 3);
	ck_assert_uint_eq(an.c.rtp_lost, 0);
}
END_TEST

START_TEST(test_rtp_invalid)
{
	uint8_t d[40];

	start(MCR_ANALYZE_RTP);
	RTP_SEQ(SSRC_A, 1, 2);
	memset(d, 0, sizeof(d));
	d[0] = 0x40;				/* version 1 */
	analyze_datagram(&an, d, sizeof(d));
	analyze_datagram(&an, d, 0);
	ck_assert_uint_eq(an.c.rtp_invalid, 2);
	ASSERT_RTP(2, 2, 0, 0, 0, 0);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* MPEG-TS                                                                                   */

START_TEST(test_ts_in_order)
{
	uint8_t d[TS_LEN * TS_PER_DATAGRAM];

	start(MCR_ANALYZE_TS);
	/* 40 datagrams, counters 0..15 around and around, on two PIDs. */
	for (unsigned int i = 0; i < 40; i++) {
		ts_run(d, i % 2 ? PID_AUDIO : PID_VIDEO, (uint8_t)(i / 2 * TS_PER_DATAGRAM),
		       TS_PER_DATAGRAM);
		analyze_datagram(&an, d, sizeof(d));
	}
	ck_assert_int_eq(an.c.kind, MCR_STREAM_TS);
	ck_assert_uint_eq(an.c.ts_packets, 40 * TS_PER_DATAGRAM);
	ck_assert_uint_eq(an.c.ts_cc_errors, 0);
	ck_assert_uint_eq(an.c.ts_sync_errors, 0);
	ck_assert_uint_eq(an.c.ts_pids, 2);
	ck_assert_uint_eq(an.c.rtp_received, 0);
}
END_TEST

START_TEST(test_ts_cc_errors_per_pid)
{
	start(MCR_ANALYZE_TS);
	TS_CC(PID_VIDEO, 14, 15, 0, 1);
	TS_CC(PID_AUDIO, 3, 4);
	TS_CC(PID_VIDEO, 3);			/* 2 missing: one error on video */
	TS_CC(PID_AUDIO, 5, 6);			/* audio unaffected */
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	TS_CC(PID_VIDEO, 4, 5);			/* resynchronised at 3 */
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	TS_CC(PID_AUDIO, 5);			/* backwards: an error */
	TS_CC(PID_VIDEO, 7, 9, 11);		/* three more */
	ck_assert_uint_eq(an.c.ts_cc_errors, 5);
	ck_assert_uint_eq(an.c.ts_pids, 2);
}
END_TEST

START_TEST(test_ts_duplicate_once)
{
	start(MCR_ANALYZE_TS);
	TS_CC(PID_VIDEO, 1, 2, 2, 3);		/* one duplicate: allowed */
	ck_assert_uint_eq(an.c.ts_cc_errors, 0);
	TS_CC(PID_VIDEO, 3, 3);			/* three times: the third is an error */
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	TS_CC(PID_VIDEO, 4, 4, 5, 5, 6);	/* a duplicate each, once each: allowed */
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
}
END_TEST

START_TEST(test_ts_no_payload_does_not_count)
{
	start(MCR_ANALYZE_TS);
	TS_CC(PID_VIDEO, 5);
	ts_one(PID_VIDEO, 5, false, true, false);	/* adaptation field only, same counter */
	ts_one(PID_VIDEO, 11, false, true, false);	/* adaptation only, any counter */
	ts_one(PID_VIDEO, 9, false, false, false);	/* reserved control 00: no payload */
	TS_CC(PID_VIDEO, 6);
	ck_assert_uint_eq(an.c.ts_cc_errors, 0);
	/* Adaptation field and payload: counts like any packet with a payload. */
	ts_one(PID_VIDEO, 7, true, true, false);
	ts_one(PID_VIDEO, 9, true, true, false);
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	/* A PID seen only without payload is still a PID seen. */
	ts_one(PID_PAT, 0, false, true, false);
	ck_assert_uint_eq(an.c.ts_pids, 2);
}
END_TEST

START_TEST(test_ts_discontinuity_indicator)
{
	start(MCR_ANALYZE_TS);
	TS_CC(PID_VIDEO, 1, 2);
	ts_one(PID_VIDEO, 9, true, true, true);		/* signalled: no error */
	TS_CC(PID_VIDEO, 10);
	ck_assert_uint_eq(an.c.ts_cc_errors, 0);
	ts_one(PID_VIDEO, 3, true, true, false);	/* the same jump unsignalled */
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	/* Signalled on a packet without payload: the next payload's counter starts over. */
	ts_one(PID_VIDEO, 0, false, true, true);
	TS_CC(PID_VIDEO, 12, 13);
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	/* An adaptation field of length 0 has no flags: the byte after it is payload. */
	{
		uint8_t d[TS_LEN];

		ts_packet(d, PID_VIDEO, 2, true, true, false);
		d[4] = 0;
		d[5] = 0x80;
		analyze_datagram(&an, d, sizeof(d));
	}
	ck_assert_uint_eq(an.c.ts_cc_errors, 2);
}
END_TEST

START_TEST(test_ts_null_pid_ignored)
{
	start(MCR_ANALYZE_TS);
	TS_CC(MCR_TS_NULL_PID, 0, 0, 0, 7, 3, 3, 3, 15);
	ck_assert_uint_eq(an.c.ts_cc_errors, 0);
	ck_assert_uint_eq(an.c.ts_packets, 8);
	ck_assert_uint_eq(an.c.ts_pids, 1);
}
END_TEST

START_TEST(test_ts_sync_errors)
{
	uint8_t d[TS_LEN * TS_PER_DATAGRAM + 5];

	memset(d, 0, sizeof(d));
	start(MCR_ANALYZE_TS);
	ts_run(d, PID_VIDEO, 0, TS_PER_DATAGRAM);
	analyze_datagram(&an, d, TS_LEN * TS_PER_DATAGRAM);
	ck_assert_int_eq(an.c.kind, MCR_STREAM_TS);
	/* The third packet's sync byte lost: it is skipped, so the video counter skips one. */
	ts_run(d, PID_VIDEO, 7, TS_PER_DATAGRAM);
	d[2 * TS_LEN] = 0x46;
	analyze_datagram(&an, d, TS_LEN * TS_PER_DATAGRAM);
	ck_assert_uint_eq(an.c.ts_sync_errors, 1);
	ck_assert_uint_eq(an.c.ts_packets, 13);
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	ck_assert_uint_eq(an.c.ts_pids, 1);
	/* A ragged end: 5 bytes that are no packet. */
	ts_run(d, PID_VIDEO, 14, TS_PER_DATAGRAM);
	analyze_datagram(&an, d, sizeof(d));
	ck_assert_uint_eq(an.c.ts_sync_errors, 2);
	ck_assert_uint_eq(an.c.ts_packets, 20);
	/* Shorter than a packet. */
	analyze_datagram(&an, d, 100);
	ck_assert_uint_eq(an.c.ts_sync_errors, 3);
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
}
END_TEST

START_TEST(test_ts_pids_seen)
{
	start(MCR_ANALYZE_TS);
	TS_CC(PID_PAT, 0);
	TS_CC(0x0011, 0);
	TS_CC(PID_VIDEO, 0);
	TS_CC(PID_AUDIO, 0);
	TS_CC(0x1ffe, 0);
	TS_CC(PID_PAT, 1);
	TS_CC(PID_VIDEO, 1, 2);
	ck_assert_uint_eq(an.c.ts_pids, 5);
	/* Every PID there is: 8192. */
	for (uint32_t pid = 0; pid < MCR_TS_PIDS; pid++)
		TS_CC((uint16_t)pid, 5);
	ck_assert_uint_eq(an.c.ts_pids, MCR_TS_PIDS);
}
END_TEST

START_TEST(test_ts_inside_rtp)
{
	/* RTP with two CSRCs, an extension and padding around 7 TS packets: both analysed. */
	uint8_t d[12 + 8 + 8 + TS_LEN * TS_PER_DATAGRAM + 3];
	uint32_t seq;

	start(MCR_ANALYZE_TS);
	for (seq = 1; seq <= 20; seq++) {
		uint8_t *ts = d + 28;

		if (seq == 15)
			continue;	/* one datagram lost: 7 packets, one CC error on the PID */
		memset(d, 0, sizeof(d));
		rtp_header(d, MCR_RTP_PT_MP2T, (uint16_t)seq, SSRC_A);
		d[0] = 0x80 | 0x20 | 0x10 | 2;
		put16(d + 20, 0x1000);
		put16(d + 22, 1);
		ts_run(ts, PID_VIDEO, (uint8_t)(seq * TS_PER_DATAGRAM), TS_PER_DATAGRAM);
		d[sizeof(d) - 1] = 3;
		analyze_datagram(&an, d, sizeof(d));
	}
	ck_assert_int_eq(an.c.kind, MCR_STREAM_RTP_TS);
	ck_assert_uint_eq(an.c.ts_packets, 19 * TS_PER_DATAGRAM);
	ck_assert_uint_eq(an.c.ts_sync_errors, 0);
	ck_assert_uint_eq(an.c.ts_cc_errors, 1);
	ASSERT_RTP(19, 20, 1, 0, 0, 0);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* auto                                                                                      */

START_TEST(test_detect_rule)
{
	uint8_t d[12 + TS_LEN * TS_PER_DATAGRAM];

	/* Raw TS: a 0x47 every 188 bytes, whole packets. */
	ts_run(d, PID_VIDEO, 0, TS_PER_DATAGRAM);
	ck_assert_int_eq(detect_stream(d, TS_LEN * TS_PER_DATAGRAM), MCR_STREAM_TS);
	ck_assert_int_eq(detect_stream(d, TS_LEN), MCR_STREAM_TS);
	ck_assert_int_eq(detect_stream(d, TS_LEN * TS_PER_DATAGRAM - 1), MCR_STREAM_UNKNOWN);
	d[3 * TS_LEN] = 0;
	ck_assert_int_eq(detect_stream(d, TS_LEN * TS_PER_DATAGRAM), MCR_STREAM_UNKNOWN);
	/* RTP with payload type 33, whatever it carries. */
	memset(d, 0, sizeof(d));
	rtp_header(d, MCR_RTP_PT_MP2T, 1, SSRC_A);
	ck_assert_int_eq(detect_stream(d, sizeof(d)), MCR_STREAM_RTP_TS);
	d[1] |= 0x80;	/* the marker bit is no part of the type */
	ck_assert_int_eq(detect_stream(d, sizeof(d)), MCR_STREAM_RTP_TS);
	/* A dynamic type carrying TS packets. */
	rtp_header(d, PT_DYNAMIC, 1, SSRC_A);
	ts_run(d + 12, PID_VIDEO, 0, TS_PER_DATAGRAM);
	ck_assert_int_eq(detect_stream(d, sizeof(d)), MCR_STREAM_RTP_TS);
	/* A dynamic type carrying something else. */
	d[12] = 0x46;
	ck_assert_int_eq(detect_stream(d, sizeof(d)), MCR_STREAM_RTP);
	ck_assert_int_eq(detect_stream(d, 12), MCR_STREAM_RTP);
	/* Neither: too short, or version 0, 1 (not 0x47-led TS) or 3. */
	ck_assert_int_eq(detect_stream(d, 11), MCR_STREAM_UNKNOWN);
	ck_assert_int_eq(detect_stream(d, 0), MCR_STREAM_UNKNOWN);
	for (uint8_t v = 0; v < 4; v++) {
		if (v == 2)
			continue;
		d[0] = (uint8_t)(v << 6);
		ck_assert_int_eq(detect_stream(d, sizeof(d)), MCR_STREAM_UNKNOWN);
	}
}
END_TEST

START_TEST(test_auto_waits_then_holds)
{
	uint8_t d[TS_LEN * TS_PER_DATAGRAM];

	start(MCR_ANALYZE_AUTO);
	ck_assert_int_eq(an.c.kind, MCR_STREAM_UNKNOWN);
	memset(d, 0x01, sizeof(d));
	analyze_datagram(&an, d, sizeof(d));		/* tells nothing */
	ck_assert_int_eq(an.c.kind, MCR_STREAM_UNKNOWN);
	ck_assert_uint_eq(an.c.ts_sync_errors + an.c.rtp_invalid, 0);
	ts_run(d, PID_VIDEO, 0, TS_PER_DATAGRAM);
	analyze_datagram(&an, d, sizeof(d));
	ck_assert_int_eq(an.c.kind, MCR_STREAM_TS);
	/* Decided: an RTP datagram now is TS with lost sync, not a new kind. */
	rtp(1, SSRC_A);
	ck_assert_int_eq(an.c.kind, MCR_STREAM_TS);
	ck_assert_uint_eq(an.c.ts_sync_errors, 1);
	ck_assert_uint_eq(an.c.rtp_received, 0);
}
END_TEST

START_TEST(test_auto_rtp)
{
	start(MCR_ANALYZE_AUTO);
	RTP_SEQ(SSRC_A, 9, 10, 12);
	ck_assert_int_eq(an.c.kind, MCR_STREAM_RTP);
	ASSERT_RTP(3, 4, 1, 0, 0, 0);
	ck_assert_uint_eq(an.c.ts_packets + an.c.ts_sync_errors, 0);
}
END_TEST

START_TEST(test_ts_mode_takes_rtp_as_carrier)
{
	/* --analyze ts on RTP of a dynamic type whose payload starts badly: still TS in RTP. */
	uint8_t d[12 + TS_LEN];

	start(MCR_ANALYZE_TS);
	rtp_header(d, PT_DYNAMIC, 1, SSRC_A);
	ts_packet(d + 12, PID_VIDEO, 0, true, false, false);
	d[12] = 0;
	analyze_datagram(&an, d, sizeof(d));
	ck_assert_int_eq(an.c.kind, MCR_STREAM_RTP_TS);
	ck_assert_uint_eq(an.c.ts_sync_errors, 1);
}
END_TEST

START_TEST(test_analysis_reads_only)
{
	uint8_t d[TS_LEN * TS_PER_DATAGRAM], copy[sizeof(d)];

	start(MCR_ANALYZE_AUTO);
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = filler(7, (uint32_t)i);
	ts_run(d, PID_VIDEO, 0, TS_PER_DATAGRAM);
	d[TS_LEN + 5] = 0x80;
	memcpy(copy, d, sizeof(d));
	for (int i = 0; i < 3; i++)
		analyze_datagram(&an, d, sizeof(d));
	ck_assert_mem_eq(d, copy, sizeof(d));
}
END_TEST

static Suite *option_suite(void)
{
	Suite *s = suite_create("--analyze");
	TCase *tc = tcase_create("option");

	tcase_add_test(tc, test_option_default_off);
	tcase_add_test(tc, test_option_accepted);
	tcase_add_loop_test(tc, test_option_refused, 0, sizeof(bad_modes) / sizeof(bad_modes[0]));
	tcase_add_test(tc, test_option_misuse);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *rtp_suite(void)
{
	Suite *s = suite_create("RTP");
	TCase *tc = tcase_create("sequence");

	tcase_add_test(tc, test_rtp_payload_forms);
	tcase_add_test(tc, test_rtp_payload_refused);
	tcase_add_test(tc, test_rtp_in_order);
	tcase_add_test(tc, test_rtp_wrap);
	tcase_add_test(tc, test_rtp_loss);
	tcase_add_test(tc, test_rtp_loss_across_wrap);
	tcase_add_test(tc, test_rtp_largest_gap_is_loss);
	tcase_add_test(tc, test_rtp_duplicate);
	tcase_add_test(tc, test_rtp_duplicate_far_behind);
	tcase_add_test(tc, test_rtp_duplicate_across_wrap);
	tcase_add_test(tc, test_rtp_reordered);
	tcase_add_test(tc, test_rtp_reordered_across_wrap);
	tcase_add_test(tc, test_rtp_late_window);
	tcase_add_test(tc, test_rtp_before_start_ignored);
	tcase_add_test(tc, test_rtp_reset);
	tcase_add_test(tc, test_rtp_reset_backwards);
	tcase_add_test(tc, test_rtp_stray_is_not_reset);
	tcase_add_test(tc, test_rtp_probation);
	tcase_add_test(tc, test_rtp_ssrc_change);
	tcase_add_test(tc, test_rtp_table_full);
	tcase_add_test(tc, test_rtp_invalid);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *ts_suite(void)
{
	Suite *s = suite_create("MPEG-TS");
	TCase *tc = tcase_create("continuity");

	tcase_add_test(tc, test_ts_in_order);
	tcase_add_test(tc, test_ts_cc_errors_per_pid);
	tcase_add_test(tc, test_ts_duplicate_once);
	tcase_add_test(tc, test_ts_no_payload_does_not_count);
	tcase_add_test(tc, test_ts_discontinuity_indicator);
	tcase_add_test(tc, test_ts_null_pid_ignored);
	tcase_add_test(tc, test_ts_sync_errors);
	tcase_add_test(tc, test_ts_pids_seen);
	tcase_add_test(tc, test_ts_inside_rtp);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *auto_suite(void)
{
	Suite *s = suite_create("auto");
	TCase *tc = tcase_create("detection");

	tcase_add_test(tc, test_detect_rule);
	tcase_add_test(tc, test_auto_waits_then_holds);
	tcase_add_test(tc, test_auto_rtp);
	tcase_add_test(tc, test_ts_mode_takes_rtp_as_carrier);
	tcase_add_test(tc, test_analysis_reads_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(option_suite());

	srunner_add_suite(sr, rtp_suite());
	srunner_add_suite(sr, ts_suite());
	srunner_add_suite(sr, auto_suite());
	return run_suites(sr, "check_analyze");
}

// SPDX-License-Identifier: MIT
/*
 * bench_analyze - analyze_datagram() alone, on a stream without faults, for `make bench`:
 * run plain it prints the nanoseconds per datagram (a loop that builds the stream and analyses
 * it, less the same loop that only builds it, the fastest of 5 each); under callgrind with
 * --toggle-collect=analyze_datagram the instructions counted are the analysis's alone.
 *
 *   bench_analyze rtpts|ts|rtp N [once]
 *
 * once: no timing, the N datagrams analysed once (for callgrind).
 *
 * rtpts: RTP (payload type 33) carrying 7 TS packets on 3 PIDs, the most work per datagram;
 * ts: the same 7 packets raw; rtp: RTP with 160 bytes of payload.
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcr.h"

#define TS_PER_DATAGRAM 7
#define RTP_PAYLOAD_LEN 160
#define MAX_N 100000000UL
#define ROUNDS 5

static uint8_t d[MCR_RTP_HLEN + TS_PER_DATAGRAM * MCR_TS_PACKET_LEN];
static struct mcr_analysis an;

/* Datagram i of the stream: sequence number and continuity counters in order. */
static uint32_t build(enum mcr_stream kind, uint32_t i)
{
	uint8_t *ts = d;
	uint32_t len = 0;

	if (kind != MCR_STREAM_TS) {
		d[0] = 0x80;
		d[1] = kind == MCR_STREAM_RTP_TS ? MCR_RTP_PT_MP2T : 96;
		d[2] = (uint8_t)(i >> 8);
		d[3] = (uint8_t)i;
		memset(d + 4, 0, 4);
		memcpy(d + 8, "\x4d\x43\x52\x31", 4);
		ts += MCR_RTP_HLEN;
		len = MCR_RTP_HLEN;
	}
	if (kind == MCR_STREAM_RTP)
		return len + RTP_PAYLOAD_LEN;
	for (uint32_t k = 0; k < TS_PER_DATAGRAM; k++) {
		uint8_t *p = ts + k * MCR_TS_PACKET_LEN;
		uint16_t pid = k == 0 ? 0 : k == TS_PER_DATAGRAM - 1 ? 0x101 : 0x100;
		uint32_t cc = k == 0 ? i : k == TS_PER_DATAGRAM - 1 ? i : i * 5 + k - 1;

		p[0] = MCR_TS_SYNC;
		p[1] = (uint8_t)(pid >> 8);
		p[2] = (uint8_t)pid;
		p[3] = (uint8_t)(0x10 | (cc & 0x0f));
	}
	return len + TS_PER_DATAGRAM * MCR_TS_PACKET_LEN;
}

int main(int argc, char *argv[])
{
	enum mcr_stream kind;
	struct timespec t0, t1;
	unsigned long n;
	uint64_t ns, best[2] = { 0, 0 };

	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "once")))
		errx(2, "usage: bench_analyze rtpts|ts|rtp N [once]");
	if (!strcmp(argv[1], "rtpts"))
		kind = MCR_STREAM_RTP_TS;
	else if (!strcmp(argv[1], "ts"))
		kind = MCR_STREAM_TS;
	else if (!strcmp(argv[1], "rtp"))
		kind = MCR_STREAM_RTP;
	else
		errx(2, "%s: want rtpts, ts or rtp", argv[1]);
	n = strtoul(argv[2], NULL, 10);
	if (!n || n > MAX_N)
		errx(2, "N %s: want 1 to %lu", argv[2], MAX_N);

	memset(d, 0xff, sizeof(d));
	analyze_init(&an, MCR_ANALYZE_AUTO);
	/*
	 * The stream built alone, then built and analysed: the difference is the analysis. Each
	 * the fastest of ROUNDS, so that time the host gave to others counts in neither.
	 */
	for (int round = 0; round < ROUNDS && argc == 3; round++) {
		for (int pass = 0; pass < 2; pass++) {
			uint64_t t;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (unsigned long i = 0; i < n; i++) {
				uint32_t len = build(kind, (uint32_t)i);

				if (pass)
					analyze_datagram(&an, d, len);
				__asm__ volatile("" ::: "memory");	/* each build happens */
			}
			clock_gettime(CLOCK_MONOTONIC, &t1);
			t = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
			    (uint64_t)t0.tv_nsec;
			if (!best[pass] || t < best[pass])
				best[pass] = t;
		}
		/* Each round starts the stream afresh: its numbers going back would be a reset. */
		analyze_init(&an, MCR_ANALYZE_AUTO);
	}
	ns = best[1] > best[0] ? best[1] - best[0] : 0;
	/* And once more from the start, for the check below (and alone, for callgrind). */
	analyze_init(&an, MCR_ANALYZE_AUTO);
	for (unsigned long i = 0; i < n; i++)
		analyze_datagram(&an, d, build(kind, (uint32_t)i));
	/* A stream without faults: anything counted means the harness is wrong, not fast. */
	if (an.c.rtp_lost || an.c.ts_cc_errors || an.c.ts_sync_errors || an.c.rtp_invalid ||
	    an.c.kind != kind)
		errx(1, "faults counted in a clean stream: lost %llu cc %llu sync %llu",
		     (unsigned long long)an.c.rtp_lost, (unsigned long long)an.c.ts_cc_errors,
		     (unsigned long long)an.c.ts_sync_errors);
	if (argc == 3)
		printf("datagrams=%lu ns_per_datagram=%.1f\n", n, (double)ns / n);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * streamer - send an RTP, MPEG-TS or TS-over-RTP stream with faults at known places, so a test
 * knows exactly what mcr --analyze must count. Bounded in count and in time. IPv4.
 *
 * Paced at PPS (-r, 1000 by default; 0 for as fast as it goes).
 * Datagram i (0 <= i < COUNT) carries RTP sequence number FIRST_SEQ + i and, in TS, seven
 * packets: PID 0 (the PAT's PID), five on PID 0x100, one null packet (PID 0x1fff, counter at
 * random), each PID's continuity counter going up by one per packet. Faults, by index:
 *   -k I  skip: datagram I is never sent (one RTP number lost; in TS one CC error on PID 0
 *         and one on PID 0x100)
 *   -D I  duplicate: datagram I is sent twice in a row
 *   -R I  reorder: datagram I is sent after I + 1
 *   -C I  continuity: from datagram I on, PID 0x100's counter is one further on (one CC error)
 *   -S I  SSRC change: from datagram I on, another SSRC, numbers from FIRST_SEQ + 20000
 *   -Y I  sync: datagram I's last packet loses its sync byte (one sync error)
 * A send a local firewall refuses (EPERM) is counted as filtered, not sent, and not written.
 * Each may be given up to MAX_FAULTS times. -w FILE writes the bytes of every datagram sent,
 * one after the other, for a test to compare with what came out of the relay.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <net/if.h>
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

#define RTP_HLEN 12
#define TS_LEN 188
#define TS_PER_DATAGRAM 7
#define PID_PAT 0x0000
#define PID_VIDEO 0x0100
#define PID_NULL 0x1fff
#define PT_MP2T 33
#define PT_DYNAMIC 96
#define RTP_PAYLOAD_LEN 160	/* bytes of an RTP-only datagram's payload: 20 ms of G.711 */
#define SSRC_FIRST 0x4d435231u
#define SSRC_SECOND 0x4d435232u
#define SSRC_SEQ_JUMP 20000	/* the second SSRC's numbers start this far on */
#define MAX_FAULTS 64
#define MAX_COUNT 1000000
#define MAX_RATE 100000		/* pps */
#define DEFAULT_MAX_S 10
#define MAX_MAX_S 600
#define DEFAULT_TTL 8

enum mode { MODE_RTP, MODE_TS, MODE_RTP_TS };
enum fault { SKIP, DUP, REORDER, CC_SHIFT, SSRC_CHANGE, SYNC, FAULTS };
#define FAULT_LETTERS "kDRCSY"	/* the option of each, in enum order */

struct faults {
	uint32_t at[FAULTS][MAX_FAULTS];
	unsigned int n[FAULTS];
};

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: streamer -d GROUP:PORT -m rtp|ts|rtpts [-I IFACE] [-n COUNT] [-r PPS]\n"
		"                [-T MAX_SECONDS] [-q FIRST_SEQ] [-w FILE]\n"
		"                [-k I] [-D I] [-R I] [-C I] [-S I] [-Y I] ...\n");
	return code;
}

static bool has(const struct faults *f, enum fault k, uint32_t i)
{
	for (unsigned int j = 0; j < f->n[k]; j++)
		if (f->at[k][j] == i)
			return true;
	return false;
}

/* How many faults of kind k are at or before i. */
static uint32_t count_upto(const struct faults *f, enum fault k, uint32_t i)
{
	uint32_t c = 0;

	for (unsigned int j = 0; j < f->n[k]; j++)
		c += f->at[k][j] <= i;
	return c;
}

static void put_ts(uint8_t *p, uint16_t pid, uint8_t cc)
{
	memset(p, 0xff, TS_LEN);
	p[0] = 0x47;
	p[1] = (uint8_t)(pid >> 8);
	p[2] = (uint8_t)pid;
	p[3] = 0x10 | (cc & 0x0f);	/* payload only */
}

/* Datagram i into buf; its length. */
static size_t build(uint8_t *buf, enum mode m, uint32_t i, uint16_t first_seq,
		    const struct faults *f)
{
	bool second = count_upto(f, SSRC_CHANGE, i) > 0;
	uint16_t seq = (uint16_t)(first_seq + i + (second ? SSRC_SEQ_JUMP : 0));
	uint32_t shift = count_upto(f, CC_SHIFT, i), ssrc = second ? SSRC_SECOND : SSRC_FIRST;
	uint8_t *ts = buf;
	size_t len = 0;

	if (m != MODE_TS) {
		buf[0] = 0x80;
		buf[1] = m == MODE_RTP_TS ? PT_MP2T : PT_DYNAMIC;
		buf[2] = (uint8_t)(seq >> 8);
		buf[3] = (uint8_t)seq;
		buf[4] = (uint8_t)(i >> 24);	/* timestamp: anything monotonic */
		buf[5] = (uint8_t)(i >> 16);
		buf[6] = (uint8_t)(i >> 8);
		buf[7] = (uint8_t)i;
		buf[8] = (uint8_t)(ssrc >> 24);
		buf[9] = (uint8_t)(ssrc >> 16);
		buf[10] = (uint8_t)(ssrc >> 8);
		buf[11] = (uint8_t)ssrc;
		ts = buf + RTP_HLEN;
		len = RTP_HLEN;
	}
	if (m == MODE_RTP) {
		memset(ts, 0x5a, RTP_PAYLOAD_LEN);
		return len + RTP_PAYLOAD_LEN;
	}
	put_ts(ts, PID_PAT, (uint8_t)i);
	for (uint32_t k = 1; k < TS_PER_DATAGRAM - 1; k++)
		put_ts(ts + k * TS_LEN, PID_VIDEO, (uint8_t)(i * 5 + k - 1 + shift));
	put_ts(ts + (TS_PER_DATAGRAM - 1) * TS_LEN, PID_NULL, (uint8_t)rand());
	if (has(f, SYNC, i))
		ts[(TS_PER_DATAGRAM - 1) * TS_LEN] = 0x00;
	return len + TS_PER_DATAGRAM * TS_LEN;
}

static void add_fault(struct faults *f, enum fault k, const char *arg, uint32_t count)
{
	if (f->n[k] == MAX_FAULTS)
		errx(EXIT_SETUP, "more than %d faults of one kind", MAX_FAULTS);
	f->at[k][f->n[k]++] = (uint32_t)parse_num("index", arg, 0, count ? count - 1 : 0);
}

int main(int argc, char *argv[])
{
	static uint8_t buf[2][RTP_HLEN + TS_PER_DATAGRAM * TS_LEN];
	static struct faults f;
	struct sockaddr_storage dst;
	socklen_t dst_len = 0;
	const char *dest = NULL, *ifname = NULL, *record = NULL;
	uint32_t count = 1000, rate = 1000, max_s = DEFAULT_MAX_S, sent = 0, filtered = 0;
	uint16_t first_seq = 0;
	enum mode m = MODE_RTP;
	bool mode_given = false;
	int ttl = DEFAULT_TTL, zero = 0, c, fd;
	uint64_t start, deadline;
	FILE *rec = NULL;
	/* Fault options are read after -n, whatever their order: keep them until then. */
	const char *fault_args[FAULTS][MAX_FAULTS];
	unsigned int n_fault_args[FAULTS] = { 0 };

	while ((c = getopt(argc, argv, "d:m:I:n:r:T:q:w:k:D:R:C:S:Y:h")) != -1) {
		enum fault k = FAULTS;

		switch (c) {
		case 'd':
			dest = optarg;
			parse_addr_port("destination", optarg, &dst, &dst_len);
			break;
		case 'm':
			mode_given = true;
			if (!strcmp(optarg, "rtp"))
				m = MODE_RTP;
			else if (!strcmp(optarg, "ts"))
				m = MODE_TS;
			else if (!strcmp(optarg, "rtpts"))
				m = MODE_RTP_TS;
			else
				errx(EXIT_SETUP, "mode %s: want rtp, ts or rtpts", optarg);
			break;
		case 'I':
			ifname = optarg;
			break;
		case 'n':
			count = (uint32_t)parse_num("count", optarg, 1, MAX_COUNT);
			break;
		case 'r':
			rate = (uint32_t)parse_num("rate", optarg, 0, MAX_RATE);
			break;
		case 'T':
			max_s = (uint32_t)parse_num("max seconds", optarg, 1, MAX_MAX_S);
			break;
		case 'q':
			first_seq = (uint16_t)parse_num("first sequence number", optarg, 0, 65535);
			break;
		case 'w':
			record = optarg;
			break;
		case 'k':
		case 'D':
		case 'R':
		case 'C':
		case 'S':
		case 'Y':
			k = (enum fault)(strchr(FAULT_LETTERS, c) - FAULT_LETTERS);
			break;
		case 'h':
			return usage(0);
		default:
			return usage(EXIT_SETUP);
		}
		if (k != FAULTS) {
			if (n_fault_args[k] == MAX_FAULTS)
				errx(EXIT_SETUP, "more than %d faults of one kind", MAX_FAULTS);
			fault_args[k][n_fault_args[k]++] = optarg;
		}
	}
	if (optind != argc || !dest || !mode_given)
		return usage(EXIT_SETUP);
	for (int k = 0; k < FAULTS; k++)
		for (unsigned int j = 0; j < n_fault_args[k]; j++)
			add_fault(&f, (enum fault)k, fault_args[k][j], count);

	if (dst.ss_family != AF_INET || !addr_is_multicast(&dst))
		errx(EXIT_SETUP, "%s: an IPv4 multicast group, please", dest);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(EXIT_SETUP, "socket");
	if (ifname) {
		struct ip_mreqn mreq = { .imr_ifindex = (int)if_nametoindex(ifname) };

		if (!mreq.imr_ifindex)
			errx(EXIT_SETUP, "%s: no such interface (see ip link)", ifname);
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0)
			err(EXIT_SETUP, "%s: IP_MULTICAST_IF", ifname);
	}
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0)
		err(EXIT_SETUP, "multicast TTL or loop");
	if (connect(fd, (const struct sockaddr *)&dst, dst_len) < 0)
		err(EXIT_SETUP, "connect %s", dest);
	if (record && !(rec = fopen(record, "w")))
		err(EXIT_SETUP, "%s", record);

	srand(1);
	start = now_ns();
	deadline = start + (uint64_t)max_s * NSEC_PER_SEC;
	for (uint32_t i = 0; i < count && now_ns() < deadline; i++) {
		/* The order on the wire: I + 1 before I for a reorder, I twice for a duplicate. */
		uint32_t order[2] = { i, i };
		unsigned int n = has(&f, DUP, i) ? 2 : 1;

		if (has(&f, REORDER, i) && i + 1 < count) {
			order[0] = i + 1;
			order[1] = i;
			n = 2;
			i++;
		}
		for (unsigned int j = 0; j < n; j++) {
			size_t len;

			if (has(&f, SKIP, order[j]))
				continue;
			len = build(buf[j], m, order[j], first_seq, &f);
			if (rate)
				sleep_until_ns(start + (uint64_t)sent * NSEC_PER_SEC / rate);
			sent++;
			/* A local firewall's drop (the tests' nftables rule): the loss asked for. */
			if (send(fd, buf[j], len, 0) != (ssize_t)len) {
				if (errno != EPERM)
					err(1, "send to %s", dest);
				filtered++;
				continue;
			}
			if (rec && fwrite(buf[j], 1, len, rec) != len)
				err(1, "%s", record);
		}
	}
	if (rec && fclose(rec) == EOF)
		err(1, "%s", record);
	printf("sent=%u filtered=%u\n", sent - filtered, filtered);
	close(fd);
	return 0;
}

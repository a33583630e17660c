// SPDX-License-Identifier: MIT
/*
 * receiver - receive test datagrams (see payload.h) on an ordinary UDP socket, check every
 * byte, and report loss, duplicates, reordering, corruption and one-way latency in one line,
 * with the time between the first and the last arrival for a receive rate. IPv4 or IPv6,
 * multicast (joined on -I IFACE) or unicast, as the address is. With -H, also the TTL and TOS
 * (hop limit and traffic class for IPv6) the datagrams arrived with, lowest and highest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "payload.h"
#include "addr.h"

#define BATCH 32			/* datagrams per recvmmsg() */
#define SLOT_BYTES 65536		/* bytes: any UDP datagram fits, so none is truncated */
#define MAX_STREAMS 64
#define SEQ_BITS_MIN (4u << 20)		/* bits of a stream's seen-bitmap, at least */
#define LAT_BUCKETS 100000		/* 1 us each, up to 100 ms; one more for overflow */
#define DEFAULT_RCVBUF (16 << 20)	/* bytes */
#define DEFAULT_TIMEOUT_S 30
#define MAX_TIMEOUT_S 3600
#define DEFAULT_IDLE_MS 1000
#define MAX_EXPECT 1000000000ULL
#define CTRL_BYTES 64			/* per datagram: room for the TTL and TOS cmsgs */

struct stream {
	uint32_t id;
	uint64_t *seen;			/* one bit per sequence number */
	uint64_t bits;
	uint64_t highest;		/* highest sequence number seen, valid when unique > 0 */
	uint64_t unique, dup, reordered;
	uint64_t beyond;		/* seqs past the bitmap: counted unique, dups not caught */
};

struct stats {
	uint64_t received, corrupt, foreign, bytes;
	uint64_t lat_n, lat_sum_ns, lat_max_ns;
	uint64_t first_rx_ns, last_rx_ns;	/* CLOCK_MONOTONIC of the first and last batch */
	uint64_t first_rx_real_ns;	/* the first batch on CLOCK_REALTIME, to match a shell's clock */
	struct stream streams[MAX_STREAMS];
	unsigned int n_streams;
	uint64_t too_many_streams;	/* datagrams of streams past MAX_STREAMS */
	uint64_t seq_bits;
	/* -H: over the datagrams that carried both, -1 before the first. */
	uint64_t hdr_n;
	int ttl_min, ttl_max, tos_min, tos_max;
};

static uint8_t slots[BATCH][SLOT_BYTES];
static uint8_t ctrl[BATCH][CTRL_BYTES] __attribute__((aligned(8)));
static uint64_t lat_hist[LAT_BUCKETS + 1];
static volatile sig_atomic_t stop;

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: receiver -g ADDR:PORT [-I IFACE] [-n EXPECT] [-T TIMEOUT_S] [-w IDLE_MS]\n"
		"                [-R READY_FILE] [-b RCVBUF_BYTES] [-H]\n"
		"       ADDR is IPV4 or [IPV6], a group to join on IFACE or an address of this host;\n"
		"       -H adds ttl_min, ttl_max, tos_min, tos_max and hdr_n to the report: the\n"
		"       lowest and highest TTL and TOS byte (IPv6: hop limit and traffic class)\n"
		"       over the hdr_n datagrams received, -1 when none\n");
	return code;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The stream's slot; the bitmap is allocated once, on the stream's first datagram. */
static struct stream *find_stream(struct stats *st, uint32_t id)
{
	struct stream *s;

	for (unsigned int i = 0; i < st->n_streams; i++)
		if (st->streams[i].id == id)
			return &st->streams[i];
	if (st->n_streams == MAX_STREAMS)
		return NULL;
	s = &st->streams[st->n_streams++];
	s->id = id;
	s->bits = st->seq_bits;
	s->seen = calloc(s->bits / 64, sizeof(*s->seen));
	if (!s->seen)
		err(1, "stream %" PRIu32 ": %" PRIu64 " bit bitmap", id, s->bits);
	return s;
}

static void count_seq(struct stream *s, uint64_t seq)
{
	if (seq < s->bits) {
		uint64_t mask = 1ULL << (seq % 64);

		if (s->seen[seq / 64] & mask) {
			s->dup++;
			return;
		}
		s->seen[seq / 64] |= mask;
	} else {
		s->beyond++;
	}
	if (s->unique && seq < s->highest)
		s->reordered++;
	if (!s->unique || seq > s->highest)
		s->highest = seq;
	s->unique++;
}

static void count_latency(struct stats *st, uint64_t sent_ns, uint64_t now)
{
	/* Same host, same CLOCK_MONOTONIC: a negative latency can only be a garbled stamp. */
	uint64_t ns = now > sent_ns ? now - sent_ns : 0;
	uint64_t us = ns / NSEC_PER_USEC;

	lat_hist[us < LAT_BUCKETS ? us : LAT_BUCKETS]++;
	st->lat_n++;
	st->lat_sum_ns += ns;
	if (ns > st->lat_max_ns)
		st->lat_max_ns = ns;
}

static void account(struct stats *st, const uint8_t *buf, uint32_t n, uint64_t now)
{
	struct payload_info info;
	struct stream *s;

	st->received++;
	st->bytes += n;
	switch (payload_check(buf, n, &info)) {
	case PAYLOAD_FOREIGN:
		st->foreign++;
		return;
	case PAYLOAD_CORRUPT:
		st->corrupt++;
		return;
	case PAYLOAD_OK:
		break;
	}
	s = find_stream(st, info.stream);
	if (!s) {
		st->too_many_streams++;
		return;
	}
	count_seq(s, info.seq);
	count_latency(st, info.sent_ns, now);
}

static void widen(int *lo, int *hi, int v)
{
	if (*lo < 0 || v < *lo)
		*lo = v;
	if (v > *hi)
		*hi = v;
}

/* -H: the TTL and TOS of one datagram, from IP_TTL/IP_TOS or IPV6_HOPLIMIT/IPV6_TCLASS. */
static void account_header(struct stats *st, struct msghdr *m)
{
	int ttl = -1, tos = -1, v;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&ttl, CMSG_DATA(cm), sizeof(int));
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS &&
			   cm->cmsg_len >= CMSG_LEN(1)) {
			tos = *CMSG_DATA(cm);	/* one byte, unlike the others */
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&ttl, CMSG_DATA(cm), sizeof(int));
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&v, CMSG_DATA(cm), sizeof(int));
			tos = v;
		}
	}
	if (ttl < 0 || tos < 0)
		return;
	st->hdr_n++;
	widen(&st->ttl_min, &st->ttl_max, ttl);
	widen(&st->tos_min, &st->tos_max, tos);
}

/* The latency below which a fraction p of the samples fall: its bucket's midpoint, in us. */
static double latency_percentile(const struct stats *st, double p)
{
	uint64_t want = (uint64_t)(p * (double)st->lat_n + 0.999999), have = 0;
	double max_us = (double)st->lat_max_ns / NSEC_PER_USEC, us;

	if (!st->lat_n)
		return 0.0;
	if (!want)
		want = 1;
	for (unsigned int i = 0; i < LAT_BUCKETS; i++) {
		have += lat_hist[i];
		if (have >= want) {
			us = i + 0.5;
			return us < max_us ? us : max_us;
		}
	}
	return max_us;
}

static void print_report(const struct stats *st, uint64_t expect, bool headers)
{
	uint64_t unique = 0, dup = 0, reordered = 0, lost = 0, beyond = 0, span = 0;
	double rx_s = (double)(st->last_rx_ns - st->first_rx_ns) / NSEC_PER_SEC;

	for (unsigned int i = 0; i < st->n_streams; i++) {
		const struct stream *s = &st->streams[i];

		unique += s->unique;
		dup += s->dup;
		reordered += s->reordered;
		beyond += s->beyond;
		if (s->unique)
			span += s->highest + 1;
	}
	if (expect)
		lost = expect > unique ? expect - unique : 0;
	else
		lost = span > unique ? span - unique : 0;
	if (beyond)
		warnx("%" PRIu64 " sequence numbers past the %" PRIu64
		      "-bit bitmap: duplicates among them not detected (raise -n)", beyond,
		      st->seq_bits);
	if (st->too_many_streams)
		warnx("%" PRIu64 " datagrams of streams past the first %d not tracked",
		      st->too_many_streams, MAX_STREAMS);
	printf("received=%" PRIu64 " unique=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
	       " reordered=%" PRIu64 " corrupt=%" PRIu64 " foreign=%" PRIu64 " bytes=%" PRIu64
	       " lat_avg_us=%.1f lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f"
	       " rx_s=%.6f rx_pps=%.0f first_rx_realtime_ns=%" PRIu64,
	       st->received, unique, lost, dup, reordered, st->corrupt, st->foreign, st->bytes,
	       st->lat_n ? (double)st->lat_sum_ns / st->lat_n / NSEC_PER_USEC : 0.0,
	       latency_percentile(st, 0.50), latency_percentile(st, 0.99),
	       (double)st->lat_max_ns / NSEC_PER_USEC, rx_s, rx_s > 0 ? unique / rx_s : 0.0,
	       st->first_rx_real_ns);
	if (headers)
		printf(" ttl_min=%d ttl_max=%d tos_min=%d tos_max=%d hdr_n=%" PRIu64, st->ttl_min,
		       st->ttl_max, st->tos_min, st->tos_max, st->hdr_n);
	printf("\n");
}

static int open_socket(struct sockaddr_storage *addr, socklen_t addr_len, const char *text,
		       const char *ifname, int rcvbuf, bool headers)
{
	const bool v6 = addr->ss_family == AF_INET6, mc = addr_is_multicast(addr);
	const int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int fd, one = 1;
	unsigned int ifindex = 0;

	if (ifname && !(ifindex = if_nametoindex(ifname)))
		errx(EXIT_SETUP, "%s: no such interface (see ip link)", ifname);
	if (addr_needs_scope(addr)) {
		if (!ifindex)
			errx(EXIT_SETUP, "%s: a link-scope address needs -I IFACE", text);
		((struct sockaddr_in6 *)addr)->sin6_scope_id = ifindex;
	}
	fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(EXIT_SETUP, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		err(EXIT_SETUP, "SO_REUSEADDR");
	/* FORCE goes past net.core.rmem_max (208 KiB by default); it needs CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		err(EXIT_SETUP, "SO_RCVBUF %d", rcvbuf);
	if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		err(EXIT_SETUP, "IPV6_V6ONLY");
	if (!mc && ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) < 0)
		err(EXIT_SETUP, "%s: SO_BINDTODEVICE", ifname);
	if (headers &&
	    (setsockopt(fd, level, v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, &one, sizeof(one)) < 0 ||
	     setsockopt(fd, level, v6 ? IPV6_RECVTCLASS : IP_RECVTOS, &one, sizeof(one)) < 0))
		err(EXIT_SETUP, "-H: asking for the TTL and TOS of each datagram");
	/* Bound to the group itself, so datagrams to other groups on the port stay out. */
	if (bind(fd, (const struct sockaddr *)addr, addr_len) < 0)
		err(EXIT_SETUP, "bind %s", text);
	if (mc)
		join_group(fd, addr, text, ifname, ifindex);
	return fd;
}

static void write_ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		err(EXIT_SETUP, "ready file %s", path);
	dprintf(fd, "%d\n", (int)getpid());
	close(fd);
}

int main(int argc, char *argv[])
{
	static struct stats st;
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	struct sigaction sa = { .sa_handler = on_signal };
	const char *group = NULL;	/* -g, as given */
	const char *ifname = NULL;	/* -I */
	const char *ready = NULL;	/* -R */
	uint64_t expect = 0;		/* -n, 0 for no count */
	uint64_t timeout_s = DEFAULT_TIMEOUT_S;	/* -T */
	uint64_t idle_ms = DEFAULT_IDLE_MS;	/* -w */
	int rcvbuf = DEFAULT_RCVBUF;	/* -b */
	bool headers = false;		/* -H */
	uint64_t deadline, last_rx = 0, now, left_ms, want;
	struct pollfd pfd = { .events = POLLIN };
	struct sockaddr_storage addr;
	socklen_t addr_len = 0;
	int c, n;

	while ((c = getopt(argc, argv, "g:I:n:T:w:R:b:Hh")) != -1) {
		switch (c) {
		case 'g':
			group = optarg;
			parse_addr_port("group", optarg, &addr, &addr_len);
			break;
		case 'I':
			ifname = optarg;
			break;
		case 'n':
			expect = parse_num("expect", optarg, 1, MAX_EXPECT);
			break;
		case 'T':
			timeout_s = parse_num("timeout", optarg, 1, MAX_TIMEOUT_S);
			break;
		case 'w':
			idle_ms = parse_num("idle ms", optarg, 1, MAX_TIMEOUT_S * 1000);
			break;
		case 'R':
			ready = optarg;
			break;
		case 'b':
			rcvbuf = (int)parse_num("rcvbuf", optarg, 4096, INT32_MAX / 2);
			break;
		case 'H':
			headers = true;
			break;
		case 'h':
			return usage(0);
		default:
			return usage(EXIT_SETUP);
		}
	}
	if (optind != argc || !group)
		return usage(EXIT_SETUP);

	st.seq_bits = expect > SEQ_BITS_MIN ? (expect + 63) / 64 * 64 : SEQ_BITS_MIN;
	st.ttl_min = st.ttl_max = st.tos_min = st.tos_max = -1;
	pfd.fd = open_socket(&addr, addr_len, group, ifname, rcvbuf, headers);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = slots[i], .iov_len = SLOT_BYTES };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* No SA_RESTART: a signal ends poll() and we still print what we counted. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ready)
		write_ready(ready);

	deadline = now_ns() + timeout_s * NSEC_PER_SEC;
	while (!stop && (!expect || st.received < expect)) {
		now = now_ns();
		if (now >= deadline)
			break;
		left_ms = (deadline - now + 999999) / 1000000;
		if (st.received) {
			if (now >= last_rx + idle_ms * 1000000)
				break;
			if (left_ms > (last_rx + idle_ms * 1000000 - now + 999999) / 1000000)
				left_ms = (last_rx + idle_ms * 1000000 - now + 999999) / 1000000;
		}
		n = poll(&pfd, 1, (int)left_ms);
		if (n < 0 && errno != EINTR)
			err(1, "poll");
		if (n <= 0)
			continue;
		/* Stop exactly at EXPECT, so whatever follows stays in the socket. */
		want = expect && expect - st.received < BATCH ? expect - st.received : BATCH;
		/* The kernel shortens msg_controllen to what it wrote: give the room back. */
		for (unsigned int i = 0; headers && i < want; i++) {
			msgs[i].msg_hdr.msg_control = ctrl[i];
			msgs[i].msg_hdr.msg_controllen = CTRL_BYTES;
		}
		n = recvmmsg(pfd.fd, msgs, (unsigned int)want, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err(1, "recvmmsg");
		}
		/* One clock read per batch: all of it had arrived by then. */
		last_rx = now_ns();
		if (!st.received) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			st.first_rx_real_ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
			st.first_rx_ns = last_rx;
		}
		st.last_rx_ns = last_rx;
		for (int i = 0; i < n; i++) {
			account(&st, slots[i], msgs[i].msg_len, last_rx);
			if (headers)
				account_header(&st, &msgs[i].msg_hdr);
		}
	}
	print_report(&st, expect, headers);
	close(pfd.fd);
	return 0;
}

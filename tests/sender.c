// SPDX-License-Identifier: MIT
/*
 * sender - send numbered, hashed test datagrams (see payload.h) through an ordinary UDP socket,
 * as fast as possible or paced on an absolute schedule, bounded in count and in time.
 * IPv4 or IPv6, multicast or unicast, as the destination is.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

#define BATCH 32			/* datagrams per sendmmsg() */
#define TICK_NS (100 * NSEC_PER_USEC)	/* above 10 kpps, one burst per tick, not one wakeup each */
#define ENOBUFS_BACKOFF_NS (50 * NSEC_PER_USEC)	/* let the peer's backlog drain before a retry */
#define SNDBUF_BYTES (4 << 20)
#define SNDTIMEO_MS 100			/* a blocked send returns EAGAIN, so -T always holds */
#define DEFAULT_COUNT 1000
#define MAX_COUNT 1000000000ULL
#define MAX_RATE 10000000ULL		/* pps */
#define DEFAULT_LEN 1316		/* bytes: seven MPEG-TS packets, the usual IPTV datagram */
#define MAX_LEN 8972			/* bytes: a 9000-byte MTU less IPv4 and UDP headers */
#define DEFAULT_TTL 8
#define DEFAULT_MAX_S 30
#define MAX_MAX_S 3600
#define MAX_GROUPS 256			/* -G: consecutive IPv4 destinations, round-robin */

struct tx {
	int fd;
	const char *dest;		/* as given, for errors */
	uint32_t len, stream;
	uint64_t deadline;		/* CLOCK_MONOTONIC ns */
	uint64_t sent, errors;
	bool failed;			/* a send error we cannot retry */
	uint32_t groups;		/* -G: datagram i goes to group i % groups, 1 for one dest */
	struct sockaddr_in group[MAX_GROUPS];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
};

static uint8_t bufs[BATCH][MAX_LEN];
static volatile sig_atomic_t stop;

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: sender -d DEST:PORT [-I IFACE] [-n COUNT] [-r PPS] [-l LEN] [-T MAX_SECONDS]\n"
		"              [-s STREAM_ID] [-t TTL] [-S SRCADDR] [-c TOS] [-G GROUPS] [-U SEGMENT]\n"
		"       DEST is IPV4 or [IPV6]; TTL is the hop limit and TOS the traffic class\n"
		"       for IPv6. -G sends round-robin to GROUPS IPv4 addresses from DEST up,\n"
		"       stream STREAM_ID + i to the i-th, COUNT datagrams and PPS to each, as\n"
		"       that many independent sources would put them on the wire; -U sends each LEN\n"
		"       bytes as one GSO super-packet of SEGMENT-byte datagrams (UDP_SEGMENT),\n"
		"       which a veth hands over glued\n");
	return code;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ICMP errors queue up under IP(V6)_RECVERR; reading them keeps the queue from filling. */
static void drain_errqueue(int fd)
{
	uint8_t data[64], control[256];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	for (int i = 0; i < 64; i++) {
		m.msg_control = control;
		m.msg_controllen = sizeof(control);
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
	}
}

/* Datagram i of the run: its stream and sequence number, and where it goes with -G. */
static void place(struct tx *tx, unsigned int slot, uint64_t i, uint32_t *stream, uint64_t *seq)
{
	*stream = tx->stream;
	*seq = i;
	if (tx->groups > 1) {
		uint32_t g = (uint32_t)(i % tx->groups);

		*stream += g;
		*seq = i / tx->groups;
		tx->msgs[slot].msg_hdr.msg_name = &tx->group[g];
		tx->msgs[slot].msg_hdr.msg_namelen = sizeof(tx->group[g]);
	}
}

/*
 * Sends sequence numbers tx->sent .. tx->sent + n - 1. What the kernel pushes back (ENOBUFS,
 * a pending ICMP error) is counted and sent again, restamped, so the stream has no holes.
 */
static void send_burst(struct tx *tx, unsigned int n)
{
	uint64_t base = tx->sent, seq;
	unsigned int i, k = 0;
	uint32_t stream;
	int r;

	for (i = 0; i < n; i++) {
		place(tx, i, base + i, &stream, &seq);
		payload_fill(bufs[i], tx->len, stream, seq);
	}
	while (k < n && !stop && now_ns() < tx->deadline) {
		for (i = k; i < n; i++) {
			place(tx, i, base + i, &stream, &seq);
			payload_stamp(bufs[i], tx->len, stream, seq, now_ns());
		}
		r = sendmmsg(tx->fd, tx->msgs + k, n - k, 0);
		if (r > 0) {
			k += r;
			continue;
		}
		switch (errno) {
		case EINTR:
			break;
		case ENOBUFS:
		case EAGAIN:
			tx->errors++;
			sleep_until_ns(now_ns() + ENOBUFS_BACKOFF_NS);
			break;
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
			tx->errors++;
			drain_errqueue(tx->fd);
			break;
		default:
			warn("send to %s", tx->dest);
			tx->failed = true;
			tx->sent += k;
			return;
		}
	}
	tx->sent += k;
}

static uint64_t due_ns(uint64_t start, uint64_t i, uint64_t rate)
{
	return start + (uint64_t)((unsigned __int128)i * NSEC_PER_SEC / rate);
}

/* How many datagrams the schedule wants sent by now. */
static uint64_t due_count(uint64_t start, uint64_t now, uint64_t rate)
{
	return (uint64_t)((unsigned __int128)(now - start) * rate / NSEC_PER_SEC) + 1;
}

/* Where the socket sends from, and how: what the options asked for, in one place. */
struct tx_opts {
	const char *ifname;		/* -I, NULL for the routing table's choice */
	int ttl;			/* -t, the hop limit for IPv6 */
	bool ttl_given;
	int tos;			/* -c, the traffic class for IPv6; -1 for the default */
	const struct sockaddr_storage *src;	/* -S, NULL for the kernel's choice */
	socklen_t src_len;
	int segment;			/* -U, UDP_SEGMENT bytes; 0 for one datagram a send */
};

static void open_socket(struct tx *tx, struct sockaddr_storage *dst, socklen_t dst_len,
			const struct tx_opts *o)
{
	const bool v6 = dst->ss_family == AF_INET6;
	const int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int one = 1, zero = 0, sndbuf = SNDBUF_BYTES, ttl = o->ttl;
	struct timeval tv = { .tv_usec = SNDTIMEO_MS * 1000 };
	unsigned int ifindex = 0;

	if (o->ifname && !(ifindex = if_nametoindex(o->ifname)))
		errx(EXIT_SETUP, "%s: no such interface (see ip link)", o->ifname);
	if (v6 && addr_needs_scope(dst)) {
		if (!ifindex)
			errx(EXIT_SETUP, "%s: a link-scope address needs -I IFACE", tx->dest);
		((struct sockaddr_in6 *)dst)->sin6_scope_id = ifindex;
	}
	tx->fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tx->fd < 0)
		err(EXIT_SETUP, "socket");
	if (addr_is_multicast(dst)) {
		struct ip_mreqn mreq = { .imr_ifindex = (int)ifindex };
		int idx = (int)ifindex;

		if (ifindex && (v6 ? setsockopt(tx->fd, level, IPV6_MULTICAST_IF, &idx, sizeof(idx)) :
			       setsockopt(tx->fd, level, IP_MULTICAST_IF, &mreq, sizeof(mreq))) < 0)
			err(EXIT_SETUP, "%s: IP(V6)_MULTICAST_IF", o->ifname);
		if (setsockopt(tx->fd, level, v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, &ttl,
			       sizeof(ttl)) < 0)
			err(EXIT_SETUP, "multicast TTL %d", ttl);
		if (setsockopt(tx->fd, level, v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP, &zero,
			       sizeof(zero)) < 0)
			err(EXIT_SETUP, "IP(V6)_MULTICAST_LOOP");
	} else {
		if (o->ifname && setsockopt(tx->fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname,
					    strlen(o->ifname)) < 0)
			err(EXIT_SETUP, "%s: SO_BINDTODEVICE", o->ifname);
		if (o->ttl_given && setsockopt(tx->fd, level, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl,
					       sizeof(ttl)) < 0)
			err(EXIT_SETUP, "TTL %d", ttl);
	}
	if (o->tos >= 0 && setsockopt(tx->fd, level, v6 ? IPV6_TCLASS : IP_TOS, &o->tos,
				      sizeof(o->tos)) < 0)
		err(EXIT_SETUP, "%s %d", v6 ? "IPV6_TCLASS" : "IP_TOS", o->tos);
	/* Without IP_RECVERR the kernel drops on a full backlog silently; with it we retry. */
	if (setsockopt(tx->fd, level, v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one)) < 0)
		err(EXIT_SETUP, "IP(V6)_RECVERR");
	if (setsockopt(tx->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(tx->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (setsockopt(tx->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		err(EXIT_SETUP, "SO_SNDTIMEO");
	/* -S: a second address of this host as the source, e.g. for a source-specific relay. */
	if (o->src) {
		struct sockaddr_storage src = *o->src;

		if (src.ss_family != dst->ss_family)
			errx(EXIT_SETUP, "-S and -d: the source and the destination must both be "
			     "IPv4 or IPv6");
		if (v6 && addr_needs_scope(&src))
			((struct sockaddr_in6 *)&src)->sin6_scope_id = ifindex;
		if (bind(tx->fd, (const struct sockaddr *)&src, o->src_len) < 0)
			err(EXIT_SETUP, "bind to the source address");
	}
	if (o->segment && setsockopt(tx->fd, SOL_UDP, UDP_SEGMENT, &o->segment,
				     sizeof(o->segment)) < 0)
		err(EXIT_SETUP, "UDP_SEGMENT %d", o->segment);
	/* Connected, so pending ICMP errors come back to us instead of going unnoticed. */
	if (connect(tx->fd, (const struct sockaddr *)dst, dst_len) < 0)
		err(EXIT_SETUP, "connect %s", tx->dest);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct tx tx = { .fd = -1, .len = DEFAULT_LEN, .groups = 1 };
	uint64_t count = DEFAULT_COUNT;	/* -n */
	uint64_t rate = 0;		/* -r, pps; 0 for as fast as possible */
	uint64_t max_s = DEFAULT_MAX_S;	/* -T */
	struct tx_opts o = { .ttl = DEFAULT_TTL, .tos = -1 };
	struct sockaddr_storage dst, src;
	socklen_t dst_len = 0;
	uint64_t start, end, now, due, wake;
	double seconds;
	int c;

	while ((c = getopt(argc, argv, "d:I:n:r:l:T:s:t:S:c:G:U:h")) != -1) {
		switch (c) {
		case 'd':
			tx.dest = optarg;
			parse_addr_port("destination", optarg, &dst, &dst_len);
			break;
		case 'I':
			o.ifname = optarg;
			break;
		case 'n':
			count = parse_num("count", optarg, 1, MAX_COUNT);
			break;
		case 'r':
			rate = parse_num("rate", optarg, 0, MAX_RATE);
			break;
		case 'l':
			tx.len = (uint32_t)parse_num("length", optarg, PAYLOAD_HDR_LEN, MAX_LEN);
			break;
		case 'T':
			max_s = parse_num("max seconds", optarg, 1, MAX_MAX_S);
			break;
		case 's':
			tx.stream = (uint32_t)parse_num("stream id", optarg, 0, UINT32_MAX);
			break;
		case 't':
			o.ttl = (int)parse_num("ttl", optarg, 1, 255);
			o.ttl_given = true;
			break;
		case 'S':
			parse_addr("source", optarg, &src, &o.src_len);
			o.src = &src;
			break;
		case 'c':
			o.tos = (int)parse_num("tos", optarg, 0, 255);
			break;
		case 'G':
			tx.groups = (uint32_t)parse_num("groups", optarg, 1, MAX_GROUPS);
			break;
		case 'U':
			o.segment = (int)parse_num("segment", optarg, 1, 65507);
			break;
		case 'h':
			return usage(0);
		default:
			return usage(EXIT_SETUP);
		}
	}
	if (optind != argc || !tx.dest)
		return usage(EXIT_SETUP);

	if (tx.groups > 1) {
		const struct sockaddr_in *d = (const struct sockaddr_in *)&dst;

		if (dst.ss_family != AF_INET)
			errx(EXIT_SETUP, "-G: IPv4 destinations only");
		for (uint32_t g = 0; g < tx.groups; g++) {
			tx.group[g] = *d;
			tx.group[g].sin_addr.s_addr = htonl(ntohl(d->sin_addr.s_addr) + g);
		}
		/* The schedule is for the whole interleaved stream. */
		if (count > MAX_COUNT / tx.groups || rate > MAX_RATE / tx.groups)
			errx(EXIT_SETUP, "-G %u: count or rate too large", tx.groups);
		count *= tx.groups;
		rate *= tx.groups;
	}
	open_socket(&tx, &dst, dst_len, &o);
	for (int i = 0; i < BATCH; i++) {
		tx.iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = tx.len };
		tx.msgs[i].msg_hdr.msg_iov = &tx.iov[i];
		tx.msgs[i].msg_hdr.msg_iovlen = 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	start = now_ns();
	tx.deadline = start + max_s * NSEC_PER_SEC;
	while (tx.sent < count && !stop && !tx.failed) {
		now = now_ns();
		if (now >= tx.deadline)
			break;
		due = count;
		if (rate) {
			due = due_count(start, now, rate);
			if (due > count)
				due = count;
			if (due <= tx.sent) {
				wake = due_ns(start, tx.sent, rate);
				if (NSEC_PER_SEC / rate < TICK_NS && wake < now + TICK_NS)
					wake = now + TICK_NS;
				sleep_until_ns(wake < tx.deadline ? wake : tx.deadline);
				continue;
			}
		}
		send_burst(&tx, due - tx.sent < BATCH ? (unsigned int)(due - tx.sent) : BATCH);
	}
	end = now_ns();

	if (tx.sent < count && !tx.failed)
		warnx("stopped after %" PRIu64 " of %" PRIu64 " datagrams (%s)", tx.sent, count,
		      stop ? "signal" : "-T reached");
	seconds = (double)(end - start) / NSEC_PER_SEC;
	printf("sent=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f pps=%.0f\n", tx.sent, tx.errors,
	       seconds, seconds > 0 ? tx.sent / seconds : 0.0);
	close(tx.fd);
	return tx.failed ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * frame.h - what inject and inject6 share: the packet socket their crafted Ethernet frames
 * leave by and the send that waits out a full device queue, big-endian stores, the Internet
 * checksum, the UDP header, the stop signals and the case table behind -c.
 */
#ifndef MCR_TESTS_FRAME_H
#define MCR_TESTS_FRAME_H

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "payload.h"

#define SPORT 49152			/* UDP source port of every crafted datagram */
#define UDP_HLEN 8
#define ENOBUFS_RETRIES 1000
#define ENOBUFS_BACKOFF_NS (50 * NSEC_PER_USEC)

/* A packet socket bound to one Ethernet interface, and what went out of it. */
struct wire {
	int fd;
	unsigned int ifindex;
	uint8_t mac[ETH_ALEN];		/* the interface's, our frames' source */
	uint64_t frames;		/* frames sent, fragments counted one by one */
	uint64_t errors;		/* failed sends, each retry of a full queue included */
};

static volatile sig_atomic_t stop;

static inline void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGINT and SIGTERM end the sending loop early, so that the counts still get printed. */
static inline void stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A checksum that fails, never the other spelling of a right one (0 and 0xffff). */
static inline uint16_t csum_break(uint16_t good)
{
	uint16_t bad = good ^ 0x0101;

	return bad ? bad : 0x0303;
}

/* A UDP header from SPORT, its checksum 0 until the caller has summed the datagram. */
static inline void put_udp(uint8_t *udp, uint16_t dport, uint16_t len)
{
	put_be16(udp, SPORT);
	put_be16(udp + 2, dport);
	put_be16(udp + 4, len);
	put_be16(udp + 6, 0);
}

/* Opens w on interface ifname, or exits EXIT_SETUP naming what failed. */
static inline void open_wire(struct wire *w, const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };

	if (!(w->ifindex = if_nametoindex(ifname)))
		errx(EXIT_SETUP, "%s: no such interface (see ip link)", ifname);
	/* Protocol 0: the socket sends only, and no received frame is queued to it. */
	w->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		err(EXIT_SETUP, "packet socket (needs CAP_NET_RAW)");
	sll.sll_ifindex = (int)w->ifindex;
	if (bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err(EXIT_SETUP, "bind to %s", ifname);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(w->fd, SIOCGIFHWADDR, &ifr) < 0)
		err(EXIT_SETUP, "%s: SIOCGIFHWADDR", ifname);
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		errx(EXIT_SETUP, "%s: not an Ethernet interface", ifname);
	memcpy(w->mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
}

/* Sends one frame; retries while the device pushes back. Returns 0 or an errno. */
static inline int send_frame(struct wire *w, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)w->ifindex,
		.sll_halen = ETH_ALEN,
	};

	/* The protocol is the frame's outer ethertype (0x8100 when tagged), as it would be on a wire. */
	if (len >= ETH_HLEN)
		memcpy(&sll.sll_protocol, frame + 12, 2);
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	for (int tries = 0; tries < ENOBUFS_RETRIES; tries++) {
		if (sendto(w->fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) >= 0) {
			w->frames++;
			return 0;
		}
		if (errno == EINTR)
			continue;
		w->errors++;
		if (errno != ENOBUFS && errno != EAGAIN)
			return errno;
		sleep_until_ns(now_ns() + ENOBUFS_BACKOFF_NS);
	}
	return ENOBUFS;
}

/* -c list: the tool's cases, one a line. */
static inline void list_cases(const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		printf("%s\n", names[i]);
}

/* The index of case name in names[n], or exit pointing at "tool -c list". */
static inline int find_case(const char *const *names, int n, const char *name, const char *tool)
{
	for (int c = 0; c < n; c++)
		if (!strcmp(name, names[c]))
			return c;
	errx(EXIT_SETUP, "case %s: unknown (%s -c list names them)", name, tool);
}

/* -M: "02:00:00:00:00:99", a frame's destination MAC; exits naming a bad one. */
static inline void parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[ETH_ALEN];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != ETH_ALEN)
		errx(EXIT_SETUP, "MAC %s: not six colon-separated hex bytes", s);
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
}

/* -O: IPv4 options as hex, "9404000001020304"; returns their bytes, at most max. */
static inline uint32_t parse_hex(const char *s, uint8_t *out, uint32_t max)
{
	uint32_t n = 0;
	unsigned int b;

	for (; s[0] && s[1]; s += 2) {
		if (n == max || !isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    sscanf(s, "%2x", &b) != 1)
			errx(EXIT_SETUP, "hex bytes: want at most %u pairs of hex digits", max);
		out[n++] = (uint8_t)b;
	}
	if (s[0])
		errx(EXIT_SETUP, "hex bytes: an odd number of digits");
	return n;
}

#endif

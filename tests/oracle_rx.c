// SPDX-License-Identifier: MIT
/*
 * oracle_rx - one line per datagram an ordinary UDP socket receives, as it arrives: its
 * payload.h stream and sequence number (or "-" for a payload that is not ours), its length
 * and a hash of every byte. tests/netns_oracle.sh runs one on a kernel socket joined to the
 * group and one behind mcr, and compares the lines: the same datagrams, byte for byte.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "payload.h"
#include "addr.h"

#define SLOT_BYTES 65536		/* bytes: any UDP datagram fits, so none is truncated */
#define DEFAULT_TIMEOUT_S 600
#define MAX_TIMEOUT_S 3600
#define FNV_OFFSET 0xcbf29ce484222325ULL	/* FNV-1a, 64 bits */
#define FNV_PRIME 0x100000001b3ULL
#define POLL_MS 200

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: oracle_rx -g ADDR:PORT [-I IFACE] [-R READY_FILE] [-T MAX_SECONDS]\n");
	return code;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

/* Bound to the group (or unicast address), joined on IFACE when it is a group. */
static int open_socket(struct sockaddr_storage *a, socklen_t len, const char *text,
		       const char *ifname)
{
	unsigned int ifindex = 0;
	int fd, one = 1;

	if (ifname && !(ifindex = if_nametoindex(ifname)))
		errx(EXIT_SETUP, "%s: no such interface (see ip link)", ifname);
	fd = socket(a->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(EXIT_SETUP, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		err(EXIT_SETUP, "SO_REUSEADDR");
	if (a->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		err(EXIT_SETUP, "IPV6_V6ONLY");
	if (bind(fd, (const struct sockaddr *)a, len) < 0)
		err(EXIT_SETUP, "bind %s", text);
	if (addr_is_multicast(a))
		join_group(fd, a, text, ifname, ifindex);
	return fd;
}

static void print_datagram(const uint8_t *p, size_t n)
{
	if (n >= PAYLOAD_HDR_LEN && !memcmp(p, PAYLOAD_MAGIC, 4))
		printf("stream=%" PRIu32 " seq=%" PRIu64, get_le32(p + 4), get_le64(p + 8));
	else
		printf("stream=- seq=-");
	printf(" len=%zu fnv=%016" PRIx64 "\n", n, fnv1a(p, n));
}

int main(int argc, char *argv[])
{
	static uint8_t buf[SLOT_BYTES];
	struct sigaction sa = { .sa_handler = on_signal };
	const char *group = NULL, *ifname = NULL, *ready = NULL;
	uint64_t timeout_s = DEFAULT_TIMEOUT_S, deadline;
	struct sockaddr_storage addr;
	socklen_t addr_len = 0;
	struct pollfd pfd = { .events = POLLIN };
	ssize_t n;
	int c, fd;

	while ((c = getopt(argc, argv, "g:I:R:T:h")) != -1) {
		switch (c) {
		case 'g':
			group = optarg;
			parse_addr_port("group", optarg, &addr, &addr_len);
			break;
		case 'I':
			ifname = optarg;
			break;
		case 'R':
			ready = optarg;
			break;
		case 'T':
			timeout_s = parse_num("timeout", optarg, 1, MAX_TIMEOUT_S);
			break;
		case 'h':
			return usage(0);
		default:
			return usage(EXIT_SETUP);
		}
	}
	if (optind != argc || !group)
		return usage(EXIT_SETUP);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pfd.fd = open_socket(&addr, addr_len, group, ifname);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ready) {
		fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || close(fd) < 0)
			err(EXIT_SETUP, "%s", ready);
	}
	deadline = now_ns() + timeout_s * NSEC_PER_SEC;
	while (!stop && now_ns() < deadline) {
		c = poll(&pfd, 1, POLL_MS);
		if (c < 0 && errno != EINTR)
			err(1, "poll");
		if (c <= 0)
			continue;
		n = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err(1, "recv");
		}
		print_datagram(buf, (size_t)n);
	}
	close(pfd.fd);
	return 0;
}

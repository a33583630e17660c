/* SPDX-License-Identifier: MIT */
/*
 * addr.h - socket addresses of either family for the test tools: "239.0.0.1:5000" and
 * "[ff3e::1234]:5000", or a bare address for a source to bind to. Errors exit EXIT_SETUP
 * naming the option and the bad text, as payload.h's parse_num() does.
 */
#ifndef MCR_TESTS_ADDR_H
#define MCR_TESTS_ADDR_H

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29		/* Linux 4.20; glibc headers may lag */
#endif

#ifndef EXIT_SETUP
#define EXIT_SETUP 2		/* bad command line or a socket we could not set up */
#endif

/* An address alone: dotted-quad IPv4, or IPv6 with or without brackets; port 0. */
static inline void parse_addr(const char *what, const char *s, struct sockaddr_storage *ss,
			      socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];
	size_t n = strlen(s);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		*len = sizeof(*s4);
		return;
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		errx(EXIT_SETUP, "%s %s: not an IPv4 or IPv6 address", what, s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
		errx(EXIT_SETUP, "%s %s: not an IPv4 or IPv6 address", what, host);
	s6->sin6_family = AF_INET6;
	*len = sizeof(*s6);
}

/* "IPV4:PORT" or "[IPV6]:PORT", port 1..65535. */
static inline void parse_addr_port(const char *what, const char *s, struct sockaddr_storage *ss,
				   socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2], *end;
	unsigned long port;
	size_t n;

	if (s[0] == '[' && (!colon || colon == s || colon[-1] != ']'))
		errx(EXIT_SETUP, "%s %s: missing ]:PORT after the IPv6 address", what, s);
	if (!colon || (n = (size_t)(colon - s)) == 0 || n >= sizeof(host))
		errx(EXIT_SETUP, "%s %s: want IPV4:PORT or [IPV6]:PORT, e.g. [ff3e::1234]:5000",
		     what, s);
	memcpy(host, s, n);
	host[n] = '\0';
	/* An IPv6 address has colons of its own: the brackets say where it ends. */
	if (strchr(host, ':') && (host[0] != '[' || host[n - 1] != ']'))
		errx(EXIT_SETUP, "%s %s: put an IPv6 address in brackets: [ADDR]:PORT", what, s);
	if (host[0] == '[' && !strchr(host, ':'))
		errx(EXIT_SETUP, "%s %s: only IPv6 addresses go in brackets", what, s);
	parse_addr(what, host, ss, len);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end != '\0' || colon[1] < '0' || colon[1] > '9' || port < 1 || port > 65535)
		errx(EXIT_SETUP, "%s %s: port %s is not a number in 1..65535", what, s, colon + 1);
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

static inline bool addr_is_multicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return IN_MULTICAST(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr));
}

/* Link-local unicast, or multicast of interface or link scope: meaningless without an ifindex. */
static inline bool addr_needs_scope(const struct sockaddr_storage *ss)
{
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

	return ss->ss_family == AF_INET6 &&
	       (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MC_NODELOCAL(a) ||
		IN6_IS_ADDR_MC_LINKLOCAL(a));
}

/*
 * Join the group the socket is bound to on IFNAME's index (0: the default interface), and hear
 * only that group, not every group some other socket on the host joined.
 */
static inline void join_group(int fd, const struct sockaddr_storage *a, const char *text,
			      const char *ifname, unsigned int ifindex)
{
	const char *on = ifname ? ifname : "default interface";
	int zero = 0;

	if (a->ss_family == AF_INET6) {
		struct ipv6_mreq m = { .ipv6mr_multiaddr = ((const struct sockaddr_in6 *)a)->sin6_addr,
				       .ipv6mr_interface = ifindex };

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)) < 0)
			err(EXIT_SETUP, "join %s on %s", text, on);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof(zero)) < 0)
			err(EXIT_SETUP, "IPV6_MULTICAST_ALL");
	} else {
		struct ip_mreqn m = { .imr_multiaddr = ((const struct sockaddr_in *)a)->sin_addr,
				      .imr_ifindex = (int)ifindex };

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) < 0)
			err(EXIT_SETUP, "join %s on %s", text, on);
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) < 0)
			err(EXIT_SETUP, "IP_MULTICAST_ALL");
	}
}

#endif

// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for parse_args(): a hostile command line, checked against what mcr.h
 * promises: one NUL-terminated error line that points at --help, or a config main() can run.
 *
 * Input: the arguments after "mcr", each ended by a NUL byte or by the end of the input;
 * past ARGS_MAX - 1 of them the rest is ignored. Each argument gets a heap buffer of exactly
 * its size, so a read past its NUL is a finding.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "fuzz_util.h"

#define ARGS_MAX	      64 /* argv entries, "mcr" included */
#define HINT		      " (see mcr --help)"
#define STATS_INTERVAL_MAX_MS (86400u * 1000u) /* --stats-interval and --duration */

static bool is_multicast(const struct mcr_ip *ip)
{
	if (ip->family == AF_INET6)
		return ip->v6.s6_addr[0] == 0xff;
	return ip->family == AF_INET && (ntohl(ip->v4.s_addr) >> 28) == 0xe;
}

static bool is_unspecified(const struct mcr_ip *ip)
{
	static const struct in6_addr any6;

	if (ip->family == AF_INET6)
		return !memcmp(&ip->v6, &any6, sizeof(any6));
	return ip->v4.s_addr == INADDR_ANY;
}

/* Link-local unicast (fe80::/10), or multicast of interface- or link-local scope (RFC 4291). */
static bool is_link_scope(const struct mcr_ip *ip)
{
	const uint8_t *a = ip->v6.s6_addr;

	return ip->family == AF_INET6 &&
	       ((a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || (a[0] == 0xff && (a[1] & 0x0f) <= 2));
}

static bool same_ip(const struct mcr_ip *a, const struct mcr_ip *b)
{
	return a->family == b->family && !memcmp(&a->v6, &b->v6, a->family == AF_INET6 ? 16 : 4);
}

/* The address prints, the text reads back as the same address, and ip_equal() agrees. */
static void check_ip_text(const struct mcr_ip *ip)
{
	char text[INET6_ADDRSTRLEN];
	struct mcr_ip back = { .family = ip->family };

	CHECK(ip->family == AF_INET || ip->family == AF_INET6);
	CHECK(format_ip(ip, text, sizeof(text)) == 0);
	CHECK(inet_pton(ip->family, text, &back.v6) == 1 && same_ip(ip, &back));
	CHECK(ip_equal(ip, &back) && ip_is_multicast(ip) == is_multicast(ip));
}

static void check_ifname(const char *name, bool may_be_empty)
{
	size_t n = strnlen(name, IF_NAMESIZE);

	CHECK(n < IF_NAMESIZE && (n > 0 || may_be_empty));
	CHECK(!strchr(name, '/') && !strchr(name, ':') && !strchr(name, ' '));
}

/* The stats file names a file, not a directory, and points into one of the arguments. */
static void check_stats_file(const char *path, int argc, char *const argv[])
{
	bool inside = false;
	size_t n;

	if (!path)
		return;
	for (int i = 1; i < argc; i++)
		inside = inside || (path >= argv[i] && path <= argv[i] + strlen(argv[i]));
	CHECK(inside);
	n = strlen(path);
	CHECK(n > 0 && n < PATH_MAX && path[n - 1] != '/');
}

/* What main() and ring.c take for granted of a config that parse_args() said to run. */
static void check_config(const struct mcr_config *cfg, int argc, char *const argv[])
{
	check_ifname(cfg->ingress, false);
	check_ip_text(&cfg->group);
	CHECK(is_multicast(&cfg->group));
	CHECK(cfg->port != 0);
	if (cfg->source.family != AF_UNSPEC) {
		check_ip_text(&cfg->source);
		CHECK(cfg->source.family == cfg->group.family);
		CHECK(!is_multicast(&cfg->source) && !is_unspecified(&cfg->source));
		CHECK(cfg->source.family != AF_INET || cfg->source.v4.s_addr != INADDR_BROADCAST);
	}
	CHECK(cfg->n_out >= 1 && cfg->n_out <= MCR_MAX_OUT);
	for (unsigned int i = 0; i < cfg->n_out; i++) {
		const struct mcr_out *o = &cfg->out[i];
		size_t n = strnlen(o->text, sizeof(o->text));

		check_ip_text(&o->addr);
		CHECK(!is_unspecified(&o->addr));
		CHECK(o->port != 0);
		check_ifname(o->ifname, true);
		CHECK(!is_link_scope(&o->addr) || o->ifname[0]);
		CHECK(n > 0 && n < sizeof(o->text));
		for (unsigned int j = 0; j < i; j++)
			CHECK(!same_ip(&cfg->out[j].addr, &o->addr) ||
			      cfg->out[j].port != o->port || strcmp(cfg->out[j].ifname, o->ifname));
	}
	CHECK(cfg->ttl == MCR_TTL_DEFAULT || (cfg->ttl >= 1 && cfg->ttl <= 255));
	CHECK(cfg->dscp == MCR_DSCP_KEEP || (cfg->dscp >= 0 && cfg->dscp <= 63));
	if (cfg->dscp >= 0 && dscp_name(cfg->dscp))
		CHECK(parse_dscp(dscp_name(cfg->dscp)) == cfg->dscp);
	CHECK(cfg->stats_interval_ms <= STATS_INTERVAL_MAX_MS);
	CHECK(cfg->stats_format == MCR_STATS_KV || cfg->stats_format == MCR_STATS_JSON);
	CHECK(cfg->vlan <= 4094);
	CHECK(strnlen(cfg->user, sizeof(cfg->user)) < sizeof(cfg->user));
	CHECK(cfg->busy_poll_us <= MCR_BUSY_POLL_MAX_US);
	CHECK(cfg->duration_ms <= STATS_INTERVAL_MAX_MS);
	/* Standard error stays open for the log. */
	CHECK(cfg->ready_fd == -1 || (cfg->ready_fd >= 0 && cfg->ready_fd != 2));
	check_stats_file(cfg->stats_file, argc, argv);
}

static void check_err(enum mcr_parse_result r, const char *err)
{
	size_t n = strnlen(err, MCR_ERR_LEN), hint = strlen(HINT);

	CHECK(n < MCR_ERR_LEN);
	if (r != MCR_PARSE_ERROR) {
		CHECK(n == 0);
		return;
	}
	/* Something named before the hint, and the hint whole however long the culprit. */
	CHECK(n > hint && !strcmp(err + n - hint, HINT));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "mcr";
	char *argv[ARGS_MAX + 1] = { prog };
	size_t at[ARGS_MAX], len[ARGS_MAX];
	struct mcr_config cfg, again;
	char err[MCR_ERR_LEN], err_again[MCR_ERR_LEN];
	enum mcr_parse_result r;
	int argc = 1;

	for (size_t pos = 0; pos < size && argc < ARGS_MAX; argc++) {
		const uint8_t *nul = memchr(data + pos, 0, size - pos);
		size_t n = nul ? (size_t)(nul - (data + pos)) : size - pos;

		argv[argc] = malloc(n + 1);
		CHECK(argv[argc]);
		memcpy(argv[argc], data + pos, n);
		argv[argc][n] = '\0';
		at[argc] = pos;
		len[argc] = n;
		pos += n + 1;
	}
	argv[argc] = NULL;

	/* Junk first, so a field parse_args() forgets to set shows up as a difference below. */
	memset(&cfg, 0xa5, sizeof(cfg));
	memset(err, 0xa5, sizeof(err));
	r = parse_args(argc, argv, &cfg, err);
	CHECK(r == MCR_PARSE_RUN || r == MCR_PARSE_HELP || r == MCR_PARSE_VERSION ||
	      r == MCR_PARSE_ERROR);
	check_err(r, err);
	if (r == MCR_PARSE_RUN)
		check_config(&cfg, argc, argv);

	/* The same answer from other junk: nothing read from the config or err before written. */
	memset(&again, 0x5a, sizeof(again));
	memset(err_again, 0x5a, sizeof(err_again));
	CHECK(parse_args(argc, argv, &again, err_again) == r);
	CHECK(!strcmp(err, err_again));
	if (r == MCR_PARSE_RUN)
		CHECK(!memcmp(&cfg, &again, sizeof(cfg)));

	/* The arguments are read, never written. */
	CHECK(!strcmp(argv[0], "mcr"));
	for (int i = 1; i < argc; i++) {
		CHECK(!memcmp(argv[i], data + at[i], len[i]) && argv[i][len[i]] == '\0');
		free(argv[i]);
	}
	return 0;
}

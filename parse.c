// SPDX-License-Identifier: MIT
/*
 * Pure functions: the command line into a struct mcr_config, a captured frame into a datagram
 * view. No syscalls, no globals that change, no allocation: every byte here is unit-tested.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define VLAN_HLEN 4
#define VLAN_VID_MASK 0x0fff
#define IPV4_MIN_HLEN 20
#define IPV4_FRAG_MASK 0x3fff	/* MF flag and fragment offset */
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPPROTO_UDP_NUM 17
#define UDP_HLEN 8
#define IPV6_HLEN 40
#define IPV6_FRAG_HLEN 8
#define IPV6_EXT_MAX 12		/* extension headers: Linux's IP6_MAX_EXT_HDRS_CNT */
#define IPV6_OPTS_MAX 8		/* options in one header: net.ipv6.max_{hbh,dst}_opts_number */
#define IPV6_PAD_MAX 7		/* bytes of padding in a row (ip6_parse_tlv()) */
#define OPT_PAD1 0
#define OPT_PADN 1
#define OPT_ROUTER_ALERT 5
#define OPT_IOAM 0x31
#define NH_AUTH 51
#define NH_NONE 59
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_DSTOPTS 60
#define NH_ICMPV6 58
#define IPPROTO_IGMP_NUM 2
#define IGMP_QUERY 0x11
#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_V3_REPORT 0x22
#define IGMP_V2_LEN 8		/* bytes: a v1 or v2 message */
#define IGMP_V3_QUERY_MIN 12	/* bytes: a v3 query without sources */
#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V2_REPORT 143
#define MLD_V1_LEN 24		/* bytes: an MLDv1 message */
#define MLD_V2_QUERY_MIN 28	/* bytes: an MLDv2 query without sources */
#define RECORD_IS_INCLUDE 1	/* RFC 3376 4.2.12: current-state records */
#define RECORD_IS_EXCLUDE 2
#define QRV_DEFAULT 2		/* robustness, when a query says 0 */
#define QQI_DEFAULT_S 125	/* query interval, when a query says 0 */
#define IPOPT_END 0		/* IPv4 option types (RFC 791, RFC 1108, RFC 2113) */
#define IPOPT_NOOP 1
#define IPOPT_RR 7
#define IPOPT_TS 68
#define IPOPT_LSRR 131
#define IPOPT_CIPSO 134
#define IPOPT_SSRR 137
#define IPOPT_RA 148
#define IPOPT_TS_TSANDADDR 1	/* timestamp flags: address and time pairs */
#define IPOPT_TS_PRESPEC 3	/* pairs with the addresses given */
#define IPOPT_TS_OVERFLOW_MAX 15
#define STATS_INTERVAL_MAX_MS (86400u * 1000u)
#define STALL_TIMEOUT_MIN_MS 100	/* shorter is a gap between packets, not a stall */
#define REPORT_INTERVAL_MIN_MS 1000	/* more often floods the segment's routers */
#define STATS_FILE_MAX (PATH_MAX - 8)	/* bytes, room left for the ".tmp" suffix */

const char *const mcr_verdict_name[MCR_VERDICTS] = {
	[MCR_RELAY] = "relayed",
	[MCR_FRAGMENT] = "frag_queued",
	[MCR_DROP_TRUNCATED] = "drop_truncated",
	[MCR_DROP_MALFORMED] = "drop_malformed",
	[MCR_DROP_CHECKSUM] = "drop_checksum",
	[MCR_DROP_FRAGMENT] = "drop_fragment",
	[MCR_DROP_UNMATCHED] = "drop_unmatched",
	[MCR_DROP_VLAN] = "drop_vlan",
	[MCR_QUERY] = "queries_seen",
	[MCR_DROP_MARTIAN] = "drop_martian",
	[MCR_DROP_GLUED] = "drop_glued",
};

/* RFC 2474 class selectors, RFC 2597 assured forwarding, RFC 3246 EF, RFC 5865 VA, RFC 8622 LE. */
static const struct {
	const char *name;
	int dscp;
} dscp_names[] = {
	{ "cs0", 0 },	{ "cs1", 8 },	{ "cs2", 16 },	{ "cs3", 24 },	{ "cs4", 32 },
	{ "cs5", 40 },	{ "cs6", 48 },	{ "cs7", 56 },	{ "af11", 10 }, { "af12", 12 },
	{ "af13", 14 }, { "af21", 18 }, { "af22", 20 }, { "af23", 22 }, { "af31", 26 },
	{ "af32", 28 }, { "af33", 30 }, { "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	{ "ef", 46 },	{ "va", 44 },	{ "le", 1 },
};

/* A decimal in [min, max], no sign, no trailing junk; -1 when it is not. */
static long long parse_num(const char *s, long long min, long long max)
{
	long long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	/* The loop's check truncates toward 0 when max < 9: "6" against 5 ends here. */
	return v < min || v > max ? -1 : v;
}

/* A decimal id of n bytes at s, up to MCR_ID_MAX; false for "", a sign or any other byte. */
static bool parse_id(const char *s, size_t n, uint32_t *id)
{
	uint64_t v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > MCR_ID_MAX)
			return false;
	}
	*id = (uint32_t)v;
	return true;
}

enum mcr_passwd parse_passwd_line(const char *line, const char *name, uint32_t *uid,
				  uint32_t *gid)
{
	const char *end = line + strcspn(line, "\n"), *field[7], *p = line;
	size_t len[7], colons = 0;

	for (const char *c = line; c < end; c++)
		colons += *c == ':';
	/* Every colon ends a field, so "a::1" is three fields, the second empty. */
	for (size_t i = 0; i < 7; i++) {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		field[i] = p;
		len[i] = (size_t)((colon ? colon : end) - p);
		p = colon ? colon + 1 : end;
	}
	if (!len[0] || len[0] != strlen(name) || memcmp(field[0], name, len[0]))
		return MCR_PASSWD_OTHER;
	if (colons != 6 || !parse_id(field[2], len[2], uid) || !parse_id(field[3], len[3], gid))
		return MCR_PASSWD_BAD;
	return MCR_PASSWD_MATCH;
}

bool parse_user_ids(const char *spec, uint32_t *uid, uint32_t *gid)
{
	const char *colon = strchr(spec, ':');

	if (!colon)
		return parse_id(spec, strlen(spec), uid) && parse_id(spec, strlen(spec), gid);
	return parse_id(spec, (size_t)(colon - spec), uid) &&
	       parse_id(colon + 1, strlen(colon + 1), gid);
}

int parse_dscp(const char *s)
{
	for (size_t i = 0; i < sizeof(dscp_names) / sizeof(dscp_names[0]); i++)
		if (!strcasecmp(s, dscp_names[i].name))
			return dscp_names[i].dscp;
	return (int)parse_num(s, 0, 63);
}

const char *dscp_name(int dscp)
{
	for (size_t i = 0; i < sizeof(dscp_names) / sizeof(dscp_names[0]); i++)
		if (dscp_names[i].dscp == dscp)
			return dscp_names[i].name;
	return NULL;
}

int format_ip(const struct mcr_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->family, &ip->v4, buf, (socklen_t)len))
		return -1;
	return 0;
}

bool ip_is_multicast(const struct mcr_ip *ip)
{
	if (ip->family == AF_INET6)
		return ip->v6.s6_addr[0] == 0xff;
	return (ntohl(ip->v4.s_addr) >> 28) == 0xe;
}

bool ip_equal(const struct mcr_ip *a, const struct mcr_ip *b)
{
	if (a->family != b->family)
		return false;
	return !memcmp(&a->v6, &b->v6, a->family == AF_INET6 ? 16 : 4);
}

/* 127.0.0.0/8 or ::1 */
static bool is_loopback(const struct mcr_ip *ip)
{
	if (ip->family == AF_INET)
		return (ntohl(ip->v4.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&ip->v6);
}

static bool is_unspecified(const struct mcr_ip *ip)
{
	static const struct in6_addr any6;

	if (ip->family == AF_INET6)
		return !memcmp(&ip->v6, &any6, 16);
	return ip->v4.s_addr == INADDR_ANY;
}

/* An IPv4 address in dotted-quad form, or an IPv6 one, bracketed or not. */
static bool parse_ip(const char *s, struct mcr_ip *ip)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->v4) == 1) {
		ip->family = AF_INET;
		return true;
	}
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET6, s, &ip->v6) == 1) {
		ip->family = AF_INET6;
		return true;
	}
	return false;
}

/*
 * "ADDR:PORT[@IFACE]" into its parts. Writes a message naming the problem into err and returns
 * false when the text is not of that form; with ifname NULL, "@IFACE" is refused.
 */
static bool parse_endpoint(const char *text, struct mcr_ip *ip, uint16_t *port, char *ifname,
			   char *err, size_t errlen)
{
	char buf[128];
	char *colon, *at = NULL;
	long long p;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return false;
	}
	strcpy(buf, text);
	if (ifname) {
		at = strchr(buf, '@');
		if (at) {
			*at++ = '\0';
			if (!*at) {
				snprintf(err, errlen, "missing interface name after @");
				return false;
			}
			if (strlen(at) >= IF_NAMESIZE || strchr(at, '/') || strchr(at, ':') ||
			    strchr(at, ' ') || !strcmp(at, ".") || !strcmp(at, "..")) {
				snprintf(err, errlen, "'%s' is not an interface name", at);
				return false;
			}
			strcpy(ifname, at);
		}
	}
	/* An IPv6 address is bracketed, so the port's colon is the one after ']'. */
	colon = strrchr(buf, ':');
	if (!colon || (buf[0] == '[' && (colon == buf || colon[-1] != ']'))) {
		snprintf(err, errlen, buf[0] == '[' ? "missing ]:PORT after an IPv6 address" :
			 "missing :PORT");
		return false;
	}
	if (buf[0] != '[' && strchr(buf, ':') != colon) {
		snprintf(err, errlen, "put an IPv6 address in brackets: [ADDR]:PORT");
		return false;
	}
	*colon++ = '\0';
	p = parse_num(colon, 1, 65535);
	if (p < 0) {
		snprintf(err, errlen, "port '%s' is not a number from 1 to 65535", colon);
		return false;
	}
	*port = (uint16_t)p;
	if (!parse_ip(buf, ip) || (buf[0] == '[') != (ip->family == AF_INET6)) {
		snprintf(err, errlen, "'%s' is not an IPv4 address or a bracketed IPv6 one", buf);
		return false;
	}
	return true;
}

/* Seconds with up to three decimals, into milliseconds; 0 when invalid. */
static uint32_t parse_seconds_ms(const char *s)
{
	const char *dot = strchr(s, '.');
	char whole[16];
	long long sec, ms = 0;
	size_t n = dot ? (size_t)(dot - s) : strlen(s);

	if (n == 0 || n >= sizeof(whole))
		return 0;
	memcpy(whole, s, n);
	whole[n] = '\0';
	sec = parse_num(whole, 0, STATS_INTERVAL_MAX_MS / 1000);
	if (sec < 0)
		return 0;
	if (dot) {
		int digits = 0;

		for (const char *c = dot + 1; *c; c++, digits++) {
			if (*c < '0' || *c > '9' || digits == 3)
				return 0;
			ms = ms * 10 + (*c - '0');
		}
		if (digits == 0)
			return 0;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	ms += sec * 1000;
	return ms > STATS_INTERVAL_MAX_MS ? 0 : (uint32_t)ms;
}

/* Microseconds, bare or with "us", or milliseconds with "ms"; -1 when invalid or past max_us. */
static long long parse_usec(const char *s, long long max_us)
{
	size_t n = strlen(s);
	long long scale = 1, v;
	char num[24];

	if (n > 2 && (!strcmp(s + n - 2, "us") || !strcmp(s + n - 2, "ms"))) {
		scale = s[n - 2] == 'm' ? 1000 : 1;
		n -= 2;
	}
	if (n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	v = parse_num(num, 0, max_us / scale);
	return v < 0 ? -1 : v * scale;
}

enum opt_id {
	OPT_IN, OPT_GROUP, OPT_SOURCE, OPT_OUT, OPT_TTL, OPT_DSCP, OPT_COUNT, OPT_STATS_INTERVAL,
	OPT_STATS_FORMAT, OPT_NO_JOIN, OPT_HELP, OPT_VERSION, OPT_VLAN, OPT_USER,
	OPT_BUSY_POLL, OPT_DURATION, OPT_READY_FD, OPT_STATS_FILE,
	OPT_SRC_PORT,
	OPT_COALESCE,
	OPT_ANALYZE,
	OPT_STALL_TIMEOUT, OPT_STALL_ACTION, OPT_REPORT_INTERVAL,
	OPT_COUNT_OF
};
_Static_assert(OPT_COUNT_OF <= 64, "parse_args() keeps a bit per option in a uint64_t");

static const struct {
	const char *name;	/* long name, without -- */
	char letter;		/* short name, 0 for none */
	bool arg;		/* takes a value */
	bool repeat;		/* may be given more than once */
} opts[OPT_COUNT_OF] = {
	[OPT_IN] = { "in", 'i', true, false },
	[OPT_GROUP] = { "group", 'g', true, false },
	[OPT_SOURCE] = { "source", 's', true, false },
	[OPT_OUT] = { "out", 'o', true, true },
	[OPT_TTL] = { "ttl", 't', true, false },
	[OPT_DSCP] = { "dscp", 0, true, false },
	[OPT_COUNT] = { "count", 'c', true, false },
	[OPT_STATS_INTERVAL] = { "stats-interval", 0, true, false },
	[OPT_STATS_FORMAT] = { "stats-format", 0, true, false },
	[OPT_NO_JOIN] = { "no-join", 0, false, false },
	[OPT_HELP] = { "help", 'h', false, false },
	[OPT_VERSION] = { "version", 'V', false, false },
	[OPT_VLAN] = { "vlan", 0, true, false },
	[OPT_USER] = { "user", 'u', true, false },
	[OPT_BUSY_POLL] = { "busy-poll", 0, true, false },
	[OPT_DURATION] = { "duration", 0, true, false },
	[OPT_READY_FD] = { "ready-fd", 0, true, false },
	[OPT_STATS_FILE] = { "stats-file", 0, true, false },
	[OPT_SRC_PORT] = { "src-port", 0, true, false },
	[OPT_COALESCE] = { "coalesce", 0, true, false },
	[OPT_ANALYZE] = { "analyze", 0, true, false },
	[OPT_STALL_TIMEOUT] = { "stall-timeout", 0, true, false },
	[OPT_STALL_ACTION] = { "stall-action", 0, true, false },
	[OPT_REPORT_INTERVAL] = { "report-interval", 0, true, false },
};

/* One line naming the culprit; the pointer to --help survives however long the culprit is. */
static enum mcr_parse_result fail(char *err, const char *fmt, ...)
{
	static const char hint[] = " (see mcr --help)";
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err, MCR_ERR_LEN - (sizeof(hint) - 1), fmt, ap);
	va_end(ap);
	n = strlen(err);
	memcpy(err + n, hint, sizeof(hint));
	return MCR_PARSE_ERROR;
}

/* The option an argument names, or -1; *value points at an attached "=v" or "-xv" value. */
static int find_opt(const char *a, const char **value)
{
	*value = NULL;
	if (a[0] != '-' || a[1] == '\0')
		return -1;
	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		for (int i = 0; i < OPT_COUNT_OF; i++) {
			if (strlen(opts[i].name) == n && !strncmp(a + 2, opts[i].name, n)) {
				*value = eq ? eq + 1 : NULL;
				return i;
			}
		}
		return -1;
	}
	for (int i = 0; i < OPT_COUNT_OF; i++) {
		if (opts[i].letter && opts[i].letter == a[1]) {
			*value = a[2] ? a + 2 : NULL;
			return i;
		}
	}
	return -1;
}

/* -i: an interface name as the kernel takes one. */
static enum mcr_parse_result set_ingress(const char *flag, const char *v, struct mcr_config *cfg,
					 char *err)
{
	if (!*v || strlen(v) >= IF_NAMESIZE || strchr(v, '/') || strchr(v, ':') ||
	    strchr(v, ' ') || !strcmp(v, ".") || !strcmp(v, ".."))
		return fail(err, "%s '%s': not an interface name", flag, v);
	strcpy(cfg->ingress, v);
	return MCR_PARSE_RUN;
}

/* -g: a group the kernel would deliver from the wire, and its port. */
static enum mcr_parse_result set_group(const char *flag, const char *v, struct mcr_config *cfg,
				       char *err)
{
	char why[MCR_ERR_LEN];

	if (!parse_endpoint(v, &cfg->group, &cfg->port, NULL, why, sizeof(why)))
		return fail(err, "%s %s: %s", flag, v, why);
	if (!ip_is_multicast(&cfg->group))
		return fail(err, "%s %s: not a multicast group (224.0.0.0/4 or ff00::/8)", flag, v);
	/* ip6_rcv_core() drops both from the wire (RFC 4291 section 2.7). */
	if (cfg->group.family == AF_INET6 && (cfg->group.v6.s6_addr[1] & 0x0f) <= 1)
		return fail(err, "%s %s: %s scope, which the kernel drops from the wire; use a "
			    "wider one (ff05::/16, ff3e::/16)", flag, v,
			    cfg->group.v6.s6_addr[1] & 0x0f ? "interface-local" : "reserved");
	return MCR_PARSE_RUN;
}

/* -s: a unicast source that is not one the kernel drops as martian. */
static enum mcr_parse_result set_source(const char *flag, const char *v, struct mcr_config *cfg,
					char *err)
{
	if (!parse_ip(v, &cfg->source))
		return fail(err, "%s %s: not an IPv4 or IPv6 address", flag, v);
	if (ip_is_multicast(&cfg->source) || is_unspecified(&cfg->source) ||
	    (cfg->source.family == AF_INET && cfg->source.v4.s_addr == INADDR_BROADCAST))
		return fail(err, "%s %s: not a unicast source address", flag, v);
	if (is_loopback(&cfg->source))
		return fail(err, "%s %s: a loopback address, which the kernel drops from the wire",
			    flag, v);
	return MCR_PARSE_RUN;
}

/* -o: one more destination, not given before. */
static enum mcr_parse_result add_out(const char *flag, const char *v, struct mcr_config *cfg,
				     char *err)
{
	struct mcr_out *o = &cfg->out[cfg->n_out];
	char why[MCR_ERR_LEN];

	if (cfg->n_out == MCR_MAX_OUT)
		return fail(err, "%s %s: more than %d destinations; run a second mcr", flag, v,
			    MCR_MAX_OUT);
	memset(o, 0, sizeof(*o));
	if (strlen(v) >= sizeof(o->text))
		return fail(err, "%s %.20s...: too long", flag, v);
	if (!parse_endpoint(v, &o->addr, &o->port, o->ifname, why, sizeof(why)))
		return fail(err, "%s %s: %s", flag, v, why);
	if (is_unspecified(&o->addr))
		return fail(err, "%s %s: an unspecified address is not a destination", flag, v);
	/* fe80::/10 and ff02::/16-style scopes mean nothing without an interface. */
	if (o->addr.family == AF_INET6 && !o->ifname[0] &&
	    ((o->addr.v6.s6_addr[0] == 0xfe && (o->addr.v6.s6_addr[1] & 0xc0) == 0x80) ||
	     (o->addr.v6.s6_addr[0] == 0xff && (o->addr.v6.s6_addr[1] & 0x0f) <= 2)))
		return fail(err, "%s %s: a link-scope destination needs @IFACE", flag, v);
	snprintf(o->text, sizeof(o->text), "%s", v);
	for (unsigned int i = 0; i < cfg->n_out; i++)
		if (ip_equal(&cfg->out[i].addr, &o->addr) && cfg->out[i].port == o->port &&
		    !strcmp(cfg->out[i].ifname, o->ifname))
			return fail(err, "%s %s: destination given twice", flag, v);
	cfg->n_out++;
	return MCR_PARSE_RUN;
}

/* -u: a user name, or UID:GID in numbers; ring.c looks the name up. */
static enum mcr_parse_result set_user(const char *flag, const char *v, struct mcr_config *cfg,
				      char *err)
{
	char *colon;
	long long n;

	if (!*v || strlen(v) >= sizeof(cfg->user) || strchr(v, ' '))
		return fail(err, "%s '%s': give a user name, or UID:GID in numbers", flag, v);
	strcpy(cfg->user, v);
	colon = strchr(cfg->user, ':');
	if (colon) {
		*colon = '\0';
		n = parse_num(cfg->user, 0, 0x7fffffff) < 0 ? -1 :
		    parse_num(colon + 1, 0, 0x7fffffff);
		*colon = ':';
		if (n < 0)
			return fail(err, "%s '%s': give a user name, or UID:GID in numbers", flag,
				    v);
	}
	return MCR_PARSE_RUN;
}

/* --stats-file: a file path, written beside itself and renamed over. */
static enum mcr_parse_result set_stats_file(const char *flag, const char *v,
					    struct mcr_config *cfg, char *err)
{
	if (!*v || strlen(v) >= STATS_FILE_MAX)
		return fail(err, "%s '%.40s': a file path of 1 to %d bytes", flag, v,
			    STATS_FILE_MAX - 1);
	if (v[strlen(v) - 1] == '/')
		return fail(err, "%s %s: names a directory; add a file name, e.g. %sstats.json",
			    flag, v, v);
	cfg->stats_file = v;
	return MCR_PARSE_RUN;
}

/* The options that pick one of a few words. */
static enum mcr_parse_result apply_word_opt(int id, const char *flag, const char *v,
					    struct mcr_config *cfg, char *err)
{
	switch (id) {
	case OPT_DSCP:
		if (!strcasecmp(v, "keep")) {
			cfg->dscp = MCR_DSCP_KEEP;
			break;
		}
		cfg->dscp = parse_dscp(v);
		if (cfg->dscp < 0)
			return fail(err, "%s '%s': DSCP must be 0 to 63, a name (ef, af41, cs6, ...) "
				    "or keep", flag, v);
		break;
	case OPT_STATS_FORMAT:
		if (!strcmp(v, "kv"))
			cfg->stats_format = MCR_STATS_KV;
		else if (!strcmp(v, "json"))
			cfg->stats_format = MCR_STATS_JSON;
		else if (!strcmp(v, "prom"))
			cfg->stats_format = MCR_STATS_PROM;
		else
			return fail(err, "%s '%s': format must be kv or json, or prom for --stats-file",
				    flag, v);
		break;
	case OPT_ANALYZE:
		if (!strcmp(v, "rtp"))
			cfg->analyze = MCR_ANALYZE_RTP;
		else if (!strcmp(v, "ts"))
			cfg->analyze = MCR_ANALYZE_TS;
		else if (!strcmp(v, "auto"))
			cfg->analyze = MCR_ANALYZE_AUTO;
		else
			return fail(err, "%s '%s': read the stream as rtp, ts or auto", flag, v);
		break;
	case OPT_STALL_ACTION:
		if (!strcmp(v, "warn"))
			cfg->stall_exit = false;
		else if (!strcmp(v, "exit"))
			cfg->stall_exit = true;
		else
			return fail(err, "%s '%s': action must be warn or exit", flag, v);
		break;
	}
	return MCR_PARSE_RUN;
}

/* The options that take seconds, with up to three decimals. */
static enum mcr_parse_result apply_seconds_opt(int id, const char *flag, const char *v,
					       struct mcr_config *cfg, char *err)
{
	const uint32_t ms = parse_seconds_ms(v);

	switch (id) {
	case OPT_STATS_INTERVAL:
	case OPT_DURATION:
		if (!ms)
			return fail(err, "%s '%s': seconds must be from 0.001 to 86400", flag, v);
		*(id == OPT_DURATION ? &cfg->duration_ms : &cfg->stats_interval_ms) = ms;
		break;
	case OPT_STALL_TIMEOUT:
		if (ms < STALL_TIMEOUT_MIN_MS)
			return fail(err, "%s '%s': seconds must be from 0.1 to 86400", flag, v);
		cfg->stall_timeout_ms = ms;
		break;
	case OPT_REPORT_INTERVAL:
		if (ms < REPORT_INTERVAL_MIN_MS)
			return fail(err, "%s '%s': seconds must be from 1 to 86400", flag, v);
		cfg->report_interval_ms = ms;
		break;
	}
	return MCR_PARSE_RUN;
}

/* The options that take a whole number in a range. */
static enum mcr_parse_result apply_number_opt(int id, const char *flag, const char *v,
					      struct mcr_config *cfg, char *err)
{
	long long n;

	switch (id) {
	case OPT_TTL:
		n = parse_num(v, 1, 255);
		if (n < 0)
			return fail(err, "%s '%s': TTL must be a number from 1 to 255", flag, v);
		cfg->ttl = (int)n;
		break;
	case OPT_COUNT:
		n = parse_num(v, 1, (long long)(~0ull >> 1));
		if (n < 0)
			return fail(err, "%s '%s': count must be a positive number", flag, v);
		cfg->count = (uint64_t)n;
		break;
	case OPT_VLAN:
		n = parse_num(v, 1, 4094);
		if (n < 0)
			return fail(err, "%s '%s': VLAN ID must be a number from 1 to 4094", flag, v);
		cfg->vlan = (uint16_t)n;
		break;
	case OPT_BUSY_POLL:
		n = parse_num(v, 1, MCR_BUSY_POLL_MAX_US);
		if (n < 0)
			return fail(err, "%s '%s': microseconds must be from 1 to %d", flag, v,
				    MCR_BUSY_POLL_MAX_US);
		cfg->busy_poll_us = (uint32_t)n;
		break;
	case OPT_COALESCE:
		n = parse_usec(v, MCR_COALESCE_MAX_US);
		if (n < 0)
			return fail(err, "%s '%s': microseconds must be from 0 to %d (or 500us, 2ms)",
				    flag, v, MCR_COALESCE_MAX_US);
		cfg->coalesce_us = (uint32_t)n;
		break;
	case OPT_SRC_PORT:
		n = parse_num(v, 1, 65535);
		if (n < 0)
			return fail(err, "%s '%s': port must be a number from 1 to 65535", flag, v);
		cfg->src_port = (uint16_t)n;
		break;
	case OPT_READY_FD:
		n = parse_num(v, 0, INT_MAX);
		if (n < 0)
			return fail(err, "%s '%s': not a file descriptor number", flag, v);
		/* Closing it after the line would silence every later log line. */
		if (n == 2)
			return fail(err, "%s 2: that is standard error, where mcr logs; use another, "
				    "e.g. --ready-fd 3 3>FILE", flag);
		cfg->ready_fd = (int)n;
		break;
	}
	return MCR_PARSE_RUN;
}

/* One option's value into the config, or one line naming what is wrong with it. */
static enum mcr_parse_result apply_opt(int id, const char *flag, const char *v,
				       struct mcr_config *cfg, char *err)
{
	switch (id) {
	case OPT_IN:
		return set_ingress(flag, v, cfg, err);
	case OPT_GROUP:
		return set_group(flag, v, cfg, err);
	case OPT_SOURCE:
		return set_source(flag, v, cfg, err);
	case OPT_OUT:
		return add_out(flag, v, cfg, err);
	case OPT_USER:
		return set_user(flag, v, cfg, err);
	case OPT_STATS_FILE:
		return set_stats_file(flag, v, cfg, err);
	case OPT_DSCP:
	case OPT_STATS_FORMAT:
	case OPT_ANALYZE:
	case OPT_STALL_ACTION:
		return apply_word_opt(id, flag, v, cfg, err);
	case OPT_STATS_INTERVAL:
	case OPT_DURATION:
	case OPT_STALL_TIMEOUT:
	case OPT_REPORT_INTERVAL:
		return apply_seconds_opt(id, flag, v, cfg, err);
	}
	return apply_number_opt(id, flag, v, cfg, err);
}

enum mcr_parse_result parse_args(int argc, char *const argv[], struct mcr_config *cfg,
				 char err[MCR_ERR_LEN])
{
	uint64_t seen = 0;	/* a bit per option */
	bool help = false, version = false;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl = MCR_TTL_DEFAULT;
	cfg->dscp = MCR_DSCP_KEEP;
	cfg->ready_fd = -1;
	err[0] = '\0';

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int id = find_opt(a, &v);
		enum mcr_parse_result r;
		char flag[32];

		if (id < 0) {
			if (a[0] == '-')
				return fail(err, "%s: unknown option", a);
			return fail(err, "%s: unexpected argument", a);
		}
		if ((seen & (1ull << id)) && !opts[id].repeat)
			return fail(err, "%s: given twice", a);
		seen |= 1ull << id;
		if (!opts[id].arg) {
			if (v)
				return fail(err, "%s: takes no value", a);
			help |= id == OPT_HELP;
			version |= id == OPT_VERSION;
			cfg->no_join |= id == OPT_NO_JOIN;
			continue;
		}
		if (!v) {
			if (i + 1 == argc)
				return fail(err, "%s: missing value", a);
			v = argv[++i];
		}
		if (a[1] == '-')
			snprintf(flag, sizeof(flag), "--%s", opts[id].name);
		else
			snprintf(flag, sizeof(flag), "-%c", opts[id].letter);
		r = apply_opt(id, flag, v, cfg, err);
		if (r != MCR_PARSE_RUN)
			return r;
	}
	if (help)
		return MCR_PARSE_HELP;
	if (version)
		return MCR_PARSE_VERSION;
	if (!cfg->ingress[0])
		return fail(err, "missing -i IFACE, the interface the stream arrives on");
	if (!cfg->group.family)
		return fail(err, "missing -g GROUP:PORT, the stream to relay");
	if (!cfg->n_out)
		return fail(err, "missing -o DEST:PORT, where to relay the stream");
	if (cfg->source.family && cfg->source.family != cfg->group.family)
		return fail(err, "-s and -g: the source and the group must both be IPv4 or IPv6");
	if (cfg->coalesce_us && cfg->busy_poll_us)
		return fail(err, "--coalesce and --busy-poll: one waits on purpose, the other spins "
			    "not to; give one");
	if (cfg->stats_format == MCR_STATS_PROM && !cfg->stats_file)
		return fail(err, "--stats-format prom: is the format of --stats-file; give "
			    "--stats-file PATH too");
	if (cfg->stall_exit && !cfg->stall_timeout_ms)
		return fail(err, "--stall-action exit: give --stall-timeout SECS too");
	return MCR_PARSE_RUN;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * RFC 1071 ones' complement sum, 32 bits at a time into 64: since 2^16 = 1 (mod 2^16 - 1), the
 * fold at the end gives the same 16 bits as summing 16-bit words one by one.
 */
static uint64_t sum_bytes(const uint8_t *p, size_t len, uint64_t sum)
{
	for (; len >= 4; p += 4, len -= 4)
		sum += (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (len >= 2) {
		sum += get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * A UDP datagram (header and payload) checks out against its pseudo-header: RFC 768 for IPv4,
 * RFC 8200 section 8.1 for IPv6; the addresses are 4 or 16 bytes long.
 */
static bool udp_checksum_ok(const uint8_t *src, const uint8_t *dst, size_t alen,
			    const uint8_t *udp, uint32_t len)
{
	uint64_t sum = sum_bytes(src, alen, 0);

	sum = sum_bytes(dst, alen, sum);
	sum += IPPROTO_UDP_NUM + len;
	return fold(sum_bytes(udp, len, sum)) == 0xffff;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet II with 802.1Q tags: where IPv4 starts, or a verdict. */
static enum mcr_verdict parse_ether(const struct mcr_frame *f, const struct mcr_match *m,
				    uint32_t *off, uint16_t *type_out)
{
	uint16_t type, vid;
	bool tagged = false;

	if (f->caplen < ETH_HLEN)
		return MCR_DROP_TRUNCATED;
	/* The kernel strips the outer tag into the ring header; a VID of 0 is a priority tag. */
	if (f->vlan_valid && (vid = f->vlan_tci & VLAN_VID_MASK)) {
		if (vid != m->vlan)
			return MCR_DROP_VLAN;
		tagged = true;
	}
	type = get16(f->data + 12);
	*off = ETH_HLEN;
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
		if (f->caplen < *off + VLAN_HLEN)
			return MCR_DROP_TRUNCATED;
		vid = get16(f->data + *off) & VLAN_VID_MASK;
		if (vid) {
			if (tagged || vid != m->vlan)
				return MCR_DROP_VLAN;
			tagged = true;
		}
		type = get16(f->data + *off + 2);
		*off += VLAN_HLEN;
	}
	if (m->vlan && !tagged)
		return MCR_DROP_VLAN;
	if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
		return MCR_DROP_UNMATCHED;
	*type_out = type;
	return MCR_RELAY;
}

/*
 * ip6_rcv_core(): a multicast source, or ::1 from anything but the loopback device (RFC 4291
 * sections 2.5.3 and 2.7).
 */
static bool ipv6_martian(const struct mcr_frame *f, const uint8_t *src)
{
	static const uint8_t loopback[16] = { [15] = 1 };

	return src[0] == 0xff || (!f->loopback && !memcmp(src, loopback, 16));
}

/*
 * The UDP length as __udp4_lib_rcv() and __udp6_lib_rcv() take it from a datagram of room
 * bytes: no longer than that and trimmed to (the rest is padding); 0 over IPv6 means all of
 * it. 0 when it cannot be.
 */
static uint32_t udp_length(const uint8_t *udp, uint32_t room, bool v6)
{
	uint32_t len = get16(udp + 4);

	if (v6 && !len)
		len = room;
	return len >= UDP_HLEN && len <= room ? len : 0;
}

/*
 * The UDP header at ip + at of a datagram that ends at ip + end, avail bytes captured from ip:
 * checked in wire order, then taken as a relayable datagram. A zero checksum means none was
 * sent over IPv4 (RFC 768) and is a drop over IPv6, where it is mandatory (RFC 8200); the
 * kernel's own verdict on the checksum saves the work.
 */
static enum mcr_verdict parse_udp(const struct mcr_frame *f, const uint8_t *ip, uint32_t at,
				  uint32_t end, uint32_t avail, bool v6, const struct mcr_match *m,
				  struct mcr_datagram *d)
{
	const uint32_t alen = v6 ? 16 : 4;
	const uint8_t *src = ip + (v6 ? 8 : 12), *udp;
	uint32_t len;

	if (end - at < UDP_HLEN)
		return MCR_DROP_MALFORMED;
	if (avail < at + UDP_HLEN)
		return MCR_DROP_TRUNCATED;
	udp = ip + at;
	if (get16(udp + 2) != m->port)
		return MCR_DROP_UNMATCHED;
	len = udp_length(udp, end - at, v6);
	if (!len)
		return MCR_DROP_MALFORMED;
	if (avail < at + len)
		return MCR_DROP_TRUNCATED;
	if (get16(udp + 6) ? !f->csum_ok && !udp_checksum_ok(src, src + alen, alen, udp, len) : v6)
		return MCR_DROP_CHECKSUM;
	d->payload = udp + UDP_HLEN;
	d->len = len - UDP_HLEN;
	d->sport = get16(udp);
	d->dport = m->port;
	return MCR_RELAY;
}

/*
 * RFC 3376 4.1.1 and 4.1.7, RFC 3810 5.1.3 and 5.1.9: a code below 2^bits is the value; above,
 * an exponent of 3 bits and a mantissa of bits - 4, the mantissa's top bit implied.
 */
static uint32_t float_code(uint32_t code, unsigned int bits)
{
	const uint32_t mant_bits = bits - 4;

	if (code < (1u << (bits - 1)))
		return code;
	return ((code & ((1u << mant_bits) - 1)) | 1u << mant_bits)
	       << (((code >> mant_bits) & 7) + 3);
}

/* RFC 3376 8.4, RFC 3810 9.4: robustness times the query interval, plus the response time. */
static uint32_t membership_ms(uint8_t qrv, uint8_t qqic, uint32_t response_ms)
{
	const uint32_t qqi_s = qqic ? float_code(qqic, 8) : QQI_DEFAULT_S;

	return (qrv ? qrv : QRV_DEFAULT) * qqi_s * 1000 + response_ms;
}

/*
 * IGMP (RFC 2236, RFC 3376) at ip + at, len bytes of it: a query, general or for the group, is
 * MCR_QUERY; v1 and v2 are 8 bytes, v3 12 and more, anything between is what the kernel ignores.
 */
static enum mcr_verdict parse_igmp(const uint8_t *ip, uint32_t at, uint32_t len, uint32_t avail,
				   const struct mcr_match *m, struct mcr_datagram *d)
{
	const uint8_t *g = ip + at;

	/* Other IGMP messages are no more the stream than any other protocol. */
	if (!len || avail <= at || g[0] != IGMP_QUERY)
		return MCR_DROP_UNMATCHED;
	if (len < IGMP_V2_LEN)
		return MCR_DROP_MALFORMED;
	if (avail < at + len)
		return MCR_DROP_TRUNCATED;
	if (len != IGMP_V2_LEN &&
	    (len < IGMP_V3_QUERY_MIN || IGMP_V3_QUERY_MIN + 4u * get16(g + 10) > len))
		return MCR_DROP_MALFORMED;
	if (fold(sum_bytes(g, len, 0)) != 0xffff)
		return MCR_DROP_CHECKSUM;
	if (get32(g + 4) && memcmp(g + 4, &m->group.v4, 4))
		return MCR_DROP_UNMATCHED;
	d->src.family = AF_INET;
	memcpy(&d->src.v4, ip + 12, 4);
	if (len == IGMP_V2_LEN) {
		d->query_version = g[1] ? 2 : 1;	/* a v1 query's code is 0 */
		d->query_membership_ms = 0;
	} else {
		d->query_version = 3;
		d->query_membership_ms = membership_ms(g[8] & 7, g[9], float_code(g[1], 8) * 100);
	}
	return MCR_QUERY;
}

/*
 * IPv4 options as ip_options_compile() checks them on receive: a length out of bounds, a
 * pointer before its data, a second source route, record route or timestamp, a timestamp
 * whose overflow count would wrap are errors (malformed). A valid source route is dropped too:
 * ip_rcv_options() refuses it with accept_source_route=0 and ip_options_rcv_srr() always for a
 * frame not addressed to this host, as a group's is. CIPSO is refused whole: the kernel
 * checks it against the DOIs configured here, and a host relaying multicast has none.
 */
static enum mcr_verdict check_ipv4_options(const uint8_t *p, uint32_t left)
{
	bool srr = false, rr = false, ts = false, pairs;
	uint32_t len, flags;

	while (left && p[0] != IPOPT_END) {
		if (p[0] == IPOPT_NOOP) {
			p++;
			left--;
			continue;
		}
		if (left < 2 || (len = p[1]) < 2 || len > left)
			return MCR_DROP_MALFORMED;
		switch (p[0]) {
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			if (len < 3 || p[2] < 4 || srr)
				return MCR_DROP_MALFORMED;
			srr = true;
			break;
		case IPOPT_RR:
			if (rr || len < 3 || p[2] < 4 || (p[2] <= len && p[2] + 3u > len))
				return MCR_DROP_MALFORMED;
			rr = true;
			break;
		case IPOPT_TS:
			if (ts || len < 4 || p[2] < 5)
				return MCR_DROP_MALFORMED;
			flags = p[3] & 0xfu;
			pairs = flags == IPOPT_TS_TSANDADDR || flags == IPOPT_TS_PRESPEC;
			if (p[2] <= len && p[2] + (pairs ? 7u : 3u) > len)
				return MCR_DROP_MALFORMED;
			if (p[2] > len && flags != IPOPT_TS_PRESPEC &&
			    p[3] >> 4 == IPOPT_TS_OVERFLOW_MAX)
				return MCR_DROP_MALFORMED;
			ts = true;
			break;
		case IPOPT_RA:
			if (len < 4)
				return MCR_DROP_MALFORMED;
			break;
		case IPOPT_CIPSO:
			return MCR_DROP_MALFORMED;
		}
		p += len;
		left -= len;
	}
	return srr ? MCR_DROP_MARTIAN : MCR_RELAY;
}

/*
 * ip_mc_validate_source(): multicast, limited broadcast and 127/8 sources, and 0.0.0.0 but to
 * the link-local groups 224.0.0.0/24 (since Linux 5.3 the rest of 0/8 is a unicast range, as
 * the kernel here confirms). The kernel routes only what came from outside: frames this host
 * sent and looped back keep their route and skip the check.
 */
static bool ipv4_martian(const struct mcr_frame *f, const uint8_t *src, const uint8_t *dst)
{
	if (f->loopback)
		return false;
	if ((src[0] & 0xf0) == 0xe0 || get32(src) == 0xffffffffu || src[0] == 127)
		return true;
	return !get32(src) && !(dst[0] == 224 && dst[1] == 0 && dst[2] == 0);
}

/*
 * IPv4, from off in the frame. Checks follow the headers in wire order; the first that fails
 * names the verdict. Truncated means the capture ends before what the headers say is there;
 * malformed means the headers contradict each other or the frame's length on the wire. Where
 * this list is silent, the kernel's own receive path is the model.
 */
static enum mcr_verdict parse_ipv4(const struct mcr_frame *f, const struct mcr_match *m,
				   uint32_t off, struct mcr_datagram *d)
{
	const uint8_t *ip;
	uint32_t avail, wire, ihl, tot, frag;

	if (f->caplen < off + IPV4_MIN_HLEN)
		return MCR_DROP_TRUNCATED;
	ip = f->data + off;
	avail = f->caplen - off;
	wire = f->wirelen > f->caplen ? f->wirelen - off : avail;
	ihl = (ip[0] & 0xfu) * 4;
	tot = get16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < IPV4_MIN_HLEN || tot < ihl || tot > wire)
		return MCR_DROP_MALFORMED;
	if (ihl > avail)
		return MCR_DROP_TRUNCATED;
	if (fold(sum_bytes(ip, ihl, 0)) != 0xffff)
		return MCR_DROP_CHECKSUM;
	/* Queries are never fragmented; the kernel would take a fragment for no query either. */
	if (ip[9] == IPPROTO_IGMP_NUM && m->group.family == AF_INET &&
	    !(get16(ip + 6) & IPV4_FRAG_MASK))
		return parse_igmp(ip, ihl, tot - ihl, avail, m, d);
	if (ip[9] != IPPROTO_UDP_NUM || m->group.family != AF_INET ||
	    memcmp(ip + 16, &m->group.v4, 4) ||
	    (m->source.family && memcmp(ip + 12, &m->source.v4, 4)))
		return MCR_DROP_UNMATCHED;
	if (ipv4_martian(f, ip + 12, ip + 16))
		return MCR_DROP_MARTIAN;
	if (ihl > IPV4_MIN_HLEN) {
		enum mcr_verdict v = check_ipv4_options(ip + IPV4_MIN_HLEN, ihl - IPV4_MIN_HLEN);

		if (v != MCR_RELAY)
			return v;
	}

	d->src.family = d->dst.family = AF_INET;
	memcpy(&d->src.v4, ip + 12, 4);
	memcpy(&d->dst.v4, ip + 16, 4);
	d->dscp = ip[1] >> 2;
	d->ecn = ip[1] & 3;
	frag = get16(ip + 6);
	if (frag & IPV4_FRAG_MASK) {
		/*
		 * As ip_frag_queue(): a fragment with more to come is cut to a multiple of 8
		 * bytes; an empty one, or one past 65535 bytes of datagram, goes on to kill its
		 * datagram in reassembly.
		 */
		d->frag_off = (uint16_t)((frag & IPV4_OFFSET_MASK) * 8);
		d->frag_more = frag & IPV4_MF;
		d->frag_id = get16(ip + 4);
		d->frag_nh = IPPROTO_UDP_NUM;
		d->frag_chain = 0;
		d->frag_hlen = (uint16_t)ihl;
		d->len = tot - ihl;
		if (d->frag_more)
			d->len &= ~7u;
		if (avail < tot)
			return MCR_DROP_TRUNCATED;
		d->payload = ip + ihl;
		return MCR_FRAGMENT;
	}
	return parse_udp(f, ip, ihl, tot, avail, false, m, d);
}

/*
 * MLD (RFC 2710, RFC 3810) at ip + at up to end: a query, general or for the group, from a
 * link-local address as the kernel requires, is MCR_QUERY. The checksum covers the pseudo-header.
 */
static enum mcr_verdict parse_mld(const struct mcr_frame *f, const uint8_t *ip, uint32_t at,
				  uint32_t end, uint32_t avail, const struct mcr_match *m,
				  struct mcr_datagram *d)
{
	static const uint8_t any[16];
	const uint32_t len = end - at;
	const uint8_t *q = ip + at;
	uint64_t sum;

	/* Other ICMPv6 messages are no more the stream than any other protocol. */
	if (!len || avail <= at || q[0] != MLD_QUERY)
		return MCR_DROP_UNMATCHED;
	if (len < MLD_V1_LEN)
		return MCR_DROP_MALFORMED;
	if (avail < end)
		return MCR_DROP_TRUNCATED;
	if (len != MLD_V1_LEN &&
	    (len < MLD_V2_QUERY_MIN || MLD_V2_QUERY_MIN + 16u * get16(q + 26) > len))
		return MCR_DROP_MALFORMED;
	sum = sum_bytes(ip + 8, 32, 0) + len + NH_ICMPV6;
	if (!f->csum_ok && fold(sum_bytes(q, len, sum)) != 0xffff)
		return MCR_DROP_CHECKSUM;
	if (ip[8] != 0xfe || (ip[9] & 0xc0) != 0x80 ||
	    (memcmp(q + 8, any, 16) && memcmp(q + 8, &m->group.v6, 16)))
		return MCR_DROP_UNMATCHED;
	d->src.family = AF_INET6;
	memcpy(&d->src.v6, ip + 8, 16);
	if (len == MLD_V1_LEN) {
		d->query_version = 1;
		d->query_membership_ms = 0;
	} else {
		d->query_version = 2;
		d->query_membership_ms = membership_ms(q[24] & 7, q[25], float_code(get16(q + 4), 16));
	}
	return MCR_QUERY;
}

/*
 * The options of a hop-by-hop or destination options header of hl bytes, at from the IPv6
 * header, as ip6_parse_tlv() takes them: padding of at most 7 bytes in a row, PadN all zeros,
 * at most 8 other options, each within the header; an unknown option whose two high bits are
 * not 00 drops the packet (01 silently, 10 and 11 with an ICMP error, never sent for multicast).
 * Known hop-by-hop options: Router Alert must be 2 bytes; a jumbo payload is always refused,
 * since no frame mcr captures is longer than 65535 bytes; IOAM, not enabled, is skipped when
 * 4-byte aligned. In a destination options header, every option is unknown.
 */
static bool options_ok(const uint8_t *p, uint32_t hl, bool hbh, uint32_t at)
{
	unsigned int pad = 0, count = 0;

	for (uint32_t off = 2; off < hl;) {
		uint32_t optlen;

		if (p[off] == OPT_PAD1) {
			if (++pad > IPV6_PAD_MAX)
				return false;
			off++;
			continue;
		}
		if (hl - off < 2 || (optlen = p[off + 1] + 2u) > hl - off)
			return false;
		if (p[off] == OPT_PADN) {
			pad += optlen;
			if (pad > IPV6_PAD_MAX)
				return false;
			for (uint32_t i = 2; i < optlen; i++)
				if (p[off + i])
					return false;
		} else {
			if (++count > IPV6_OPTS_MAX)
				return false;
			if (hbh && p[off] == OPT_ROUTER_ALERT) {
				if (optlen != 4)
					return false;
			} else if (hbh && p[off] == OPT_IOAM) {
				if ((at + off) & 3)
					return false;
			} else if (p[off] >> 6) {
				return false;	/* jumbo payload, 0xc2, is one of these */
			}
			pad = 0;
		}
		off += optlen;
	}
	return true;
}

/*
 * RFC 8200 section 4.5: a first fragment must hold every header through UDP's. The kernel
 * (ipv6frag_thdr_truncated()) walks the headers after the fragment header by their length
 * bytes alone, and lets the fragment by when a header starts past its end.
 */
static bool first_fragment_whole(const uint8_t *ip, uint32_t at, uint32_t end, uint8_t nh)
{
	for (int n = 0; nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS ||
			nh == NH_FRAGMENT || nh == NH_AUTH || nh == NH_NONE; n++) {
		uint32_t hl;

		if (nh == NH_NONE || n == IPV6_EXT_MAX || at + 2 > end)
			return true;
		hl = nh == NH_FRAGMENT ? IPV6_FRAG_HLEN :
		     nh == NH_AUTH ? (ip[at + 1] + 2u) * 4 : (ip[at + 1] + 1u) * 8;
		nh = ip[at];
		at += hl;
	}
	return at + (nh == IPPROTO_UDP_NUM ? UDP_HLEN : 1) <= end;
}

/*
 * IPv6 (RFC 8200), from off in the frame: the fixed header, then the extension header chain,
 * each header bounds-checked against the payload length before it is read, as the kernel's
 * receive path takes them: at most 12 headers, hop-by-hop only first, options checked, no
 * routing header (ipv6_rthdr_rcv() drops any on a multicast destination), one fragment header.
 * The UDP checksum is mandatory: zero is a drop.
 */
static enum mcr_verdict parse_ipv6(const struct mcr_frame *f, const struct mcr_match *m,
				   uint32_t off, struct mcr_datagram *d)
{
	static const uint8_t all_nodes_addr[16] = { 0xff, 0x02, [15] = 1 };
	const uint8_t *ip, *p;
	uint32_t avail, wire, end, at = IPV6_HLEN;
	bool all_nodes, other_source;
	bool atomic = false, jumbo;
	uint8_t nh;

	if (f->caplen < off + IPV6_HLEN)
		return MCR_DROP_TRUNCATED;
	ip = f->data + off;
	avail = f->caplen - off;
	wire = f->wirelen > f->caplen ? f->wirelen - off : avail;
	end = IPV6_HLEN + get16(ip + 4);
	/*
	 * A payload length of 0 announces a jumbogram: with hop-by-hop options first, the kernel
	 * takes the whole frame as the packet (the jumbo option itself it refuses below).
	 */
	jumbo = end == IPV6_HLEN && ip[6] == NH_HOPOPTS;
	if (jumbo)
		end = wire;
	if (ip[0] >> 4 != 6 || end == IPV6_HLEN || end > wire)
		return MCR_DROP_MALFORMED;
	/* Queries come to all nodes or to the group, from the querier rather than -s's source. */
	all_nodes = !memcmp(ip + 24, all_nodes_addr, 16);
	other_source = m->source.family && memcmp(ip + 8, &m->source.v6, 16);
	if (m->group.family != AF_INET6 || (!all_nodes && memcmp(ip + 24, &m->group.v6, 16)) ||
	    (other_source && ip[6] != NH_HOPOPTS && ip[6] != NH_ICMPV6))
		return MCR_DROP_UNMATCHED;
	if (ipv6_martian(f, ip + 8))
		return MCR_DROP_MARTIAN;
	d->src.family = d->dst.family = AF_INET6;
	memcpy(&d->src.v6, ip + 8, 16);
	memcpy(&d->dst.v6, ip + 24, 16);
	d->dscp = (uint8_t)(((ip[0] & 0x0f) << 4 | ip[1] >> 4) >> 2);
	d->ecn = (ip[1] >> 4) & 3;

	nh = ip[6];
	for (unsigned int n = 0; nh != IPPROTO_UDP_NUM; n++) {
		uint32_t hl;

		if (nh == NH_ICMPV6)
			return parse_mld(f, ip, at, end, avail, m, d);
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS && nh != NH_FRAGMENT)
			return MCR_DROP_UNMATCHED;
		if (n == IPV6_EXT_MAX || (nh == NH_HOPOPTS && n) || nh == NH_ROUTING ||
		    at + 8 > end)
			return MCR_DROP_MALFORMED;
		if (avail < at + 8)
			return MCR_DROP_TRUNCATED;
		p = ip + at;
		if (nh == NH_FRAGMENT) {
			uint16_t fo = get16(p + 2);

			if (all_nodes || other_source)
				return MCR_DROP_UNMATCHED;
			/* ipv6_frag_rcv(): never in a jumbogram, never a second one. */
			if (jumbo || atomic)
				return MCR_DROP_MALFORMED;
			/* RFC 6946: offset 0 without more fragments is a whole datagram. */
			if ((fo & 0xfff9) == 0) {
				atomic = true;
				nh = p[0];
				at += IPV6_FRAG_HLEN;
				continue;
			}
			d->frag_off = fo & 0xfff8;
			d->frag_more = fo & 1;
			d->frag_id = get32(p + 4);
			d->frag_nh = p[0];
			d->frag_chain = (uint8_t)(n + 1);
			d->frag_hlen = (uint16_t)(at - IPV6_HLEN);
			d->len = end - at - IPV6_FRAG_HLEN;
			/* Dropped alone; an empty fragment goes on to kill its datagram. */
			if ((d->frag_more && d->len % 8) || d->frag_off + d->len > 65535)
				return MCR_DROP_MALFORMED;
			if (avail < end)
				return MCR_DROP_TRUNCATED;
			if (!d->frag_off && !first_fragment_whole(ip, at + IPV6_FRAG_HLEN, end, p[0]))
				return MCR_DROP_MALFORMED;
			d->payload = p + IPV6_FRAG_HLEN;
			return MCR_FRAGMENT;
		}
		hl = (p[1] + 1u) * 8;
		if (at + hl > end)
			return MCR_DROP_MALFORMED;
		if (avail < at + hl)
			return MCR_DROP_TRUNCATED;
		if (!options_ok(p, hl, nh == NH_HOPOPTS, at))
			return MCR_DROP_MALFORMED;
		nh = p[0];
		at += hl;
	}
	if (all_nodes || other_source)
		return MCR_DROP_UNMATCHED;
	return parse_udp(f, ip, at, end, avail, true, m, d);
}

enum mcr_verdict parse_frame(const struct mcr_frame *f, const struct mcr_match *m,
			     struct mcr_datagram *d)
{
	uint32_t off = 0;
	uint16_t type = ETHERTYPE_IPV4;

	/*
	 * Datagrams glued into one frame (a sender's UDP GSO over a veth, or GRO with
	 * rx-udp-gro-forwarding or rx-gro-list): the kernel splits them before any socket sees
	 * them; relayed whole they would be one datagram of the wrong size.
	 */
	if (f->glued)
		return MCR_DROP_GLUED;
	if (f->link == MCR_LINK_ETHER) {
		enum mcr_verdict v = parse_ether(f, m, &off, &type);

		if (v != MCR_RELAY)
			return v;
	} else if (m->vlan) {
		return MCR_DROP_VLAN;	/* a link without a link header carries no tag */
	} else if (f->caplen && f->data[0] >> 4 == 6) {
		type = ETHERTYPE_IPV6;
	}
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(f, m, off, d);
	return parse_ipv4(f, m, off, d);
}

size_t build_report(const struct mcr_match *m, int version, uint8_t buf[MCR_REPORT_MAX],
		    struct mcr_ip *dst)
{
	const bool v6 = m->group.family == AF_INET6, ssm = m->source.family;
	const size_t alen = v6 ? 16 : 4;
	uint16_t sum;
	size_t n;

	memset(buf, 0, MCR_REPORT_MAX);
	memset(dst, 0, sizeof(*dst));
	dst->family = m->group.family;
	if (v6 && version == 1) {
		/* RFC 2710 3: to the group itself; the group in the address field. */
		buf[0] = MLD_V1_REPORT;
		memcpy(buf + 8, &m->group.v6, 16);
		dst->v6 = m->group.v6;
		return MLD_V1_LEN;
	}
	if (!v6 && (version == 1 || version == 2)) {
		/* RFC 1112 and RFC 2236: to the group itself; v2 cannot name a source. */
		buf[0] = version == 1 ? IGMP_V1_REPORT : IGMP_V2_REPORT;
		memcpy(buf + 4, &m->group.v4, 4);
		n = IGMP_V2_LEN;
		dst->v4 = m->group.v4;
	} else if ((v6 && version == 2) || (!v6 && version == 3)) {
		/*
		 * RFC 3376 4.2, RFC 3810 5.2: one current-state record to all IGMPv3 or MLDv2
		 * routers: "include" the one source of -s, else "exclude" none.
		 */
		uint8_t *rec = buf + 8;

		buf[0] = v6 ? MLD_V2_REPORT : IGMP_V3_REPORT;
		buf[7] = 1;
		rec[0] = ssm ? RECORD_IS_INCLUDE : RECORD_IS_EXCLUDE;
		rec[3] = ssm ? 1 : 0;
		memcpy(rec + 4, &m->group.v6, alen);
		if (ssm)
			memcpy(rec + 4 + alen, &m->source.v6, alen);
		n = 8 + 4 + alen * (ssm ? 2 : 1);
		if (v6) {
			static const uint8_t mldv2_routers[16] = { 0xff, 0x02, [15] = 0x16 };

			memcpy(&dst->v6, mldv2_routers, 16);
			return n;	/* the kernel sums ICMPv6 over the pseudo-header */
		}
		dst->v4.s_addr = htonl(0xe0000016);	/* 224.0.0.22 */
	} else {
		return 0;
	}
	/* IGMP's checksum covers the message alone (RFC 2236 2.3). */
	sum = (uint16_t)~fold(sum_bytes(buf, n, 0));
	buf[2] = (uint8_t)(sum >> 8);
	buf[3] = (uint8_t)sum;
	return n;
}

#define ALL_SLOTS (MCR_REASM_SLOTS == 64 ? ~0ull : (1ull << MCR_REASM_SLOTS) - 1)

static uint64_t slot_bit(const struct mcr_reasm *t, const struct mcr_reasm_slot *s)
{
	return 1ull << (s - t->slot);
}

static void free_slot(struct mcr_reasm *t, struct mcr_reasm_slot *s)
{
	t->busy &= ~slot_bit(t, s);
	s->first_in = s->last_in = false;
	s->len = s->meat = s->tail = 0;
	s->ecn_seen = 0;
	memset(s->held, 0, sizeof(s->held));
	memset(s->run, 0, sizeof(s->run));
}

void reasm_expire(struct mcr_reasm *t, uint64_t now_ms)
{
	for (uint64_t busy = t->busy; busy; busy &= busy - 1) {
		struct mcr_reasm_slot *s = &t->slot[__builtin_ctzll(busy)];

		if (now_ms - s->start_ms >= MCR_REASM_TIMEOUT_MS) {
			free_slot(t, s);
			t->timeout++;
		}
	}
}

bool reasm_pending(const struct mcr_reasm *t)
{
	return t->busy;
}

bool reasm_crowded(const struct mcr_reasm *t)
{
	return t->sent && (t->busy | t->sent) == ALL_SLOTS;
}

void reasm_release(struct mcr_reasm *t)
{
	t->sent = 0;
}

/* The slot collecting this datagram's fragments, or a free one; NULL when all are busy. */
static struct mcr_reasm_slot *find_slot(struct mcr_reasm *t, const struct mcr_datagram *f)
{
	uint64_t idle = ~(t->busy | t->sent) & ALL_SLOTS;

	for (uint64_t busy = t->busy; busy; busy &= busy - 1) {
		struct mcr_reasm_slot *s = &t->slot[__builtin_ctzll(busy)];

		if (s->id == f->frag_id && ip_equal(&s->src, &f->src) && ip_equal(&s->dst, &f->dst))
			return s;
	}
	return idle ? &t->slot[__builtin_ctzll(idle)] : NULL;
}

static bool unit_test(const uint64_t *map, uint32_t u)
{
	return map[u / 64] >> (u % 64) & 1;
}

static void unit_set(uint64_t *map, uint32_t u)
{
	map[u / 64] |= 1ull << (u % 64);
}

enum place { PLACE_NEW_RUN, PLACE_APPEND, PLACE_DUPLICATE, PLACE_OVERLAP };

/*
 * Where [off, end) goes, as inet_frag_queue_insert() decides: past the furthest fragment held
 * it appends to its run or starts one, and must not reach back into it; short of it, it is a
 * duplicate only inside one run (two runs side by side are not one), an overlap when it meets
 * any held unit otherwise, and else a run of its own.
 */
static enum place place_fragment(const struct mcr_reasm_slot *s, uint32_t off, uint32_t end)
{
	uint32_t first = off / MCR_REASM_UNIT, stop = (end + MCR_REASM_UNIT - 1) / MCR_REASM_UNIT;
	unsigned int held = 0;

	if (!s->tail)
		return PLACE_NEW_RUN;
	if (end > s->tail)
		return off < s->tail ? PLACE_OVERLAP : off == s->tail ? PLACE_APPEND : PLACE_NEW_RUN;
	for (uint32_t u = first; u < stop; u++)
		held += unit_test(s->held, u);
	if (!held)
		return PLACE_NEW_RUN;
	if (held < stop - first)
		return PLACE_OVERLAP;
	for (uint32_t u = first + 1; u < stop; u++)
		if (unit_test(s->run, u))
			return PLACE_OVERLAP;
	return PLACE_DUPLICATE;
}

/*
 * The kernel's length rules (ip_frag_queue(), ip6_frag_queue()), before any overlap check: a
 * last fragment fixes the length and must not fall short of data held; data past a known
 * length, or an empty fragment, kills the datagram.
 */
static bool length_ok(struct mcr_reasm_slot *s, const struct mcr_datagram *f, uint32_t end)
{
	if (!f->frag_more) {
		if (end < s->len || (s->last_in && end != s->len))
			return false;
		s->last_in = true;
		s->len = end;
	} else if (end > s->len) {
		if (s->last_in)
			return false;
		s->len = end;
	}
	return f->len != 0;
}

/* Whole: the rebuilt UDP datagram, or NULL for one the kernel would not deliver. */
static const uint8_t *rebuilt_udp(struct mcr_reasm_slot *s, const struct mcr_match *m,
				  uint32_t *udp_len)
{
	const bool v6 = s->src.family == AF_INET6;
	const uint8_t *udp = s->buf;
	uint32_t len = s->len;
	unsigned int chain = s->chain;

	/*
	 * ip_frag_reasm(), ip6_frag_reasm(): 65535 bytes with the first fragment's headers; a
	 * not-ECT fragment among ECN-capable ones (ip_frag_ecn_table) is refused.
	 */
	if (s->hlen + s->len > 65535 || ((s->ecn_seen & 1) && (s->ecn_seen & ~1)))
		return NULL;
	/*
	 * In IPv6 the fragmentable part may start with destination options; a routing header is
	 * never accepted on a multicast destination, nor a second fragment header.
	 */
	while (v6 && s->nh != IPPROTO_UDP_NUM) {
		uint32_t hl;

		if (s->nh != NH_DSTOPTS || len < 8 || (hl = (udp[1] + 1u) * 8) > len ||
		    ++chain > IPV6_EXT_MAX || !options_ok(udp, hl, false, 0))
			return NULL;
		s->nh = udp[0];
		udp += hl;
		len -= hl;
	}
	if (s->nh != IPPROTO_UDP_NUM || len < UDP_HLEN || get16(udp + 2) != m->port ||
	    !(len = udp_length(udp, len, v6)) || (v6 && !get16(udp + 6)) ||
	    (get16(udp + 6) && !udp_checksum_ok(s->src.v6.s6_addr, s->dst.v6.s6_addr,
						 v6 ? 16 : 4, udp, len)))
		return NULL;
	*udp_len = len;
	return udp;
}

/*
 * A fragment, taken as the kernel takes it: its length rules first, then its place among the
 * runs held (an overlap discards the whole datagram, RFC 5722's rule, which Linux applies to
 * IPv4 too; a duplicate is dropped alone), and the datagram checked once whole.
 */
enum mcr_reasm_result reasm_add(struct mcr_reasm *t, const struct mcr_datagram *f,
				const struct mcr_match *m, uint64_t now_ms, struct mcr_datagram *d)
{
	struct mcr_reasm_slot *s;
	uint32_t off = f->frag_off, end = off + f->len, len;
	const uint8_t *udp;
	enum place place;

	reasm_expire(t, now_ms);
	if (end > MCR_REASM_UNITS * MCR_REASM_UNIT)	/* parse_frame() never hands one over */
		return MCR_REASM_INVALID;
	s = find_slot(t, f);
	if (!s)
		return MCR_REASM_NO_ROOM;
	if (!(t->busy & slot_bit(t, s))) {
		t->busy |= slot_bit(t, s);
		s->start_ms = now_ms;
		s->src = f->src;
		s->dst = f->dst;
		s->id = f->frag_id;
	}
	if (!length_ok(s, f, end))
		goto invalid;
	place = place_fragment(s, off, end);
	if (place == PLACE_OVERLAP)
		goto invalid;
	if (place == PLACE_DUPLICATE)
		return MCR_REASM_DUPLICATE;
	if (place == PLACE_NEW_RUN)
		unit_set(s->run, off / MCR_REASM_UNIT);
	for (uint32_t u = off / MCR_REASM_UNIT; u < (end + MCR_REASM_UNIT - 1) / MCR_REASM_UNIT; u++)
		unit_set(s->held, u);
	if (end > s->tail)
		s->tail = end;
	/* Bytes past 64 KiB are never needed: such a datagram fails the size check once whole. */
	if (off < sizeof(s->buf))
		memcpy(s->buf + off, f->payload, (end < sizeof(s->buf) ? end : sizeof(s->buf)) - off);
	s->meat += f->len;
	s->ecn_seen |= (uint8_t)(1u << (f->ecn & 3));
	if (!off) {
		s->first_in = true;
		s->dscp = f->dscp;
		s->nh = f->frag_nh;
		s->chain = f->frag_chain;
		s->hlen = f->frag_hlen;
	}
	if (!s->first_in || !s->last_in || s->meat != s->len)
		return MCR_REASM_QUEUED;

	udp = rebuilt_udp(s, m, &len);
	if (!udp)
		goto invalid;
	d->payload = udp + UDP_HLEN;
	d->len = len - UDP_HLEN;
	d->src = s->src;
	d->dst = s->dst;
	d->sport = get16(udp);
	d->dport = m->port;
	d->dscp = s->dscp;
	free_slot(t, s);
	t->sent |= slot_bit(t, s);
	t->reassembled++;
	return MCR_REASM_DONE;
invalid:
	free_slot(t, s);
	t->invalid++;
	return MCR_REASM_INVALID;
}

/* --- --analyze: RTP sequence and MPEG-TS continuity, over each relayed datagram's payload. */

#define RTP_VERSION 2
#define RTP_WINDOW 128		/* numbers behind the highest a source remembers: seen[2] */
#define TS_PUSI_PID_HI 1	/* byte of the PID's high bits */
#define TS_AFC_PAYLOAD 0x10	/* adaptation_field_control: a payload follows */
#define TS_AFC_ADAPT 0x20	/* adaptation_field_control: an adaptation field follows */
#define TS_DISCONTINUITY 0x80	/* the adaptation field's discontinuity_indicator */

const char *const mcr_stream_name[] = {
	[MCR_STREAM_UNKNOWN] = "unknown",
	[MCR_STREAM_RTP] = "rtp",
	[MCR_STREAM_TS] = "ts",
	[MCR_STREAM_RTP_TS] = "rtp_ts",
};

void analyze_init(struct mcr_analysis *a, enum mcr_analyze mode)
{
	memset(a, 0, sizeof(*a));
	a->mode = mode;
	if (mode == MCR_ANALYZE_RTP)
		a->c.kind = MCR_STREAM_RTP;
}

/* RFC 3550 5.1 and 5.3.1: the header is 12 bytes, the CSRCs, the extension; padding at the end. */
bool rtp_payload(const uint8_t *p, uint32_t len, uint32_t *off, uint32_t *plen)
{
	uint32_t hl, pad = 0;

	if (len < MCR_RTP_HLEN || p[0] >> 6 != RTP_VERSION)
		return false;
	hl = MCR_RTP_HLEN + (p[0] & 0x0fu) * 4;
	if (len < hl)
		return false;
	if (p[0] & 0x10) {
		if (len < hl + 4)
			return false;
		hl += 4 + get16(p + hl + 2) * 4u;
		if (len < hl)
			return false;
	}
	if (p[0] & 0x20) {
		pad = p[len - 1];
		if (!pad || pad > len - hl)
			return false;
	}
	*off = hl;
	*plen = len - hl - pad;
	return true;
}

/* A whole number of TS packets, each with its sync byte. */
static bool looks_ts(const uint8_t *p, uint32_t len)
{
	if (!len || len % MCR_TS_PACKET_LEN)
		return false;
	for (uint32_t i = 0; i < len; i += MCR_TS_PACKET_LEN)
		if (p[i] != MCR_TS_SYNC)
			return false;
	return true;
}

/*
 * The sync byte 0x47 is RTP version 1, so a raw TS datagram is never RTP version 2 and the rule
 * has no ambiguity: raw TS, then RTP carrying TS (payload type 33 or a TS payload), then RTP.
 */
enum mcr_stream detect_stream(const uint8_t *p, uint32_t len)
{
	uint32_t off, plen;

	if (looks_ts(p, len))
		return MCR_STREAM_TS;
	if (!rtp_payload(p, len, &off, &plen))
		return MCR_STREAM_UNKNOWN;
	if ((p[1] & 0x7f) == MCR_RTP_PT_MP2T || looks_ts(p + off, plen))
		return MCR_STREAM_RTP_TS;
	return MCR_STREAM_RTP;
}

/* The source table's entry for ssrc; a new one takes a free entry or the least recent's. */
static struct mcr_rtp_source *rtp_source(struct mcr_analysis *a, uint32_t ssrc, bool *fresh)
{
	struct mcr_rtp_source *s = &a->src[a->hint], *victim = &a->src[0];

	if (s->used && s->ssrc == ssrc) {
		*fresh = false;
		return s;
	}
	for (int i = 0; i < MCR_RTP_SSRCS; i++) {
		s = &a->src[i];
		if (s->used && s->ssrc == ssrc) {
			*fresh = false;
			return s;
		}
		if (victim->used && (!s->used || s->last_used < victim->last_used))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->ssrc = ssrc;
	*fresh = true;
	return victim;
}

/* Moves the window up by n numbers: bit i becomes bit i + n. */
static void window_shift(uint64_t seen[2], uint32_t n)
{
	if (n >= RTP_WINDOW) {
		seen[0] = seen[1] = 0;
	} else if (n >= 64) {
		seen[1] = seen[0] << (n - 64);
		seen[0] = 0;
	} else if (n) {
		seen[1] = seen[1] << n | seen[0] >> (64 - n);
		seen[0] <<= n;
	}
}

/* Sets bit i of the window; returns whether it was set already. */
static bool window_mark(uint64_t seen[2], uint32_t i)
{
	uint64_t bit = 1ull << (i % 64);
	bool was = seen[i / 64] & bit;

	seen[i / 64] |= bit;
	return was;
}

/*
 * A source starts (or starts over) with seq and the number before it, both arrived. Extended
 * numbers start one cycle up, so the one before seq 0 is not below 0.
 */
static void rtp_start(struct mcr_analysis *a, struct mcr_rtp_source *s, uint16_t seq)
{
	s->probation = false;
	s->bad_valid = false;
	s->max_ext = 0x10000u + seq;
	s->base_ext = s->max_ext - 1;
	s->seen[0] = 3;
	s->seen[1] = 0;
	a->c.rtp_expected += 2;
	a->c.rtp_received += 2;
}

/*
 * One RTP datagram's sequence number, RFC 3550 A.1's rules with the window as the record of
 * which numbers arrived: ahead by less than MAX_DROPOUT is in order and the gap lost; behind by
 * less than MAX_MISORDER is a duplicate or a late arrival that takes a loss back.
 */
static void analyze_rtp(struct mcr_analysis *a, const uint8_t *p)
{
	uint32_t ssrc = get32(p + 8);
	uint16_t seq = get16(p + 2), delta;
	bool fresh;
	struct mcr_rtp_source *s = rtp_source(a, ssrc, &fresh);

	a->hint = (uint8_t)(s - a->src);
	s->last_used = a->datagrams;
	if (fresh || s->probation) {
		/* A.1's probation: counted from the second datagram in sequence. */
		if (fresh || seq != (uint16_t)(s->max_ext + 1)) {
			s->probation = true;
			s->max_ext = seq;
			return;
		}
		rtp_start(a, s, seq);
		goto counted;
	}
	delta = (uint16_t)(seq - (uint16_t)s->max_ext);
	if (delta && delta < MCR_RTP_MAX_DROPOUT) {
		s->max_ext += delta;	/* a wrap of the 16 bits carries into the top */
		window_shift(s->seen, delta);
		s->seen[0] |= 1;
		a->c.rtp_expected += delta;
		a->c.rtp_received++;
		a->c.rtp_lost += delta - 1u;
	} else if (delta == 0 || delta > 0x10000 - MCR_RTP_MAX_MISORDER) {
		uint32_t behind = (uint16_t)-delta;

		if (s->max_ext - behind < s->base_ext)
			return;	/* from before the source was counted: nothing to say */
		if (window_mark(s->seen, behind)) {
			a->c.rtp_duplicate++;
		} else {
			a->c.rtp_reordered++;
			a->c.rtp_received++;
			a->c.rtp_lost--;
		}
	} else if (s->bad_valid && seq == s->bad_seq) {
		/* Two in sequence after a jump: the sender started over (A.1). */
		a->c.rtp_resets++;
		rtp_start(a, s, seq);
	} else {
		s->bad_seq = (uint16_t)(seq + 1);
		s->bad_valid = true;
		return;
	}
	s->bad_valid = false;
counted:
	if (a->counted_any && a->counted_ssrc != ssrc)
		a->c.rtp_ssrc_changes++;
	a->counted_ssrc = ssrc;
	a->counted_any = true;
}

/*
 * One TS packet's continuity (TR 101 290 1.4): the counter goes up by one with each packet
 * that carries a payload; one packet may come twice; packets without a payload do not count;
 * the discontinuity indicator lets the counter start over; the null PID carries none.
 */
static void analyze_ts_packet(struct mcr_analysis *a, const uint8_t *t)
{
	const uint16_t pid = get16(t + TS_PUSI_PID_HI) & (MCR_TS_PIDS - 1);
	const uint8_t afc = t[3] & (TS_AFC_ADAPT | TS_AFC_PAYLOAD), cc = t[3] & MCR_TS_CC_MASK;
	const uint64_t bit = 1ull << (pid % 64);
	uint8_t *st = &a->cc[pid];

	if (!(a->pid_seen[pid / 64] & bit)) {
		a->pid_seen[pid / 64] |= bit;
		a->c.ts_pids++;
	}
	if (pid == MCR_TS_NULL_PID)
		return;
	/* adaptation_field_length, then its flags: only there when the length is not 0. */
	if ((afc & TS_AFC_ADAPT) && t[4] && (t[5] & TS_DISCONTINUITY))
		*st = 0;
	if (!(afc & TS_AFC_PAYLOAD))
		return;
	if (!(*st & MCR_TS_CC_SEEN))
		*st = MCR_TS_CC_SEEN | cc;
	else if (cc == ((*st + 1) & MCR_TS_CC_MASK))
		*st = MCR_TS_CC_SEEN | cc;
	else if (cc == (*st & MCR_TS_CC_MASK) && !(*st & MCR_TS_CC_DUP))
		*st |= MCR_TS_CC_DUP;
	else {
		a->c.ts_cc_errors++;
		*st = MCR_TS_CC_SEEN | cc;
	}
}

/* The 188-byte packets of a datagram (TR 101 290 1.2: each starts with the sync byte). */
static void analyze_ts(struct mcr_analysis *a, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + MCR_TS_PACKET_LEN <= len; i += MCR_TS_PACKET_LEN) {
		if (p[i] != MCR_TS_SYNC) {
			a->c.ts_sync_errors++;
			continue;
		}
		a->c.ts_packets++;
		analyze_ts_packet(a, p + i);
	}
	if (i != len)
		a->c.ts_sync_errors++;	/* a ragged end: no whole packet, no sync */
}

/*
 * One relayed datagram. Until the stream's kind is known (auto, or ts: raw or inside RTP), a
 * datagram that tells nothing is passed over; once known, the kind holds.
 */
void analyze_datagram(struct mcr_analysis *a, const uint8_t *p, uint32_t len)
{
	uint32_t off, plen;

	a->datagrams++;
	if (a->c.kind == MCR_STREAM_UNKNOWN) {
		enum mcr_stream k = detect_stream(p, len);

		/* Told it is TS: RTP is its carrier, whatever the payload's first bytes say. */
		if (a->mode == MCR_ANALYZE_TS && k == MCR_STREAM_RTP)
			k = MCR_STREAM_RTP_TS;
		if (k == MCR_STREAM_UNKNOWN)
			return;
		a->c.kind = k;
	}
	if (a->c.kind == MCR_STREAM_TS) {
		analyze_ts(a, p, len);
		return;
	}
	if (!rtp_payload(p, len, &off, &plen)) {
		a->c.rtp_invalid++;
		return;
	}
	analyze_rtp(a, p);
	if (a->c.kind == MCR_STREAM_RTP_TS)
		analyze_ts(a, p + off, plen);
}

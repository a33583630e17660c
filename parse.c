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
#define STATS_INTERVAL_MAX_MS (86400u * 1000u)
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
	return v < min ? -1 : v;
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

enum opt_id {
	OPT_IN, OPT_GROUP, OPT_SOURCE, OPT_OUT, OPT_TTL, OPT_DSCP, OPT_COUNT, OPT_STATS_INTERVAL,
	OPT_STATS_FORMAT, OPT_NO_JOIN, OPT_HELP, OPT_VERSION, OPT_VLAN, OPT_USER,
	OPT_BUSY_POLL, OPT_DURATION, OPT_READY_FD, OPT_STATS_FILE,
	OPT_COUNT_OF
};

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

static enum mcr_parse_result apply_opt(int id, const char *flag, const char *v,
				       struct mcr_config *cfg, char *err)
{
	char why[MCR_ERR_LEN];
	long long n;

	switch (id) {
	case OPT_IN:
		if (!*v || strlen(v) >= IF_NAMESIZE || strchr(v, '/') || strchr(v, ':') ||
		    strchr(v, ' ') || !strcmp(v, ".") || !strcmp(v, ".."))
			return fail(err, "%s '%s': not an interface name", flag, v);
		strcpy(cfg->ingress, v);
		break;
	case OPT_GROUP:
		if (!parse_endpoint(v, &cfg->group, &cfg->port, NULL, why, sizeof(why)))
			return fail(err, "%s %s: %s", flag, v, why);
		if (!ip_is_multicast(&cfg->group))
			return fail(err, "%s %s: not a multicast group (224.0.0.0/4 or ff00::/8)",
				    flag, v);
		break;
	case OPT_SOURCE:
		if (!parse_ip(v, &cfg->source))
			return fail(err, "%s %s: not an IPv4 or IPv6 address", flag, v);
		if (ip_is_multicast(&cfg->source) || is_unspecified(&cfg->source) ||
		    (cfg->source.family == AF_INET && cfg->source.v4.s_addr == INADDR_BROADCAST))
			return fail(err, "%s %s: not a unicast source address", flag, v);
		break;
	case OPT_OUT: {
		struct mcr_out *o = &cfg->out[cfg->n_out];

		if (cfg->n_out == MCR_MAX_OUT)
			return fail(err, "%s %s: more than %d destinations; run a second mcr", flag,
				    v, MCR_MAX_OUT);
		memset(o, 0, sizeof(*o));
		if (strlen(v) >= sizeof(o->text))
			return fail(err, "%s %.20s...: too long", flag, v);
		if (!parse_endpoint(v, &o->addr, &o->port, o->ifname, why, sizeof(why)))
			return fail(err, "%s %s: %s", flag, v, why);
		if (is_unspecified(&o->addr))
			return fail(err, "%s %s: an unspecified address is not a destination", flag,
				    v);
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
		break;
	}
	case OPT_TTL:
		n = parse_num(v, 1, 255);
		if (n < 0)
			return fail(err, "%s '%s': TTL must be a number from 1 to 255", flag, v);
		cfg->ttl = (int)n;
		break;
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
	case OPT_COUNT:
		n = parse_num(v, 1, (long long)(~0ull >> 1));
		if (n < 0)
			return fail(err, "%s '%s': count must be a positive number", flag, v);
		cfg->count = (uint64_t)n;
		break;
	case OPT_STATS_INTERVAL:
		cfg->stats_interval_ms = parse_seconds_ms(v);
		if (!cfg->stats_interval_ms)
			return fail(err, "%s '%s': seconds must be from 0.001 to 86400", flag, v);
		break;
	case OPT_VLAN:
		n = parse_num(v, 1, 4094);
		if (n < 0)
			return fail(err, "%s '%s': VLAN ID must be a number from 1 to 4094", flag, v);
		cfg->vlan = (uint16_t)n;
		break;
	case OPT_USER: {
		char *colon;

		if (!*v || strlen(v) >= sizeof(cfg->user) || strchr(v, ' '))
			return fail(err, "%s '%s': give a user name, or UID:GID in numbers", flag, v);
		strcpy(cfg->user, v);
		colon = strchr(cfg->user, ':');
		if (colon) {
			*colon = '\0';
			n = parse_num(cfg->user, 0, 0x7fffffff) < 0 ? -1 : parse_num(colon + 1, 0,
										    0x7fffffff);
			*colon = ':';
			if (n < 0)
				return fail(err, "%s '%s': give a user name, or UID:GID in numbers",
					    flag, v);
		}
		break;
	}
	case OPT_BUSY_POLL:
		n = parse_num(v, 1, MCR_BUSY_POLL_MAX_US);
		if (n < 0)
			return fail(err, "%s '%s': microseconds must be from 1 to %d", flag, v,
				    MCR_BUSY_POLL_MAX_US);
		cfg->busy_poll_us = (uint32_t)n;
		break;
	case OPT_STATS_FORMAT:
		if (!strcmp(v, "kv"))
			cfg->stats_format = MCR_STATS_KV;
		else if (!strcmp(v, "json"))
			cfg->stats_format = MCR_STATS_JSON;
		else
			return fail(err, "%s '%s': format must be kv or json", flag, v);
		break;
	case OPT_DURATION:
		cfg->duration_ms = parse_seconds_ms(v);
		if (!cfg->duration_ms)
			return fail(err, "%s '%s': seconds must be from 0.001 to 86400", flag, v);
		break;
	case OPT_READY_FD:
		n = parse_num(v, 0, INT_MAX);
		if (n < 0)
			return fail(err, "%s '%s': not a file descriptor number", flag, v);
		/* Closing it after the line would silence every later log line. */
		if (n == 2)
			return fail(err,
				    "%s 2: that is standard error, where mcr logs; use another, "
				    "e.g. --ready-fd 3 3>FILE", flag);
		cfg->ready_fd = (int)n;
		break;
	case OPT_STATS_FILE:
		/* mcr writes PATH.tmp beside it and renames it over PATH. */
		if (!*v || strlen(v) >= STATS_FILE_MAX)
			return fail(err, "%s '%.40s': a file path of 1 to %d bytes", flag, v,
				    STATS_FILE_MAX - 1);
		if (v[strlen(v) - 1] == '/')
			return fail(err,
				    "%s %s: names a directory; add a file name, e.g. %sstats.json",
				    flag, v, v);
		cfg->stats_file = v;
		break;
	}
	return MCR_PARSE_RUN;
}

enum mcr_parse_result parse_args(int argc, char *const argv[], struct mcr_config *cfg,
				 char err[MCR_ERR_LEN])
{
	unsigned int seen = 0;
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
		if ((seen & (1u << id)) && !opts[id].repeat)
			return fail(err, "%s: given twice", a);
		seen |= 1u << id;
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
	len = get16(udp + 4);
	if (len != end - at)
		return MCR_DROP_MALFORMED;
	if (avail < end)
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
	if (ip[9] != IPPROTO_UDP_NUM || m->group.family != AF_INET ||
	    memcmp(ip + 16, &m->group.v4, 4) ||
	    (m->source.family && memcmp(ip + 12, &m->source.v4, 4)))
		return MCR_DROP_UNMATCHED;

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
	const uint8_t *ip, *p;
	uint32_t avail, wire, end, at = IPV6_HLEN;
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
	if (m->group.family != AF_INET6 || memcmp(ip + 24, &m->group.v6, 16) ||
	    (m->source.family && memcmp(ip + 8, &m->source.v6, 16)))
		return MCR_DROP_UNMATCHED;
	d->src.family = d->dst.family = AF_INET6;
	memcpy(&d->src.v6, ip + 8, 16);
	memcpy(&d->dst.v6, ip + 24, 16);
	d->dscp = (uint8_t)(((ip[0] & 0x0f) << 4 | ip[1] >> 4) >> 2);
	d->ecn = (ip[1] >> 4) & 3;

	nh = ip[6];
	for (unsigned int n = 0; nh != IPPROTO_UDP_NUM; n++) {
		uint32_t hl;

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

static void free_slot(struct mcr_reasm_slot *s)
{
	s->busy = s->first_in = s->last_in = false;
	s->len = s->meat = s->tail = 0;
	s->ecn_seen = 0;
	memset(s->held, 0, sizeof(s->held));
	memset(s->run, 0, sizeof(s->run));
}

void reasm_expire(struct mcr_reasm *t, uint64_t now_ms)
{
	for (int i = 0; i < MCR_REASM_SLOTS; i++) {
		struct mcr_reasm_slot *s = &t->slot[i];

		if (s->busy && now_ms - s->start_ms >= MCR_REASM_TIMEOUT_MS) {
			free_slot(s);
			t->timeout++;
		}
	}
}

bool reasm_pending(const struct mcr_reasm *t)
{
	for (int i = 0; i < MCR_REASM_SLOTS; i++)
		if (t->slot[i].busy)
			return true;
	return false;
}

bool reasm_crowded(const struct mcr_reasm *t)
{
	bool sent = false;

	for (int i = 0; i < MCR_REASM_SLOTS; i++) {
		if (!t->slot[i].busy && !t->slot[i].sent)
			return false;
		sent |= t->slot[i].sent;
	}
	return sent;
}

void reasm_release(struct mcr_reasm *t)
{
	for (int i = 0; i < MCR_REASM_SLOTS; i++)
		t->slot[i].sent = false;
}

/* The slot collecting this datagram's fragments, or a free one; NULL when all are busy. */
static struct mcr_reasm_slot *find_slot(struct mcr_reasm *t, const struct mcr_datagram *f)
{
	struct mcr_reasm_slot *free = NULL;

	for (int i = 0; i < MCR_REASM_SLOTS; i++) {
		struct mcr_reasm_slot *s = &t->slot[i];

		if (s->sent)
			continue;
		if (!s->busy) {
			free = free ? free : s;
			continue;
		}
		if (s->id == f->frag_id && ip_equal(&s->src, &f->src) && ip_equal(&s->dst, &f->dst))
			return s;
	}
	return free;
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
	    get16(udp + 4) != len || (v6 && !get16(udp + 6)) ||
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
	if (!s->busy) {
		s->busy = true;
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
	free_slot(s);
	s->sent = true;
	t->reassembled++;
	return MCR_REASM_DONE;
invalid:
	free_slot(s);
	t->invalid++;
	return MCR_REASM_INVALID;
}

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
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define VLAN_HLEN 4
#define VLAN_VID_MASK 0x0fff
#define IPV4_MIN_HLEN 20
#define IPV4_FRAG_MASK 0x3fff	/* MF flag and fragment offset */
#define IPPROTO_UDP_NUM 17
#define UDP_HLEN 8
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

static bool is_multicast(const struct mcr_ip *ip)
{
	return (ntohl(ip->v4.s_addr) >> 28) == 0xe;
}

/* An IPv4 address in dotted-quad form, and nothing else. */
static bool parse_ip(const char *s, struct mcr_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->v4) != 1)
		return false;
	ip->family = AF_INET;
	return true;
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
	colon = strrchr(buf, ':');
	if (!colon) {
		snprintf(err, errlen, "missing :PORT");
		return false;
	}
	*colon++ = '\0';
	p = parse_num(colon, 1, 65535);
	if (p < 0) {
		snprintf(err, errlen, "port '%s' is not a number from 1 to 65535", colon);
		return false;
	}
	*port = (uint16_t)p;
	if (!parse_ip(buf, ip)) {
		snprintf(err, errlen, "'%s' is not an IPv4 address", buf);
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
	OPT_STATS_FORMAT, OPT_NO_JOIN, OPT_HELP, OPT_VERSION,
	OPT_DURATION, OPT_READY_FD, OPT_STATS_FILE,
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
		if (!is_multicast(&cfg->group))
			return fail(err, "%s %s: not a multicast group (224.0.0.0/4)", flag, v);
		break;
	case OPT_SOURCE:
		if (!parse_ip(v, &cfg->source))
			return fail(err, "%s %s: not an IPv4 address", flag, v);
		if (is_multicast(&cfg->source) || cfg->source.v4.s_addr == INADDR_ANY ||
		    cfg->source.v4.s_addr == INADDR_BROADCAST)
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
		if (o->addr.v4.s_addr == INADDR_ANY)
			return fail(err, "%s %s: 0.0.0.0 is not a destination", flag, v);
		snprintf(o->text, sizeof(o->text), "%s", v);
		for (unsigned int i = 0; i < cfg->n_out; i++)
			if (cfg->out[i].addr.v4.s_addr == o->addr.v4.s_addr &&
			    cfg->out[i].port == o->port && !strcmp(cfg->out[i].ifname, o->ifname))
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
			return fail(err, "%s 2: that is standard error, where mcr logs; use another, "
				    "e.g. --ready-fd 3 3>FILE", flag);
		cfg->ready_fd = (int)n;
		break;
	case OPT_STATS_FILE:
		/* mcr writes PATH.tmp beside it and renames it over PATH. */
		if (!*v || strlen(v) >= STATS_FILE_MAX)
			return fail(err, "%s '%.40s': a file path of 1 to %d bytes", flag, v,
				    STATS_FILE_MAX - 1);
		if (v[strlen(v) - 1] == '/')
			return fail(err, "%s %s: names a directory; add a file name, e.g. %sstats.json",
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
	return MCR_PARSE_RUN;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 ones' complement sum; 0 when a header carrying its checksum is intact. */
static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Checks follow the headers in wire order; the first that fails names the verdict. Truncated
 * means the capture ends before what the headers say is there; malformed means the headers
 * contradict each other or the frame's length on the wire.
 */
enum mcr_verdict parse_frame(const struct mcr_frame *f, const struct mcr_match *m,
			     struct mcr_datagram *d)
{
	const uint8_t *ip, *udp;
	uint32_t off = 0, avail, wire, ihl, tot, ulen;

	if (f->link == MCR_LINK_ETHER) {
		uint16_t type;

		if (f->caplen < ETH_HLEN)
			return MCR_DROP_TRUNCATED;
		if (f->vlan_valid && (f->vlan_tci & VLAN_VID_MASK))
			return MCR_DROP_VLAN;
		type = get16(f->data + 12);
		off = ETH_HLEN;
		/* A priority tag (VID 0) is not a VLAN: the kernel delivers it untagged too. */
		while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
			if (f->caplen < off + VLAN_HLEN)
				return MCR_DROP_TRUNCATED;
			if (get16(f->data + off) & VLAN_VID_MASK)
				return MCR_DROP_VLAN;
			type = get16(f->data + off + 2);
			off += VLAN_HLEN;
		}
		if (type != ETHERTYPE_IPV4)
			return MCR_DROP_UNMATCHED;
	}
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
	if (ip_checksum(ip, ihl))
		return MCR_DROP_CHECKSUM;
	if (ip[9] != IPPROTO_UDP_NUM || memcmp(ip + 16, &m->group.v4, 4) ||
	    (m->source.family && memcmp(ip + 12, &m->source.v4, 4)))
		return MCR_DROP_UNMATCHED;
	if (get16(ip + 6) & IPV4_FRAG_MASK)
		return MCR_DROP_FRAGMENT;
	if (tot - ihl < UDP_HLEN)
		return MCR_DROP_MALFORMED;
	if (avail < ihl + UDP_HLEN)
		return MCR_DROP_TRUNCATED;
	udp = ip + ihl;
	if (get16(udp + 2) != m->port)
		return MCR_DROP_UNMATCHED;
	ulen = get16(udp + 4);
	if (ulen != tot - ihl)
		return MCR_DROP_MALFORMED;
	if (avail < tot)
		return MCR_DROP_TRUNCATED;

	d->payload = udp + UDP_HLEN;
	d->len = ulen - UDP_HLEN;
	d->src.family = d->dst.family = AF_INET;
	memcpy(&d->src.v4, ip + 12, 4);
	memcpy(&d->dst.v4, ip + 16, 4);
	d->sport = get16(udp);
	d->dport = m->port;
	d->dscp = ip[1] >> 2;
	return MCR_RELAY;
}

// SPDX-License-Identifier: MIT
/*
 * mcr - relay a multicast UDP stream past the kernel's reverse-path filter.
 * main(): parse the command line, open the sockets and the ring, run, print the counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr.h"

#define STATS_SCHEMA 1		/* of the JSON counters; mcr(1) says when it changes */
#define LINE_BYTES 16384	/* a counter line: 16 destinations, rates, escaped names */
#define STATS_FILE_MODE 0644	/* counters only: exporters of other users read them */

static const char usage_text[] =
	"usage: mcr -i IFACE -g GROUP:PORT [-s SOURCE] -o DEST:PORT[@IFACE] [-o ...]\n"
	"           [-t TTL] [--dscp N|NAME|keep] [-c COUNT] [--stats-interval SECS]\n"
	"           [--stats-format kv|json] [--no-join] [--vlan ID] [-u USER]\n"
	"           [--busy-poll USEC] [--duration SECS] [--ready-fd N]\n"
	"           [--stats-file PATH]\n"
	"       mcr -h | -V\n"
	"\n"
	"Capture the UDP stream GROUP:PORT arriving on IFACE before the kernel's reverse-path\n"
	"filter can drop it, and send each payload unchanged to every DEST:PORT.\n"
	"\n"
	"  -i, --in IFACE             capture on IFACE\n"
	"  -g, --group GROUP:PORT     multicast group and UDP port to relay; IPv6 in\n"
	"                             brackets: [ff3e::1234]:5000\n"
	"  -s, --source ADDR          relay only datagrams from ADDR; join source-specific\n"
	"  -o, --out DEST:PORT[@IFACE]\n"
	"                             a destination, repeatable (up to 16); multicast or\n"
	"                             unicast, IPv4 or [IPv6] whatever GROUP is;\n"
	"                             @IFACE picks the egress interface\n"
	"  -t, --ttl N                TTL of relayed datagrams (default 1 for multicast\n"
	"                             destinations, the kernel's default for unicast)\n"
	"      --dscp N|NAME|keep     DSCP of relayed datagrams: 0-63, a name (ef, af41, cs6,\n"
	"                             ...), or keep the ingress datagram's (default)\n"
	"  -c, --count N              exit 0 after relaying N datagrams\n"
	"      --duration SECS        exit 0 after SECS seconds\n"
	"      --ready-fd N           write \"ready\" to file descriptor N once capture runs\n"
	"      --stats-interval SECS  also print the counters every SECS seconds\n"
	"      --stats-format kv|json counter line format (default kv)\n"
	"      --stats-file PATH      keep the latest counters in PATH as JSON, rewritten\n"
	"                             whole every SECS of --stats-interval or every second\n"
	"      --no-join              do not join GROUP on IFACE (networks that flood it)\n"
	"      --vlan ID              relay only frames tagged with 802.1Q VLAN ID (1-4094)\n"
	"  -u, --user USER|UID:GID    become USER once the sockets are open (started as\n"
	"                             root, 65534:65534 unless given; root keeps root)\n"
	"      --busy-poll USEC       spin up to USEC for the next frame before sleeping:\n"
	"                             lower latency for sparse streams, for a busy CPU\n"
	"  -h, --help                 this text\n"
	"  -V, --version              the version\n"
	"\n"
	"SIGUSR1 prints the counters on stderr; SIGINT and SIGTERM print them and exit 0;\n"
	"SIGHUP is ignored. Exit status: 0 done, 64 usage, 66 no such interface,\n"
	"68 a prohibit route refuses a destination or the group, 69 io_uring unavailable,\n"
	"71 system error, 73 stats file not writable, 77 CAP_NET_RAW missing. See mcr(1).\n";

static int usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	return code;
}

static const char *errno_name(int e)
{
	const char *name = e ? strerrorname_np(e) : NULL;

	return name ? name : "-";
}

/* Append to a line buffer, never past its end. */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

/* Per second over ns nanoseconds, rounded; 0 over an empty interval. */
static uint64_t per_second(uint64_t delta, uint64_t ns)
{
	if (!ns)
		return 0;
	return (uint64_t)(((unsigned __int128)delta * 1000000000u + ns / 2) / ns);
}

/* A JSON string: interface names may hold quotes and backslashes, and any byte but / : space. */
static void put_json_string(char *buf, size_t size, size_t *len, const char *s)
{
	put(buf, size, len, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			put(buf, size, len, "\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)	/* never invalid UTF-8 in the output */
			put(buf, size, len, "\\u%04x", *c);
		else
			put(buf, size, len, "%c", *c);
	}
	put(buf, size, len, "\"");
}

/*
 * The counters as one line: "mcr: key=value ..." or a JSON object whose schema mcr(1) documents.
 * event is "stats" or "final"; rates are per second since prev, the counters the previous line
 * of this kind was made from (at first, those at the start).
 */
static size_t format_counters(char *line, size_t size, const struct mcr_config *cfg,
			      const struct mcr_counters *c, const struct mcr_counters *prev,
			      bool json, const char *event)
{
	const uint64_t ns = c->time_ns - prev->time_ns, interval_ms = (ns + 500000) / 1000000;
	size_t n = 0;

	if (json)
		put(line, size, &n, "{\"schema\":%d,\"event\":\"%s\",\"time_ms\":%" PRIu64 ",",
		    STATS_SCHEMA, event, c->time_ns / 1000000);
	else
		put(line, size, &n, "mcr: event=%s time_ms=%" PRIu64 " ", event,
		    c->time_ns / 1000000);
	put(line, size, &n, json ? "\"uptime_s\":%" PRIu64 ".%03u" : "uptime_s=%" PRIu64 ".%03u",
	    c->uptime_ms / 1000, (unsigned int)(c->uptime_ms % 1000));
#define FIELD(name, value)                                                                     \
	put(line, size, &n, json ? ",\"%s\":%" PRIu64 : " %s=%" PRIu64, (name), (value))
	FIELD("rx_packets", c->rx_packets);
	FIELD("rx_bytes", c->rx_bytes);
	for (int v = 0; v < MCR_VERDICTS; v++)
		FIELD(mcr_verdict_name[v], c->verdict[v]);
	FIELD("kernel_drops", c->kernel_drops);
	FIELD("frag_reassembled", c->frag_reassembled);
	FIELD("frag_timeout", c->frag_timeout);
	FIELD("frag_evicted", c->frag_evicted);
	FIELD("frag_invalid", c->frag_invalid);
	FIELD("tx_packets", c->tx_packets);
	FIELD("tx_bytes", c->tx_bytes);
	FIELD("tx_errors", c->tx_errors);
	put(line, size, &n,
	    json ? ",\"interval_s\":%" PRIu64 ".%03u" : " interval_s=%" PRIu64 ".%03u",
	    interval_ms / 1000, (unsigned int)(interval_ms % 1000));
	FIELD("rx_pps", per_second(c->rx_packets - prev->rx_packets, ns));
	FIELD("rx_bps", per_second((c->rx_bytes - prev->rx_bytes) * 8, ns));
	FIELD("tx_pps", per_second(c->tx_packets - prev->tx_packets, ns));
	FIELD("tx_bps", per_second((c->tx_bytes - prev->tx_bytes) * 8, ns));
#undef FIELD
	if (json)
		put(line, size, &n, ",\"out\":[");
	for (unsigned int i = 0; i < cfg->n_out; i++) {
		const struct mcr_out_counters *o = &c->out[i], *p = &prev->out[i];
		const uint64_t pps = per_second(o->tx_packets - p->tx_packets, ns);
		const uint64_t bps = per_second((o->tx_bytes - p->tx_bytes) * 8, ns);

		if (json) {
			put(line, size, &n, "%s{\"dest\":", i ? "," : "");
			put_json_string(line, size, &n, cfg->out[i].text);
			put(line, size, &n,
			    ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
			    ",\"tx_errors\":%" PRIu64 ",\"last_error\":\"%s\",\"tx_pps\":%" PRIu64
			    ",\"tx_bps\":%" PRIu64 "}",
			    o->tx_packets, o->tx_bytes, o->tx_errors, errno_name(o->last_errno),
			    pps, bps);
		} else {
			put(line, size, &n,
			    " out%u=%s out%u.tx_packets=%" PRIu64 " out%u.tx_bytes=%" PRIu64
			    " out%u.tx_errors=%" PRIu64 " out%u.last_error=%s out%u.tx_pps=%" PRIu64
			    " out%u.tx_bps=%" PRIu64,
			    i + 1, cfg->out[i].text, i + 1, o->tx_packets, i + 1, o->tx_bytes,
			    i + 1, o->tx_errors, i + 1, errno_name(o->last_errno), i + 1, pps,
			    i + 1, bps);
		}
	}
	put(line, size, &n, json ? "]}\n" : "\n");
	return n;
}

/* The counters as one line on stderr, written whole in one write(2); prev moves on to c. */
static void print_counters(const struct mcr_config *cfg, const struct mcr_counters *c,
			   struct mcr_counters *prev, const char *event)
{
	static char line[LINE_BYTES];
	size_t n = format_counters(line, sizeof(line), cfg, c, prev,
				   cfg->stats_format == MCR_STATS_JSON, event);

	*prev = *c;
	if (write(STDERR_FILENO, line, n) < 0)
		return;	/* nowhere left to say it */
}

/*
 * The stats file: the latest counters as JSON, whatever --stats-format says. Written beside it
 * and renamed over it, so a reader sees the old object or the new one, never half of either.
 * Returns 0 or an errno.
 */
static int write_stats_file(const struct mcr_config *cfg, const struct mcr_counters *c,
			    struct mcr_counters *prev, const char *event)
{
	static char line[LINE_BYTES];
	char tmp[PATH_MAX];
	size_t n = format_counters(line, sizeof(line), cfg, c, prev, true, event);
	ssize_t w;
	int fd, e = 0;

	*prev = *c;
	/*
	 * A new file of an unguessable name, created here or not at all (O_EXCL: no FIFO, symlink
	 * or foreign file planted beside the stats file is ever opened), readable by exporters.
	 */
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", cfg->stats_file);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fchmod(fd, STATS_FILE_MODE) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return e;
	}
	w = write(fd, line, n);
	if (w < 0)
		e = errno;
	else if ((size_t)w != n)
		e = ENOSPC;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, cfg->stats_file) < 0)
		e = errno;
	if (e)
		unlink(tmp);
	return e;
}

/* A stats file that fails while relaying costs a line when it starts and when it ends. */
static void update_stats_file(const struct mcr_config *cfg, const struct mcr_counters *c,
			      struct mcr_counters *prev, const char *event)
{
	static int last;
	int e = write_stats_file(cfg, c, prev, event);

	if (e && e != last)
		fprintf(stderr, "mcr: --stats-file %s: %s; still relaying, trying again at each "
			"update\n", cfg->stats_file, strerror(e));
	else if (!e && last)
		fprintf(stderr, "mcr: --stats-file %s: written again\n", cfg->stats_file);
	last = e;
}

static void print_start(const struct mcr_config *cfg)
{
	const bool v6 = cfg->group.family == AF_INET6;
	char line[2048], group[INET6_ADDRSTRLEN];
	size_t n = 0;

	format_ip(&cfg->group, group, sizeof(group));
	put(line, sizeof(line), &n, v6 ? "mcr: %s: relaying [%s]:%u" : "mcr: %s: relaying %s:%u",
	    cfg->ingress, group, cfg->port);
	if (cfg->source.family) {
		char source[INET6_ADDRSTRLEN];

		format_ip(&cfg->source, source, sizeof(source));
		put(line, sizeof(line), &n, " from %s", source);
	}
	for (unsigned int i = 0; i < cfg->n_out; i++)
		put(line, sizeof(line), &n, "%s%s", i ? ", " : " to ", cfg->out[i].text);
	put(line, sizeof(line), &n, "\n");
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

int main(int argc, char *argv[])
{
	static struct mcr_config cfg;
	static struct mcr_counters line_prev, file_prev;	/* what each showed last */
	char err[MCR_ERR_LEN];
	struct mcr_ring *r;
	int code = MCR_EXIT_OK;

	switch (parse_args(argc, argv, &cfg, err)) {
	case MCR_PARSE_HELP:
		return usage(MCR_EXIT_OK);
	case MCR_PARSE_VERSION:
		puts("mcr " MCR_VERSION);
		return MCR_EXIT_OK;
	case MCR_PARSE_ERROR:
		fprintf(stderr, "mcr: %s\n", err);
		return MCR_EXIT_USAGE;
	case MCR_PARSE_RUN:
		break;
	}
	r = ring_open(&cfg, &code);
	if (!r)
		return code;
	line_prev = file_prev = *ring_counters(r);
	/* The file exists once mcr is ready, so a reader never finds it missing. */
	if (cfg.stats_file) {
		struct stat st;
		/* Said as such, not as the directory beside it that may not be writable. */
		int e = stat(cfg.stats_file, &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR :
			write_stats_file(&cfg, &file_prev, &file_prev, "stats");

		if (e) {
			fprintf(stderr, "mcr: --stats-file %s: %s (mcr writes %s.XXXXXX and "
				"renames it, as uid %u: the directory must exist and be writable "
				"by it; see --user)\n", cfg.stats_file, strerror(e), cfg.stats_file,
				(unsigned int)geteuid());
			ring_close(r);
			return MCR_EXIT_CANTCREAT;
		}
	}
	print_start(&cfg);
	ring_ready(r);
	for (;;) {
		enum mcr_event e = ring_run(r, &code);
		const struct mcr_counters *c = ring_counters(r);
		const char *event = e == MCR_EVENT_EXIT ? "final" : "stats";

		if (e != MCR_EVENT_STATS_FILE)
			print_counters(&cfg, c, &line_prev, event);
		if (cfg.stats_file)
			update_stats_file(&cfg, c, &file_prev, event);
		if (e == MCR_EVENT_EXIT)
			break;
	}
	ring_close(r);
	return code;
}

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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr.h"

#define STATS_SCHEMA 1		/* of the JSON counters; mcr(1) says when it changes */
#define LINE_BYTES 16384	/* a counter line: 16 destinations, rates, escaped names */
#define PROM_BYTES 65536	/* the Prometheus file: 16 destinations' samples, each labelled */
#define STATS_FILE_MODE 0644	/* counters only: exporters of other users read them */

static const char usage_text[] =
	"usage: mcr -i IFACE -g GROUP:PORT [-s SOURCE] -o DEST:PORT[@IFACE] [-o ...]\n"
	"           [-t TTL] [--dscp N|NAME|keep] [-c COUNT] [--stats-interval SECS]\n"
	"           [--stats-format kv|json|prom] [--no-join] [--vlan ID] [-u USER]\n"
	"           [--busy-poll USEC] [--duration SECS] [--ready-fd N]\n"
	"           [--stats-file PATH] [--src-port PORT] [--coalesce USEC]\n"
	"           [--analyze rtp|ts|auto] [--stall-timeout SECS]\n"
	"           [--stall-action warn|exit] [--report-interval SECS]\n"
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
	"      --stats-format kv|json|prom\n"
	"                             counter line format (default kv); prom: lines in kv,\n"
	"                             the --stats-file for Prometheus' textfile collector\n"
	"      --stats-file PATH      keep the latest counters in PATH as JSON, rewritten\n"
	"                             whole every SECS of --stats-interval or every second\n"
	"      --no-join              do not join GROUP on IFACE (networks that flood it)\n"
	"      --vlan ID              relay only frames tagged with 802.1Q VLAN ID (1-4094)\n"
	"      --src-port PORT        send from UDP port PORT, the same for every DEST,\n"
	"                             instead of an ephemeral one\n"
	"      --stall-timeout SECS   say on stderr when nothing was relayed for SECS,\n"
	"                             and again when the stream resumes\n"
	"      --stall-action warn|exit\n"
	"                             on a stall, warn (default) or exit 75\n"
	"      --report-interval SECS send a membership report for GROUP on IFACE every\n"
	"                             SECS (IGMP or MLD, the kernel's version): keeps\n"
	"                             snooping switches sending where no querier runs\n"
	"  -u, --user USER|UID:GID    become USER once the sockets are open (started as\n"
	"                             root, 65534:65534 unless given; root keeps root)\n"
	"      --busy-poll USEC       spin up to USEC for the next frame before sleeping:\n"
	"                             lower latency for sparse streams, for a busy CPU\n"
	"      --coalesce USEC        hold a datagram up to USEC (or 500us, 2ms; at most\n"
	"                             5ms) so one wake-up relays several: less CPU for\n"
	"                             many streams on one host, at that much latency\n"
	"      --analyze rtp|ts|auto  count the stream's own losses: RTP sequence gaps,\n"
	"                             MPEG-TS continuity errors (rtp_*, ts_* counters)\n"
	"  -h, --help                 this text\n"
	"  -V, --version              the version\n"
	"\n"
	"SIGUSR1 prints the counters on stderr; SIGINT and SIGTERM print them and exit 0;\n"
	"SIGHUP is ignored. Exit status: 0 done, 64 usage, 66 no such interface,\n"
	"68 a prohibit route refuses a destination or the group, 69 io_uring unavailable,\n"
	"71 system error, 73 stats file not writable, 75 stream stalled (--stall-action\n"
	"exit), 77 CAP_NET_RAW missing. See mcr(1).\n";

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

/* The age of the latest query (since the start before one) and its querier, or "-". */
static void put_querier(char *line, size_t size, size_t *n, const struct mcr_counters *c,
			bool json)
{
	const uint64_t ms = c->last_query_age_ms;
	char who[INET6_ADDRSTRLEN] = "-";

	if (c->querier.family)
		format_ip(&c->querier, who, sizeof(who));
	put(line, size, n,
	    json ? ",\"last_query_age_s\":%" PRIu64 ".%03u,\"querier\":\"%s\"" :
		   " last_query_age_s=%" PRIu64 ".%03u querier=%s",
	    ms / 1000, (unsigned int)(ms % 1000), who);
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
	FIELD("wakeups", c->wakeups);
	put(line, size, &n,
	    json ? ",\"interval_s\":%" PRIu64 ".%03u" : " interval_s=%" PRIu64 ".%03u",
	    interval_ms / 1000, (unsigned int)(interval_ms % 1000));
	FIELD("rx_pps", per_second(c->rx_packets - prev->rx_packets, ns));
	FIELD("rx_bps", per_second((c->rx_bytes - prev->rx_bytes) * 8, ns));
	FIELD("tx_pps", per_second(c->tx_packets - prev->tx_packets, ns));
	FIELD("tx_bps", per_second((c->tx_bytes - prev->tx_bytes) * 8, ns));
	FIELD("stalls", c->stalls);
	FIELD("stalled", c->stalled);
	FIELD("last_rx_age_ms", c->last_rx_age_ms);
	put_querier(line, size, &n, c, json);
	FIELD("querier_missing", c->querier_missing);
	FIELD("reports_sent", c->reports_sent);
	FIELD("report_errors", c->report_errors);
	/* Only with --analyze: a zero it never counted would read as a healthy stream. */
	if (cfg->analyze) {
		const struct mcr_stream_counters *a = &c->stream;

		put(line, size, &n, json ? ",\"stream\":\"%s\"" : " stream=%s",
		    mcr_stream_name[a->kind]);
		FIELD("rtp_received", a->rtp_received);
		FIELD("rtp_expected", a->rtp_expected);
		FIELD("rtp_lost", a->rtp_lost);
		FIELD("rtp_duplicate", a->rtp_duplicate);
		FIELD("rtp_reordered", a->rtp_reordered);
		FIELD("rtp_resets", a->rtp_resets);
		FIELD("rtp_ssrc_changes", a->rtp_ssrc_changes);
		FIELD("rtp_invalid", a->rtp_invalid);
		FIELD("ts_packets", a->ts_packets);
		FIELD("ts_sync_errors", a->ts_sync_errors);
		FIELD("ts_cc_errors", a->ts_cc_errors);
		FIELD("ts_pids", a->ts_pids);
	}
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

/* A Prometheus label value: \\, " and newline escaped; bytes UTF-8 may refuse become '?'. */
static void put_prom_value(char *buf, size_t size, size_t *len, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			put(buf, size, len, "\\%c", *c);
		else if (*c == '\n')
			put(buf, size, len, "\\n");
		else
			put(buf, size, len, "%c", *c < 0x20 || *c >= 0x7f ? '?' : *c);
	}
}

/* The labels of every sample: the stream, and one more (the destination) when key is given. */
static void put_prom_labels(char *buf, size_t size, size_t *len, const struct mcr_config *cfg,
			    const char *key, const char *value)
{
	char group[INET6_ADDRSTRLEN], source[INET6_ADDRSTRLEN] = "";

	format_ip(&cfg->group, group, sizeof(group));
	if (cfg->source.family)
		format_ip(&cfg->source, source, sizeof(source));
	put(buf, size, len, "{ingress=\"");
	put_prom_value(buf, size, len, cfg->ingress);
	put(buf, size, len, "\",group=\"%s\",port=\"%u\",source=\"%s\"", group, cfg->port,
	    source);
	if (key) {
		put(buf, size, len, ",%s=\"", key);
		put_prom_value(buf, size, len, value);
		put(buf, size, len, "\"");
	}
	put(buf, size, len, "}");
}

/* One Prometheus metric of the stream: a uint64_t of struct mcr_counters, milliseconds or not. */
struct prom_metric {
	const char *name, *type, *help;
	size_t offset;
	bool ms;	/* printed in seconds */
};

#define COUNTER(name, field, help)                                                             \
	{ name, "counter", help, offsetof(struct mcr_counters, field), false }
#define GAUGE(name, field, help, ms)                                                           \
	{ name, "gauge", help, offsetof(struct mcr_counters, field), ms }

/* Printed in this order, before the verdicts' counters; a new counter is one more row. */
static const struct prom_metric prom_metrics[] = {
	COUNTER("mcr_rx_packets_total", rx_packets, "Frames captured on the ingress."),
	COUNTER("mcr_rx_bytes_total", rx_bytes, "Bytes on the wire of the frames captured."),
	COUNTER("mcr_kernel_drops_total", kernel_drops,
		"Frames the kernel had no ring room for: mcr fell behind."),
	COUNTER("mcr_frag_reassembled_total", frag_reassembled,
		"Fragmented datagrams rebuilt and relayed."),
	COUNTER("mcr_frag_timeout_total", frag_timeout,
		"Fragmented datagrams given up: fragments missing in time."),
	COUNTER("mcr_frag_evicted_total", frag_evicted,
		"Fragmented datagrams given up for a newer one."),
	COUNTER("mcr_frag_invalid_total", frag_invalid,
		"Fragmented datagrams discarded: fragments disagree, or not the stream."),
	COUNTER("mcr_tx_packets_total", tx_packets, "Datagrams sent, all destinations."),
	COUNTER("mcr_tx_bytes_total", tx_bytes, "Payload bytes sent, all destinations."),
	COUNTER("mcr_tx_errors_total", tx_errors, "Sends that failed, all destinations."),
	COUNTER("mcr_stalls_total", stalls, "Times nothing was relayed for --stall-timeout."),
	GAUGE("mcr_stalled", stalled, "1 while the stream is stalled, else 0.", false),
	GAUGE("mcr_last_rx_age_seconds", last_rx_age_ms,
	      "Seconds since a datagram was last relayed, or since the start.", true),
	GAUGE("mcr_uptime_seconds", uptime_ms, "Seconds since capture started.", true),
	GAUGE("mcr_last_query_age_seconds", last_query_age_ms,
	      "Seconds since the latest IGMP or MLD query on the ingress, or since the start.",
	      true),
	GAUGE("mcr_querier_missing", querier_missing,
	      "1 while no query came for the membership interval, else 0.", false),
	COUNTER("mcr_reports_sent_total", reports_sent,
		"Membership reports sent by --report-interval."),
	COUNTER("mcr_report_errors_total", report_errors,
		"Membership reports --report-interval could not send."),
	COUNTER("mcr_wakeups_total", wakeups, "Times the relay slept and woke."),
};

#define STREAM_COUNTER(name, field, help)                                                      \
	{ name, "counter", help,                                                                \
	  offsetof(struct mcr_counters, stream) + offsetof(struct mcr_stream_counters, field),   \
	  false }

/* With --analyze only, like the kv and JSON keys: a zero never counted is no healthy stream. */
static const struct prom_metric prom_stream_metrics[] = {
	STREAM_COUNTER("mcr_rtp_received_total", rtp_received,
		       "RTP datagrams counted in sequence, each number once."),
	STREAM_COUNTER("mcr_rtp_expected_total", rtp_expected,
		       "RTP sequence numbers from each source's first to its highest."),
	STREAM_COUNTER("mcr_rtp_lost_total", rtp_lost,
		       "RTP sequence numbers never seen: lost upstream or in mcr's own drops."),
	STREAM_COUNTER("mcr_rtp_duplicate_total", rtp_duplicate, "RTP numbers seen again."),
	STREAM_COUNTER("mcr_rtp_reordered_total", rtp_reordered,
		       "RTP datagrams that arrived after a higher number."),
	STREAM_COUNTER("mcr_rtp_resets_total", rtp_resets, "RTP sequence jumps a source went on from."),
	STREAM_COUNTER("mcr_rtp_ssrc_changes_total", rtp_ssrc_changes,
		       "RTP datagrams from another SSRC than the one before."),
	STREAM_COUNTER("mcr_rtp_invalid_total", rtp_invalid,
		       "Datagrams that were not RTP version 2, or whose header overran them."),
	STREAM_COUNTER("mcr_ts_packets_total", ts_packets, "MPEG-TS packets with the sync byte."),
	STREAM_COUNTER("mcr_ts_sync_errors_total", ts_sync_errors,
		       "188-byte MPEG-TS packets without the sync byte, or a ragged end."),
	STREAM_COUNTER("mcr_ts_cc_errors_total", ts_cc_errors,
		       "MPEG-TS continuity counter errors (TR 101 290 1.4)."),
	{ "mcr_ts_pids", "gauge", "MPEG-TS PIDs seen.",
	  offsetof(struct mcr_counters, stream) + offsetof(struct mcr_stream_counters, ts_pids),
	  false },
};

#undef STREAM_COUNTER

#undef COUNTER
#undef GAUGE

/* What each verdict's counter counts, for its HELP line. */
static const char *const verdict_help[MCR_VERDICTS] = {
	[MCR_RELAY] = "Datagrams relayed whole from one frame.",
	[MCR_FRAGMENT] = "Frames carrying a fragment, taken into reassembly.",
	[MCR_DROP_TRUNCATED] = "Frames dropped: the capture ends before a header or the payload.",
	[MCR_DROP_MALFORMED] = "Frames dropped: header fields contradict each other or the frame.",
	[MCR_DROP_CHECKSUM] = "Frames dropped: IPv4 header or UDP checksum wrong.",
	[MCR_DROP_FRAGMENT] = "Fragments reassembly refused.",
	[MCR_DROP_UNMATCHED] = "Frames dropped: not the stream, on a second look.",
	[MCR_DROP_VLAN] = "Frames dropped: not the VLAN of --vlan.",
	[MCR_QUERY] = "IGMP or MLD queries seen on the ingress, general or for the group.",
};

/* Per destination, with its label. */
static const struct {
	const char *name, *help;
	size_t offset;
} prom_out_metrics[] = {
	{ "mcr_out_tx_packets_total", "Datagrams sent to the destination.",
	  offsetof(struct mcr_out_counters, tx_packets) },
	{ "mcr_out_tx_bytes_total", "Payload bytes sent to the destination.",
	  offsetof(struct mcr_out_counters, tx_bytes) },
	{ "mcr_out_tx_errors_total", "Sends to the destination that failed.",
	  offsetof(struct mcr_out_counters, tx_errors) },
};

static uint64_t field_at(const void *base, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)base + offset, sizeof(v));
	return v;
}

static void put_prom_head(char *buf, size_t size, size_t *len, const char *name, const char *type,
			  const char *help)
{
	put(buf, size, len, "# HELP %s %s\n# TYPE %s %s", name, help, name, type);
}

/*
 * The counters in the Prometheus text format that node_exporter's textfile collector reads:
 * HELP and TYPE lines, mcr_*_total counters, gauges in seconds, the stream in labels.
 */
static void put_prom_metrics(char *buf, size_t size, size_t *len, const struct mcr_config *cfg,
			     const struct mcr_counters *c, const struct prom_metric *m, size_t count)
{
	for (; count--; m++) {
		const uint64_t v = field_at(c, m->offset);

		put_prom_head(buf, size, len, m->name, m->type, m->help);
		put(buf, size, len, "\n%s", m->name);
		put_prom_labels(buf, size, len, cfg, NULL, NULL);
		if (m->ms)
			put(buf, size, len, " %" PRIu64 ".%03u\n", v / 1000, (unsigned int)(v % 1000));
		else
			put(buf, size, len, " %" PRIu64 "\n", v);
	}
}

static size_t format_prom(char *buf, size_t size, const struct mcr_config *cfg,
			  const struct mcr_counters *c)
{
	size_t n = 0;

	put_prom_metrics(buf, size, &n, cfg, c, prom_metrics,
			 sizeof(prom_metrics) / sizeof(prom_metrics[0]));
	if (cfg->analyze)
		put_prom_metrics(buf, size, &n, cfg, c, prom_stream_metrics,
				 sizeof(prom_stream_metrics) / sizeof(prom_stream_metrics[0]));
	for (int v = 0; v < MCR_VERDICTS; v++) {
		char name[64];

		snprintf(name, sizeof(name), "mcr_%s_total", mcr_verdict_name[v]);
		put_prom_head(buf, size, &n, name, "counter",
			      verdict_help[v] ? verdict_help[v] : "Frames with this verdict.");
		put(buf, size, &n, "\n%s", name);
		put_prom_labels(buf, size, &n, cfg, NULL, NULL);
		put(buf, size, &n, " %" PRIu64 "\n", c->verdict[v]);
	}
	if (c->querier.family) {
		char who[INET6_ADDRSTRLEN];

		format_ip(&c->querier, who, sizeof(who));
		put_prom_head(buf, size, &n, "mcr_querier", "gauge",
			      "The latest querier on the ingress, in its label; always 1.");
		put(buf, size, &n, "\nmcr_querier");
		put_prom_labels(buf, size, &n, cfg, "querier", who);
		put(buf, size, &n, " 1\n");
	}
	for (size_t i = 0; i < sizeof(prom_out_metrics) / sizeof(prom_out_metrics[0]); i++) {
		put(buf, size, &n, "# HELP %s %s\n# TYPE %s counter\n", prom_out_metrics[i].name,
		    prom_out_metrics[i].help, prom_out_metrics[i].name);
		for (unsigned int o = 0; o < cfg->n_out; o++) {
			put(buf, size, &n, "%s", prom_out_metrics[i].name);
			put_prom_labels(buf, size, &n, cfg, "destination", cfg->out[o].text);
			put(buf, size, &n, " %" PRIu64 "\n",
			    field_at(&c->out[o], prom_out_metrics[i].offset));
		}
	}
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
 * The stats file: the latest counters as JSON, or for --stats-format prom in Prometheus' text
 * format. Written beside it and renamed over it, so a reader sees the old version or the new
 * one, never half of either. Returns 0 or an errno.
 */
static int write_stats_file(const struct mcr_config *cfg, const struct mcr_counters *c,
			    struct mcr_counters *prev, const char *event)
{
	static char line[PROM_BYTES];
	char tmp[PATH_MAX];
	size_t n = cfg->stats_format == MCR_STATS_PROM ?
			   format_prom(line, sizeof(line), cfg, c) :
			   format_counters(line, sizeof(line), cfg, c, prev, true, event);
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
	line_prev = file_prev = *ring_collect(r);
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
	ring_advise(r);
	print_start(&cfg);
	ring_ready(r);
	for (;;) {
		enum mcr_event e = ring_run(r, &code);
		const struct mcr_counters *c = ring_collect(r);
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

// SPDX-License-Identifier: MIT
/*
 * mcr - relay a multicast UDP stream past the kernel's reverse-path filter.
 * main(): parse the command line, open the sockets and the ring, run, print the counters.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcr.h"

static const char usage_text[] =
	"usage: mcr -i IFACE -g GROUP:PORT [-s SOURCE] -o DEST:PORT[@IFACE] [-o ...]\n"
	"           [-t TTL] [--dscp N|NAME|keep] [-c COUNT] [--stats-interval SECS]\n"
	"           [--stats-format kv|json] [--no-join] [--duration SECS]\n"
	"           [--ready-fd N]\n"
	"       mcr -h | -V\n"
	"\n"
	"Capture the UDP stream GROUP:PORT arriving on IFACE before the kernel's reverse-path\n"
	"filter can drop it, and send each payload unchanged to every DEST:PORT.\n"
	"\n"
	"  -i, --in IFACE             capture on IFACE\n"
	"  -g, --group GROUP:PORT     IPv4 multicast group and UDP port to relay\n"
	"  -s, --source ADDR          relay only datagrams from ADDR; join source-specific\n"
	"  -o, --out DEST:PORT[@IFACE]\n"
	"                             a destination, repeatable (up to 16); multicast or\n"
	"                             unicast; @IFACE picks the egress interface\n"
	"  -t, --ttl N                TTL of relayed datagrams (default 1 for multicast\n"
	"                             destinations, the kernel's default for unicast)\n"
	"      --dscp N|NAME|keep     DSCP of relayed datagrams: 0-63, a name (ef, af41, cs6,\n"
	"                             ...), or keep the ingress datagram's (default)\n"
	"  -c, --count N              exit 0 after relaying N datagrams\n"
	"      --duration SECS        exit 0 after SECS seconds\n"
	"      --ready-fd N           write \"ready\" to file descriptor N once capture runs\n"
	"      --stats-interval SECS  also print the counters every SECS seconds\n"
	"      --stats-format kv|json counter line format (default kv)\n"
	"      --no-join              do not join GROUP on IFACE (networks that flood it)\n"
	"  -h, --help                 this text\n"
	"  -V, --version              the version\n"
	"\n"
	"SIGUSR1 prints the counters on stderr; SIGINT and SIGTERM print them and exit 0;\n"
	"SIGHUP is ignored. Exit status: 0 done, 64 usage, 66 no such interface,\n"
	"69 io_uring unavailable, 71 system error, 77 CAP_NET_RAW missing. See mcr(1).\n";

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

/* The counters as one line on stderr, written whole in one write(2). */
static void print_counters(const struct mcr_config *cfg, const struct mcr_counters *c)
{
	const bool json = cfg->stats_format == MCR_STATS_JSON;
	char line[4096];
	size_t n = 0;

	put(line, sizeof(line), &n, json ? "{\"uptime_s\":%" PRIu64 ".%03u" :
			"mcr: uptime_s=%" PRIu64 ".%03u", c->uptime_ms / 1000,
	    (unsigned int)(c->uptime_ms % 1000));
#define FIELD(name, value)                                                                     \
	put(line, sizeof(line), &n, json ? ",\"%s\":%" PRIu64 : " %s=%" PRIu64, (name), (value))
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
#undef FIELD
	if (json)
		put(line, sizeof(line), &n, ",\"out\":[");
	for (unsigned int i = 0; i < cfg->n_out; i++) {
		const struct mcr_out_counters *o = &c->out[i];

		if (json)
			put(line, sizeof(line), &n,
			    "%s{\"dest\":\"%s\",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
			    ",\"tx_errors\":%" PRIu64 ",\"last_error\":\"%s\"}",
			    i ? "," : "", cfg->out[i].text, o->tx_packets, o->tx_bytes,
			    o->tx_errors, errno_name(o->last_errno));
		else
			put(line, sizeof(line), &n,
			    " out%u=%s out%u.tx_packets=%" PRIu64 " out%u.tx_bytes=%" PRIu64
			    " out%u.tx_errors=%" PRIu64 " out%u.last_error=%s",
			    i + 1, cfg->out[i].text, i + 1, o->tx_packets, i + 1, o->tx_bytes,
			    i + 1, o->tx_errors, i + 1, errno_name(o->last_errno));
	}
	put(line, sizeof(line), &n, json ? "]}\n" : "\n");
	if (write(STDERR_FILENO, line, n) < 0)
		return;	/* nowhere left to say it */
}

static void print_start(const struct mcr_config *cfg)
{
	char line[2048], group[INET_ADDRSTRLEN];
	size_t n = 0;

	format_ip(&cfg->group, group, sizeof(group));
	put(line, sizeof(line), &n, "mcr: %s: relaying %s:%u", cfg->ingress, group, cfg->port);
	if (cfg->source.family) {
		char source[INET_ADDRSTRLEN];

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
	print_start(&cfg);
	ring_ready(r);
	while (ring_run(r, &code) == MCR_EVENT_STATS)
		print_counters(&cfg, ring_counters(r));
	print_counters(&cfg, ring_counters(r));
	ring_close(r);
	return code;
}

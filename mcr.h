/* SPDX-License-Identifier: MIT */
/*
 * mcr - relay multicast UDP past the kernel's reverse-path filter.
 *
 * The contract between the three parts of the tool:
 *   parse.c  pure functions: argv -> struct mcr_config, frame -> struct mcr_datagram
 *   ring.c   all I/O: packet socket, kernel filter, group join, egress sockets, io_uring loop
 *   mcr.c    main(): parse, open, run, report
 * Data flows one way: argv -> config -> sockets and ring -> frame -> datagram -> sends -> counters.
 */
#ifndef MCR_H
#define MCR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MCR_VERSION "0.1.0"

#define MCR_MAX_OUT 16		/* destinations per process (-o) */
#define MCR_ERR_LEN 256		/* bytes of one error message */
#define MCR_UDP_MAX_PAYLOAD 65507	/* bytes: 65535 - IPv4 header - UDP header */
#define MCR_BUSY_POLL_MAX_US 100000	/* --busy-poll's ceiling: 100 ms */

/* Exit statuses, from sysexits.h; documented in mcr.1 and README. */
enum mcr_exit {
	MCR_EXIT_OK = 0,
	MCR_EXIT_USAGE = 64,	/* EX_USAGE: bad command line */
	MCR_EXIT_NOIF = 66,	/* EX_NOINPUT: an interface is missing or went away */
	MCR_EXIT_NOURING = 69,	/* EX_UNAVAILABLE: io_uring unavailable */
	MCR_EXIT_OSERR = 71,	/* EX_OSERR: any other system error */
	MCR_EXIT_NOPERM = 77,	/* EX_NOPERM: CAP_NET_RAW missing */
	MCR_EXIT_CANTCREAT = 73,	/* EX_CANTCREAT: --stats-file cannot be written */
};

/* An IP address of either family, in network byte order. */
struct mcr_ip {
	sa_family_t family;	/* AF_INET or AF_INET6, or AF_UNSPEC when not given */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/*
 * The longest -o written in full: "[" ADDR "]:65535@" IFACE, ADDR the 45 characters of
 * INET6_ADDRSTRLEN less its NUL (ffff:...:255.255.255.255), IFACE 15; 70 with the NUL.
 */
#define MCR_OUT_TEXT_LEN (1 + (INET6_ADDRSTRLEN - 1) + 8 + (IF_NAMESIZE - 1) + 1)

/* One -o destination. */
struct mcr_out {
	struct mcr_ip addr;
	uint16_t port;		/* host byte order */
	char ifname[IF_NAMESIZE];	/* egress interface, "" for the kernel's choice */
	char text[MCR_OUT_TEXT_LEN];	/* as the user wrote it, for counters and errors */
};

enum mcr_stats_format { MCR_STATS_KV, MCR_STATS_JSON };

#define MCR_DSCP_KEEP (-1)	/* copy the ingress datagram's DSCP */
#define MCR_TTL_DEFAULT (-1)	/* 1 for multicast destinations, the kernel's for unicast */

struct mcr_config {
	char ingress[IF_NAMESIZE];	/* -i */
	struct mcr_ip group;		/* -g */
	uint16_t port;			/* -g, host byte order */
	struct mcr_ip source;		/* -s, family AF_UNSPEC when any source */
	struct mcr_out out[MCR_MAX_OUT];	/* -o */
	unsigned int n_out;
	int ttl;			/* -t, or MCR_TTL_DEFAULT */
	int dscp;			/* --dscp 0..63, or MCR_DSCP_KEEP */
	uint64_t count;			/* -c, 0 for unlimited */
	uint32_t stats_interval_ms;	/* --stats-interval, 0 for none */
	enum mcr_stats_format stats_format;
	bool no_join;			/* --no-join */
	uint16_t vlan;			/* --vlan 1..4094, 0 for untagged frames only */
	char user[64];			/* --user NAME or UID[:GID], "" to stay who we are */
	uint32_t busy_poll_us;		/* --busy-poll: spin this long for a frame before sleeping */
	uint32_t duration_ms;		/* --duration, 0 for unlimited */
	int ready_fd;			/* --ready-fd, -1 for none */
	const char *stats_file;		/* --stats-file, NULL for none; points into argv */
};

#define MCR_STATS_FILE_MS 1000	/* --stats-file rewrites without --stats-interval */

/* What parse_args() asks main() to do. */
enum mcr_parse_result { MCR_PARSE_RUN, MCR_PARSE_HELP, MCR_PARSE_VERSION, MCR_PARSE_ERROR };

enum mcr_parse_result parse_args(int argc, char *const argv[], struct mcr_config *cfg,
				 char err[MCR_ERR_LEN]);
int parse_dscp(const char *s);	/* 0..63, or -1 */
const char *dscp_name(int dscp);	/* "ef", "af41", ... or NULL */
int format_ip(const struct mcr_ip *ip, char *buf, size_t len);
bool ip_is_multicast(const struct mcr_ip *ip);
bool ip_equal(const struct mcr_ip *a, const struct mcr_ip *b);

/* The link layer a captured frame starts with. */
enum mcr_link { MCR_LINK_ETHER, MCR_LINK_NONE };

/* One captured frame as the packet ring hands it over. */
struct mcr_frame {
	const uint8_t *data;	/* first byte of the link-layer header (of L3 for MCR_LINK_NONE) */
	uint32_t caplen;	/* bytes in data */
	uint32_t wirelen;	/* bytes of the frame on the wire; > caplen when truncated */
	enum mcr_link link;
	bool vlan_valid;	/* the kernel stripped an 802.1Q tag into vlan_tci */
	uint16_t vlan_tci;
	bool csum_ok;		/* the kernel verified the UDP checksum, or built the frame itself */
	bool glued;		/* GSO or GRO: several datagrams in one frame (PACKET_VNET_HDR) */
};

/*
 * What selects the relayed stream: the kernel filter and parse_frame() both apply it. The
 * group's family says which of IPv4 and IPv6 is relayed.
 */
struct mcr_match {
	struct mcr_ip group;
	uint16_t port;		/* host byte order */
	struct mcr_ip source;	/* AF_UNSPEC for any */
	uint16_t vlan;		/* the 802.1Q VLAN ID to relay (1-4094), or 0: untagged only */
};

/* A relayable datagram: a view into the frame, nothing copied. */
struct mcr_datagram {
	const uint8_t *payload;
	uint32_t len;		/* UDP payload bytes, 0 allowed */
	struct mcr_ip src, dst;
	uint16_t sport, dport;	/* host byte order */
	uint8_t dscp;		/* from the IPv4 TOS byte or the IPv6 traffic class */
	/* A fragment (MCR_FRAGMENT): payload and len are the part of the IP payload it carries. */
	uint32_t frag_id;	/* 16 bits in IPv4, 32 in IPv6 */
	uint16_t frag_off;	/* bytes */
	bool frag_more;
	uint8_t frag_nh;	/* the header the fragmentable part starts with: UDP for IPv4 */
	uint8_t ecn;		/* the ECN field: 0 not-ECT, 1 and 2 ECT, 3 CE */
	uint8_t frag_chain;	/* IPv6 extension headers up to the fragment header, counting it */
	uint16_t frag_hlen;	/* IPv4 header, or IPv6 extension headers before the fragment's */
};

/*
 * Every frame the socket captured ends in exactly one verdict: relayed whole, queued for
 * reassembly, or dropped for one reason. rx_packets == relayed + frag_queued + the drops.
 */
enum mcr_verdict {
	MCR_RELAY,
	MCR_FRAGMENT,		/* a fragment, taken into reassembly */
	MCR_DROP_TRUNCATED,	/* capture ends before a header or the payload does */
	MCR_DROP_MALFORMED,	/* header fields contradict each other or the frame */
	MCR_DROP_CHECKSUM,	/* IPv4 header or UDP checksum wrong, or an IPv6 UDP checksum 0 */
	MCR_DROP_FRAGMENT,	/* a fragment reassembly refused: duplicate, past 64 KiB, no room */
	MCR_DROP_UNMATCHED,	/* not UDP of the group's family to group:port from source */
	MCR_DROP_VLAN,		/* tagged with another VLAN ID, or untagged (or no link) with --vlan */
	MCR_DROP_GLUED,		/* datagrams GSO or GRO glued into one frame; the kernel splits them */
	MCR_VERDICTS
};

extern const char *const mcr_verdict_name[MCR_VERDICTS];

enum mcr_verdict parse_frame(const struct mcr_frame *f, const struct mcr_match *m,
			     struct mcr_datagram *d);

/*
 * IPv4 and IPv6 reassembly, pure like the parser: the caller owns the table and the clock. Bounded:
 * MCR_REASM_SLOTS datagrams in flight, 64 KiB each, allocated once; a new datagram finds no room
 * while they are all busy (the kernel too refuses fragments past ipfrag_high_thresh, 4 MiB).
 * Fragments are kept as the kernel's inet_frag_queue_insert() keeps them: in runs, each run a
 * fragment and those appended right after it in order; a fragment inside one run is a duplicate.
 */
#define MCR_REASM_SLOTS 64
#define MCR_REASM_TIMEOUT_MS 1000
#define MCR_REASM_UNIT 8		/* bytes: fragment offsets count these */
/* An IPv4 fragment may claim up to offset 65528 + 65515 bytes: a datagram doomed, but tracked. */
#define MCR_REASM_UNITS (131072 / MCR_REASM_UNIT)
#define MCR_REASM_WORDS (MCR_REASM_UNITS / 64)

struct mcr_reasm_slot {
	bool busy;		/* collecting fragments */
	bool sent;		/* whole; its payload is in flight until reasm_release() */
	bool first_in, last_in;	/* the offset-0 fragment came; the last one came */
	struct mcr_ip src, dst;
	uint32_t id;
	uint8_t dscp;
	uint8_t nh;		/* of the offset-0 fragment */
	uint8_t chain;		/* of the offset-0 fragment: extension headers before its data */
	uint8_t ecn_seen;	/* 1 << ECN field of every fragment */
	uint16_t hlen;		/* of the offset-0 fragment, counted against 65535 bytes */
	uint64_t start_ms;
	uint32_t len;		/* IP payload bytes: the last fragment's end, or the furthest end */
	uint32_t meat;		/* bytes held */
	uint32_t tail;		/* end of the fragment held furthest on; 0 while none is */
	uint64_t held[MCR_REASM_WORDS];	/* units held */
	uint64_t run[MCR_REASM_WORDS];	/* units a run starts at */
	uint8_t buf[65536];
};

struct mcr_reasm {
	struct mcr_reasm_slot slot[MCR_REASM_SLOTS];
	uint64_t reassembled, timeout, evicted, invalid;
};

enum mcr_reasm_result {
	MCR_REASM_QUEUED,	/* held until the rest arrives */
	MCR_REASM_DONE,		/* *d is the whole datagram, valid until reasm_release() */
	MCR_REASM_INVALID,	/* overlap, empty, inconsistent length or a bad rebuilt datagram */
	MCR_REASM_DUPLICATE,	/* this fragment again: dropped alone */
	MCR_REASM_NO_ROOM,	/* a new datagram, and every slot is busy */
};

enum mcr_reasm_result reasm_add(struct mcr_reasm *t, const struct mcr_datagram *frag,
				const struct mcr_match *m, uint64_t now_ms, struct mcr_datagram *d);
void reasm_expire(struct mcr_reasm *t, uint64_t now_ms);
void reasm_release(struct mcr_reasm *t);
bool reasm_pending(const struct mcr_reasm *t);
/* No slot free, and some only wait for their sends: end the pass before a fragment needs one. */
bool reasm_crowded(const struct mcr_reasm *t);

/* Counters; ring.c counts, mcr.c prints. */
struct mcr_out_counters {
	uint64_t tx_packets, tx_bytes, tx_errors;
	int last_errno;		/* errno of the latest failed send, 0 if none */
};

struct mcr_counters {
	uint64_t uptime_ms;
	uint64_t rx_packets, rx_bytes;	/* frames captured, their bytes on the wire */
	uint64_t verdict[MCR_VERDICTS];	/* [MCR_RELAY] is the relayed datagram count */
	uint64_t tx_packets, tx_bytes, tx_errors;	/* summed over destinations */
	uint64_t kernel_drops;	/* frames the kernel had no ring room for (PACKET_STATISTICS) */
	/* Fragmented datagrams: rebuilt and relayed, or given up for one reason. */
	uint64_t frag_reassembled, frag_timeout, frag_evicted, frag_invalid;
	struct mcr_out_counters out[MCR_MAX_OUT];
	uint64_t time_ns;	/* CLOCK_MONOTONIC when these were read */
};

/* ring.c: why ring_run() came back. */
enum mcr_event {
	MCR_EVENT_STATS,	/* SIGUSR1 or the stats timer: print, then call ring_run() again */
	MCR_EVENT_EXIT,		/* stop with *exit_code; the final counters are still readable */
	MCR_EVENT_STATS_FILE,	/* the stats file's own timer: rewrite it, print nothing */
};

struct mcr_ring;
struct mcr_ring *ring_open(const struct mcr_config *cfg, int *exit_code);
enum mcr_event ring_run(struct mcr_ring *r, int *exit_code);
const struct mcr_counters *ring_counters(struct mcr_ring *r);
void ring_close(struct mcr_ring *r);
void ring_ready(struct mcr_ring *r);	/* capture runs: tell --ready-fd and systemd */

#endif

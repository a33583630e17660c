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
/*
 * --coalesce's ceiling: 5 ms. The packet ring holds ~10 ms of 1500-byte frames at 250k pps, so
 * a burst at the host's top rate fills at most half of it while a relay waits.
 */
#define MCR_COALESCE_MAX_US 5000

/* Exit statuses, from sysexits.h; documented in mcr.1 and README. */
enum mcr_exit {
	MCR_EXIT_OK = 0,
	MCR_EXIT_USAGE = 64,	/* EX_USAGE: bad command line */
	MCR_EXIT_NOIF = 66,	/* EX_NOINPUT: an interface is missing or went away */
	MCR_EXIT_NOURING = 69,	/* EX_UNAVAILABLE: io_uring unavailable */
	MCR_EXIT_OSERR = 71,	/* EX_OSERR: any other system error */
	MCR_EXIT_NOPERM = 77,	/* EX_NOPERM: CAP_NET_RAW missing */
	MCR_EXIT_CANTCREAT = 73,	/* EX_CANTCREAT: --stats-file cannot be written */
	MCR_EXIT_STALLED = 75,	/* EX_TEMPFAIL: the stream stalled (--stall-action exit) */
	MCR_EXIT_NOHOST = 68,	/* EX_NOHOST: a prohibit route or policy refuses -o or -g */
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

enum mcr_stats_format { MCR_STATS_KV, MCR_STATS_JSON, MCR_STATS_PROM };

/* --analyze: what the relayed datagrams are read as. Reading never changes what is relayed. */
enum mcr_analyze { MCR_ANALYZE_OFF, MCR_ANALYZE_RTP, MCR_ANALYZE_TS, MCR_ANALYZE_AUTO };

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
	uint16_t src_port;		/* --src-port, host byte order; 0 for ephemeral ports */
	uint32_t coalesce_us;		/* --coalesce: hold a datagram up to this long, 0 never */
	enum mcr_analyze analyze;	/* --analyze, MCR_ANALYZE_OFF when not given */
	uint32_t stall_timeout_ms;	/* --stall-timeout, 0 for no stall watch */
	bool stall_exit;		/* --stall-action exit, else warn */
	uint32_t report_interval_ms;	/* --report-interval, 0 for none */
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

/*
 * --user: one line of /etc/passwd (passwd(5): seven fields, any of them empty, split at every
 * colon), read exactly. MCR_PASSWD_BAD: the line is name's but its ids are not numbers.
 */
enum mcr_passwd { MCR_PASSWD_OTHER, MCR_PASSWD_MATCH, MCR_PASSWD_BAD };
#define MCR_ID_MAX 0xfffffffeu	/* uid_t and gid_t: (uid_t)-1 means "unchanged" to setuid */
#define MCR_NOBODY_ID 65534u	/* nobody and nogroup: whom root becomes without --user */
enum mcr_passwd parse_passwd_line(const char *line, const char *name, uint32_t *uid,
				  uint32_t *gid);
/* "UID:GID", or "UID" for both; false when spec is not numbers alone. */
bool parse_user_ids(const char *spec, uint32_t *uid, uint32_t *gid);

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
	bool loopback;		/* sent by this host: PACKET_LOOPBACK, or the ingress is lo */
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
	/* A query (MCR_QUERY): src is the querier. */
	uint8_t query_version;	/* IGMP 1, 2 or 3; MLD 1 or 2 */
	uint32_t query_membership_ms;	/* the membership interval it implies, 0 if it says none */
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
	MCR_QUERY,		/* an IGMP or MLD query, general or for the group: counted, not relayed */
	MCR_DROP_MARTIAN,	/* a source the kernel refuses before routing, or a source route */
	MCR_DROP_GLUED,		/* datagrams GSO or GRO glued into one frame; the kernel splits them */
	MCR_VERDICTS
};

extern const char *const mcr_verdict_name[MCR_VERDICTS];

enum mcr_verdict parse_frame(const struct mcr_frame *f, const struct mcr_match *m,
			     struct mcr_datagram *d);

/*
 * Membership reports (--report-interval): the IGMP or MLD message, checksum included (ICMPv6's
 * is the kernel's), for the version, the group and -s; *dst is where it goes. 0 if the version
 * is not one of the family's (IGMP 1-3, MLD 1-2).
 */
#define MCR_REPORT_MAX 48	/* bytes: an MLDv2 report of one record with one source */
#define MCR_MEMBERSHIP_DEFAULT_MS 260000	/* RFC 3376 8.4 and RFC 3810 9.4 by default */
size_t build_report(const struct mcr_match *m, int version, uint8_t buf[MCR_REPORT_MAX],
		    struct mcr_ip *dst);

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

/*
 * Which slots are collecting (busy) and which are whole, their payload in flight until
 * reasm_release() (sent): one bit per slot, so the relay's every pass asks in one word rather
 * than in 64 slots 64 KiB apart.
 */
struct mcr_reasm {
	uint64_t busy, sent;
	struct mcr_reasm_slot slot[MCR_REASM_SLOTS];
	uint64_t reassembled, timeout, evicted, invalid;
};
_Static_assert(MCR_REASM_SLOTS <= 64, "a slot's state is one bit of a 64-bit word");

static inline bool reasm_busy(const struct mcr_reasm *t, int i)
{
	return t->busy >> i & 1;
}

static inline bool reasm_sent(const struct mcr_reasm *t, int i)
{
	return t->sent >> i & 1;
}

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

/*
 * --analyze: sequence analysis of the relayed stream, pure like the parser; the caller owns the
 * state (fixed size, no allocation) and hands over each relayed datagram's payload once.
 * RTP (RFC 3550): per SSRC, sequence numbers extended across the 16-bit wrap; a new SSRC counts
 * once two datagrams arrive in sequence (A.1's probation); a jump of MAX_DROPOUT or more ahead
 * or MAX_MISORDER or more behind is ignored, unless the next datagram follows it: a reset.
 * MPEG-TS (ISO/IEC 13818-1, ETSI TR 101 290 1.2 and 1.4): sync bytes, continuity per PID.
 */
#define MCR_RTP_HLEN 12			/* bytes: RTP fixed header */
#define MCR_RTP_MAX_DROPOUT 3000	/* RFC 3550 A.1: a jump this far ahead is a reset */
#define MCR_RTP_MAX_MISORDER 100	/* RFC 3550 A.1: this far behind is a reset too */
#define MCR_RTP_SSRCS 8			/* sources followed at once; the least recent goes */
#define MCR_RTP_PT_MP2T 33		/* RFC 3551: MPEG-2 transport stream */
#define MCR_TS_PACKET_LEN 188		/* bytes */
#define MCR_TS_SYNC 0x47
#define MCR_TS_PIDS 8192		/* 13-bit PIDs */
#define MCR_TS_NULL_PID 0x1fff

/* What a stream was found to carry; auto decides on the first datagram that tells. */
enum mcr_stream { MCR_STREAM_UNKNOWN, MCR_STREAM_RTP, MCR_STREAM_TS, MCR_STREAM_RTP_TS };

extern const char *const mcr_stream_name[];	/* "unknown", "rtp", "ts", "rtp_ts" */

struct mcr_stream_counters {
	enum mcr_stream kind;
	/* RTP, summed over SSRCs: lost = expected - received, never below 0. */
	uint64_t rtp_received;		/* datagrams counted in sequence, each number once */
	uint64_t rtp_expected;		/* numbers from each source's first to its highest */
	uint64_t rtp_lost;		/* numbers never seen (yet: a late one takes one back) */
	uint64_t rtp_duplicate;		/* a number seen again */
	uint64_t rtp_reordered;		/* arrived after a higher number, within MAX_MISORDER */
	uint64_t rtp_resets;		/* sequence jumps a source went on from */
	uint64_t rtp_ssrc_changes;	/* a datagram from another SSRC than the one before */
	uint64_t rtp_invalid;		/* not RTP version 2, or its header overruns it */
	/* MPEG-TS, inside RTP or not. */
	uint64_t ts_packets;		/* 188-byte packets that start with the sync byte */
	uint64_t ts_sync_errors;	/* 188 bytes that do not, or a datagram's ragged end */
	uint64_t ts_cc_errors;		/* continuity counter breaks, PID 0x1fff aside */
	uint64_t ts_pids;		/* PIDs seen */
};

/* One SSRC's sequence: numbers extended to 32 bits, a window of the last 128 behind the top. */
struct mcr_rtp_source {
	uint32_t ssrc;
	bool used;
	bool probation;		/* one datagram seen, waiting for the next in sequence */
	uint16_t bad_seq;	/* after a jump, the number that would confirm it */
	bool bad_valid;
	uint32_t max_ext;	/* highest extended sequence number */
	uint32_t base_ext;	/* the first counted */
	uint64_t last_used;	/* datagram count when last seen: the least recent is replaced */
	uint64_t seen[2];	/* bit i: max_ext - i arrived (bit 0 of [0] is max_ext) */
};

/* Per PID: the last continuity counter, whether one was seen, whether it came twice. */
#define MCR_TS_CC_MASK 0x0f
#define MCR_TS_CC_SEEN 0x10
#define MCR_TS_CC_DUP 0x20

struct mcr_analysis {
	enum mcr_analyze mode;
	struct mcr_stream_counters c;
	uint64_t datagrams;
	uint32_t counted_ssrc;		/* of the last datagram counted in sequence */
	bool counted_any;
	uint8_t hint;			/* index into src of the last datagram's source */
	struct mcr_rtp_source src[MCR_RTP_SSRCS];
	uint8_t cc[MCR_TS_PIDS];
	uint64_t pid_seen[MCR_TS_PIDS / 64];
};

void analyze_init(struct mcr_analysis *a, enum mcr_analyze mode);
void analyze_datagram(struct mcr_analysis *a, const uint8_t *p, uint32_t len);
/* What one datagram looks like by the rule auto applies (mcr(1), --analyze). */
enum mcr_stream detect_stream(const uint8_t *p, uint32_t len);
/* The payload of an RTP version 2 datagram past CSRCs, extension and padding; false if none. */
bool rtp_payload(const uint8_t *p, uint32_t len, uint32_t *off, uint32_t *plen);

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
	uint64_t wakeups;	/* times the loop slept and woke: relayed / wakeups per wake-up */
	struct mcr_stream_counters stream;	/* --analyze */
	/* Stream health: a relayed datagram is what keeps the stream alive. */
	uint64_t stalls;	/* times nothing was relayed for --stall-timeout */
	uint64_t stalled;	/* 1 while stalled, else 0 */
	uint64_t last_rx_age_ms;	/* since the latest relayed datagram (or the start) */
	/* The querier: queries are verdict[MCR_QUERY], "queries_seen". */
	uint64_t last_query_age_ms;	/* since the latest query (or the start) */
	uint64_t querier_missing;	/* 1 once none came for the membership interval, else 0 */
	uint64_t reports_sent, report_errors;	/* --report-interval's reports */
	struct mcr_ip querier;		/* the latest query's source, AF_UNSPEC before one */
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
const struct mcr_counters *ring_collect(struct mcr_ring *r);	/* updates, then returns */
void ring_close(struct mcr_ring *r);
void ring_ready(struct mcr_ring *r);	/* capture runs: tell --ready-fd and systemd */
/* One line on stderr when the host's rp_filter would drop the stream -s names, else nothing. */
void ring_advise(const struct mcr_ring *r);

#endif

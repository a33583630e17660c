// SPDX-License-Identifier: MIT
/*
 * All of mcr's I/O: the packet socket with its kernel filter and mmap ring, the group join, the
 * egress sockets, and one io_uring loop that waits for frames, signals and the stats timer and
 * sends every relayed datagram.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/udp.h>
#include <linux/virtio_net.h>
#include <liburing.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mcr.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)	/* Linux 6.12: getevents_arg.pad is min_wait_usec */
#endif

#define RING_BYTES (4u << 20)	/* packet ring: ~10 ms of 1500-byte frames at 250k pps */
#define RING_BLOCK_BYTES (64u << 10)
#define BATCH_MAX 64		/* frames taken from the ring per pass */
#define PREFETCH_AHEAD 4	/* frames: headers fetched this far ahead of the parse */
#define URING_ENTRIES 1024
#define URING_RESERVED 8	/* SQ entries kept for re-arming poll, signal and timer */
#define GSO_SEGS_MAX 64		/* UDP_MAX_SEGMENTS before Linux 6.9 */
#define GSO_RETRY_NS (5 * 1000000000ull)	/* GSO off after a failure: tried again after */
#define ERRQUEUE_DRAIN_MAX 64	/* error-queue reads after a failed send, at most */
#define REARM_MAX 8		/* failed completions in a row of one kind before exit 71 */
#define NL_DRAIN_MAX 1024	/* rtnetlink reads after lost events: ~200 KiB of them, at most */
#define SNDBUF_BYTES (4 << 20)
#define CTRL_BYTES (CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int)))
#define PROBE_OPS 256		/* io_uring operations the probe has room for */
#define FILTER_SNAPLEN 0x40000	/* "accept the whole frame" for the filter's return */
#define WINDOW_EVENTS BATCH_MAX	/* completions that end a --coalesce window early */
#define WINDOW_IDLE_S 3600	/* after a window nothing came in: sleep on, at most this long */
#define WINDOW_BACKOFF_MAX 64	/* windows skipped at most after one that caught too little */
#define STALL_CHECK_MAX_MS 1000	/* the stall watch looks this often, or more with a timeout */
#define STALL_CHECKS 4		/* and at least this many times per --stall-timeout */
#define IGMP_QUERY_TYPE 0x11
#define MLD_QUERY_TYPE 130
#define IPOPT_ROUTER_ALERT 148	/* RFC 2113: routers look into the datagram */
#define VNET_HLEN sizeof(struct virtio_net_hdr)	/* bytes before each frame (PACKET_VNET_HDR) */

/*
 * user_data: the kind in the top byte; a send also says which destination, whether it was a GSO
 * send, how many datagrams it carries and the index of the first.
 */
enum ud_kind {
	UD_POLL = 1, UD_SIGNAL, UD_TIMER, UD_LINK, UD_REASM, UD_SEND, UD_DURATION, UD_STALL,
	UD_REPORT
};
#define UD(kind) ((uint64_t)(kind) << 56)
#define UD_SEND_OF(out, gso, n, first)                                                         \
	(UD(UD_SEND) | (uint64_t)(out) << 48 | (uint64_t)(gso) << 40 | (uint64_t)(n) << 16 |     \
	 (uint64_t)(first))
#define UD_KIND(ud) ((unsigned int)((ud) >> 56))
#define UD_OUT(ud) ((unsigned int)((ud) >> 48) & 0xff)
#define UD_GSO(ud) ((unsigned int)((ud) >> 40) & 1)
#define UD_N(ud) ((unsigned int)((ud) >> 16) & 0xffff)
#define UD_FIRST(ud) ((unsigned int)(ud) & 0xffff)
#define UD_RESENT_BIT ((uint64_t)1 << 32)	/* a send again after a stale socket error */
#define UD_RESENT(ud) ((ud) & UD_RESENT_BIT)

/* Registered file slots. */
enum { FILE_INGRESS, FILE_OUT0 };

struct out_sock {
	int fd;
	bool connected;		/* else every send names the destination */
	bool gso;		/* equal-size runs go out as one UDP_SEGMENT send */
	uint32_t gso_max;	/* largest payload that fits the route MTU whole */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool v6;
	bool gso_kernel;	/* the kernel has UDP GSO: gso may come back once off */
	uint64_t gso_retry_ns;	/* CLOCK_MONOTONIC when gso, switched off, is tried again */
};

/* Consecutive relayed datagrams of one size and DSCP: one send per destination. */
struct run {
	uint16_t first;		/* index into iov */
	uint16_t n;
	uint32_t len;
	uint8_t dscp;
};

struct mcr_ring {
	const struct mcr_config *cfg;
	struct mcr_counters c;
	struct mcr_match match;
	struct io_uring uring;
	int pkt_fd, join_fd, sig_fd, timer_fd, nl_fd;
	int ifindex;
	bool link_up;		/* administratively up and with carrier */
	enum mcr_link link;
	uint64_t start_ns;

	uint8_t *map;		/* the TPACKET_V2 ring */
	uint8_t **frame;	/* where each of its frames starts: no division per frame */
	size_t map_len;
	uint32_t frame_size, frame_nr, head;
	bool uring_ok;

	/* The pass in flight: frames held until every send that reads them completes. */
	uint32_t held;
	unsigned int inflight;
	unsigned int batch_max;	/* frames per pass, so every send of a pass fits the SQ */
	struct iovec iov[BATCH_MAX];
	uint8_t dscp[BATCH_MAX];
	struct run runs[BATCH_MAX];
	unsigned int n_iov, n_runs;
	/* [out][first datagram]: a send owns the slot of the first datagram it carries. */
	struct msghdr msg[MCR_MAX_OUT][BATCH_MAX];
	uint8_t ctrl[MCR_MAX_OUT][BATCH_MAX][CTRL_BYTES] __attribute__((aligned(8)));

	struct mcr_reasm reasm;
	struct __kernel_timespec reasm_tick;
	bool reasm_armed;
	struct signalfd_siginfo siginfo;
	uint8_t nl_buf[8192] __attribute__((aligned(8)));
	uint64_t timer_ticks;
	bool poll_multishot, armed;
	bool stop, stats_due;
	int exit_code;

	struct out_sock out[MCR_MAX_OUT];

	struct __kernel_timespec duration_end;	/* CLOCK_MONOTONIC, for --duration */
	int notify_fd;		/* to systemd's NOTIFY_SOCKET, or -1 */
	struct sockaddr_un notify_addr;
	socklen_t notify_len;
	bool ready_sent;
	bool file_due;		/* the stats file's timer fired */
	bool admin_up;		/* the ingress was set up at start, carrier or not */

	/* --coalesce */
	bool window;		/* the last pass relayed and was not full: hold the next datagrams */
	bool windowed;		/* this pass follows a window */
	uint8_t window_backoff;	/* windows skipped after the last one that caught too little */
	uint8_t window_skip;	/* of those, still to skip */
	bool min_wait;		/* the kernel ends a wait after a minimum time (Linux 6.12) */
	struct mcr_analysis analysis;	/* --analyze: reads what is relayed, never changes it */

	/*
	 * The stall watch reads no clock per datagram: a check compares the relayed count with
	 * the one it saw last, and when it moved, the stream was alive since that check.
	 */
	char stream[INET6_ADDRSTRLEN + 8];	/* "239.1.1.1:5000" or "[ff3e::1]:5000" */
	uint64_t seen_relayed;	/* the relayed count at the latest check */
	uint64_t last_rx_ns;	/* when a check saw it move, or the start */
	struct __kernel_timespec stall_tick;

	/* The querier, and --report-interval's socket, opened at set-up while privileged. */
	uint64_t last_query_ns;	/* 0 before the first query */
	uint64_t heard_ns[4];	/* the latest query of each version */
	uint32_t membership_ms;	/* the latest query's membership interval, or the default */
	bool querier_warned;
	bool stall_armed;	/* the watch's timeout is queued */
	uint32_t stall_gen;	/* in its user_data: a timeout of an older one is stale */
	uint64_t stall_due_ns;	/* when it fires, CLOCK_MONOTONIC */
	int report_fd;
	int forced_version;	/* force_igmp_version or force_mld_version at start, 0 for none */
	struct __kernel_timespec report_tick;
	bool notify_connected;	/* NOTIFY_SOCKET was there at start: send() needs no path */
	bool resending;		/* queue_send() marks the send UD_RESENT_BIT */
	uint32_t ring_mtu;	/* the ingress MTU the ring's slots were sized for */
	bool said_mtu, said_losing;	/* each said once on stderr */
	char losing_line[256];
	uint8_t rearm_failures[UD_REPORT + 1];	/* in a row, by user_data kind */
	bool ingress_lo;	/* the ingress is a loopback device: all it carries is local */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One setup error: a line naming the culprit and the fix; returns the exit status. */
static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mcr: %s\n", line);
	return code;
}

/*
 * EPERM is a missing capability (SO_BINDTODEVICE); EACCES from connect or a join is a route of
 * type prohibit or a policy: no privilege would help, and it may be lifted while we wait.
 */
static int errno_exit(int e)
{
	return e == EPERM ? MCR_EXIT_NOPERM : e == EACCES ? MCR_EXIT_NOHOST : MCR_EXIT_OSERR;
}

/* What to do about EACCES from connect or a join, as a parenthesis; "" for other errors. */
static const char *prohibited_hint(int e)
{
	return e == EACCES ? " (a prohibit route or policy refuses it; ip route get shows which)" :
			     "";
}

/*
 * The kernel filter: only UDP of the group's family to group:port (from source), neither sent
 * by this host nor for another host's MAC (PACKET_OTHERHOST, which ip_rcv_core() and
 * ip6_rcv_core() drop: never captured, so never counted), tagged with --vlan's ID or else
 * untagged, is ever copied to the ring. Offsets are from the network header (SKF_NET_OFF), so
 * one program serves Ethernet and IP tunnels. Non-first fragments carry no UDP header; they
 * pass on group and source alone and are counted as fragments. IPv6 extension headers, and a
 * second tag under a priority tag (which the kernel strips and looks past), go to the parser.
 */
static int attach_filter(int fd, const struct mcr_match *m)
{
	const uint32_t net = (uint32_t)SKF_NET_OFF;
	const bool v6 = m->group.family == AF_INET6;
	struct sock_filter prog[96];
	unsigned int n = 0, i;
	struct sock_fprog fprog;

#define INS(c, t, f, k) (prog[n++] = (struct sock_filter){ (c), (t), (f), (k) })
#define ACCEPT 0xfd	/* patched below into jumps to the "ret #snaplen" */
#define DROP 0xfe	/* and to the final "ret #0" */
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
	INS(BPF_JMP | BPF_JEQ | BPF_K, DROP, 0, PACKET_OUTGOING);
	INS(BPF_JMP | BPF_JEQ | BPF_K, DROP, 0, PACKET_OTHERHOST);
	INS(BPF_LD | BPF_H | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL));
	INS(BPF_JMP | BPF_JEQ | BPF_K, m->vlan ? 6 : 5, 0, v6 ? ETH_P_IPV6 : ETH_P_IP);
	/*
	 * Stacked tags: the kernel took the outer one out (SKF_AD_VLAN_TAG) and the protocol is
	 * the inner one's. Under a priority tag (VID 0), or under --vlan's, the kernel goes on to
	 * the inner tag (__netif_receive_skb_core): parse_frame() decides, as it does. 5 or 6
	 * instructions, skipped above.
	 */
	INS(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, ETH_P_8021Q);
	INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, ETH_P_8021AD);
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG));
	INS(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x0fff);
	if (m->vlan) {
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, 0, 0);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, m->vlan);
	} else {
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, 0);
	}
	if (m->vlan) {
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
		INS(BPF_JMP | BPF_JEQ | BPF_K, DROP, 0, 0);
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG));
		INS(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x0fff);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, m->vlan);
	} else {
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG));
		INS(BPF_JMP | BPF_JSET | BPF_K, DROP, 0, 0x0fff);
	}
	if (v6) {
		uint32_t w[4];

		/*
		 * MLD queries to all nodes (ff02::1): ICMPv6 type 130, right after the fixed
		 * header or after a hop-by-hop header (the Router Alert): 19 instructions.
		 */
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 24);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 19, 0xff020000);
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 28);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, 0);
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 32);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, 0);
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 36);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, 1);
		INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 6);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, IPPROTO_ICMPV6);
		INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 40);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, MLD_QUERY_TYPE);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, IPPROTO_HOPOPTS);
		INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 40);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, IPPROTO_ICMPV6);
		INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 41);	/* its length in 8 bytes, less 1 */
		INS(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1);
		INS(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 3);
		INS(BPF_MISC | BPF_TAX, 0, 0, 0);
		INS(BPF_LD | BPF_B | BPF_IND, 0, 0, net + 40);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, MLD_QUERY_TYPE);
		/* Destination at 24, source at 8, a word at a time; then the next header. */
		memcpy(w, &m->group.v6, 16);
		for (i = 0; i < 4; i++) {
			INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 24 + 4 * i);
			INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, ntohl(w[i]));
		}
		memcpy(w, &m->source.v6, 16);
		/* A query for the group comes from the querier, behind its Router Alert. */
		if (m->source.family) {
			INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 6);
			INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, 0, IPPROTO_HOPOPTS);
		}
		for (i = 0; m->source.family && i < 4; i++) {
			INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 8 + 4 * i);
			INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, ntohl(w[i]));
		}
		INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 6);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, IPPROTO_UDP);
		INS(BPF_LD | BPF_H | BPF_ABS, 0, 0, net + 40 + 2);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, m->port);
		/* Extension headers: the parser walks them; the kernel filter lets them by. */
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, 0, IPPROTO_FRAGMENT);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, 0, IPPROTO_HOPOPTS);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, 0, IPPROTO_ROUTING);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, IPPROTO_DSTOPTS);
	} else {
		INS(BPF_LD | BPF_B | BPF_ABS, 0, 0, net + 9);
		/* IGMP queries, to all systems or to the group, from any querier: 6 instructions. */
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, 6, IPPROTO_IGMP);
		INS(BPF_LDX | BPF_B | BPF_MSH, 0, 0, net);
		INS(BPF_LD | BPF_B | BPF_IND, 0, 0, net);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, IGMP_QUERY_TYPE);
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 16);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, 0, INADDR_ALLHOSTS_GROUP);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, ntohl(m->group.v4.s_addr));
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, IPPROTO_UDP);
		INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 16);
		INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, ntohl(m->group.v4.s_addr));
		if (m->source.family) {
			INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 12);
			INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, ntohl(m->source.v4.s_addr));
		}
		INS(BPF_LD | BPF_H | BPF_ABS, 0, 0, net + 6);
		INS(BPF_JMP | BPF_JSET | BPF_K, ACCEPT, 0, 0x1fff);	/* non-first fragment */
		INS(BPF_LDX | BPF_B | BPF_MSH, 0, 0, net);
		INS(BPF_LD | BPF_H | BPF_IND, 0, 0, net + 2);
		INS(BPF_JMP | BPF_JEQ | BPF_K, ACCEPT, DROP, m->port);
	}
	INS(BPF_RET | BPF_K, 0, 0, FILTER_SNAPLEN);
	INS(BPF_RET | BPF_K, 0, 0, 0);
	for (i = 0; i < n; i++) {
		if (BPF_CLASS(prog[i].code) != BPF_JMP)
			continue;
		if (prog[i].jt == ACCEPT || prog[i].jt == DROP)
			prog[i].jt = (uint8_t)(n - (prog[i].jt == DROP ? 1 : 2) - i - 1);
		if (prog[i].jf == ACCEPT || prog[i].jf == DROP)
			prog[i].jf = (uint8_t)(n - (prog[i].jf == DROP ? 1 : 2) - i - 1);
	}
#undef INS
#undef ACCEPT
#undef DROP
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
}

/* The link layer of the ingress, and its MTU: what frames look like and how big they get. */
static int probe_ingress(struct mcr_ring *r, const char *name, uint32_t *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e;

	if (fd < 0)
		return fail(MCR_EXIT_OSERR, "socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		e = errno;
		close(fd);
		if (e == ENODEV)
			return fail(MCR_EXIT_NOIF, "%s: no such interface (see ip link)", name);
		return fail(MCR_EXIT_OSERR, "%s: %s", name, strerror(e));
	}
	*mtu = (uint32_t)ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		r->link_up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
		r->admin_up = ifr.ifr_flags & IFF_UP;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		e = errno;
		close(fd);
		return fail(MCR_EXIT_OSERR, "%s: %s", name, strerror(e));
	}
	close(fd);
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_LOOPBACK:
		r->ingress_lo = true;
		/* fall through */
	case ARPHRD_ETHER:
		r->link = MCR_LINK_ETHER;
		return 0;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:
	case ARPHRD_IPGRE:
		r->link = MCR_LINK_NONE;
		return 0;
	}
	return fail(MCR_EXIT_USAGE, "-i %s: link type %u is not supported (Ethernet and IP tunnels are)",
		    name, ifr.ifr_hwaddr.sa_family);
}

/*
 * The packet socket: created listening to nothing, filtered, given its ring, and only then
 * bound, so not one unfiltered frame is ever queued to it.
 */
static int open_ingress(struct mcr_ring *r)
{
	const struct mcr_config *cfg = r->cfg;
	struct tpacket_req req = { 0 };
	struct sockaddr_ll sll = { 0 };
	uint32_t mtu, block, page, per_block;
	int one = 1, ver = TPACKET_V2, ret;

	r->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->pkt_fd < 0) {
		if (errno == EPERM || errno == EACCES)
			return fail(MCR_EXIT_NOPERM, "packet socket: %s (mcr needs CAP_NET_RAW: run it "
				    "as root or setcap cap_net_raw+ep mcr)", strerror(errno));
		return fail(MCR_EXIT_OSERR, "packet socket: %s", strerror(errno));
	}
	ret = probe_ingress(r, cfg->ingress, &mtu);
	if (ret)
		return ret;
	r->ifindex = (int)if_nametoindex(cfg->ingress);
	if (!r->ifindex)
		return fail(MCR_EXIT_NOIF, "%s: no such interface (see ip link)", cfg->ingress);
	if (attach_filter(r->pkt_fd, &r->match) < 0)
		return fail(MCR_EXIT_OSERR, "SO_ATTACH_FILTER: %s", strerror(errno));
	if (setsockopt(r->pkt_fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0)
		return fail(MCR_EXIT_OSERR, "PACKET_VERSION TPACKET_V2: %s (Linux 2.6.27 or later "
			    "is needed)", strerror(errno));
	/* Linux 4.20 and later skip our own sends before the filter even runs; older ones filter. */
	setsockopt(r->pkt_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	/*
	 * A virtio header before each frame says whether GSO or GRO glued datagrams into it,
	 * which nothing else in the frame shows.
	 */
	if (setsockopt(r->pkt_fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return fail(MCR_EXIT_OSERR, "PACKET_VNET_HDR: %s", strerror(errno));

	/* Room for the headers, the largest frame the MTU allows and one in-band VLAN tag. */
	r->ring_mtu = mtu;
	r->frame_size = TPACKET_ALIGN(TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + VNET_HLEN + mtu + 4 +
				      14);
	/* A block is a whole number of pages: 4 KiB here, 16 or 64 KiB on some arm64 and ppc64. */
	page = (uint32_t)sysconf(_SC_PAGESIZE);
	block = RING_BLOCK_BYTES > page ? RING_BLOCK_BYTES : page;
	if (block < r->frame_size)
		block = (r->frame_size + page - 1) / page * page;
	req.tp_block_size = block;
	req.tp_block_nr = RING_BYTES / block ? RING_BYTES / block : 1;
	req.tp_frame_size = r->frame_size;
	per_block = block / r->frame_size;
	req.tp_frame_nr = per_block * req.tp_block_nr;
	if (setsockopt(r->pkt_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return fail(MCR_EXIT_OSERR, "PACKET_RX_RING of %u frames: %s", req.tp_frame_nr,
			    strerror(errno));
	r->frame_nr = req.tp_frame_nr;
	/*
	 * A pass holds its frames until its sends complete: one that took more than the ring has
	 * (60 frames at lo's 65536-byte MTU) would come round to frames it still holds.
	 */
	if (r->batch_max > r->frame_nr)
		r->batch_max = r->frame_nr;
	/* Made now: formatting it only when the ring overflows would grow memory then. */
	snprintf(r->losing_line, sizeof(r->losing_line),
		 "mcr: %s: the kernel dropped frames, the %u-frame ring was full (kernel_drops): "
		 "mcr got no CPU in time; give it one (taskset, chrt -f), and stderr and "
		 "--stats-file a place that never blocks (journal, tmpfs)\n", cfg->ingress,
		 r->frame_nr);
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      r->pkt_fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return fail(MCR_EXIT_OSERR, "mmap packet ring: %s", strerror(errno));
	}
	r->frame = calloc(r->frame_nr, sizeof(*r->frame));
	if (!r->frame)
		return fail(MCR_EXIT_OSERR, "packet ring: %s", strerror(errno));
	for (uint32_t i = 0; i < r->frame_nr; i++)
		r->frame[i] = r->map + (size_t)(i / per_block) * block +
			      (size_t)(i % per_block) * r->frame_size;
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = r->ifindex;
	if (bind(r->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		if (errno == ENODEV)
			return fail(MCR_EXIT_NOIF, "%s: no such interface (see ip link)",
				    cfg->ingress);
		return fail(MCR_EXIT_OSERR, "bind to %s: %s", cfg->ingress, strerror(errno));
	}
	return 0;
}

/* Fill a socket address of the address's family. */
static socklen_t to_sockaddr(const struct mcr_ip *ip, uint16_t port, uint32_t scope,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = ip->v6;
		s6->sin6_port = htons(port);
		s6->sin6_scope_id = scope;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_addr = ip->v4;
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

/*
 * Join the group on the ingress so IGMP-snooping switches send the stream our way: IGMPv2/v3 or
 * MLDv1/v2, any-source or source-specific; RFC 3678's calls cover all four. The socket is never
 * bound to a port, so it never has a datagram to read.
 */
static int join(struct mcr_ring *r)
{
	const struct mcr_config *cfg = r->cfg;
	const int level = cfg->group.family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	struct group_source_req gsr = { 0 };

	gsr.gsr_interface = (uint32_t)r->ifindex;
	to_sockaddr(&cfg->group, 0, 0, &gsr.gsr_group);
	if (cfg->source.family) {
		to_sockaddr(&cfg->source, 0, 0, &gsr.gsr_source);
		return setsockopt(r->join_fd, level, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof(gsr));
	}
	return setsockopt(r->join_fd, level, MCAST_JOIN_GROUP, &gsr, sizeof(struct group_req));
}

static int join_group(struct mcr_ring *r)
{
	const struct mcr_config *cfg = r->cfg;
	int rcvbuf = 0;

	char group[INET6_ADDRSTRLEN];

	r->join_fd = socket(cfg->group.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->join_fd < 0)
		return fail(MCR_EXIT_OSERR, "join socket: %s", strerror(errno));
	setsockopt(r->join_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (join(r) < 0) {
		format_ip(&cfg->group, group, sizeof(group));
		if (errno == EACCES)
			return fail(MCR_EXIT_NOHOST, "join %s on %s: %s%s", group, cfg->ingress,
				    strerror(errno), prohibited_hint(errno));
		return fail(errno_exit(errno), "join %s on %s: %s (try --no-join where the network "
			    "floods multicast)", group, cfg->ingress, strerror(errno));
	}
	return 0;
}

/* Without a join, still tell the NIC to accept the group's MAC address: no IGMP, just the filter. */
static int accept_group_mac(struct mcr_ring *r)
{
	const struct mcr_ip *g = &r->cfg->group;
	struct packet_mreq mr = { 0 };

	if (r->link != MCR_LINK_ETHER)
		return 0;
	mr.mr_ifindex = r->ifindex;
	mr.mr_type = PACKET_MR_MULTICAST;
	mr.mr_alen = 6;
	if (g->family == AF_INET6) {
		/* RFC 2464: 33:33 and the group's low 32 bits. */
		mr.mr_address[0] = mr.mr_address[1] = 0x33;
		memcpy(mr.mr_address + 2, g->v6.s6_addr + 12, 4);
	} else {
		/* RFC 1112: 01:00:5e and the group's low 23 bits. */
		uint32_t a = ntohl(g->v4.s_addr);

		mr.mr_address[0] = 0x01;
		mr.mr_address[2] = 0x5e;
		mr.mr_address[3] = (a >> 16) & 0x7f;
		mr.mr_address[4] = (a >> 8) & 0xff;
		mr.mr_address[5] = a & 0xff;
	}
	if (setsockopt(r->pkt_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return fail(MCR_EXIT_OSERR, "PACKET_ADD_MEMBERSHIP on %s: %s", r->cfg->ingress,
			    strerror(errno));
	return 0;
}

/*
 * An egress interface without an IPv4 address still sends, with the address of another
 * interface or 0.0.0.0 as the source: a stream receivers and their RPF checks would refuse.
 */
static bool has_ipv4_address(int fd, const char *ifname)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	return ioctl(fd, SIOCGIFADDR, &ifr) == 0 || errno != EADDRNOTAVAIL;
}

/* --src-port could not be had: privileged (77), or taken or anything else (71). */
static int src_port_refused(const struct mcr_config *cfg, const char *what, int e)
{
	const unsigned int p = cfg->src_port;

	if (e == EADDRINUSE)
		return fail(MCR_EXIT_OSERR, "--src-port %u: %s: another socket holds UDP port "
			    "%u (ss -uanp 'sport = :%u' names it); pick another port or stop it",
			    p, strerror(e), p, p);
	if (e == EACCES || e == EPERM)
		return fail(MCR_EXIT_NOPERM, "--src-port %u: %s: ports below "
			    "net.ipv4.ip_unprivileged_port_start need CAP_NET_BIND_SERVICE", p,
			    strerror(e));
	return fail(MCR_EXIT_OSERR, "--src-port %u: %s: %s", p, what, strerror(e));
}

/*
 * Bind an egress socket to --src-port on the wildcard address: the kernel still picks the source
 * address by route. SO_REUSEPORT lets every destination's socket share the port, and only
 * sockets of this effective UID can join them.
 */
static int bind_src_port(const struct mcr_config *cfg, int fd, sa_family_t family, bool reuse)
{
	struct sockaddr_storage ss;
	const struct mcr_ip any = { .family = family };
	socklen_t len = to_sockaddr(&any, cfg->src_port, 0, &ss);
	int one = 1;

	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return src_port_refused(cfg, "SO_REUSEPORT", errno);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return src_port_refused(cfg, "bind", errno);
	return 0;
}

/*
 * Before any egress socket takes --src-port: is it free in this family? A probe bound without
 * SO_REUSEPORT fails on whatever socket holds the port, another mcr's or anyone's, which our
 * own sockets, sharing it among themselves, would not notice.
 */
static int probe_src_port(const struct mcr_config *cfg, sa_family_t family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return 0;	/* the destination's own socket() says why */
	ret = bind_src_port(cfg, fd, family, false);
	close(fd);
	return ret;
}

static int check_src_port(const struct mcr_config *cfg)
{
	bool v4 = false, v6 = false;
	int ret = 0;

	if (!cfg->src_port)
		return 0;
	for (unsigned int i = 0; i < cfg->n_out; i++) {
		v4 |= cfg->out[i].addr.family == AF_INET;
		v6 |= cfg->out[i].addr.family == AF_INET6;
	}
	if (v4)
		ret = probe_src_port(cfg, AF_INET);
	if (!ret && v6)
		ret = probe_src_port(cfg, AF_INET6);
	return ret;
}

/* The largest GSO segment: what the route's MTU holds whole, as the kernel knows it now. */
static void read_gso_max(struct out_sock *s)
{
	int mtu = 0;
	socklen_t len = sizeof(mtu);

	if (s->connected && getsockopt(s->fd, s->v6 ? IPPROTO_IPV6 : IPPROTO_IP,
				       s->v6 ? IPV6_MTU : IP_MTU, &mtu, &len) == 0 &&
	    mtu > (s->v6 ? 48 : 28))
		s->gso_max = (uint32_t)mtu - (s->v6 ? 48 : 28);
	else
		s->gso_max = s->v6 ? 1452 : 1472;
}

/*
 * One connected UDP socket per destination: the route is looked up once, and a unicast peer's
 * ICMP port-unreachable comes back as ECONNREFUSED on that destination alone. A destination with
 * no route yet is kept unconnected and named in every send, so it starts working by itself.
 */
static int open_out(struct mcr_ring *r, unsigned int i)
{
	const struct mcr_config *cfg = r->cfg;
	const struct mcr_out *o = &cfg->out[i];
	struct out_sock *s = &r->out[i];
	const bool v6 = o->addr.family == AF_INET6, mc = ip_is_multicast(&o->addr);
	const int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int fd, one = 1, zero = 0, sndbuf = SNDBUF_BYTES;
	int hops = cfg->ttl == MCR_TTL_DEFAULT ? (mc ? 1 : -1) : cfg->ttl;
	unsigned int ifindex = 0;

	fd = socket(o->addr.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(MCR_EXIT_OSERR, "-o %s: socket: %s%s", o->text, strerror(errno),
			    v6 && errno == EAFNOSUPPORT ? " (IPv6 is disabled on this host)" : "");
	s->fd = fd;
	s->v6 = v6;
	if (o->ifname[0]) {
		ifindex = if_nametoindex(o->ifname);
		if (!ifindex)
			return fail(MCR_EXIT_NOIF, "-o %s: %s: no such interface (see ip link)",
				    o->text, o->ifname);
	}
	if (ifindex && !v6 && !has_ipv4_address(fd, o->ifname))
		return fail(MCR_EXIT_NOIF,
			    "-o %s: %s has no IPv4 address, so datagrams would leave with another "
			    "interface's or 0.0.0.0 (ip address add ADDR/LEN dev %s)", o->text,
			    o->ifname, o->ifname);
	s->addr_len = to_sockaddr(&o->addr, o->port, ifindex, &s->addr);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* Without it UDP reports a datagram that a full egress queue dropped (ENOBUFS) as sent. */
	if (setsockopt(fd, level, v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one)) < 0)
		return fail(MCR_EXIT_OSERR, "-o %s: %s: %s", o->text,
			    v6 ? "IPV6_RECVERR" : "IP_RECVERR", strerror(errno));
	if (mc) {
		struct ip_mreqn mreq = { .imr_ifindex = (int)ifindex };
		int idx = (int)ifindex;
		bool bad = ifindex && (v6 ? setsockopt(fd, level, IPV6_MULTICAST_IF, &idx,
						      sizeof(idx)) :
					   setsockopt(fd, level, IP_MULTICAST_IF, &mreq,
						      sizeof(mreq))) < 0;

		if (bad || setsockopt(fd, level, v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, &hops,
				      sizeof(hops)) < 0 ||
		    setsockopt(fd, level, v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP, &zero,
			       sizeof(zero)) < 0)
			return fail(MCR_EXIT_OSERR, "-o %s: multicast options: %s", o->text,
				    strerror(errno));
	} else {
		if (ifindex && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname,
					  (socklen_t)strlen(o->ifname)) < 0)
			return fail(errno_exit(errno), "-o %s: SO_BINDTODEVICE: %s", o->text,
				    strerror(errno));
		if (hops > 0 && setsockopt(fd, level, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &hops,
					   sizeof(hops)) < 0)
			return fail(MCR_EXIT_OSERR, "-o %s: TTL: %s", o->text, strerror(errno));
		/* Some legacy receivers listen on a broadcast address; let -o name one. */
		if (!v6)
			setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	}
	if (cfg->dscp != MCR_DSCP_KEEP) {
		int tos = cfg->dscp << 2;

		if (setsockopt(fd, level, v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof(tos)) < 0)
			return fail(MCR_EXIT_OSERR, "-o %s: DSCP: %s", o->text, strerror(errno));
	}
	if (cfg->src_port) {
		int ret = bind_src_port(cfg, fd, o->addr.family, true);

		if (ret)
			return ret;
	}
	if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) == 0) {
		s->connected = true;
	} else if (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == ENETDOWN ||
		   errno == EADDRNOTAVAIL) {
		fprintf(stderr, "mcr: -o %s: %s for now; sending anyway, it starts when a route "
			"appears\n", o->text, strerror(errno));
	} else {
		return fail(errno_exit(errno), "-o %s: connect: %s%s", o->text, strerror(errno),
			    prohibited_hint(errno));
	}
	/* UDP GSO (Linux 4.18) needs each segment to fit the route MTU whole. */
	s->gso = setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	s->gso_kernel = s->gso;
	read_gso_max(s);
	return 0;
}

/* An integer from a /proc file, or unread when it cannot be read (a sandbox may hide /proc/sys). */
static int read_proc_int(const char *path, int unread)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return unread;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : unread;
}

/* net.ipv4.conf.NAME.rp_filter: 0 off, 1 strict, 2 loose; -1 when it cannot be read. */
static int read_rp_filter(const char *name)
{
	char path[64 + IF_NAMESIZE];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", name);
	return read_proc_int(path, -1);
}

/* Where the host's route back to -s goes, as the reverse-path check would find it. */
enum route_back { ROUTE_UNKNOWN, ROUTE_NONE, ROUTE_VIA_INGRESS, ROUTE_ELSEWHERE };

/* Does one of the route's next hops (RTA_OIF, or each of RTA_MULTIPATH's) leave by ifindex? */
static bool route_uses(const struct rtmsg *rtm, int len, int ifindex)
{
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int) &&
		    *(const int *)RTA_DATA(a) == ifindex)
			return true;
		if (a->rta_type != RTA_MULTIPATH)
			continue;
		const struct rtnexthop *nh = RTA_DATA(a);
		int left = (int)RTA_PAYLOAD(a);

		for (; RTNH_OK(nh, left); left -= NLMSG_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh))
			if (nh->rtnh_ifindex == ifindex)
				return true;
	}
	return false;
}

/*
 * Ask the kernel for its route to the source, the lookup fib_validate_source() makes for a
 * multicast datagram (destination the source, from the host itself). RTM_F_FIB_MATCH (Linux
 * 4.13) returns the whole route, every next hop of a multipath one; older kernels, one path.
 */
static enum route_back route_back(const struct mcr_ring *r)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rtm;
		struct rtattr dst;
		struct in_addr addr;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETROUTE,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.rtm = { .rtm_family = AF_INET, .rtm_dst_len = 32, .rtm_flags = RTM_F_FIB_MATCH },
		.dst = { .rta_len = RTA_LENGTH(sizeof(struct in_addr)), .rta_type = RTA_DST },
		.addr = r->cfg->source.v4,
	};
	uint8_t buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	enum route_back ret = ROUTE_UNKNOWN;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	if (fd < 0)
		return ROUTE_UNKNOWN;
	/* rtnetlink answers within send(), so the reply is queued before recv() looks. */
	if (send(fd, &req, sizeof(req), 0) < 0 ||
	    (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) < 0 || !NLMSG_OK(nh, (size_t)n)) {
		close(fd);
		return ROUTE_UNKNOWN;
	}
	close(fd);
	if (nh->nlmsg_type == NLMSG_ERROR &&
	    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		const int e = -((const struct nlmsgerr *)NLMSG_DATA(nh))->error;

		/* unreachable, prohibit and blackhole routes, or none at all */
		if (e == ENETUNREACH || e == EHOSTUNREACH || e == EACCES || e == EINVAL)
			ret = ROUTE_NONE;
	} else if (nh->nlmsg_type == RTM_NEWROUTE &&
		   nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg))) {
		const struct rtmsg *rtm = NLMSG_DATA(nh);

		if (rtm->rtm_type == RTN_UNICAST)
			ret = route_uses(rtm, (int)RTM_PAYLOAD(nh), r->ifindex) ?
				      ROUTE_VIA_INGRESS : ROUTE_ELSEWHERE;
		else if (rtm->rtm_type != RTN_LOCAL)
			ret = ROUTE_NONE;
	}
	return ret;
}

/*
 * The first question of a newcomer whose socket gets nothing: would the host's reverse-path
 * filter drop this stream? One line when it would, so they know mcr is the right tool, and
 * nothing when the kernel would deliver it anyway. The effective setting is the larger of
 * "all" and the ingress's. Strict (1) drops a source not routed back through the ingress;
 * loose (2) one with no route at all (or, on an ingress without an IPv4 address, any not
 * routed back through it). Without -s the source is unknown, and a guess could be wrong
 * either way: nothing. IPv6 has no such sysctl (only netfilter's rpfilter, which mcr also
 * captures ahead of, and which only CAP_NET_ADMIN can read): nothing.
 */
void ring_advise(const struct mcr_ring *r)
{
	const struct mcr_config *cfg = r->cfg;
	const char *in = cfg->ingress;
	char src[INET_ADDRSTRLEN];
	int all, dev, rp, fd;
	enum route_back route;
	bool addr = true;

	if (cfg->group.family != AF_INET || cfg->source.family != AF_INET)
		return;
	all = read_rp_filter("all");
	dev = read_rp_filter(in);
	rp = all > dev ? all : dev;
	if (rp != 1 && rp != 2)
		return;
	route = route_back(r);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		addr = has_ipv4_address(fd, in);
		close(fd);
	}
	format_ip(&cfg->source, src, sizeof(src));
	if (route == ROUTE_NONE)
		fprintf(stderr, "mcr: %s: rp_filter=%d (%s) drops this stream before any socket "
			"sees it: no route back to %s (ip route get %s); mcr captures ahead of "
			"that check, so it relays what an ordinary socket here never gets\n", in,
			rp, rp == 1 ? "strict" : "loose", src, src);
	else if (route == ROUTE_ELSEWHERE && (rp == 1 || !addr))
		fprintf(stderr, "mcr: %s: rp_filter=%d (%s) drops this stream before any socket "
			"sees it: the route back to %s is not through %s (ip route get %s); mcr "
			"captures ahead of that check, so it relays what an ordinary socket here "
			"never gets\n", in, rp, rp == 1 ? "strict" : "loose", src, in, src);
}

/*
 * --report-interval: a raw IGMP or ICMPv6 socket, which needs CAP_NET_RAW now and nothing
 * later. Reports leave the ingress with TTL 1 and the Router Alert option (RFC 2236 2, RFC
 * 3810 5), or the hop-by-hop one for MLD (a sticky option: setting it needs the capability
 * too). The socket would also get a copy of every IGMP or ICMPv6 message: its filter refuses
 * them all.
 */
static int open_reports(struct mcr_ring *r)
{
	static const uint8_t ra4[4] = { IPOPT_ROUTER_ALERT, 4, 0, 0 };
	/* Next header (the kernel's), length 0; Router Alert 0 = MLD (RFC 2711); PadN. */
	static const uint8_t hbh6[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };
	struct sock_filter refuse = { BPF_RET | BPF_K, 0, 0, 0 };
	struct sock_fprog none = { .len = 1, .filter = &refuse };
	const bool v6 = r->cfg->group.family == AF_INET6;
	const char *ifc = r->cfg->ingress;
	int fd, one = 1, zero = 0, tos = IPTOS_PREC_INTERNETCONTROL, idx = r->ifindex;
	struct ip_mreqn mreq = { .imr_ifindex = r->ifindex };
	char path[128];
	bool bad;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    v6 ? IPPROTO_ICMPV6 : IPPROTO_IGMP);
	if (fd < 0)
		return fail(errno_exit(errno), "--report-interval: raw %s socket: %s", v6 ? "ICMPv6" :
			    "IGMP", strerror(errno));
	r->report_fd = fd;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &none, sizeof(none)) < 0)
		return fail(MCR_EXIT_OSERR, "--report-interval: SO_ATTACH_FILTER: %s",
			    strerror(errno));
	if (v6)
		bad = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0 ||
		      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one, sizeof(one)) < 0 ||
		      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
		      setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) < 0 ||
		      setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, hbh6, sizeof(hbh6)) < 0;
	else
		bad = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0 ||
		      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &one, sizeof(one)) < 0 ||
		      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
		      setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0 ||
		      setsockopt(fd, IPPROTO_IP, IP_OPTIONS, ra4, sizeof(ra4)) < 0;
	if (bad)
		return fail(errno_exit(errno), "--report-interval: %s options on %s: %s",
			    v6 ? "MLD" : "IGMP", ifc, strerror(errno));
	snprintf(path, sizeof(path), v6 ? "/proc/sys/net/ipv6/conf/%s/force_mld_version" :
		 "/proc/sys/net/ipv4/conf/%s/force_igmp_version", ifc);
	r->forced_version = read_proc_int(path, 0);
	return 0;
}

/* The IGMP version the kernel uses on the ingress now, from /proc/net/igmp; 0 if unknown. */
static int proc_igmp_version(const char *ifname)
{
	char line[256], name[IF_NAMESIZE];
	FILE *f = fopen("/proc/net/igmp", "re");
	int v = 0, found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		if (line[0] >= '0' && line[0] <= '9' &&
		    sscanf(line, "%*d %15[^ \t:] : %*d V%d", name, &v) == 2 && !strcmp(name, ifname))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/*
 * The version a report goes out in: the one the kernel uses on the ingress (RFC 3376 7.2.1,
 * RFC 3810 8.2.1): forced by sysctl, else the oldest version a querier spoke within the
 * default membership interval, else IGMPv3 or MLDv2. /proc/net/igmp says it for IPv4 where
 * it is readable; otherwise mcr follows the queries it counted.
 */
static int report_version(struct mcr_ring *r, uint64_t now)
{
	const bool v6 = r->cfg->group.family == AF_INET6;
	const int newest = v6 ? 2 : 3;
	int v = v6 ? 0 : proc_igmp_version(r->cfg->ingress);

	if (v)
		return v;
	if (r->forced_version > 0 && r->forced_version <= newest)
		return r->forced_version;
	for (v = 1; v < newest; v++)
		if (r->heard_ns[v] &&
		    now - r->heard_ns[v] < (uint64_t)MCR_MEMBERSHIP_DEFAULT_MS * 1000000u)
			return v;
	return newest;
}

/* The ingress's link-local IPv6 address, the source MLD requires (RFC 3810 5); false if none. */
static bool link_local(const char *ifname, struct in6_addr *a)
{
	struct ifaddrs *list, *i;
	bool found = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (i = list; i && !found; i = i->ifa_next) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)i->ifa_addr;

		if (s && s->sin6_family == AF_INET6 && !strcmp(i->ifa_name, ifname) &&
		    IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr)) {
			*a = s->sin6_addr;
			found = true;
		}
	}
	freeifaddrs(list);
	return found;
}

/* One unsolicited membership report on the ingress; a failure is counted, never logged. */
static void send_report(struct mcr_ring *r)
{
	uint8_t buf[MCR_REPORT_MAX], ctrl[CMSG_SPACE(sizeof(struct in6_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = buf };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sockaddr_storage ss;
	struct in6_pktinfo pi = { .ipi6_ifindex = (unsigned int)r->ifindex };
	struct mcr_ip dst;

	iov.iov_len = build_report(&r->match, report_version(r, now_ns()), buf, &dst);
	msg.msg_name = &ss;
	msg.msg_namelen = to_sockaddr(&dst, 0, (uint32_t)r->ifindex, &ss);
	if (dst.family == AF_INET6 && link_local(r->cfg->ingress, &pi.ipi6_addr)) {
		struct cmsghdr *cm;

		msg.msg_control = ctrl;
		msg.msg_controllen = sizeof(ctrl);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (iov.iov_len && sendmsg(r->report_fd, &msg, MSG_DONTWAIT) == (ssize_t)iov.iov_len)
		r->c.reports_sent++;
	else
		r->c.report_errors++;
}

/*
 * GSO switched off by a failed GSO send comes back GSO_RETRY_NS later, with the route's MTU read
 * again: the path may allow it by then, and if not one send falls back to singles again.
 */
static void retry_gso(struct out_sock *s)
{
	if (s->gso || !s->gso_kernel || now_ns() < s->gso_retry_ns)
		return;
	read_gso_max(s);
	s->gso = true;
}

/* Link events for the ingress: down, up again (renew the join), deleted (exit 66). */
static int open_netlink(struct mcr_ring *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };

	r->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->nl_fd < 0 || bind(r->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(MCR_EXIT_OSERR, "rtnetlink socket: %s", strerror(errno));
	return 0;
}

/* An ingress down at start is no error: say so, and what brings it up. */
static void say_link_down(const struct mcr_ring *r)
{
	if (!r->link_up && r->admin_up)
		fprintf(stderr, "mcr: %s: link is down; relaying starts when it is up (no carrier: "
			"check the cable or the far end)\n", r->cfg->ingress);
	else if (!r->link_up)
		fprintf(stderr, "mcr: %s: link is down; relaying starts when it is up (ip link set "
			"%s up)\n", r->cfg->ingress, r->cfg->ingress);
}

/* SIGINT, SIGTERM and SIGUSR1 as reads on the ring; SIGHUP and SIGPIPE ignored. */
static int open_signals(struct mcr_ring *r)
{
	sigset_t set;

	/* A supervisor's reload must never stop a stream. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return fail(MCR_EXIT_OSERR, "sigprocmask: %s", strerror(errno));
	r->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (r->sig_fd < 0)
		return fail(MCR_EXIT_OSERR, "signalfd: %s", strerror(errno));
	return 0;
}

/*
 * The counters' timer: every --stats-interval, or the stats file's second without one; none
 * when neither wants fresh counters.
 */
static int open_stats_timer(struct mcr_ring *r)
{
	const uint32_t ms = r->cfg->stats_interval_ms ? r->cfg->stats_interval_ms :
			    r->cfg->stats_file ? MCR_STATS_FILE_MS : 0;

	if (!ms)
		return 0;
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (r->timer_fd < 0)
		return fail(MCR_EXIT_OSERR, "timerfd: %s", strerror(errno));
	struct itimerspec its = {
		.it_interval = { ms / 1000, (long)(ms % 1000) * 1000000 },
	};
	its.it_value = its.it_interval;
	if (timerfd_settime(r->timer_fd, 0, &its, NULL) < 0)
		return fail(MCR_EXIT_OSERR, "timerfd_settime: %s", strerror(errno));
	return 0;
}

/*
 * kernel.io_uring_disabled (Linux 6.6): 0 allowed, 1 only for kernel.io_uring_group, 2 never.
 * -1 when the kernel has no such sysctl, -2 when /proc/sys cannot be read here.
 */
static int io_uring_disabled(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT && access("/proc/sys/kernel", F_OK) == 0 ? -1 : -2;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -2;
}

/* io_uring refused by call: say which switch refuses it, and how to allow it. */
static int uring_refused(const char *call, int err)
{
	static const char allow[] = "allow io_uring_setup, io_uring_enter and io_uring_register "
				    "(see mcr(1))";
	const int disabled = io_uring_disabled();

	if (disabled > 0)
		return fail(MCR_EXIT_NOURING,
			    "%s: %s: sysctl kernel.io_uring_disabled is %d; allow io_uring with "
			    "sysctl -w kernel.io_uring_disabled=0%s", call, strerror(err), disabled,
			    disabled == 1 ? ", or run mcr in kernel.io_uring_group" : "");
	if (err == ENOSYS)
		return fail(MCR_EXIT_NOURING,
			    "%s: %s: this kernel has no io_uring (CONFIG_IO_URING) or a seccomp "
			    "profile hides it; mcr needs Linux 5.6 or later with io_uring", call,
			    strerror(err));
	if (disabled == -2)
		return fail(MCR_EXIT_NOURING,
			    "%s: %s: kernel.io_uring_disabled cannot be read here; it, a seccomp "
			    "profile or an LSM refuses io_uring: %s", call, strerror(err), allow);
	return fail(MCR_EXIT_NOURING, "%s: %s: kernel.io_uring_disabled is %s, so a seccomp "
		    "profile (a container's default) or an LSM refuses it: %s", call, strerror(err),
		    disabled == 0 ? "0" : "absent", allow);
}

static bool refused(int ret)
{
	return ret == -EPERM || ret == -EACCES || ret == -ENOSYS;
}

/* The io_uring operations mcr submits, and the Linux release that brought each. */
static const struct {
	int op;
	const char *name, *since;
} uring_ops[] = {
	{ IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD", "5.1" },
	{ IORING_OP_SENDMSG, "IORING_OP_SENDMSG", "5.3" },
	{ IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT", "5.4" },
	{ IORING_OP_READ, "IORING_OP_READ", "5.6" },
	{ IORING_OP_RECV, "IORING_OP_RECV", "5.6" },
};

/*
 * Before mcr says it is ready: the kernel knows every operation it will submit, and
 * io_uring_enter works, since a seccomp profile may allow io_uring_setup and still refuse that.
 */
static int check_uring(struct mcr_ring *r)
{
	union {
		struct io_uring_probe p;
		uint8_t room[sizeof(struct io_uring_probe) +
			     PROBE_OPS * sizeof(struct io_uring_probe_op)];
	} probe;
	struct io_uring_cqe *cqe;
	struct utsname u;
	int ret;

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	memset(&probe, 0, sizeof(probe));	/* the kernel refuses a probe that is not zeroed */
	ret = io_uring_register_probe(&r->uring, &probe.p, PROBE_OPS);
	if (refused(ret))
		return uring_refused("io_uring_register", -ret);
	if (ret == -EINVAL)
		return fail(MCR_EXIT_NOURING,
			    "io_uring on Linux %s cannot list its operations (Linux 5.6 can): mcr "
			    "needs Linux 5.6 or later", u.release);
	if (ret < 0)
		return fail(MCR_EXIT_NOURING, "io_uring probe: %s", strerror(-ret));
	for (size_t i = 0; i < sizeof(uring_ops) / sizeof(uring_ops[0]); i++)
		if (!io_uring_opcode_supported(&probe.p, uring_ops[i].op))
			return fail(MCR_EXIT_NOURING,
				    "io_uring on Linux %s lacks %s (Linux %s): mcr needs Linux 5.6 "
				    "or later", u.release, uring_ops[i].name, uring_ops[i].since);
	io_uring_prep_nop(io_uring_get_sqe(&r->uring));
	ret = io_uring_submit_and_wait(&r->uring, 1);
	if (refused(ret))
		return uring_refused("io_uring_enter", -ret);
	if (ret < 0)
		return fail(MCR_EXIT_OSERR, "io_uring_enter: %s", strerror(-ret));
	if (io_uring_peek_cqe(&r->uring, &cqe) == 0)
		io_uring_cqe_seen(&r->uring, cqe);
	return 0;
}

/*
 * One ring, one thread. DEFER_TASKRUN (Linux 6.1) runs completions only when we ask for them;
 * older kernels get the plainer modes, and a kernel without io_uring gets a clear refusal.
 */
static int open_uring(struct mcr_ring *r)
{
	static const unsigned int modes[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		0,
	};
	int files[1 + MCR_MAX_OUT];
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct io_uring_params p = { .flags = modes[i] };

		ret = io_uring_queue_init_params(URING_ENTRIES, &r->uring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (refused(ret))
		return uring_refused("io_uring_setup", -ret);
	if (ret == -ENOMEM)
		return fail(MCR_EXIT_NOURING, "io_uring: %s (before Linux 5.12 the ring counts "
			    "against ulimit -l; raise it)", strerror(-ret));
	if (ret < 0)
		return fail(MCR_EXIT_NOURING, "io_uring: %s", strerror(-ret));
	r->uring_ok = true;
	ret = check_uring(r);
	if (ret)
		return ret;
	if (r->cfg->coalesce_us && !(r->uring.features & IORING_FEAT_EXT_ARG)) {
		struct utsname u;

		return fail(MCR_EXIT_NOURING, "--coalesce: io_uring on Linux %s cannot wait with a "
			    "timeout (Linux 5.11 can); run without --coalesce",
			    uname(&u) == 0 ? u.release : "?");
	}
	r->min_wait = r->uring.features & IORING_FEAT_MIN_TIMEOUT;
	files[FILE_INGRESS] = r->pkt_fd;
	for (unsigned int i = 0; i < r->cfg->n_out; i++)
		files[FILE_OUT0 + i] = r->out[i].fd;
	ret = io_uring_register_files(&r->uring, files, FILE_OUT0 + r->cfg->n_out);
	if (refused(ret))
		return uring_refused("io_uring_register", -ret);
	if (ret < 0)
		return fail(MCR_EXIT_OSERR, "io_uring_register_files: %s", strerror(-ret));
	io_uring_register_ring_fd(&r->uring);
	return 0;
}

/*
 * --user: a name from /etc/passwd, or UID[:GID] in numbers. The file is read here, parsed
 * exactly by parse_passwd_line(): getpwnam_r in a static binary cannot load NSS modules, so it
 * would see files-backed users only anyway, and glibc warns that it needs its own shared
 * libraries at run time. Returns 0, or the exit status after one line.
 */
static int lookup_user(const char *spec, uid_t *uid, gid_t *gid)
{
	enum mcr_passwd found = MCR_PASSWD_OTHER;
	uint32_t u = 0, g = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/etc/passwd", "re");

	/* getline: a line longer than any buffer must not be read as two. */
	while (f && found == MCR_PASSWD_OTHER && getline(&line, &cap, f) >= 0)
		found = parse_passwd_line(line, spec, &u, &g);
	free(line);
	if (f)
		fclose(f);
	if (found == MCR_PASSWD_BAD)
		return fail(MCR_EXIT_USAGE, "--user %s: its /etc/passwd entry does not hold "
			    "numeric ids in seven fields (see passwd(5)); give UID:GID", spec);
	if (found == MCR_PASSWD_OTHER && !parse_user_ids(spec, &u, &g))
		return fail(MCR_EXIT_USAGE, "--user %s: no such user in /etc/passwd (give UID:GID)",
			    spec);
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/*
 * Everything privileged is done: the packet socket stays bound through link changes (the
 * kernel re-hooks it), and joins need no capability. So drop every capability, or become
 * --user, and prove there is no way back.
 */
static int drop_privileges(struct mcr_ring *r)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	const char *user = r->cfg->user;
	uid_t uid = MCR_NOBODY_ID;
	gid_t gid = MCR_NOBODY_ID;
	int ret;

	/* Best effort: without CAP_SETPCAP the bounding set stays, but nothing is left in it to use. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/*
	 * Root without --user becomes nobody: with no capability left, uid 0 still owns every
	 * root-owned file, which a bug in the relay would then reach. --user root keeps it.
	 */
	if (!user[0] && getuid() == 0)
		user = "65534:65534";
	if (user[0]) {
		ret = lookup_user(user, &uid, &gid);
		if (ret)
			return ret;
		if (uid != 0 && gid == 0)
			return fail(MCR_EXIT_USAGE, "--user %s: group 0 is root's; give a user "
				    "with another group, or UID:GID", user);
		if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			return fail(MCR_EXIT_NOPERM, "--user %s: %s (switching users needs root)",
				    user, strerror(errno));
		if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
			return fail(MCR_EXIT_OSERR, "--user %s: could regain root; refusing to run",
				    user);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail(MCR_EXIT_OSERR, "capset: %s", strerror(errno));
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

/* --ready-fd must be open for writing now, so a harness learns of a mistake before it waits. */
static int check_ready_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return fail(MCR_EXIT_USAGE, "--ready-fd %d: not open; open it for mcr, e.g. "
			    "--ready-fd %d %d>FILE", fd, fd, fd);
	if ((fl & O_ACCMODE) == O_RDONLY)
		return fail(MCR_EXIT_USAGE,
			    "--ready-fd %d: open for reading only; mcr writes to it (%d>FILE)", fd,
			    fd);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/*
 * systemd's Type=notify socket, from $NOTIFY_SOCKET: a path, or an abstract name written with a
 * leading @. Opened at start, so later messages need nothing the sandbox might take away.
 */
static int open_notify(struct mcr_ring *r)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n = path ? strlen(path) : 0;

	if (!n)
		return 0;
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(r->notify_addr.sun_path)) {
		fprintf(stderr,
			"mcr: NOTIFY_SOCKET=%s: not a socket path or @name; not notifying\n", path);
		return 0;
	}
	r->notify_addr.sun_family = AF_UNIX;
	memcpy(r->notify_addr.sun_path, path, n);
	if (path[0] == '@')
		r->notify_addr.sun_path[0] = '\0';
	r->notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	r->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->notify_fd < 0)
		return fail(MCR_EXIT_OSERR, "NOTIFY_SOCKET: socket: %s", strerror(errno));
	/*
	 * Connected now, while mcr may still write to a socket path that the user it becomes may
	 * not; with nobody listening yet, each message tries the path again.
	 */
	r->notify_connected = connect(r->notify_fd, (const struct sockaddr *)&r->notify_addr,
				      r->notify_len) == 0;
	return 0;
}

/* One sd_notify(3) message, when systemd asked for them. */
static void notify(struct mcr_ring *r, const char *msg)
{
	if (r->notify_fd < 0)
		return;
	if ((r->notify_connected ? send(r->notify_fd, msg, strlen(msg), MSG_NOSIGNAL) :
	     sendto(r->notify_fd, msg, strlen(msg), MSG_NOSIGNAL,
		    (const struct sockaddr *)&r->notify_addr, r->notify_len)) < 0)
		fprintf(stderr, "mcr: NOTIFY_SOCKET=%s: %.*s not sent: %s\n",
			getenv("NOTIFY_SOCKET"), (int)strcspn(msg, "\n"), msg, strerror(errno));
}

/* --ready-fd's protocol: one line, then end-of-file, so a reader needs no timeout. */
static void tell_ready_fd(int fd)
{
	if (fd < 0)
		return;
	if (write(fd, "ready\n", 6) < 0)
		fprintf(stderr, "mcr: --ready-fd %d: %s\n", fd, strerror(errno));
	close(fd);
}

/*
 * Capture runs: frames from now on are relayed. --ready-fd and systemd (READY=1 and a status
 * line for systemctl status) are told.
 */
void ring_ready(struct mcr_ring *r)
{
	const struct mcr_config *cfg = r->cfg;
	const bool v6 = cfg->group.family == AF_INET6;
	char msg[128 + INET6_ADDRSTRLEN], group[INET6_ADDRSTRLEN];

	tell_ready_fd(cfg->ready_fd);
	format_ip(&cfg->group, group, sizeof(group));
	snprintf(msg, sizeof(msg), v6 ? "READY=1\nSTATUS=relaying [%s]:%u from %s\n" :
		 "READY=1\nSTATUS=relaying %s:%u from %s\n", group, cfg->port, cfg->ingress);
	notify(r, msg);
	r->ready_sent = true;
}

/* systemd's status line: what the stream is doing now. */
static void notify_status(struct mcr_ring *r, const char *state)
{
	char msg[128 + INET6_ADDRSTRLEN];

	snprintf(msg, sizeof(msg), "STATUS=%s %s from %s\n", state, r->stream, r->cfg->ingress);
	notify(r, msg);
}

struct mcr_ring *ring_open(const struct mcr_config *cfg, int *exit_code)
{
	struct mcr_ring *r = calloc(1, sizeof(*r));
	char group[INET6_ADDRSTRLEN];
	int ret;

	if (!r) {
		*exit_code = fail(MCR_EXIT_OSERR, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->pkt_fd = r->join_fd = r->sig_fd = r->timer_fd = r->nl_fd = -1;
	r->notify_fd = r->report_fd = -1;
	r->membership_ms = MCR_MEMBERSHIP_DEFAULT_MS;
	for (unsigned int i = 0; i < MCR_MAX_OUT; i++)
		r->out[i].fd = -1;
	r->match.group = cfg->group;
	r->match.port = cfg->port;
	r->match.source = cfg->source;
	r->match.vlan = cfg->vlan;
	r->poll_multishot = true;
	analyze_init(&r->analysis, cfg->analyze);
	r->batch_max = (URING_ENTRIES - URING_RESERVED) / cfg->n_out;
	if (r->batch_max > BATCH_MAX)
		r->batch_max = BATCH_MAX;

	ret = cfg->ready_fd >= 0 ? check_ready_fd(cfg->ready_fd) : 0;
	if (!ret)
		ret = open_notify(r);
	if (!ret)
		ret = open_ingress(r);
	if (!ret)
		ret = cfg->no_join ? accept_group_mac(r) : join_group(r);
	if (!ret)
		ret = check_src_port(cfg);
	for (unsigned int i = 0; !ret && i < cfg->n_out; i++)
		ret = open_out(r, i);
	if (!ret && cfg->report_interval_ms)
		ret = open_reports(r);
	if (!ret)
		ret = open_netlink(r);
	if (!ret)
		say_link_down(r);
	if (!ret)
		ret = open_signals(r);
	if (!ret)
		ret = open_stats_timer(r);
	if (!ret)
		ret = open_uring(r);
	if (!ret)
		ret = drop_privileges(r);
	if (ret) {
		ring_close(r);
		*exit_code = ret;
		return NULL;
	}
	/*
	 * Touch every page a pass can use now, so resident memory is the same after the first
	 * burst as before it. The reassembly buffers (4 MiB) fill only if fragments arrive.
	 */
	memset(r->msg, 0, sizeof(r->msg));
	memset(r->ctrl, 0, sizeof(r->ctrl));
	memset(r->iov, 0, sizeof(r->iov));
	memset(r->runs, 0, sizeof(r->runs));
	r->start_ns = r->last_rx_ns = now_ns();
	format_ip(&cfg->group, group, sizeof(group));
	snprintf(r->stream, sizeof(r->stream), cfg->group.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 group, cfg->port);
	return r;
}

void ring_close(struct mcr_ring *r)
{
	if (!r)
		return;
	if (r->ready_sent)
		notify(r, "STOPPING=1\n");
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	if (r->uring_ok)
		io_uring_queue_exit(&r->uring);
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->frame);
	/* Closing the join socket leaves the group: IGMP sends the leave. */
	int fds[] = { r->pkt_fd, r->join_fd, r->sig_fd, r->timer_fd, r->nl_fd, r->report_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (unsigned int i = 0; i < MCR_MAX_OUT; i++)
		if (r->out[i].fd >= 0)
			close(r->out[i].fd);
	free(r);
}

/* The frame n after the head, n <= frame_nr (frame_nr after the head is the head). */
static struct tpacket2_hdr *frame_at(const struct mcr_ring *r, uint32_t n)
{
	uint32_t i = r->head + n;

	return (struct tpacket2_hdr *)r->frame[i < r->frame_nr ? i : i - r->frame_nr];
}

static bool frame_ready(const struct mcr_ring *r)
{
	const struct tpacket2_hdr *h = frame_at(r, r->held);

	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

/* An SQE, submitting what is queued first when the SQ is full. */
static struct io_uring_sqe *get_sqe(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);

	if (!sqe) {
		io_uring_submit(&r->uring);
		sqe = io_uring_get_sqe(&r->uring);
	}
	return sqe;
}

static void arm_poll(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	if (r->poll_multishot)
		io_uring_prep_poll_multishot(sqe, FILE_INGRESS, POLLIN);
	else
		io_uring_prep_poll_add(sqe, FILE_INGRESS, POLLIN);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(UD_POLL));
}

static void arm_signal(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	io_uring_prep_read(sqe, r->sig_fd, &r->siginfo, sizeof(r->siginfo), 0);
	io_uring_sqe_set_data64(sqe, UD(UD_SIGNAL));
}

static void arm_timer(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	io_uring_prep_read(sqe, r->timer_fd, &r->timer_ticks, sizeof(r->timer_ticks), 0);
	io_uring_sqe_set_data64(sqe, UD(UD_TIMER));
}

/* --duration: an absolute timeout from the start, so the run is as long as asked, not longer. */
static void arm_duration(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);
	uint64_t end = r->start_ns + (uint64_t)r->cfg->duration_ms * 1000000u;

	r->duration_end.tv_sec = (long long)(end / 1000000000u);
	r->duration_end.tv_nsec = (long long)(end % 1000000000u);
	io_uring_prep_timeout(sqe, &r->duration_end, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, UD(UD_DURATION));
}

static void arm_report(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	r->report_tick.tv_sec = r->cfg->report_interval_ms / 1000;
	r->report_tick.tv_nsec = (long long)(r->cfg->report_interval_ms % 1000) * 1000000;
	io_uring_prep_timeout(sqe, &r->report_tick, 0, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_REPORT));
}

static void arm_link(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	io_uring_prep_recv(sqe, r->nl_fd, r->nl_buf, sizeof(r->nl_buf), 0);
	io_uring_sqe_set_data64(sqe, UD(UD_LINK));
}

/* Queue one send of datagrams [first, first + n) to destination o; n > 1 means UDP GSO. */
static void queue_send(struct mcr_ring *r, unsigned int o, unsigned int first, unsigned int n)
{
	struct out_sock *s = &r->out[o];
	struct msghdr *m = &r->msg[o][first];
	uint8_t *ctrl = r->ctrl[o][first];
	struct io_uring_sqe *sqe = get_sqe(r);
	struct cmsghdr *cm;
	size_t clen = 0;

	memset(m, 0, sizeof(*m));
	if (!s->connected) {
		m->msg_name = &s->addr;
		m->msg_namelen = s->addr_len;
	}
	m->msg_iov = &r->iov[first];
	m->msg_iovlen = n;
	m->msg_control = ctrl;
	m->msg_controllen = CTRL_BYTES;
	cm = CMSG_FIRSTHDR(m);
	if (n > 1) {
		uint16_t seg = (uint16_t)r->iov[first].iov_len;

		cm->cmsg_level = IPPROTO_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		clen += CMSG_SPACE(sizeof(seg));
		cm = CMSG_NXTHDR(m, cm);
	}
	if (r->cfg->dscp == MCR_DSCP_KEEP) {
		int tos = r->dscp[first] << 2;

		cm->cmsg_level = s->v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		cm->cmsg_type = s->v6 ? IPV6_TCLASS : IP_TOS;
		cm->cmsg_len = CMSG_LEN(sizeof(tos));
		memcpy(CMSG_DATA(cm), &tos, sizeof(tos));
		clen += CMSG_SPACE(sizeof(tos));
	}
	m->msg_controllen = clen;
	if (!clen)
		m->msg_control = NULL;
	/* MSG_DONTWAIT: a full socket buffer fails this send now rather than holding the pass. */
	io_uring_prep_sendmsg(sqe, FILE_OUT0 + (int)o, m, MSG_DONTWAIT);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD_SEND_OF(o, n > 1, n, first) |
				(r->resending ? UD_RESENT_BIT : 0));
	r->inflight++;
}

static void queue_singles(struct mcr_ring *r, unsigned int o, unsigned int first, unsigned int n)
{
	for (unsigned int i = first; i < first + n; i++)
		queue_send(r, o, i, 1);
}

static void queue_pass(struct mcr_ring *r)
{
	for (unsigned int o = 0; o < r->cfg->n_out; o++) {
		struct out_sock *s = &r->out[o];

		retry_gso(s);

		for (unsigned int k = 0; k < r->n_runs; k++) {
			const struct run *run = &r->runs[k];

			if (run->n > 1 && s->gso && run->len <= s->gso_max)
				queue_send(r, o, run->first, run->n);
			else
				queue_singles(r, o, run->first, run->n);
		}
	}
}

/*
 * Add a relayed datagram to the pass, extending the current run when GSO can carry both. Every
 * relayed datagram, whole or rebuilt, passes here once: --analyze reads it here.
 */
static void add_datagram(struct mcr_ring *r, const struct mcr_datagram *d)
{
	unsigned int i = r->n_iov++;
	struct run *run = r->n_runs ? &r->runs[r->n_runs - 1] : NULL;

	if (r->cfg->analyze)
		analyze_datagram(&r->analysis, d->payload, d->len);
	r->iov[i].iov_base = (void *)d->payload;
	r->iov[i].iov_len = d->len;
	r->dscp[i] = d->dscp;
	/* GSO: equal sizes (only the last may be shorter, never used here), one TOS, 64 KiB. */
	if (run && d->len && run->len == d->len && run->dscp == d->dscp &&
	    run->n < GSO_SEGS_MAX && (size_t)(run->n + 1) * d->len <= MCR_UDP_MAX_PAYLOAD) {
		run->n++;
		return;
	}
	r->runs[r->n_runs++] = (struct run){ .first = (uint16_t)i, .n = 1, .len = d->len,
					     .dscp = d->dscp };
}

/* Hand the frames of the finished pass back to the kernel, in ring order. */
static void release_pass(struct mcr_ring *r)
{
	for (uint32_t i = 0; i < r->held; i++)
		__atomic_store_n(&frame_at(r, i)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->head = (r->head + r->held) % r->frame_nr;
	r->held = 0;
	reasm_release(&r->reasm);
	r->n_iov = r->n_runs = 0;
}

/* The frame in a ring slot as parse_frame() sees it, never reaching past the slot. */
/* The sockaddr_ll the kernel writes after a TPACKET_V2 header says what kind of packet it is. */
static uint8_t frame_pkttype(const struct tpacket2_hdr *h)
{
	const struct sockaddr_ll *sll =
		(const struct sockaddr_ll *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));

	return sll->sll_pkttype;
}

static void frame_view(const struct mcr_ring *r, const struct tpacket2_hdr *h, uint32_t status,
		       struct mcr_frame *f)
{
	uint32_t start = r->link == MCR_LINK_ETHER ? h->tp_mac : h->tp_net;
	uint32_t skip = start - h->tp_mac, room;

	if (start > r->frame_size || start < h->tp_mac)
		start = r->frame_size, skip = 0;
	room = r->frame_size - start;
	f->data = (const uint8_t *)h + start;
	f->caplen = h->tp_snaplen > skip ? h->tp_snaplen - skip : 0;
	if (f->caplen > room)
		f->caplen = room;
	f->wirelen = h->tp_len > skip ? h->tp_len - skip : 0;
	f->link = r->link;
	f->vlan_valid = (status & TP_STATUS_VLAN_VALID) || h->tp_vlan_tci;
	f->vlan_tci = h->tp_vlan_tci;
	/* The virtio header sits right before the link header (tpacket_rcv()). */
	f->glued = h->tp_mac >= TPACKET2_HDRLEN + VNET_HLEN && h->tp_mac <= r->frame_size &&
		   ((const struct virtio_net_hdr *)((const uint8_t *)h + h->tp_mac -
						    VNET_HLEN))->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	/* Verified by the NIC or stack, or built by this host with its checksum still to do. */
	f->csum_ok = status & (TP_STATUS_CSUM_VALID | TP_STATUS_CSUMNOTREADY);
	f->loopback = r->ingress_lo || frame_pkttype(h) == PACKET_LOOPBACK;
}

/* Datagrams of the stream relayed so far: whole ones and rebuilt ones. */
static uint64_t relayed(const struct mcr_ring *r)
{
	return r->c.verdict[MCR_RELAY] + r->reasm.reassembled;
}

/* A check: when the relayed count moved since the last one, the stream was alive until now. */
static void note_rx(struct mcr_ring *r, uint64_t now)
{
	const uint64_t n = relayed(r);

	if (n != r->seen_relayed) {
		r->seen_relayed = n;
		r->last_rx_ns = now;
	}
}

/* Seconds from milliseconds as people write them: "5", "2.5", "0.25". */
static void format_seconds(char *buf, size_t len, uint64_t ms)
{
	int n = snprintf(buf, len, "%" PRIu64 ".%03u", ms / 1000, (unsigned int)(ms % 1000));

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

/* IGMP or MLD, as people name the versions. */
static const char *query_protocol(const struct mcr_ring *r)
{
	return r->cfg->group.family == AF_INET6 ? "MLD" : "IGMP";
}

static void arm_stall(struct mcr_ring *r);

/* When the membership interval since the latest query (or the start) runs out. */
static uint64_t querier_due(const struct mcr_ring *r)
{
	const uint64_t since = r->last_query_ns ? r->last_query_ns : r->start_ns;

	return since + (uint64_t)r->membership_ms * 1000000u;
}

/* A query: who asked, in which version, and how long the membership it asks for lives. */
static void heard_query(struct mcr_ring *r, const struct mcr_datagram *d)
{
	const uint64_t now = now_ns();
	char who[INET6_ADDRSTRLEN];

	r->last_query_ns = now;
	r->heard_ns[d->query_version & 3] = now;
	r->membership_ms = d->query_membership_ms ? d->query_membership_ms :
				MCR_MEMBERSHIP_DEFAULT_MS;
	r->c.querier = d->src;
	/*
	 * Without --stall-timeout the watch sleeps until the membership interval runs out. A
	 * query announcing a shorter one moves that earlier: a timeout of a new generation, the
	 * old one ignored when it fires.
	 */
	if (!r->cfg->stall_timeout_ms && (!r->stall_armed || querier_due(r) < r->stall_due_ns)) {
		r->stall_gen++;
		arm_stall(r);
	}
	if (!r->c.querier_missing)
		return;
	r->c.querier_missing = 0;
	format_ip(&d->src, who, sizeof(who));
	fprintf(stderr, "mcr: %s: %sv%u querier %s heard\n", r->cfg->ingress, query_protocol(r),
		d->query_version, who);
}

/*
 * No query for the membership interval: a snooping switch forgets the group then, unless
 * reports keep coming. Said once per run; the querier_missing counter follows the querier.
 */
static void check_querier(struct mcr_ring *r, uint64_t now)
{
	char secs[32];

	if (r->c.querier_missing || now < querier_due(r))
		return;
	r->c.querier_missing = 1;
	if (r->querier_warned)
		return;
	r->querier_warned = true;
	format_seconds(secs, sizeof(secs), r->membership_ms);
	fprintf(stderr, "mcr: %s: no %s query for %s s: snooping switches may stop sending %s "
		"(run a querier on the segment%s)\n", r->cfg->ingress, query_protocol(r), secs,
		r->stream, r->cfg->report_interval_ms ? "; --report-interval keeps reporting" :
		", or give --report-interval");
}

/*
 * The watch's next check: a quarter of --stall-timeout (at most a second), or without it only
 * when the querier's membership interval runs out, so a quiet relay is not woken for nothing.
 * Once the querier is missing, only a query (heard_query) arms it again.
 */
static void arm_stall(struct mcr_ring *r)
{
	uint64_t ns = (uint64_t)r->cfg->stall_timeout_ms / STALL_CHECKS * 1000000u;
	struct io_uring_sqe *sqe;

	if (r->cfg->stall_timeout_ms) {
		if (!ns || ns > STALL_CHECK_MAX_MS * 1000000ull)
			ns = STALL_CHECK_MAX_MS * 1000000ull;
		r->stall_due_ns = now_ns() + ns;
	} else if (r->c.querier_missing) {
		r->stall_armed = false;
		return;
	} else {
		r->stall_due_ns = querier_due(r) + 1000000u;
	}
	sqe = get_sqe(r);
	r->stall_tick.tv_sec = (long long)(r->stall_due_ns / 1000000000u);
	r->stall_tick.tv_nsec = (long long)(r->stall_due_ns % 1000000000u);
	io_uring_prep_timeout(sqe, &r->stall_tick, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, UD(UD_STALL) | r->stall_gen);
	r->stall_armed = true;
}

/*
 * The watch: nothing relayed for --stall-timeout is a stall, said once; no query for the
 * membership interval, said once too.
 */
static void check_stall(struct mcr_ring *r)
{
	const uint64_t now = now_ns();
	char secs[32];

	note_rx(r, now);
	check_querier(r, now);
	if (!r->cfg->stall_timeout_ms || r->c.stalled ||
	    now - r->last_rx_ns < (uint64_t)r->cfg->stall_timeout_ms * 1000000u)
		return;
	r->c.stalled = 1;
	r->c.stalls++;
	format_seconds(secs, sizeof(secs), r->cfg->stall_timeout_ms);
	fprintf(stderr, "mcr: %s: %s: stalled, nothing for %s s\n", r->cfg->ingress, r->stream,
		secs);
	notify_status(r, "stalled");
	if (r->cfg->stall_exit) {
		r->stop = true;
		r->exit_code = MCR_EXIT_STALLED;
	}
}

/* The first datagram after a stall; called once per pass while stalled, never otherwise. */
static void check_resumed(struct mcr_ring *r)
{
	const uint64_t now = now_ns(), ms = (now - r->last_rx_ns) / 1000000u;

	if (relayed(r) == r->seen_relayed)
		return;
	note_rx(r, now);
	r->c.stalled = 0;
	fprintf(stderr, "mcr: %s: %s: resumed after %" PRIu64 ".%u s, %" PRIu64 " stall%s so far\n",
		r->cfg->ingress, r->stream, ms / 1000, (unsigned int)(ms % 1000 / 100), r->c.stalls,
		r->c.stalls == 1 ? "" : "s");
	notify_status(r, "relaying");
}

static void arm_reasm(struct mcr_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe(r);

	r->reasm_tick.tv_sec = 0;
	r->reasm_tick.tv_nsec = MCR_REASM_TIMEOUT_MS * 1000000L / 2;
	io_uring_prep_timeout(sqe, &r->reasm_tick, 0, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_REASM));
	r->reasm_armed = true;
}

/*
 * A fragment into reassembly; a whole datagram joins the pass. The fragment's own verdict is
 * frag_queued, unless reassembly refused it outright.
 */
static enum mcr_verdict reassemble(struct mcr_ring *r, struct mcr_datagram *d)
{
	switch (reasm_add(&r->reasm, d, &r->match, now_ns() / 1000000u, d)) {
	case MCR_REASM_DONE:
		add_datagram(r, d);
		return MCR_FRAGMENT;
	case MCR_REASM_QUEUED:
	case MCR_REASM_INVALID:
		return MCR_FRAGMENT;
	case MCR_REASM_DUPLICATE:
	case MCR_REASM_NO_ROOM:
		break;
	}
	return MCR_DROP_FRAGMENT;
}

/* The kernel's drops for want of ring room since the last read, added to kernel_drops. */
static uint32_t collect_kernel_drops(struct mcr_ring *r)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* Reading the kernel's counters resets them: add them up here. */
	if (getsockopt(r->pkt_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	r->c.kernel_drops += st.tp_drops;
	return st.tp_drops;
}

/*
 * A ring found full (the slot before the head is ours too) may have cost frames: mcr was not
 * there to take them in time. Counted in kernel_drops; said once, with what to change. One
 * load per pass until then, a system call only when the ring was full.
 */
static void check_losing(struct mcr_ring *r)
{
	const struct tpacket2_hdr *last = frame_at(r, r->frame_nr - 1);

	if (r->said_losing ||
	    !(__atomic_load_n(&last->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) ||
	    !collect_kernel_drops(r))
		return;
	r->said_losing = true;
	if (write(STDERR_FILENO, r->losing_line, strlen(r->losing_line)) < 0)
		return;	/* nowhere to say it */
}

/*
 * --coalesce pays a wait per window, worth it only when the window catches several datagrams.
 * A stream sparser than USEC (or one a busy host has thinned) gives each window one: then the
 * wait is pure cost, and the cost thins the stream further. After such a window the next 1, 2,
 * 4 ... 64 are skipped; a window that caught two or more opens them all again. (Halving the
 * skip instead measured worse at 32 x 5,000 pps interleaved: 83% of the sender's rate, not 100%.)
 */
static bool want_window(struct mcr_ring *r)
{
	if (r->windowed) {
		r->windowed = false;
		if (r->n_iov >= 2)
			r->window_backoff = 0;
		else if (r->window_backoff < WINDOW_BACKOFF_MAX)
			r->window_backoff = r->window_backoff ? 2 * r->window_backoff : 1;
		r->window_skip = r->window_backoff;
	}
	if (!r->window_skip)
		return true;
	r->window_skip--;
	return false;
}

/* Take the ready frames (up to a batch), parse and count each, queue the sends. */
static void relay_pass(struct mcr_ring *r)
{
	const uint64_t count = r->cfg->count;

	check_losing(r);
	/*
	 * A datagram rebuilt in this pass holds its slot until its sends complete, at the end of
	 * the pass; after a backlog, every slot can complete in one. Stop there rather than
	 * refuse the next fragment: the rest of the ring waits for the next pass.
	 */
	while (r->held < r->batch_max && !reasm_crowded(&r->reasm)) {
		struct tpacket2_hdr *h = frame_at(r, r->held);
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct mcr_datagram d;
		struct mcr_frame f;
		enum mcr_verdict v;

		if (!(status & TP_STATUS_USER))
			break;
		/* The kernel wrote the frames on another CPU: fetch a later one's headers now. */
		if (r->held + PREFETCH_AHEAD < r->frame_nr) {
			const uint8_t *next = (const uint8_t *)frame_at(r, r->held + PREFETCH_AHEAD);

			__builtin_prefetch(next);
			__builtin_prefetch(next + 64);
			__builtin_prefetch(next + 128);
		}
		frame_view(r, h, status, &f);
		v = parse_frame(&f, &r->match, &d);
		if (v == MCR_FRAGMENT)
			v = reassemble(r, &d);
		else if (v == MCR_RELAY)
			add_datagram(r, &d);
		else if (v == MCR_QUERY)
			heard_query(r, &d);
		r->held++;
		r->c.rx_packets++;
		r->c.rx_bytes += h->tp_len;
		r->c.verdict[v]++;
		if (count && r->c.verdict[MCR_RELAY] + r->reasm.reassembled == count) {
			r->stop = true;
			break;
		}
	}
	if (reasm_pending(&r->reasm) && !r->reasm_armed)
		arm_reasm(r);
	/* A full pass means a busy ring: never hold datagrams then. */
	r->window = r->cfg->coalesce_us && r->n_iov && r->held < r->batch_max && want_window(r);
	if (r->c.stalled)
		check_resumed(r);
	if (r->n_runs)
		queue_pass(r);
}

static void ingress_gone(struct mcr_ring *r)
{
	fprintf(stderr, "mcr: %s: interface went away; exiting for a restart\n", r->cfg->ingress);
	r->stop = true;
	r->exit_code = MCR_EXIT_NOIF;
}

/* The packet socket reports ENETDOWN when the link goes down or away; netlink says which. */
static void check_ingress(struct mcr_ring *r)
{
	char name[IF_NAMESIZE];
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(r->pkt_fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (!if_indextoname((unsigned int)r->ifindex, name))
		ingress_gone(r);
	else if (err && err != ENETDOWN)
		fprintf(stderr, "mcr: %s: %s\n", r->cfg->ingress, strerror(err));
}

/*
 * An MTU raised after start: the ring's slots were sized for the old one, so longer frames are
 * cut short and dropped as truncated. Said once, with the fix.
 */
static void check_mtu(struct mcr_ring *r, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	uint32_t mtu;

	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFLA_MTU || RTA_PAYLOAD(a) < sizeof(mtu))
			continue;
		memcpy(&mtu, RTA_DATA(a), sizeof(mtu));
		if (mtu > r->ring_mtu && !r->said_mtu) {
			r->said_mtu = true;
			fprintf(stderr, "mcr: %s: MTU raised from %u to %u: frames over %u bytes "
				"are dropped as truncated; restart mcr to size its ring for them\n",
				r->cfg->ingress, r->ring_mtu, mtu, r->ring_mtu);
		}
	}
}

/*
 * Link events were lost (ENOBUFS): ask for the ingress's state; the answer comes back as an
 * RTM_NEWLINK like any event. A link gone answers with an error, which check_ingress sees.
 */
static void request_link(struct mcr_ring *r)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = r->ifindex },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(r->nl_fd, &req, sizeof(req), MSG_DONTWAIT, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		fprintf(stderr, "mcr: %s: link events were lost and asking again failed: %s\n",
			r->cfg->ingress, strerror(errno));
}

static void on_link(struct mcr_ring *r, int len);

/*
 * After ENOBUFS: read what is still queued (the answer would be dropped behind it), see that
 * the ingress exists, and ask for its flags, which on_link() then reads like any event.
 */
static void relearn_link(struct mcr_ring *r)
{
	for (int i = 0; i < NL_DRAIN_MAX && !r->stop; i++) {
		ssize_t n = recv(r->nl_fd, r->nl_buf, sizeof(r->nl_buf), MSG_DONTWAIT);

		if (n > 0)
			on_link(r, (int)n);
		else if (n < 0 && errno != ENOBUFS && errno != EINTR)
			break;
	}
	check_ingress(r);
	if (!r->stop)
		request_link(r);
}

/*
 * RTM_NEWLINK and RTM_DELLINK for the ingress. The kernel re-hooks the packet socket by itself
 * when the link comes back; the join is renewed in case the kernel forgot it.
 */
static void on_link(struct mcr_ring *r, int len)
{
	for (struct nlmsghdr *nh = (struct nlmsghdr *)r->nl_buf; NLMSG_OK(nh, (unsigned int)len);
	     nh = NLMSG_NEXT(nh, len)) {
		const struct ifinfomsg *ifi = NLMSG_DATA(nh);
		bool up;

		if ((nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) ||
		    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_index != r->ifindex)
			continue;
		if (nh->nlmsg_type == RTM_DELLINK) {
			ingress_gone(r);
			return;
		}
		check_mtu(r, nh);
		up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
		if (up == r->link_up)
			continue;
		r->link_up = up;
		if (up && r->join_fd >= 0 && join(r) < 0 && errno != EADDRINUSE)
			fprintf(stderr, "mcr: %s: link up, but the join failed: %s\n",
				r->cfg->ingress, strerror(errno));
		else
			fprintf(stderr, "mcr: %s: link %s\n", r->cfg->ingress,
				up ? "up; relaying again" : "down; relaying resumes when it is up");
	}
}

/*
 * IP(V6)_RECVERR also queues each ICMP error (and a local EMSGSIZE) on the socket: the failed
 * send that reported it is counted, so empty the queue rather than let it sit at its limit.
 * Emptied, it also leaves the socket's pending error clear (sock_dequeue_err_skb). True when it
 * held an ICMP error of errno e: a send that failed with e reported that, not its own fate.
 */
static bool drain_errors(int fd, int e)
{
	char buf[64];
	uint8_t ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))]
		__attribute__((aligned(8)));
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	bool icmp = false;

	for (int i = 0; i < ERRQUEUE_DRAIN_MAX; i++) {
		m.msg_control = ctrl;
		m.msg_controllen = sizeof(ctrl);
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			struct sock_extended_err ee;

			if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) ||
			    c->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if ((ee.ee_origin == SO_EE_ORIGIN_ICMP ||
			     ee.ee_origin == SO_EE_ORIGIN_ICMP6) && (int)ee.ee_errno == e)
				icmp = true;
		}
	}
	return icmp;
}

static void on_send(struct mcr_ring *r, uint64_t ud, int res)
{
	unsigned int o = UD_OUT(ud), n = UD_N(ud);
	struct mcr_out_counters *oc = &r->c.out[o];

	r->inflight--;
	if (res >= 0) {
		oc->tx_packets += n;
		oc->tx_bytes += (uint64_t)res;
		return;
	}
	/* The route's MTU shrank under a GSO send, or the path cannot segment: send singly. */
	if (UD_GSO(ud) && (res == -EINVAL || res == -EMSGSIZE || res == -EIO)) {
		r->out[o].gso = false;
		r->out[o].gso_retry_ns = now_ns() + GSO_RETRY_NS;
		queue_singles(r, o, UD_FIRST(ud), n);
		return;
	}
	oc->last_errno = -res;
	/*
	 * An ICMP error (a unicast receiver's port-unreachable while it restarted) is kept as the
	 * socket's pending error and fails the next send, whole GSO run and all, before a byte of
	 * it leaves. ECONNREFUSED only ever comes that way; another errno does when the queue held
	 * an ICMP error of it. Such a send goes again, once.
	 */
	if (res != -EAGAIN && res != -ENOBUFS &&	/* those two queue nothing */
	    (drain_errors(r->out[o].fd, -res) || res == -ECONNREFUSED) && !UD_RESENT(ud)) {
		r->resending = true;
		queue_send(r, o, UD_FIRST(ud), n);
		r->resending = false;
		return;
	}
	oc->tx_errors += n;
}

/* What each of the loop's own waits is called when it keeps failing. */
static const char *const wait_name[UD_REPORT + 1] = {
	[UD_POLL] = "poll", [UD_SIGNAL] = "signalfd read", [UD_LINK] = "rtnetlink read",
	[UD_TIMER] = "timerfd read", [UD_STALL] = "stall check timer",
	[UD_REPORT] = "--report-interval timer", [UD_DURATION] = "--duration timeout",
};

/*
 * One of the loop's own waits came back, ok or not. A failure (-ECANCELED, -ENOMEM, -EINTR: the
 * kernel's trouble, not the stream's) is armed again by the caller; REARM_MAX of one kind in a
 * row end the run, and this returns the exit code then. A success clears the count.
 */
static int settle(struct mcr_ring *r, unsigned int kind, bool ok, int res)
{
	bool poll = kind == UD_POLL;

	if (ok) {
		r->rearm_failures[kind] = 0;
		return 0;
	}
	if (++r->rearm_failures[kind] < REARM_MAX)
		return 0;
	return fail(MCR_EXIT_OSERR, "%s%s%s: %s (%u times in a row)", wait_name[kind],
		    poll ? " " : "", poll ? r->cfg->ingress : "", strerror(res < 0 ? -res : EIO),
		    REARM_MAX);
}

/* A completion: first whether its wait did what it waits for, then what that means. */
static int on_cqe(struct mcr_ring *r, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	unsigned int kind = UD_KIND(ud);
	bool more = cqe->flags & IORING_CQE_F_MORE, ok;
	int ret;

	switch (kind) {
	case UD_SEND:
		on_send(r, ud, cqe->res);
		return 0;
	case UD_REASM:
		/* Half the timeout between checks: an incomplete datagram lives 1 to 1.5 s. */
		r->reasm_armed = false;
		reasm_expire(&r->reasm, now_ns() / 1000000u);
		if (reasm_pending(&r->reasm))
			arm_reasm(r);
		return 0;
	case UD_POLL:
		if (cqe->res == -EINVAL && r->poll_multishot) {
			r->poll_multishot = false;	/* before Linux 5.13 */
			arm_poll(r);
			return 0;
		}
		ok = cqe->res >= 0;
		break;
	case UD_SIGNAL:
		ok = cqe->res == sizeof(r->siginfo);
		break;
	case UD_LINK:
		if (cqe->res == -ENOBUFS) {	/* events were lost: look for ourselves */
			relearn_link(r);
			if (!r->stop)
				arm_link(r);
			return 0;
		}
		ok = cqe->res > 0;
		break;
	case UD_TIMER:
		ok = cqe->res == sizeof(r->timer_ticks);
		break;
	case UD_STALL:
		if ((uint32_t)ud != r->stall_gen)
			return 0;	/* replaced by an earlier one */
		ok = cqe->res == -ETIME;
		break;
	case UD_REPORT:
	case UD_DURATION:
		ok = cqe->res == -ETIME;
		break;
	default:
		return 0;
	}
	ret = settle(r, kind, ok, cqe->res);
	if (ret)
		return ret;

	switch (kind) {
	case UD_POLL:
		if (ok && (cqe->res & POLLERR))
			check_ingress(r);
		if (!ok || !more)
			arm_poll(r);
		break;
	case UD_SIGNAL:
		if (ok && r->siginfo.ssi_signo == SIGUSR1)
			r->stats_due = true;
		else if (ok)
			r->stop = true;
		arm_signal(r);
		break;
	case UD_LINK:
		if (ok)
			on_link(r, cqe->res);
		if (!r->stop)
			arm_link(r);
		break;
	case UD_TIMER:
		if (ok && r->cfg->stats_interval_ms)
			r->stats_due = true;
		else if (ok)
			r->file_due = true;
		arm_timer(r);
		break;
	case UD_STALL:
		if (ok)
			check_stall(r);
		arm_stall(r);
		break;
	case UD_REPORT:
		if (ok)
			send_report(r);
		arm_report(r);
		break;
	case UD_DURATION:
		if (ok)
			r->stop = true;
		else
			arm_duration(r);	/* absolute: the run ends when it was to end */
		break;
	}
	return 0;
}

/*
 * --busy-poll: watch the ring for the next frame instead of sleeping at once. A sleeping relay
 * costs a wake-up per frame when traffic is sparse (an IPI, and in a VM an exit); spinning
 * trades a CPU for that latency, so it is the user's choice, bounded in time.
 */
static void busy_poll(struct mcr_ring *r)
{
	const uint64_t until = now_ns() + (uint64_t)r->cfg->busy_poll_us * 1000u;

	while (!frame_ready(r) && now_ns() < until)
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#else
		__asm__ __volatile__("" ::: "memory");
#endif
}

/* Handle every completion queued: 0, or an exit status. */
static int reap(struct mcr_ring *r)
{
	struct io_uring_cqe *cqes[64];
	unsigned int n;

	while ((n = io_uring_peek_batch_cqe(&r->uring, cqes, 64)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			int ret = on_cqe(r, cqes[i]);

			if (ret)
				return ret;
		}
		io_uring_cq_advance(&r->uring, n);
	}
	return 0;
}

/*
 * --coalesce: the last pass relayed and the ring was found empty at opened_ns. Send that pass,
 * then sleep until USEC after opened_ns or WINDOW_EVENTS completions, so what arrives meanwhile
 * goes out in one wake-up. The window counts from the empty ring, not from the end of the
 * sends: a frame that came while they went out waits no longer than USEC either.
 * With the kernel's minimum wait (Linux 6.12) a window that nothing arrives in costs no
 * wake-up: the wait goes on until the next event, which is relayed at once. Before 6.12 the
 * window is a plain timeout, and a stream that stops costs one more wake-up.
 */
static int wait_window(struct mcr_ring *r, uint64_t opened_ns)
{
	struct io_uring_getevents_arg arg = { 0 };
	struct __kernel_timespec ts = { 0 };
	uint64_t now, close_ns = opened_ns + (uint64_t)r->cfg->coalesce_us * 1000u;
	int ret;

	/* A minimum wait ends at once on completions left in the queue: the sends' go first. */
	if (r->inflight) {
		ret = io_uring_submit_and_get_events(&r->uring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return fail(MCR_EXIT_OSERR, "io_uring_enter: %s", strerror(-ret));
		ret = reap(r);
		if (ret || r->inflight || r->stop || r->stats_due || r->file_due)
			return ret;
	}
	/* Every send is done: the frames go back now, while their lines are still cached here. */
	release_pass(r);
	now = now_ns();
	if (now + 1000u > close_ns)	/* under a microsecond left: no window */
		return 0;
	if (r->min_wait) {
		arg.pad = (uint32_t)((close_ns - now) / 1000u);	/* min_wait_usec */
		ts.tv_sec = WINDOW_IDLE_S;
	} else {
		ts.tv_nsec = (long long)(close_ns - now);
	}
	arg.ts = (uint64_t)(uintptr_t)&ts;
	r->c.wakeups++;
	if (syscall(__NR_io_uring_enter, r->uring.ring_fd, 0, WINDOW_EVENTS,
		    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg)) < 0 &&
	    errno != ETIME && errno != EINTR && errno != EAGAIN && errno != EBUSY)
		return fail(MCR_EXIT_OSERR, "io_uring_enter: %s", strerror(errno));
	return reap(r);
}

enum mcr_event ring_run(struct mcr_ring *r, int *exit_code)
{
	if (!r->armed) {
		r->armed = true;
		arm_poll(r);
		arm_signal(r);
		arm_link(r);
		if (r->timer_fd >= 0)
			arm_timer(r);
		if (r->cfg->duration_ms)
			arm_duration(r);
		arm_stall(r);
		if (r->report_fd >= 0)
			arm_report(r);
	}
	for (;;) {
		unsigned int want;
		bool more;
		int ret;

		if (r->stats_due) {
			r->stats_due = r->file_due = false;
			return MCR_EVENT_STATS;
		}
		if (r->file_due) {
			r->file_due = false;
			return MCR_EVENT_STATS_FILE;
		}
		if (!r->inflight) {
			release_pass(r);
			if (r->stop) {
				*exit_code = r->exit_code;
				return MCR_EVENT_EXIT;
			}
			relay_pass(r);
		}
		/*
		 * Sends complete inline, during the submit. With the ring empty, one io_uring_enter
		 * both submits the pass's sends and sleeps until the next event: waiting for their
		 * completions plus one. Its frames go back to the kernel after that wake-up; the
		 * datagrams left long before. Frames left over from a full pass must not wait for
		 * the next frame's wake-up: collect completions (signals too) without sleeping.
		 * --busy-poll spins only once the sends are out.
		 */
		more = frame_ready(r);
		if (!r->inflight && r->cfg->busy_poll_us && !more) {
			busy_poll(r);
			more = frame_ready(r);
		}
		if (r->window && !more && !r->stop) {
			r->window = false;
			r->windowed = true;
			ret = wait_window(r, now_ns());
			if (ret) {
				*exit_code = ret;
				return MCR_EVENT_EXIT;
			}
			continue;
		}
		want = r->inflight;
		if (!more && !r->stop && !(r->inflight && r->cfg->busy_poll_us))
			want++;
		if (want > r->inflight)
			r->c.wakeups++;
		ret = want ? io_uring_submit_and_wait(&r->uring, want) :
			     io_uring_submit_and_get_events(&r->uring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			*exit_code = fail(MCR_EXIT_OSERR, "io_uring_enter: %s", strerror(-ret));
			return MCR_EVENT_EXIT;
		}
		ret = reap(r);
		if (ret) {
			*exit_code = ret;
			return MCR_EVENT_EXIT;
		}
	}
}

/* The destinations' counters, summed. */
static void sum_destinations(struct mcr_counters *c, unsigned int n_out)
{
	c->tx_packets = c->tx_bytes = c->tx_errors = 0;
	for (unsigned int o = 0; o < n_out; o++) {
		c->tx_packets += c->out[o].tx_packets;
		c->tx_bytes += c->out[o].tx_bytes;
		c->tx_errors += c->out[o].tx_errors;
	}
}

/* What reassembly and the analysis keep in their own state. */
static void copy_parts(struct mcr_ring *r)
{
	r->c.frag_reassembled = r->reasm.reassembled;
	r->c.frag_timeout = r->reasm.timeout;
	r->c.frag_evicted = r->reasm.evicted;
	r->c.frag_invalid = r->reasm.invalid;
	r->c.stream = r->analysis.c;
}

/* The clock and the ages measured against it. */
static void note_time(struct mcr_ring *r)
{
	r->c.time_ns = now_ns();
	r->c.uptime_ms = (r->c.time_ns - r->start_ns) / 1000000u;
	note_rx(r, r->c.time_ns);
	r->c.last_rx_age_ms = (r->c.time_ns - r->last_rx_ns) / 1000000u;
	r->c.last_query_age_ms =
		(r->c.time_ns - (r->last_query_ns ? r->last_query_ns : r->start_ns)) / 1000000u;
}

/*
 * Bring every counter up to date and hand them over. Reading the kernel's drops resets its
 * own count, so they are collected (added up) here, not merely read.
 */
const struct mcr_counters *ring_collect(struct mcr_ring *r)
{
	collect_kernel_drops(r);
	sum_destinations(&r->c, r->cfg->n_out);
	copy_parts(r);
	note_time(r);
	return &r->c;
}

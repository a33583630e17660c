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
#include <linux/capability.h>
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

#define RING_BYTES (4u << 20)	/* packet ring: ~10 ms of 1500-byte frames at 250k pps */
#define RING_BLOCK_BYTES (64u << 10)
#define BATCH_MAX 64		/* frames taken from the ring per pass */
#define URING_ENTRIES 1024
#define URING_RESERVED 8	/* SQ entries kept for re-arming poll, signal and timer */
#define GSO_SEGS_MAX 64		/* UDP_MAX_SEGMENTS before Linux 6.9 */
#define ERRQUEUE_DRAIN_MAX 64	/* error-queue reads after a failed send, at most */
#define SNDBUF_BYTES (4 << 20)
#define CTRL_BYTES (CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int)))
#define PROBE_OPS 256		/* io_uring operations the probe has room for */
#define FILTER_SNAPLEN 0x40000	/* "accept the whole frame" for the filter's return */
#define VNET_HLEN sizeof(struct virtio_net_hdr)	/* bytes before each frame (PACKET_VNET_HDR) */

/*
 * user_data: the kind in the top byte; a send also says which destination, whether it was a GSO
 * send, how many datagrams it carries and the index of the first.
 */
enum ud_kind { UD_POLL = 1, UD_SIGNAL, UD_TIMER, UD_LINK, UD_REASM, UD_SEND, UD_DURATION };
#define UD(kind) ((uint64_t)(kind) << 56)
#define UD_SEND_OF(out, gso, n, first)                                                         \
	(UD(UD_SEND) | (uint64_t)(out) << 48 | (uint64_t)(gso) << 40 | (uint64_t)(n) << 16 |     \
	 (uint64_t)(first))
#define UD_KIND(ud) ((unsigned int)((ud) >> 56))
#define UD_OUT(ud) ((unsigned int)((ud) >> 48) & 0xff)
#define UD_GSO(ud) ((unsigned int)((ud) >> 40) & 1)
#define UD_N(ud) ((unsigned int)((ud) >> 16) & 0xffff)
#define UD_FIRST(ud) ((unsigned int)(ud) & 0xffff)

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
	size_t map_len;
	uint32_t frame_size, frame_nr, frames_per_block, block_size, head;
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

static int errno_exit(int e)
{
	return e == EPERM || e == EACCES ? MCR_EXIT_NOPERM : MCR_EXIT_OSERR;
}

/*
 * The kernel filter: only IPv4 UDP to group:port (from source), not sent by this host, tagged
 * with --vlan's ID or else untagged, is ever copied to the ring. Offsets are from the network header (SKF_NET_OFF), so
 * one program serves Ethernet and IP tunnels. Non-first fragments carry no UDP header; they pass
 * on group and source alone and are counted as fragments.
 */
static int attach_filter(int fd, const struct mcr_match *m)
{
	const uint32_t net = (uint32_t)SKF_NET_OFF;
	const bool v6 = m->group.family == AF_INET6;
	struct sock_filter prog[48];
	unsigned int n = 0, i;
	struct sock_fprog fprog;

#define INS(c, t, f, k) (prog[n++] = (struct sock_filter){ (c), (t), (f), (k) })
#define ACCEPT 0xfd	/* patched below into jumps to the "ret #snaplen" */
#define DROP 0xfe	/* and to the final "ret #0" */
	INS(BPF_LD | BPF_H | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL));
	INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, v6 ? ETH_P_IPV6 : ETH_P_IP);
	INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
	INS(BPF_JMP | BPF_JEQ | BPF_K, DROP, 0, PACKET_OUTGOING);
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

		/* Destination at 24, source at 8, a word at a time; then the next header. */
		memcpy(w, &m->group.v6, 16);
		for (i = 0; i < 4; i++) {
			INS(BPF_LD | BPF_W | BPF_ABS, 0, 0, net + 24 + 4 * i);
			INS(BPF_JMP | BPF_JEQ | BPF_K, 0, DROP, ntohl(w[i]));
		}
		memcpy(w, &m->source.v6, 16);
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
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
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
	uint32_t mtu, block;
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
	r->frame_size = TPACKET_ALIGN(TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + VNET_HLEN + mtu + 4 +
				      14);
	block = RING_BLOCK_BYTES;
	if (block < r->frame_size)
		block = (r->frame_size + 4095) & ~4095u;
	req.tp_block_size = block;
	req.tp_block_nr = RING_BYTES / block ? RING_BYTES / block : 1;
	req.tp_frame_size = r->frame_size;
	req.tp_frame_nr = (block / r->frame_size) * req.tp_block_nr;
	r->frames_per_block = block / r->frame_size;
	r->block_size = block;
	if (setsockopt(r->pkt_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return fail(MCR_EXIT_OSERR, "PACKET_RX_RING of %u frames: %s", req.tp_frame_nr,
			    strerror(errno));
	r->frame_nr = req.tp_frame_nr;
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      r->pkt_fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return fail(MCR_EXIT_OSERR, "mmap packet ring: %s", strerror(errno));
	}
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

/*
 * Join the group on the ingress so IGMP-snooping switches send the stream our way. The socket is
 * never bound to a port, so it never has a datagram to read.
 */
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

/* IGMPv2/v3 or MLDv1/v2, any-source or source-specific: RFC 3678's calls cover all four. */
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
	int fd, one = 1, zero = 0, sndbuf = SNDBUF_BYTES, mtu = 0;
	int hops = cfg->ttl == MCR_TTL_DEFAULT ? (mc ? 1 : -1) : cfg->ttl;
	unsigned int ifindex = 0;
	socklen_t len = sizeof(mtu);

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
	if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) == 0) {
		s->connected = true;
	} else if (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == ENETDOWN ||
		   errno == EADDRNOTAVAIL) {
		fprintf(stderr, "mcr: -o %s: %s for now; sending anyway, it starts when a route "
			"appears\n", o->text, strerror(errno));
	} else {
		return fail(errno_exit(errno), "-o %s: connect: %s", o->text, strerror(errno));
	}
	/* UDP GSO (Linux 4.18) needs each segment to fit the route MTU whole. */
	s->gso = setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	if (s->connected && getsockopt(fd, level, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) == 0 &&
	    mtu > (v6 ? 48 : 28))
		s->gso_max = (uint32_t)mtu - (v6 ? 48 : 28);
	else
		s->gso_max = v6 ? 1452 : 1472;
	return 0;
}

/* Link events for the ingress: down, up again (renew the join), deleted (exit 66). */
static int open_netlink(struct mcr_ring *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };

	r->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->nl_fd < 0 || bind(r->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(MCR_EXIT_OSERR, "rtnetlink socket: %s", strerror(errno));
	if (!r->link_up && r->admin_up)
		fprintf(stderr, "mcr: %s: link is down; relaying starts when it is up (no carrier: "
			"check the cable or the far end)\n", r->cfg->ingress);
	else if (!r->link_up)
		fprintf(stderr, "mcr: %s: link is down; relaying starts when it is up (ip link set "
			"%s up)\n", r->cfg->ingress, r->cfg->ingress);
	return 0;
}

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
	/* Without --stats-interval, a stats file still wants fresh counters. */
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
 * --user: a name from /etc/passwd (read here rather than through NSS, which a static binary
 * cannot load), or UID[:GID] in numbers.
 */
static int lookup_user(const char *spec, uid_t *uid, gid_t *gid)
{
	char line[1024];
	FILE *f;

	if (sscanf(spec, "%u:%u", uid, gid) == 2)
		return 0;
	f = fopen("/etc/passwd", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *name = strtok(line, ":"), *pw = strtok(NULL, ":");
		char *u = strtok(NULL, ":"), *g = strtok(NULL, ":");

		if (name && pw && u && g && !strcmp(name, spec)) {
			*uid = (uid_t)strtoul(u, NULL, 10);
			*gid = (gid_t)strtoul(g, NULL, 10);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	if (strspn(spec, "0123456789") == strlen(spec)) {
		*uid = *gid = (uid_t)strtoul(spec, NULL, 10);
		return 0;
	}
	return -1;
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
	uid_t uid;
	gid_t gid;

	/* Best effort: without CAP_SETPCAP the bounding set stays, but nothing is left in it to use. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (user[0]) {
		if (lookup_user(user, &uid, &gid) < 0)
			return fail(MCR_EXIT_USAGE, "--user %s: no such user in /etc/passwd (give "
				    "UID:GID)", user);
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
	return 0;
}

/* One sd_notify(3) message, when systemd asked for them. */
static void notify(struct mcr_ring *r, const char *msg)
{
	if (r->notify_fd < 0)
		return;
	if (sendto(r->notify_fd, msg, strlen(msg), MSG_NOSIGNAL,
		   (const struct sockaddr *)&r->notify_addr, r->notify_len) < 0)
		fprintf(stderr, "mcr: NOTIFY_SOCKET=%s: %.*s not sent: %s\n",
			getenv("NOTIFY_SOCKET"), (int)strcspn(msg, "\n"), msg, strerror(errno));
}

/*
 * Capture runs: frames from now on are relayed. --ready-fd gets one line and then EOF; systemd
 * gets READY=1 and a status line for systemctl status.
 */
void ring_ready(struct mcr_ring *r)
{
	const struct mcr_config *cfg = r->cfg;
	const bool v6 = cfg->group.family == AF_INET6;
	char msg[128 + INET6_ADDRSTRLEN], group[INET6_ADDRSTRLEN];

	if (cfg->ready_fd >= 0) {
		if (write(cfg->ready_fd, "ready\n", 6) < 0)
			fprintf(stderr, "mcr: --ready-fd %d: %s\n", cfg->ready_fd, strerror(errno));
		close(cfg->ready_fd);
	}
	format_ip(&cfg->group, group, sizeof(group));
	snprintf(msg, sizeof(msg), v6 ? "READY=1\nSTATUS=relaying [%s]:%u from %s\n" :
		 "READY=1\nSTATUS=relaying %s:%u from %s\n", group, cfg->port, cfg->ingress);
	notify(r, msg);
	r->ready_sent = true;
}

struct mcr_ring *ring_open(const struct mcr_config *cfg, int *exit_code)
{
	struct mcr_ring *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		*exit_code = fail(MCR_EXIT_OSERR, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->pkt_fd = r->join_fd = r->sig_fd = r->timer_fd = r->nl_fd = -1;
	r->notify_fd = -1;
	for (unsigned int i = 0; i < MCR_MAX_OUT; i++)
		r->out[i].fd = -1;
	r->match.group = cfg->group;
	r->match.port = cfg->port;
	r->match.source = cfg->source;
	r->match.vlan = cfg->vlan;
	r->poll_multishot = true;
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
	for (unsigned int i = 0; !ret && i < cfg->n_out; i++)
		ret = open_out(r, i);
	if (!ret)
		ret = open_netlink(r);
	if (!ret)
		ret = open_signals(r);
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
	 * burst as before it. The reassembly buffers (1 MiB) fill only if fragments arrive.
	 */
	memset(r->msg, 0, sizeof(r->msg));
	memset(r->ctrl, 0, sizeof(r->ctrl));
	memset(r->iov, 0, sizeof(r->iov));
	memset(r->runs, 0, sizeof(r->runs));
	r->start_ns = now_ns();
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
	/* Closing the join socket leaves the group: IGMP sends the leave. */
	int fds[] = { r->pkt_fd, r->join_fd, r->sig_fd, r->timer_fd, r->nl_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (unsigned int i = 0; i < MCR_MAX_OUT; i++)
		if (r->out[i].fd >= 0)
			close(r->out[i].fd);
	free(r);
}

static struct tpacket2_hdr *frame_at(const struct mcr_ring *r, uint32_t i)
{
	uint32_t block = i / r->frames_per_block, slot = i % r->frames_per_block;

	return (struct tpacket2_hdr *)(r->map + (size_t)block * r->block_size +
				       (size_t)slot * r->frame_size);
}

static bool frame_ready(const struct mcr_ring *r)
{
	const struct tpacket2_hdr *h = frame_at(r, (r->head + r->held) % r->frame_nr);

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
	io_uring_sqe_set_data64(sqe, UD_SEND_OF(o, n > 1, n, first));
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
		const struct out_sock *s = &r->out[o];

		for (unsigned int k = 0; k < r->n_runs; k++) {
			const struct run *run = &r->runs[k];

			if (run->n > 1 && s->gso && run->len <= s->gso_max)
				queue_send(r, o, run->first, run->n);
			else
				queue_singles(r, o, run->first, run->n);
		}
	}
}

/* Add a relayed datagram to the pass, extending the current run when GSO can carry both. */
static void add_datagram(struct mcr_ring *r, const struct mcr_datagram *d)
{
	unsigned int i = r->n_iov++;
	struct run *run = r->n_runs ? &r->runs[r->n_runs - 1] : NULL;

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
		__atomic_store_n(&frame_at(r, (r->head + i) % r->frame_nr)->tp_status,
				 TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->head = (r->head + r->held) % r->frame_nr;
	r->held = 0;
	reasm_release(&r->reasm);
	r->n_iov = r->n_runs = 0;
}

/* The frame in a ring slot as parse_frame() sees it, never reaching past the slot. */
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

/* Take the ready frames (up to a batch), parse and count each, queue the sends. */
static void relay_pass(struct mcr_ring *r)
{
	const uint64_t count = r->cfg->count;

	/*
	 * A datagram rebuilt in this pass holds its slot until its sends complete, at the end of
	 * the pass; after a backlog, every slot can complete in one. Stop there rather than
	 * refuse the next fragment: the rest of the ring waits for the next pass.
	 */
	while (r->held < r->batch_max && !reasm_crowded(&r->reasm)) {
		struct tpacket2_hdr *h = frame_at(r, (r->head + r->held) % r->frame_nr);
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct mcr_datagram d;
		struct mcr_frame f;
		enum mcr_verdict v;

		if (!(status & TP_STATUS_USER))
			break;
		frame_view(r, h, status, &f);
		v = parse_frame(&f, &r->match, &d);
		if (v == MCR_FRAGMENT)
			v = reassemble(r, &d);
		else if (v == MCR_RELAY)
			add_datagram(r, &d);
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
 */
static void drain_errors(int fd)
{
	char buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	for (int i = 0; i < ERRQUEUE_DRAIN_MAX; i++)
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
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
		queue_singles(r, o, UD_FIRST(ud), n);
		return;
	}
	oc->tx_errors += n;
	oc->last_errno = -res;
	if (res != -EAGAIN && res != -ENOBUFS)	/* those two queue nothing */
		drain_errors(r->out[o].fd);
}

static int on_cqe(struct mcr_ring *r, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	bool more = cqe->flags & IORING_CQE_F_MORE;

	switch (UD_KIND(ud)) {
	case UD_SEND:
		on_send(r, ud, cqe->res);
		break;
	case UD_POLL:
		if (cqe->res == -EINVAL && r->poll_multishot) {
			r->poll_multishot = false;	/* before Linux 5.13 */
			more = false;
		} else if (cqe->res < 0) {
			return fail(MCR_EXIT_OSERR, "poll %s: %s", r->cfg->ingress,
				    strerror(-cqe->res));
		} else if (cqe->res & POLLERR) {
			check_ingress(r);
		}
		if (!more)
			arm_poll(r);
		break;
	case UD_SIGNAL:
		if (cqe->res != sizeof(r->siginfo))
			return fail(MCR_EXIT_OSERR, "signalfd read: %s",
				    strerror(cqe->res < 0 ? -cqe->res : EIO));
		if (r->siginfo.ssi_signo == SIGUSR1)
			r->stats_due = true;
		else
			r->stop = true;
		arm_signal(r);
		break;
	case UD_LINK:
		if (cqe->res > 0)
			on_link(r, cqe->res);
		else if (cqe->res == -ENOBUFS)	/* events were lost: look for ourselves */
			check_ingress(r);
		else
			return fail(MCR_EXIT_OSERR, "rtnetlink read: %s",
				    strerror(cqe->res < 0 ? -cqe->res : EIO));
		if (!r->stop)
			arm_link(r);
		break;
	case UD_REASM:
		/* Half the timeout between checks: an incomplete datagram lives 1 to 1.5 s. */
		r->reasm_armed = false;
		reasm_expire(&r->reasm, now_ns() / 1000000u);
		if (reasm_pending(&r->reasm))
			arm_reasm(r);
		break;
	case UD_TIMER:
		if (cqe->res != sizeof(r->timer_ticks))
			return fail(MCR_EXIT_OSERR, "timerfd read: %s",
				    strerror(cqe->res < 0 ? -cqe->res : EIO));
		if (r->cfg->stats_interval_ms)
			r->stats_due = true;
		else
			r->file_due = true;
		arm_timer(r);
		break;
	case UD_DURATION:
		if (cqe->res != -ETIME)
			return fail(MCR_EXIT_OSERR, "--duration timeout: %s", strerror(-cqe->res));
		r->stop = true;
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

enum mcr_event ring_run(struct mcr_ring *r, int *exit_code)
{
	struct io_uring_cqe *cqes[64];

	if (!r->armed) {
		r->armed = true;
		arm_poll(r);
		arm_signal(r);
		arm_link(r);
		if (r->timer_fd >= 0)
			arm_timer(r);
		if (r->cfg->duration_ms)
			arm_duration(r);
	}
	for (;;) {
		unsigned int n, want;
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
		want = r->inflight;
		if (!more && !r->stop && !(r->inflight && r->cfg->busy_poll_us))
			want++;
		ret = want ? io_uring_submit_and_wait(&r->uring, want) :
			     io_uring_submit_and_get_events(&r->uring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			*exit_code = fail(MCR_EXIT_OSERR, "io_uring_enter: %s", strerror(-ret));
			return MCR_EVENT_EXIT;
		}
		while ((n = io_uring_peek_batch_cqe(&r->uring, cqes, 64)) > 0) {
			for (unsigned int i = 0; i < n; i++) {
				ret = on_cqe(r, cqes[i]);
				if (ret) {
					*exit_code = ret;
					return MCR_EVENT_EXIT;
				}
			}
			io_uring_cq_advance(&r->uring, n);
		}
	}
}

const struct mcr_counters *ring_counters(struct mcr_ring *r)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* Reading the kernel's counters resets them: add them up here. */
	if (getsockopt(r->pkt_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		r->c.kernel_drops += st.tp_drops;
	r->c.tx_packets = r->c.tx_bytes = r->c.tx_errors = 0;
	for (unsigned int o = 0; o < r->cfg->n_out; o++) {
		r->c.tx_packets += r->c.out[o].tx_packets;
		r->c.tx_bytes += r->c.out[o].tx_bytes;
		r->c.tx_errors += r->c.out[o].tx_errors;
	}
	r->c.time_ns = now_ns();
	r->c.uptime_ms = (r->c.time_ns - r->start_ns) / 1000000u;
	r->c.frag_reassembled = r->reasm.reassembled;
	r->c.frag_timeout = r->reasm.timeout;
	r->c.frag_evicted = r->reasm.evicted;
	r->c.frag_invalid = r->reasm.invalid;
	return &r->c;
}

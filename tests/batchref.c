// SPDX-License-Identifier: MIT
/*
 * batchref - the batched relay `make bench` holds mcr --coalesce against: no io_uring, no
 * per-frame wake-up. The kernel fills TPACKET_V3 blocks and hands one over when it is full or
 * its timer (-t MS) expires; each block's datagrams for the group go out as UDP GSO sends of
 * up to 64 equal-size segments, gathered straight from the ring. IPv4 only, untagged frames,
 * no fragments, no checks beyond what finding the payload needs: a yardstick, not a relay.
 *
 *   batchref -i IFACE -g GROUP:PORT -o ADDR:PORT [-t MS] [-b BLOCK_KIB]
 *
 * Prints one line on SIGTERM or SIGINT: relayed=N sends=N blocks=N drops=N.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/udp.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "payload.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define BLOCKS 16		/* in the ring */
#define SEGS_MAX 64		/* UDP_MAX_SEGMENTS */
#define GSO_BYTES_MAX 65000	/* a GSO send's payload, within a 64 KiB IP datagram */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct run {
	int fd;
	struct iovec iov[SEGS_MAX];
	unsigned int n;
	size_t seg;
	uint64_t relayed, sends, send_errors;
};

static void flush(struct run *r)
{
	char ctl[CMSG_SPACE(sizeof(uint16_t))] = { 0 };
	struct msghdr m = { .msg_iov = r->iov, .msg_iovlen = r->n };
	struct cmsghdr *c;

	if (!r->n)
		return;
	if (r->n > 1) {
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t *)CMSG_DATA(c) = (uint16_t)r->seg;
	}
	if (sendmsg(r->fd, &m, 0) < 0)
		r->send_errors += r->n;
	else
		r->relayed += r->n;
	r->sends++;
	r->n = 0;
}

static void add(struct run *r, uint8_t *p, size_t len)
{
	if (r->n && (len != r->seg || r->n == SEGS_MAX || (r->n + 1) * len > GSO_BYTES_MAX))
		flush(r);
	r->seg = len;
	r->iov[r->n].iov_base = p;
	r->iov[r->n++].iov_len = len;
}

/* The payload of a frame to the group, or NULL. */
static uint8_t *payload(uint8_t *f, uint32_t caplen, const struct sockaddr_in *g, size_t *len)
{
	const struct iphdr *ip = (const struct iphdr *)(f + ETH_HLEN);
	const struct udphdr *u;
	size_t ihl, ulen;

	if (caplen < ETH_HLEN + sizeof(*ip) || ((const struct ethhdr *)f)->h_proto != htons(ETH_P_IP))
		return NULL;
	ihl = ip->ihl * 4u;
	if (ip->protocol != IPPROTO_UDP || ip->daddr != g->sin_addr.s_addr ||
	    (ip->frag_off & htons(IP_MF | IP_OFFMASK)) || caplen < ETH_HLEN + ihl + sizeof(*u))
		return NULL;
	u = (const struct udphdr *)(f + ETH_HLEN + ihl);
	ulen = ntohs(u->len);
	if (u->dest != g->sin_port || ulen < sizeof(*u) || ETH_HLEN + ihl + ulen > caplen)
		return NULL;
	*len = ulen - sizeof(*u);
	return (uint8_t *)u + sizeof(*u);
}

int main(int argc, char **argv)
{
	struct tpacket_req3 req = { 0 };
	struct sockaddr_in g = { 0 }, o = { 0 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct tpacket_stats_v3 st;
	socklen_t stlen = sizeof(st);
	const char *ifname = NULL;
	unsigned int tov_ms = 1, block_kib = 256, cur = 0;
	int ver = TPACKET_V3, one = 1, fd, opt, gs = 0, go = 0;
	uint64_t blocks = 0, drops = 0;
	struct run r = { 0 };
	uint8_t *map;

	while ((opt = getopt(argc, argv, "i:g:o:t:b:")) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'g':
			parse_ipv4_port("-g", optarg, &g);
			gs = 1;
			break;
		case 'o':
			parse_ipv4_port("-o", optarg, &o);
			go = 1;
			break;
		case 't':
			tov_ms = (unsigned int)parse_num("-t", optarg, 1, 1000);
			break;
		case 'b':
			block_kib = (unsigned int)parse_num("-b", optarg, 4, 4096);
			break;
		default:
			return EXIT_SETUP;
		}
	}
	if (!ifname || !gs || !go)
		errx(EXIT_SETUP, "usage: batchref -i IFACE -g GROUP:PORT -o ADDR:PORT [-t MS] [-b KIB]");
	ll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!ll.sll_ifindex)
		errx(EXIT_SETUP, "-i %s: no such interface", ifname);

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)))
		err(EXIT_SETUP, "AF_PACKET TPACKET_V3");
	req.tp_block_size = block_kib << 10;
	req.tp_block_nr = BLOCKS;
	req.tp_frame_size = 2048;	/* V3 packs frames; this only has to divide the block */
	req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * BLOCKS;
	req.tp_retire_blk_tov = tov_ms;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		err(EXIT_SETUP, "PACKET_RX_RING");
	map = mmap(NULL, (size_t)req.tp_block_size * BLOCKS, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_LOCKED, fd, 0);
	if (map == MAP_FAILED)
		err(EXIT_SETUP, "mmap");
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));	/* 4.20 */
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)))
		err(EXIT_SETUP, "bind %s", ifname);

	r.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (r.fd < 0 || connect(r.fd, (struct sockaddr *)&o, sizeof(o)))
		err(EXIT_SETUP, "-o");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "batchref: ready\n");

	while (!stop) {
		struct tpacket_block_desc *b = (void *)(map + (size_t)cur * req.tp_block_size);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct tpacket3_hdr *h;

		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			if (poll(&p, 1, 100) < 0 && errno != EINTR)
				err(EXIT_FAILURE, "poll");
			continue;
		}
		h = (void *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
		for (uint32_t i = 0; i < b->hdr.bh1.num_pkts; i++) {
			size_t len;
			uint8_t *pl = payload((uint8_t *)h + h->tp_mac, h->tp_snaplen, &g, &len);

			if (pl)
				add(&r, pl, len);
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		flush(&r);
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		cur = (cur + 1) % BLOCKS;
		blocks++;
	}
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) == 0)
		drops = st.tp_drops;
	printf("relayed=%llu sends=%llu send_errors=%llu blocks=%llu drops=%llu\n",
	       (unsigned long long)r.relayed, (unsigned long long)r.sends,
	       (unsigned long long)r.send_errors, (unsigned long long)blocks,
	       (unsigned long long)drops);
	return 0;
}

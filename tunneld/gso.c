/*
 * gso.c: TUN super-packets cut into segments as the kernel's TCP and UDP
 * GSO would cut them (tcp_gso_segment, __udp_gso_segment): every segment
 * gets the original headers with its own IP length, IPv4 ID (incremented)
 * and header checksum, TCP sequence number (FIN and PSH only on the last,
 * CWR only on the first) or UDP length, and a full L4 checksum.
 *
 * Segments are made in place: segment i's headers are written just in
 * front of its payload, over the end of segment i - 1, so the caller must
 * be done with a segment (encrypted it elsewhere) before asking for the
 * next one. No copy of the payload is ever made.
 */
#include <netinet/in.h>

#include <string.h>

#include "tunneld/cksum.h"
#include "tunneld/gso.h"
#include "tunneld/iphdr.h"

#define TCP_FIN		0x01
#define TCP_PSH		0x08
#define TCP_CWR		0x80

/*
 * Stores at p + at the checksum of bytes [l4, len) plus sum. UDP takes 0
 * for "no checksum", so a computed 0 goes out as 0xffff, its equal in
 * one's complement (and as good for TCP).
 */
static void
store_sum(uint8_t *p, size_t len, size_t l4, size_t at, uint64_t sum)
{
	uint16_t	 c;

	c = (uint16_t)~cksum_fold(cksum_add(sum, p + l4, len - l4));
	if (c == 0)
		c = 0xffff;
	memcpy(p + at, &c, 2);
}

/* The full L4 checksum of a packet of len bytes, L4 header at l4. */
static void
l4_checksum(uint8_t *p, size_t len, size_t l4, size_t at, int proto)
{
	p[at] = p[at + 1] = 0;
	store_sum(p, len, l4, at, cksum_pseudo(p, proto, len - l4));
}

/*
 * Checks the header against the packet of len bytes at pkt and prepares
 * the cut; -1 if the packet is not one the kernel would hand us.
 */
int
gso_start(struct gso *g, const struct virtio_net_hdr *vh, uint8_t *pkt,
    size_t len)
{
	unsigned	 type = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	size_t		 l3;

	memset(g, 0, offsetof(struct gso, hdr));
	g->pkt = pkt;
	g->len = len;
	if (len < IP4_HDR_MIN)
		return (-1);
	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		/*
		 * With TUN_F_CSUM on, the kernel leaves the sum to us: the
		 * field holds the pseudo-header's, the rest is summed over.
		 */
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			if ((size_t)vh->csum_start + vh->csum_offset + 2 > len)
				return (-1);
			store_sum(pkt, len, vh->csum_start,
			    (size_t)vh->csum_start + vh->csum_offset, 0);
		}
		return (0);
	}
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (iphdr_version(pkt) != IPHDR_V4)
			return (-1);
		g->proto = IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (iphdr_version(pkt) != IPHDR_V6)
			return (-1);
		g->proto = IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		g->proto = IPPROTO_UDP;
		break;
	default:
		return (-1);
	}
	/* The kernel gives a super-packet's whole length in its header. */
	if (iphdr_version(pkt) == IPHDR_V4) {
		l3 = iphdr_v4_hlen(pkt);
		if (l3 < IP4_HDR_MIN || pkt[IP4_PROTO] != g->proto ||
		    ((size_t)pkt[IP4_TOTLEN] << 8 | pkt[IP4_TOTLEN + 1]) != len)
			return (-1);
	} else if (iphdr_version(pkt) == IPHDR_V6 && len >= IP6_HDR_LEN) {
		l3 = IP6_HDR_LEN;
		if (len - l3 !=
		    ((size_t)pkt[IP6_PAYLEN] << 8 | pkt[IP6_PAYLEN + 1]))
			return (-1);
	} else
		return (-1);
	/* csum_start is the L4 header, after any IPv6 extension headers. */
	g->l4 = vh->csum_start;
	if (g->l4 < l3 || (iphdr_version(pkt) == IPHDR_V4 && g->l4 != l3) ||
	    g->l4 + 8 > len)
		return (-1);
	if (g->proto == IPPROTO_TCP) {
		if (g->l4 + 20 > len)
			return (-1);
		g->hlen = g->l4 + (size_t)(pkt[g->l4 + 12] >> 4) * 4;
		if (g->hlen < g->l4 + 20)
			return (-1);
	} else
		g->hlen = g->l4 + 8;
	if (g->hlen > GSO_HDR_MAX || g->hlen >= len || vh->gso_size == 0)
		return (-1);
	g->seg = vh->gso_size;
	g->off = g->hlen;
	memcpy(g->hdr, pkt, g->hlen);
	return (0);
}

/*
 * The next segment and its length in *len, or NULL when all are made.
 * It lies within the super-packet, over the end of the previous one.
 */
uint8_t *
gso_next(struct gso *g, size_t *len)
{
	uint8_t		*p;
	size_t		 plen, n;
	uint32_t	 seq;
	uint16_t	 id;

	if (g->seg == 0) {
		if (g->n++ > 0)
			return (NULL);
		*len = g->len;
		return (g->pkt);
	}
	if (g->off >= g->len)
		return (NULL);
	plen = g->len - g->off < g->seg ? g->len - g->off : g->seg;
	p = g->pkt + g->off - g->hlen;
	if (g->n > 0)
		memcpy(p, g->hdr, g->hlen);
	n = g->hlen + plen;
	if (iphdr_version(p) == IPHDR_V4) {
		iphdr_put16(p + IP4_TOTLEN, n);
		id = (uint16_t)((g->hdr[4] << 8 | g->hdr[5]) + g->n);
		iphdr_put16(p + 4, id);
		cksum_ip4(p);
	} else
		iphdr_put16(p + IP6_PAYLEN, n - IP6_HDR_LEN);
	if (g->proto == IPPROTO_TCP) {
		seq = iphdr_get32(g->hdr + g->l4 + 4) +
		    (uint32_t)(g->off - g->hlen);
		iphdr_put32(p + g->l4 + 4, seq);
		if (g->off + plen < g->len)
			p[g->l4 + 13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (g->n > 0)
			p[g->l4 + 13] &= (uint8_t)~TCP_CWR;
		l4_checksum(p, n, g->l4, g->l4 + 16, g->proto);
	} else {
		iphdr_put16(p + g->l4 + 4, n - g->l4);
		l4_checksum(p, n, g->l4, g->l4 + 6, g->proto);
	}
	g->off += plen;
	g->n++;
	*len = n;
	return (p);
}

/*
 * gro.c: TCP segments coalesced as the kernel's GRO would coalesce them
 * (tcp_gro_receive): same addresses and ports, consecutive sequence
 * numbers, the same headers but for lengths, IPv4 ID and checksum, equal
 * payloads but for a shorter last one, no flag but ACK, and PSH only on
 * the last. The result keeps the first segment's headers with the total
 * length, the last one's window and PSH, and the pseudo-header sum the
 * kernel expects with NEEDS_CSUM; its payloads are not copied but handed
 * to the writer as an iovec.
 *
 * Everything else (other protocols, control segments, IPv4 options, IPv6
 * extension headers, bad checksums) is written as it is, after whatever
 * its flow has pending, so that a flow's packets keep their order.
 */
#include <netinet/in.h>

#include <string.h>

#include "tunneld/cksum.h"
#include "tunneld/gro.h"
#include "tunneld/iphdr.h"

#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_HDR_MIN	20
#define GRO_MAX		65535

void
gro_init(struct gro *g, gro_write_fn *write, void *arg)
{
	memset(g, 0, sizeof(*g));
	g->write = write;
	g->arg = arg;
}

/* Where the TCP header of a segment that may be coalesced starts, or 0. */
static size_t
tcp_offset(const uint8_t *p, size_t len)
{
	if (len >= IP4_HDR_MIN + TCP_HDR_MIN && iphdr_version(p) == IPHDR_V4) {
		/* No options, no fragment, the whole packet. */
		if (iphdr_v4_hlen(p) != IP4_HDR_MIN ||
		    p[IP4_PROTO] != IPPROTO_TCP || (p[IP4_FRAG] & 0x3f) != 0 ||
		    p[IP4_FRAG + 1] != 0 || iphdr_get16(p + IP4_TOTLEN) != len)
			return (0);
		return (IP4_HDR_MIN);
	}
	if (len >= IP6_HDR_LEN + TCP_HDR_MIN && iphdr_version(p) == IPHDR_V6) {
		if (p[IP6_NXT] != IPPROTO_TCP ||
		    iphdr_get16(p + IP6_PAYLEN) + IP6_HDR_LEN != len)
			return (0);
		return (IP6_HDR_LEN);
	}
	return (0);
}

static void
write_one(struct gro *g, uint8_t *p, size_t len)
{
	struct virtio_net_hdr	 vh;
	struct iovec		 iov[2];

	memset(&vh, 0, sizeof(vh));
	iov[0].iov_base = &vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = p;
	iov[1].iov_len = len;
	g->write(g->arg, iov, 2, 1);
}

static void
flush_flow(struct gro *g, struct gro_flow *f)
{
	uint8_t		*p = f->first;
	uint16_t	 c;

	if (f->niov == 2) {
		write_one(g, p, f->total);
		return;
	}
	if (iphdr_version(p) == IPHDR_V4) {
		iphdr_put16(p + IP4_TOTLEN, f->total);
		cksum_ip4(p);
	} else
		iphdr_put16(p + IP6_PAYLEN, f->total - IP6_HDR_LEN);
	p[f->l4 + 13] |= f->last[f->l4 + 13] & TCP_PSH;
	memcpy(p + f->l4 + 14, f->last + f->l4 + 14, 2);
	/* NEEDS_CSUM: the field holds the pseudo-header's sum, uncomplemented. */
	c = cksum_fold(cksum_pseudo(p, IPPROTO_TCP, f->total - f->l4));
	memcpy(p + f->l4 + 16, &c, 2);
	memset(&f->vh, 0, sizeof(f->vh));
	f->vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	f->vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	if (iphdr_version(p) == IPHDR_V6)
		f->vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	f->vh.hdr_len = (uint16_t)f->hlen;
	f->vh.gso_size = (uint16_t)f->seg;
	f->vh.csum_start = (uint16_t)f->l4;
	f->vh.csum_offset = 16;
	/* Set here: remove_flow() moves flows about. */
	f->iov[0].iov_base = &f->vh;
	f->iov[0].iov_len = sizeof(f->vh);
	g->write(g->arg, f->iov, f->niov, (unsigned)(f->niov - 1));
}

static void
remove_flow(struct gro *g, struct gro_flow *f)
{
	struct gro_flow	*last = &g->flows[g->nflows - 1];

	if (f != last)
		*f = *last;
	g->nflows--;
}

static struct gro_flow *
find_flow(struct gro *g, const uint8_t *p, size_t l4)
{
	struct gro_flow	*f;
	size_t		 a = IP4_SRC, alen = 2 * IP4_ADDR_LEN;
	int		 i;

	if (iphdr_version(p) == IPHDR_V6) {
		a = IP6_SRC;
		alen = 2 * IP6_ADDR_LEN;
	}
	for (i = 0; i < g->nflows; i++) {
		f = &g->flows[i];
		if (f->l4 == l4 &&
		    iphdr_version(f->first) == iphdr_version(p) &&
		    memcmp(f->first + a, p + a, alen) == 0 &&
		    memcmp(f->first + l4, p + l4, 4) == 0)
			return (f);
	}
	return (NULL);
}

/* Everything that must be equal for p to follow the flow's segments. */
static bool
can_append(const struct gro_flow *f, const uint8_t *p, size_t hlen, size_t plen)
{
	const uint8_t	*q = f->first;
	size_t		 l4 = f->l4;

	if (f->closed || hlen != f->hlen || plen > f->seg ||
	    f->niov > GRO_SEGS || f->total + plen > GRO_MAX ||
	    iphdr_get32(p + l4 + 4) != f->next_seq)
		return (false);
	/* Acknowledgment number, then the options. */
	if (memcmp(p + l4 + 8, q + l4 + 8, 4) != 0 ||
	    memcmp(p + l4 + TCP_HDR_MIN, q + l4 + TCP_HDR_MIN,
	    hlen - l4 - TCP_HDR_MIN) != 0)
		return (false);
	if (iphdr_version(p) == IPHDR_V4)
		/* TOS, TTL and DF. */
		return (p[1] == q[1] && p[8] == q[8] &&
		    (p[IP4_FRAG] & 0x40) == (q[IP4_FRAG] & 0x40));
	/* Traffic class and flow label, hop limit. */
	return (memcmp(p, q, 4) == 0 && p[7] == q[7]);
}

static void
start_flow(struct gro *g, uint8_t *p, size_t len, size_t l4, size_t hlen)
{
	struct gro_flow	*f = &g->flows[g->nflows++];

	f->first = f->last = p;
	f->l4 = l4;
	f->hlen = hlen;
	f->seg = len - hlen;
	f->total = len;
	f->next_seq = iphdr_get32(p + l4 + 4) + (uint32_t)(len - hlen);
	f->closed = (p[l4 + 13] & TCP_PSH) != 0;
	f->iov[1].iov_base = p;
	f->iov[1].iov_len = len;
	f->niov = 2;
}

/*
 * Takes the IP packet of len bytes at p (which must stay put until the
 * next gro_flush()), coalesced or written at once.
 */
void
gro_add(struct gro *g, uint8_t *p, size_t len)
{
	struct gro_flow	*f;
	size_t		 l4, hlen, plen;
	uint8_t		 flags;
	bool		 ok;

	if ((l4 = tcp_offset(p, len)) == 0) {
		write_one(g, p, len);
		return;
	}
	hlen = l4 + (size_t)(p[l4 + 12] >> 4) * 4;
	f = find_flow(g, p, l4);
	ok = hlen >= l4 + TCP_HDR_MIN && hlen < len;
	if (ok) {
		plen = len - hlen;
		flags = p[l4 + 13];
		ok = (flags & ~(TCP_ACK | TCP_PSH)) == 0 && (flags & TCP_ACK) &&
		    cksum_fold(cksum_add(cksum_pseudo(p, IPPROTO_TCP, len - l4),
		    p + l4, len - l4)) == 0xffff;
		if (ok && f != NULL && can_append(f, p, hlen, plen)) {
			f->iov[f->niov].iov_base = p + hlen;
			f->iov[f->niov].iov_len = plen;
			f->niov++;
			f->total += plen;
			f->next_seq += (uint32_t)plen;
			f->last = p;
			f->closed = plen < f->seg || (flags & TCP_PSH) != 0;
			return;
		}
	}
	if (f != NULL) {
		flush_flow(g, f);
		remove_flow(g, f);
	}
	if (!ok) {
		write_one(g, p, len);
		return;
	}
	if (g->nflows == GRO_FLOWS) {
		flush_flow(g, &g->flows[0]);
		remove_flow(g, &g->flows[0]);
	}
	start_flow(g, p, len, l4, hlen);
}

/* Writes everything pending. */
void
gro_flush(struct gro *g)
{
	int	 i;

	for (i = 0; i < g->nflows; i++)
		flush_flow(g, &g->flows[i]);
	g->nflows = 0;
}

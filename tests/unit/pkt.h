/*
 * pkt.h: IPv4/IPv6 TCP and UDP packets for the offload tests, and the
 * Internet checksum computed the plain way (big-endian 16-bit words,
 * RFC 1071) as the reference the code under test is held to.
 */
#ifndef FZC_TEST_PKT_H
#define FZC_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKT_TCP		6
#define PKT_UDP		17
#define PKT_FIN		0x01
#define PKT_SYN		0x02
#define PKT_PSH		0x08
#define PKT_ACK		0x10
#define PKT_CWR		0x80

static inline uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		sum += (uint32_t)p[len - 1] << 8;
	return (sum);
}

static inline uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)sum);
}

static inline unsigned
pkt_get16(const uint8_t *p)
{
	return ((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
pkt_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static inline void
pkt_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
pkt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The reference pseudo-header sum for the packet at p, l4 bytes of L4. */
static inline uint32_t
ref_pseudo(const uint8_t *p, int proto, size_t l4len)
{
	uint32_t	 sum;

	if (p[0] >> 4 == 4)
		sum = ref_sum(0, p + 12, 8);
	else
		sum = ref_sum(0, p + 8, 32);
	return (sum + (uint32_t)proto + (uint32_t)(l4len >> 16) +
	    (uint32_t)(l4len & 0xffff));
}

/* True if the L4 checksum of the packet of len bytes (L4 at l4) holds. */
static inline bool
ref_l4_ok(const uint8_t *p, size_t len, size_t l4, int proto)
{
	return (ref_fold(ref_sum(ref_pseudo(p, proto, len - l4), p + l4,
	    len - l4)) == 0xffff);
}

static inline bool
ref_ip4_ok(const uint8_t *p)
{
	return (ref_fold(ref_sum(0, p, (size_t)(p[0] & 0x0f) * 4)) == 0xffff);
}

struct pkt_spec {
	int		 v6;
	int		 proto;
	size_t		 ip4_opts;	/* bytes of IPv4 options */
	size_t		 ext6;		/* bytes of an IPv6 hop-by-hop header */
	size_t		 tcp_opts;	/* bytes of TCP options */
	uint32_t	 seq;
	uint32_t	 ack;
	uint8_t		 flags;
	uint16_t	 sport;
	uint16_t	 id;
	size_t		 payload;
	unsigned	 fill;		/* payload byte i is fill + i */
};

/* The L4 header's offset in a packet built from s. */
static inline size_t
pkt_l4(const struct pkt_spec *s)
{
	return (s->v6 ? 40 + s->ext6 : 20 + s->ip4_opts);
}

static inline size_t
pkt_hlen(const struct pkt_spec *s)
{
	return (pkt_l4(s) + (s->proto == PKT_TCP ? 20 + s->tcp_opts : 8));
}

/* Builds the packet s at p with valid checksums; returns its length. */
static inline size_t
pkt_build(uint8_t *p, const struct pkt_spec *s)
{
	size_t		 l4 = pkt_l4(s), hlen = pkt_hlen(s);
	size_t		 len = hlen + s->payload, i;
	uint16_t	 c;

	memset(p, 0, hlen);
	if (s->v6) {
		p[0] = 0x60;
		pkt_put16(p + 4, (unsigned)(len - 40));
		p[6] = s->ext6 ? 0 : (uint8_t)s->proto;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
		if (s->ext6) {
			/* Hop-by-hop, padded with PadN. */
			p[40] = (uint8_t)s->proto;
			p[41] = (uint8_t)(s->ext6 / 8 - 1);
			p[42] = 1;
			p[43] = (uint8_t)(s->ext6 - 4);
		}
	} else {
		p[0] = (uint8_t)(0x40 | (20 + s->ip4_opts) / 4);
		pkt_put16(p + 2, (unsigned)len);
		pkt_put16(p + 4, s->id);
		p[6] = 0x40;	/* DF */
		p[8] = 64;
		p[9] = (uint8_t)s->proto;
		p[12] = 10;
		p[15] = 1;
		p[16] = 10;
		p[19] = 2;
		for (i = 0; i < s->ip4_opts; i++)
			p[20 + i] = 1;	/* NOP */
		c = (uint16_t)~ref_fold(ref_sum(0, p, l4));
		pkt_put16(p + 10, c);
	}
	pkt_put16(p + l4, s->sport);
	pkt_put16(p + l4 + 2, 5201);
	if (s->proto == PKT_TCP) {
		pkt_put32(p + l4 + 4, s->seq);
		pkt_put32(p + l4 + 8, s->ack);
		p[l4 + 12] = (uint8_t)((20 + s->tcp_opts) / 4 << 4);
		p[l4 + 13] = s->flags;
		pkt_put16(p + l4 + 14, 502);
		for (i = 0; i < s->tcp_opts; i++)
			p[l4 + 20 + i] = (uint8_t)(i < 2 ? 1 : 0x30 + i);
	} else
		pkt_put16(p + l4 + 4, (unsigned)(len - l4));
	for (i = 0; i < s->payload; i++)
		p[hlen + i] = (uint8_t)(s->fill + i);
	c = (uint16_t)~ref_fold(
	    ref_sum(ref_pseudo(p, s->proto, len - l4), p + l4, len - l4));
	pkt_put16(p + l4 + (s->proto == PKT_TCP ? 16 : 6), c);
	return (len);
}

#endif

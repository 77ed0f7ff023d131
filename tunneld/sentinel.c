/*
 * sentinel.c: the packets between applications and the sentinels. Only
 * the IP and UDP headers are read here; the DNS message inside is
 * controld's to parse.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include "tunneld/iphdr.h"
#include "tunneld/sentinel.h"

#define UDP_HDR_LEN	8
#define DNS_PORT	53
#define HOP_LIMIT	64

/*
 * The UDP datagram in a packet to a sentinel's port 53: its offset and
 * length, or 0. Fragments and IPv6 extension headers are not queries.
 */
static size_t
udp_of(const uint8_t *p, size_t len, size_t *ulen)
{
	size_t	 hlen, tot;

	if (len >= IP4_HDR_MIN && iphdr_version(p) == IPHDR_V4) {
		hlen = iphdr_v4_hlen(p);
		tot = iphdr_get16(p + IP4_TOTLEN);
		if (hlen < IP4_HDR_MIN || tot > len ||
		    tot < hlen + UDP_HDR_LEN || p[IP4_PROTO] != IPPROTO_UDP ||
		    (iphdr_get16(p + IP4_FRAG) & 0x3fff) != 0 ||
		    !ipc_dns_sentinel(AF_INET, p + IP4_DST))
			return (0);
	} else if (len >= IP6_HDR_LEN + UDP_HDR_LEN &&
	    iphdr_version(p) == IPHDR_V6) {
		hlen = IP6_HDR_LEN;
		tot = IP6_HDR_LEN + iphdr_get16(p + IP6_PAYLEN);
		if (tot > len || tot < hlen + UDP_HDR_LEN ||
		    p[IP6_NXT] != IPPROTO_UDP ||
		    !ipc_dns_sentinel(AF_INET6, p + IP6_DST))
			return (0);
	} else
		return (0);
	*ulen = iphdr_get16(p + hlen + 4);
	if (iphdr_get16(p + hlen + 2) != DNS_PORT || *ulen < UDP_HDR_LEN ||
	    *ulen > tot - hlen)
		return (0);
	return (hlen);
}

/* A worker's check, for every packet read from the TUN device. */
enum sentinel_take
sentinel_take(struct handoff *h, const uint8_t *p, size_t len)
{
	struct sockaddr_in6	 none;
	size_t			 ulen;

	if (udp_of(p, len, &ulen) == 0)
		return (SENTINEL_NOT);
	memset(&none, 0, sizeof(none));
	if (handoff_push(&h->dns, p, len, &none) == -1)
		return (SENTINEL_FULL);
	handoff_wake(h);
	return (SENTINEL_QUEUED);
}

/* The query in a packet a worker handed over; -1: none that fits. */
int
sentinel_query(const uint8_t *p, size_t len, struct ipc_dns *q)
{
	size_t	 off, ulen, n;
	int	 v6;

	memset(q, 0, sizeof(*q));
	if ((off = udp_of(p, len, &ulen)) == 0)
		return (-1);
	n = ulen - UDP_HDR_LEN;
	if (n < IPC_DNS_MIN || n > IPC_DNS_MAX)
		return (-1);
	v6 = iphdr_version(p) == IPHDR_V6;
	q->client.family = q->sentinel.family = v6 ? AF_INET6 : AF_INET;
	memcpy(q->client.addr, p + (v6 ? IP6_SRC : IP4_SRC),
	    v6 ? IP6_ADDR_LEN : IP4_ADDR_LEN);
	memcpy(q->sentinel.addr, p + (v6 ? IP6_DST : IP4_DST),
	    v6 ? IP6_ADDR_LEN : IP4_ADDR_LEN);
	q->client.port = iphdr_get16(p + off);
	q->sentinel.port = DNS_PORT;
	if (q->client.port == 0)
		return (-1);
	q->len = (uint32_t)n;
	memcpy(q->data, p + off + UDP_HDR_LEN, n);
	return (0);
}

static uint32_t
sum(uint32_t acc, const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i += 2)
		acc += iphdr_get16(p + i);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return (acc);
}

static uint16_t
fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return ((uint16_t)~acc);
}

/*
 * The answer as an IP packet from the sentinel's port 53 to the
 * application, checksums and all; its length, or 0 if it does not fit.
 */
size_t
sentinel_reply(const struct ipc_dns *r, uint8_t *p, size_t size)
{
	size_t		 hlen, alen, ulen = UDP_HDR_LEN + r->len;
	uint8_t		*u;
	uint32_t	 acc;
	uint16_t	 ck;
	int		 v6 = r->sentinel.family == AF_INET6;

	hlen = v6 ? IP6_HDR_LEN : IP4_HDR_MIN;
	alen = v6 ? IP6_ADDR_LEN : IP4_ADDR_LEN;
	if (hlen + ulen > size || hlen + ulen > 0xffff)
		return (0);
	memset(p, 0, hlen + UDP_HDR_LEN);
	if (v6) {
		p[0] = 0x60;
		iphdr_put16(p + IP6_PAYLEN, (uint16_t)ulen);
		p[IP6_NXT] = IPPROTO_UDP;
		p[7] = HOP_LIMIT;
		memcpy(p + IP6_SRC, r->sentinel.addr, alen);
		memcpy(p + IP6_DST, r->client.addr, alen);
	} else {
		p[0] = 0x45;
		iphdr_put16(p + IP4_TOTLEN, (uint16_t)(hlen + ulen));
		iphdr_put16(p + IP4_FRAG, 0x4000);	/* DF */
		p[8] = HOP_LIMIT;
		p[IP4_PROTO] = IPPROTO_UDP;
		memcpy(p + IP4_SRC, r->sentinel.addr, alen);
		memcpy(p + IP4_DST, r->client.addr, alen);
		iphdr_put16(p + 10, fold(sum(0, p, hlen)));
	}
	u = p + hlen;
	iphdr_put16(u, DNS_PORT);
	iphdr_put16(u + 2, r->client.port);
	iphdr_put16(u + 4, (uint16_t)ulen);
	memcpy(u + UDP_HDR_LEN, r->data, r->len);
	/* The pseudo-header: both addresses, the protocol, the length. */
	acc = sum(0, p + (v6 ? IP6_SRC : IP4_SRC), 2 * alen);
	acc += IPPROTO_UDP + (uint32_t)ulen;
	ck = fold(sum(acc, u, ulen));
	iphdr_put16(u + 6, ck == 0 ? 0xffff : ck);
	return (hlen + ulen);
}

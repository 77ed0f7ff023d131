/*
 * sentinel.c: the packets between applications and the sentinels. Only
 * the IP header and the UDP or TCP ports are read here; the DNS message
 * inside, and the TCP connection, are controld's to parse.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include "tunneld/iphdr.h"
#include "tunneld/sentinel.h"

#define UDP_HDR_LEN	8
#define TCP_HDR_MIN	IPC_DNS_TCP_MIN
#define TCP_SUM		16	/* the checksum's offset in a TCP header */
#define DNS_PORT	53
#define HOP_LIMIT	64

/*
 * The UDP datagram or TCP segment in a packet to a sentinel's port 53:
 * its offset, protocol and length, or 0. Fragments and IPv6 extension
 * headers are not queries.
 */
static size_t
l4_of(const uint8_t *p, size_t len, int *proto, size_t *l4len)
{
	size_t	 hlen, tot;

	if (len >= IP4_HDR_MIN && iphdr_version(p) == IPHDR_V4) {
		hlen = iphdr_v4_hlen(p);
		tot = iphdr_get16(p + IP4_TOTLEN);
		*proto = p[IP4_PROTO];
		if (hlen < IP4_HDR_MIN || tot > len ||
		    (iphdr_get16(p + IP4_FRAG) & 0x3fff) != 0 ||
		    !ipc_dns_sentinel(AF_INET, p + IP4_DST))
			return (0);
	} else if (len >= IP6_HDR_LEN && iphdr_version(p) == IPHDR_V6) {
		hlen = IP6_HDR_LEN;
		tot = IP6_HDR_LEN + iphdr_get16(p + IP6_PAYLEN);
		*proto = p[IP6_NXT];
		if (tot > len || !ipc_dns_sentinel(AF_INET6, p + IP6_DST))
			return (0);
	} else
		return (0);
	if (*proto == IPPROTO_UDP) {
		if (tot < hlen + UDP_HDR_LEN)
			return (0);
		*l4len = iphdr_get16(p + hlen + 4);
		if (*l4len < UDP_HDR_LEN || *l4len > tot - hlen)
			return (0);
	} else if (*proto == IPPROTO_TCP) {
		if (tot < hlen + TCP_HDR_MIN ||
		    (size_t)(p[hlen + 12] >> 4) * 4 < TCP_HDR_MIN ||
		    (size_t)(p[hlen + 12] >> 4) * 4 > tot - hlen)
			return (0);
		*l4len = tot - hlen;
	} else
		return (0);
	if (iphdr_get16(p + hlen + 2) != DNS_PORT)
		return (0);
	return (hlen);
}

/* A worker's check, for every packet read from the TUN device. */
enum sentinel_take
sentinel_take(struct handoff *h, const uint8_t *p, size_t len)
{
	struct sockaddr_in6	 none;
	size_t			 l4len;
	int			 proto;

	if (l4_of(p, len, &proto, &l4len) == 0)
		return (SENTINEL_NOT);
	memset(&none, 0, sizeof(none));
	if (handoff_push(&h->dns, p, len, &none) == -1)
		return (SENTINEL_FULL);
	handoff_wake(h);
	return (SENTINEL_QUEUED);
}

/*
 * The query in a packet a worker handed over (a UDP payload, or a whole
 * TCP segment for controld's TCP responder); -1: none that fits.
 */
int
sentinel_query(const uint8_t *p, size_t len, struct ipc_dns *q)
{
	size_t	 off, l4len, n;
	int	 v6, proto;

	memset(q, 0, sizeof(*q));
	if ((off = l4_of(p, len, &proto, &l4len)) == 0)
		return (-1);
	if (proto == IPPROTO_TCP) {
		q->flags = IPC_DNS_TCP;
		n = l4len;
	} else {
		off += UDP_HDR_LEN;
		n = l4len - UDP_HDR_LEN;
		if (n < IPC_DNS_MIN)
			return (-1);
	}
	if (n > IPC_DNS_MAX)
		return (-1);
	v6 = iphdr_version(p) == IPHDR_V6;
	q->client.family = q->sentinel.family = v6 ? AF_INET6 : AF_INET;
	memcpy(q->client.addr, p + (v6 ? IP6_SRC : IP4_SRC),
	    v6 ? IP6_ADDR_LEN : IP4_ADDR_LEN);
	memcpy(q->sentinel.addr, p + (v6 ? IP6_DST : IP4_DST),
	    v6 ? IP6_ADDR_LEN : IP4_ADDR_LEN);
	q->client.port = iphdr_get16(
	    p + (size_t)(v6 ? IP6_HDR_LEN : iphdr_v4_hlen(p)));
	q->sentinel.port = DNS_PORT;
	if (q->client.port == 0)
		return (-1);
	q->len = (uint32_t)n;
	memcpy(q->data, p + off, n);
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
 * application, checksums and all: a UDP datagram around the DNS message,
 * or controld's TCP segment as it is; its length, or 0 if it does not
 * fit.
 */
size_t
sentinel_reply(const struct ipc_dns *r, uint8_t *p, size_t size)
{
	size_t		 hlen, alen, l4len, sumoff;
	uint8_t		*u;
	uint32_t	 acc;
	uint16_t	 ck;
	int		 v6 = r->sentinel.family == AF_INET6;
	int		 proto;

	proto = r->flags & IPC_DNS_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	hlen = v6 ? IP6_HDR_LEN : IP4_HDR_MIN;
	alen = v6 ? IP6_ADDR_LEN : IP4_ADDR_LEN;
	l4len = r->len + (proto == IPPROTO_UDP ? UDP_HDR_LEN : 0);
	if (hlen + l4len > size || hlen + l4len > 0xffff)
		return (0);
	memset(p, 0, hlen);
	if (v6) {
		p[0] = 0x60;
		iphdr_put16(p + IP6_PAYLEN, (uint16_t)l4len);
		p[IP6_NXT] = (uint8_t)proto;
		p[7] = HOP_LIMIT;
		memcpy(p + IP6_SRC, r->sentinel.addr, alen);
		memcpy(p + IP6_DST, r->client.addr, alen);
	} else {
		p[0] = 0x45;
		iphdr_put16(p + IP4_TOTLEN, (uint16_t)(hlen + l4len));
		iphdr_put16(p + IP4_FRAG, 0x4000);	/* DF */
		p[8] = HOP_LIMIT;
		p[IP4_PROTO] = (uint8_t)proto;
		memcpy(p + IP4_SRC, r->sentinel.addr, alen);
		memcpy(p + IP4_DST, r->client.addr, alen);
		iphdr_put16(p + 10, fold(sum(0, p, hlen)));
	}
	u = p + hlen;
	if (proto == IPPROTO_UDP) {
		iphdr_put16(u, DNS_PORT);
		iphdr_put16(u + 2, r->client.port);
		iphdr_put16(u + 4, (uint16_t)l4len);
		memcpy(u + UDP_HDR_LEN, r->data, r->len);
		sumoff = 6;
	} else {
		memcpy(u, r->data, r->len);
		sumoff = TCP_SUM;
	}
	iphdr_put16(u + sumoff, 0);
	/* The pseudo-header: both addresses, the protocol, the length. */
	acc = sum(0, p + (v6 ? IP6_SRC : IP4_SRC), 2 * alen);
	acc += (uint32_t)proto + (uint32_t)l4len;
	ck = fold(sum(acc, u, l4len));
	/* 0 means "no checksum" in UDP only; TCP has the same sum as 0xffff. */
	iphdr_put16(u + sumoff, ck == 0 && proto == IPPROTO_UDP ? 0xffff : ck);
	return (hlen + l4len);
}

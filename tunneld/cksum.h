/*
 * cksum.h: the Internet checksum (RFC 1071) for the segmentation and
 * coalescing of gso.c and gro.c. Sums are kept in host order, which the
 * one's complement sum allows (RFC 1071 2(B)); a folded result is stored
 * with memcpy as it is and so lands in network order.
 */
#ifndef FZC_CKSUM_H
#define FZC_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds len bytes at p; every chunk but the last must be of even length. */
static inline uint64_t
cksum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t	*b = p;
	uint32_t	 w;
	uint16_t	 h;
	uint8_t		 last[2];

	for (; len >= 4; b += 4, len -= 4) {
		memcpy(&w, b, 4);
		sum += w;
	}
	if (len >= 2) {
		memcpy(&h, b, 2);
		sum += h;
		b += 2;
		len -= 2;
	}
	if (len == 1) {
		last[0] = b[0];
		last[1] = 0;
		memcpy(&h, last, 2);
		sum += h;
	}
	return (sum);
}

static inline uint16_t
cksum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)sum);
}

/*
 * The sum of the TCP/UDP pseudo-header (RFC 793, RFC 8200 8.1) of the
 * packet at ip, whose L4 part is l4len bytes of protocol proto.
 */
static inline uint64_t
cksum_pseudo(const uint8_t *ip, int proto, size_t l4len)
{
	uint8_t		 tail[8] = { 0 };
	uint64_t	 sum;

	if ((ip[0] >> 4) == 4) {
		sum = cksum_add(0, ip + 12, 8);
		tail[1] = (uint8_t)proto;
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		return (cksum_add(sum, tail, 4));
	}
	sum = cksum_add(0, ip + 8, 32);
	tail[0] = (uint8_t)(l4len >> 24);
	tail[1] = (uint8_t)(l4len >> 16);
	tail[2] = (uint8_t)(l4len >> 8);
	tail[3] = (uint8_t)l4len;
	tail[7] = (uint8_t)proto;
	return (cksum_add(sum, tail, 8));
}

/* Writes the IPv4 header checksum of the header at ip. */
static inline void
cksum_ip4(uint8_t *ip)
{
	uint16_t	 c;

	ip[10] = ip[11] = 0;
	c = (uint16_t)~cksum_fold(cksum_add(0, ip, (size_t)(ip[0] & 0x0f) * 4));
	memcpy(ip + 10, &c, 2);
}

#endif

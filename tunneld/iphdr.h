/*
 * iphdr.h: where the fields fzc reads sit in IPv4 (RFC 791) and IPv6
 * (RFC 8200) headers, as byte offsets from the start of the header.
 */
#ifndef FZC_IPHDR_H
#define FZC_IPHDR_H

#include <stddef.h>
#include <stdint.h>

#include "common/be.h"

#define IPHDR_V4		4
#define IPHDR_V6		6

#define IP4_HDR_MIN		20	/* without options */
#define IP4_TOTLEN		2	/* total length, 2 bytes */
#define IP4_FRAG		6	/* flags and fragment offset, 2 bytes */
#define IP4_PROTO		9
#define IP4_SRC			12
#define IP4_DST			16
#define IP4_ADDR_LEN		4

#define IP6_HDR_LEN		40	/* fixed; extension headers follow */
#define IP6_PAYLEN		4	/* payload length, 2 bytes */
#define IP6_NXT			6	/* next header */
#define IP6_SRC			8
#define IP6_DST			24
#define IP6_ADDR_LEN		16

/* Header fields are big-endian; lengths come back as size_t. */
static inline size_t
iphdr_get16(const uint8_t *p)
{
	return (be_get16(p));
}

static inline uint32_t
iphdr_get32(const uint8_t *p)
{
	return (be_get32(p));
}

static inline void
iphdr_put16(uint8_t *p, uint32_t v)
{
	be_put16(p, (uint16_t)v);
}

static inline void
iphdr_put32(uint8_t *p, uint32_t v)
{
	be_put32(p, v);
}

/* The version nibble of the packet at p. */
static inline unsigned
iphdr_version(const uint8_t *p)
{
	return (p[0] >> 4);
}

/* IPv4: the header's own length, options included (IHL). */
static inline size_t
iphdr_v4_hlen(const uint8_t *p)
{
	return ((size_t)(p[0] & 0x0f) * 4);
}

#endif

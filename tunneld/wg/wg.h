/*
 * WireGuard protocol constants, message framing and error codes shared by
 * the sans-IO modules in tunneld/wg/.  Times are nanoseconds from a
 * monotonic clock supplied by the caller.
 */

#ifndef FZC_WG_WG_H
#define FZC_WG_WG_H

#include <stddef.h>
#include <stdint.h>

#include "common/timer.h"

#define WG_KEY_LEN		32
#define WG_HASH_LEN		32
#define WG_MAC_LEN		16
#define WG_TAG_LEN		16
#define WG_TIMESTAMP_LEN	12
#define WG_COOKIE_LEN		16
#define WG_COOKIE_NONCE_LEN	24

#define WG_MSG_INITIATION	1
#define WG_MSG_RESPONSE		2
#define WG_MSG_COOKIE_REPLY	3
#define WG_MSG_TRANSPORT	4

#define WG_INITIATION_LEN	148
#define WG_RESPONSE_LEN		92
#define WG_COOKIE_REPLY_LEN	64
#define WG_TRANSPORT_HDR_LEN	16
#define WG_TRANSPORT_MIN_LEN	(WG_TRANSPORT_HDR_LEN + WG_TAG_LEN)
#define WG_TRANSPORT_OVERHEAD	WG_TRANSPORT_MIN_LEN

#define WG_REKEY_AFTER_MESSAGES	(1ULL << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
#define WG_REKEY_AFTER_TIME	(120 * NSEC_PER_SEC)
#define WG_REJECT_AFTER_TIME	(180 * NSEC_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME	(90 * NSEC_PER_SEC)
/* PROTOCOL.md 4.4: a peer driven by ICE gives up after 20 s. */
#define WG_REKEY_ATTEMPT_TIME_ICE (20 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT	(5 * NSEC_PER_SEC)
#define WG_REKEY_JITTER_MAX_MS	333
#define WG_KEEPALIVE_TIMEOUT	(10 * NSEC_PER_SEC)
#define WG_COOKIE_SECRET_MAX_AGE (120 * NSEC_PER_SEC)
#define WG_COOKIE_SECRET_LATENCY (5 * NSEC_PER_SEC)
#define WG_INITIATIONS_PER_SECOND 50

enum wg_error {
	WG_OK = 0,
	WG_ERR_LENGTH = -1,
	WG_ERR_TYPE = -2,
	WG_ERR_MAC1 = -3,
	WG_ERR_COOKIE_REQUIRED = -4,
	WG_ERR_DECRYPT = -5,
	WG_ERR_UNKNOWN_PEER = -6,
	WG_ERR_UNKNOWN_INDEX = -7,
	WG_ERR_TIMESTAMP = -8,
	WG_ERR_FLOOD = -9,
	WG_ERR_REPLAY = -10,
	WG_ERR_STATE = -11,
	WG_ERR_KEY = -12,
	WG_ERR_EXPIRED = -13,
	WG_ERR_EXHAUSTED = -14,
	WG_ERR_NOSPACE = -15,
	WG_ERR_NO_SESSION = -16,
	WG_ERR_CRYPTO = -17
};

const char	*wg_strerror(int);
int		 wg_message_classify(const uint8_t *, size_t, uint32_t *);

/*
 * Time since an event.  Threads read the monotonic clock at slightly
 * different moments, so "now" may trail a birth time set elsewhere; that
 * counts as no time at all rather than as an age of 584 years.
 */
static inline uint64_t
wg_elapsed(uint64_t now, uint64_t since)
{
	return (now > since ? now - since : 0);
}

/* Little-endian helpers: every multi-byte field on the wire is LE. */
static inline uint32_t
wg_get_le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

static inline void
wg_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline uint64_t
wg_get_le64(const uint8_t *p)
{
	return ((uint64_t)wg_get_le32(p) | (uint64_t)wg_get_le32(p + 4) << 32);
}

static inline void
wg_put_le64(uint8_t *p, uint64_t v)
{
	wg_put_le32(p, (uint32_t)v);
	wg_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif /* FZC_WG_WG_H */

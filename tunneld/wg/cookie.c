/*
 * DoS mitigation from the WireGuard paper, section 5.4.  mac1 proves the
 * sender knows our public key; under load, mac2 proves it can receive at
 * its source address, because the cookie was sent there encrypted.
 */

#include <string.h>

#include <sodium.h>

#include "tunneld/wg/cookie.h"
#include "tunneld/wg/crypto.h"

#define WG_LABEL_MAC1		"mac1----"
#define WG_LABEL_COOKIE		"cookie--"
#define WG_LABEL_LEN		8

/* Offsets counted from the end: mac1 and mac2 close messages 1 and 2. */
#define WG_MAC1_OFF(len)	((len) - 2 * WG_MAC_LEN)
#define WG_MAC2_OFF(len)	((len) - WG_MAC_LEN)

void
wg_cookie_mac1_key(uint8_t key[WG_HASH_LEN], const uint8_t pub[WG_KEY_LEN])
{
	wg_crypto_hash(key, WG_LABEL_MAC1, WG_LABEL_LEN, pub, WG_KEY_LEN);
}

static void
wg_cookie_cookie_key(uint8_t key[WG_HASH_LEN], const uint8_t pub[WG_KEY_LEN])
{
	wg_crypto_hash(key, WG_LABEL_COOKIE, WG_LABEL_LEN, pub, WG_KEY_LEN);
}

/* Handshake messages only: the caller has checked type and length. */
bool
wg_cookie_mac1_valid(const uint8_t key[WG_HASH_LEN], const uint8_t *msg,
    size_t len)
{
	uint8_t		 mac[WG_MAC_LEN];

	wg_crypto_mac(mac, key, WG_HASH_LEN, msg, WG_MAC1_OFF(len));
	return (sodium_memcmp(mac, msg + WG_MAC1_OFF(len), WG_MAC_LEN) == 0);
}

void
wg_cookie_checker_init(struct wg_cookie_checker *c,
    const uint8_t pub[WG_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	wg_cookie_mac1_key(c->mac1_key, pub);
	wg_cookie_cookie_key(c->cookie_key, pub);
}

void
wg_cookie_checker_clear(struct wg_cookie_checker *c)
{
	sodium_memzero(c, sizeof(*c));
}

static bool
wg_cookie_secret_fresh(const struct wg_cookie_checker *c, uint64_t now)
{
	return (c->have_secret &&
	    wg_elapsed(now, c->secret_birth) < WG_COOKIE_SECRET_MAX_AGE);
}

/* The cookie is MAC(secret, source address bytes). */
static void
wg_cookie_compute(const struct wg_cookie_checker *c, const uint8_t *src,
    size_t srclen, uint8_t cookie[WG_COOKIE_LEN])
{
	wg_crypto_mac(cookie, c->secret, sizeof(c->secret), src, srclen);
}

static int
wg_cookie_check_handshake(const uint8_t *msg, size_t len)
{
	uint32_t	 receiver;
	int		 type;

	type = wg_message_classify(msg, len, &receiver);
	if (type < 0)
		return (type);
	if (type != WG_MSG_INITIATION && type != WG_MSG_RESPONSE)
		return (WG_ERR_TYPE);
	return (WG_OK);
}

/*
 * Checks mac1 always and, when the caller says it is under load, mac2
 * against the cookie for src.  WG_ERR_COOKIE_REQUIRED means: answer with
 * wg_cookie_create_reply() and process nothing.  Never changes c: an
 * expired secret simply makes every mac2 invalid.
 */
int
wg_cookie_validate(const struct wg_cookie_checker *c, const uint8_t *msg,
    size_t len, const uint8_t *src, size_t srclen, bool under_load,
    uint64_t now)
{
	uint8_t		 cookie[WG_COOKIE_LEN];
	uint8_t		 mac[WG_MAC_LEN];
	int		 error;

	if ((error = wg_cookie_check_handshake(msg, len)) != WG_OK)
		return (error);
	if (!wg_cookie_mac1_valid(c->mac1_key, msg, len))
		return (WG_ERR_MAC1);
	if (!under_load)
		return (WG_OK);
	if (!wg_cookie_secret_fresh(c, now))
		return (WG_ERR_COOKIE_REQUIRED);
	wg_cookie_compute(c, src, srclen, cookie);
	wg_crypto_mac(mac, cookie, sizeof(cookie), msg, WG_MAC2_OFF(len));
	error = sodium_memcmp(mac, msg + WG_MAC2_OFF(len), WG_MAC_LEN) == 0 ?
	    WG_OK : WG_ERR_COOKIE_REQUIRED;
	sodium_memzero(cookie, sizeof(cookie));
	return (error);
}

/*
 * Builds the cookie reply to msg (a handshake message whose mac1 was
 * valid) received from src.  The secret is renewed here, when it is
 * needed, rather than on a timer.
 */
int
wg_cookie_create_reply(struct wg_cookie_checker *c, const uint8_t *msg,
    size_t len, const uint8_t *src, size_t srclen, uint64_t now,
    uint8_t out[WG_COOKIE_REPLY_LEN])
{
	uint8_t		 cookie[WG_COOKIE_LEN];
	int		 error;

	if ((error = wg_cookie_check_handshake(msg, len)) != WG_OK)
		return (error);
	if (!wg_cookie_secret_fresh(c, now)) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birth = now;
		c->have_secret = true;
	}
	wg_cookie_compute(c, src, srclen, cookie);

	wg_put_le32(out, WG_MSG_COOKIE_REPLY);
	/* Both handshake messages carry the sender index at offset 4. */
	memcpy(out + 4, msg + 4, 4);
	randombytes_buf(out + 8, WG_COOKIE_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 32, NULL, cookie,
	    sizeof(cookie), msg + WG_MAC1_OFF(len), WG_MAC_LEN, NULL, out + 8,
	    c->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
	return (WG_OK);
}

void
wg_cookie_maker_init(struct wg_cookie_maker *m,
    const uint8_t remote[WG_KEY_LEN])
{
	memset(m, 0, sizeof(*m));
	wg_cookie_mac1_key(m->mac1_key, remote);
	wg_cookie_cookie_key(m->cookie_key, remote);
}

void
wg_cookie_maker_clear(struct wg_cookie_maker *m)
{
	sodium_memzero(m, sizeof(*m));
}

/*
 * Fills in mac1 and mac2 of an outgoing handshake message.  mac2 stays
 * zero unless a cookie arrived recently enough that the responder's
 * secret cannot have rotated since.
 */
void
wg_cookie_add_macs(struct wg_cookie_maker *m, uint8_t *msg, size_t len,
    uint64_t now)
{
	wg_crypto_mac(msg + WG_MAC1_OFF(len), m->mac1_key, WG_HASH_LEN, msg,
	    WG_MAC1_OFF(len));
	memcpy(m->last_mac1, msg + WG_MAC1_OFF(len), WG_MAC_LEN);
	m->have_last_mac1 = true;

	if (m->have_cookie && wg_elapsed(now, m->cookie_birth) <
	    WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY)
		wg_crypto_mac(msg + WG_MAC2_OFF(len), m->cookie,
		    WG_COOKIE_LEN, msg, WG_MAC2_OFF(len));
	else
		memset(msg + WG_MAC2_OFF(len), 0, WG_MAC_LEN);
}

/*
 * Accepts a cookie reply to the last message we sent.  The caller has
 * matched the receiver index; the AEAD, bound to our last mac1, proves
 * the rest.
 */
int
wg_cookie_consume_reply(struct wg_cookie_maker *m, const uint8_t *msg,
    size_t len, uint64_t now)
{
	uint8_t		 cookie[WG_COOKIE_LEN];
	unsigned long long cookielen;

	if (len != WG_COOKIE_REPLY_LEN)
		return (WG_ERR_LENGTH);
	if (wg_get_le32(msg) != WG_MSG_COOKIE_REPLY)
		return (WG_ERR_TYPE);
	if (!m->have_last_mac1)
		return (WG_ERR_STATE);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, &cookielen,
	    NULL, msg + 32, WG_COOKIE_LEN + WG_TAG_LEN, m->last_mac1,
	    WG_MAC_LEN, msg + 8, m->cookie_key) != 0) {
		sodium_memzero(cookie, sizeof(cookie));
		return (WG_ERR_DECRYPT);
	}
	memcpy(m->cookie, cookie, sizeof(m->cookie));
	m->cookie_birth = now;
	m->have_cookie = true;
	/* One reply per message sent: a second one is a replay. */
	m->have_last_mac1 = false;
	sodium_memzero(cookie, sizeof(cookie));
	return (WG_OK);
}

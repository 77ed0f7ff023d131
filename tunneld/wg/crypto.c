/*
 * Noise primitives for WireGuard.  libsodium has no BLAKE2s, so HASH, MAC
 * and the HMAC under HKDF use libb2.
 */

#include <string.h>

#include <blake2.h>
#include <sodium.h>

#include "tunneld/wg/crypto.h"

/* HASH(a || b): the only shape the handshake ever needs. */
void
wg_crypto_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
    const void *b, size_t blen)
{
	blake2s_state	 st;

	blake2s_init(&st, WG_HASH_LEN);
	blake2s_update(&st, a, alen);
	if (blen > 0)
		blake2s_update(&st, b, blen);
	blake2s_final(&st, out, WG_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* MAC(key, input): keyed BLAKE2s with a 16-byte output. */
void
wg_crypto_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen,
    const void *in, size_t inlen)
{
	blake2s(out, in, key, WG_MAC_LEN, inlen, keylen);
}

/* RFC 2104 HMAC over BLAKE2s; keys here are always 32 bytes. */
static void
wg_crypto_hmac(uint8_t out[WG_HASH_LEN], const uint8_t key[WG_HASH_LEN],
    const void *in1, size_t in1len, const void *in2, size_t in2len)
{
	blake2s_state	 st;
	uint8_t		 pad[BLAKE2S_BLOCKBYTES];
	uint8_t		 inner[WG_HASH_LEN];
	size_t		 i;

	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < WG_HASH_LEN; i++)
		pad[i] ^= key[i];
	blake2s_init(&st, WG_HASH_LEN);
	blake2s_update(&st, pad, sizeof(pad));
	blake2s_update(&st, in1, in1len);
	if (in2len > 0)
		blake2s_update(&st, in2, in2len);
	blake2s_final(&st, inner, sizeof(inner));

	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < WG_HASH_LEN; i++)
		pad[i] ^= key[i];
	blake2s_init(&st, WG_HASH_LEN);
	blake2s_update(&st, pad, sizeof(pad));
	blake2s_update(&st, inner, sizeof(inner));
	blake2s_final(&st, out, WG_HASH_LEN);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/*
 * KDFn(key, input) for n = 1..3: t1 is required, t2 and t3 may be NULL.
 * An output may alias key, so key is consumed before any output is
 * written.
 */
void
wg_crypto_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3,
    const uint8_t key[WG_HASH_LEN], const void *in, size_t inlen)
{
	uint8_t		 prk[WG_HASH_LEN];
	uint8_t		 t[WG_HASH_LEN];
	uint8_t		 ctr;

	wg_crypto_hmac(prk, key, in, inlen, NULL, 0);

	ctr = 1;
	wg_crypto_hmac(t, prk, &ctr, 1, NULL, 0);
	memcpy(t1, t, WG_HASH_LEN);
	if (t2 != NULL) {
		ctr = 2;
		wg_crypto_hmac(t, prk, t, WG_HASH_LEN, &ctr, 1);
		memcpy(t2, t, WG_HASH_LEN);
	}
	if (t3 != NULL) {
		ctr = 3;
		wg_crypto_hmac(t, prk, t, WG_HASH_LEN, &ctr, 1);
		memcpy(t3, t, WG_HASH_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

/* X25519; a low-order public key yields all zeros and is refused. */
int
wg_crypto_dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
    const uint8_t pub[WG_KEY_LEN])
{
	if (crypto_scalarmult(out, priv, pub) != 0) {
		sodium_memzero(out, WG_KEY_LEN);
		return (WG_ERR_KEY);
	}
	return (WG_OK);
}

static void
wg_crypto_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES],
    uint64_t counter)
{
	memset(nonce, 0, 4);
	wg_put_le64(nonce + 4, counter);
}

/* AEAD(key, counter, pt, ad): writes ptlen + 16 bytes to out. */
void
wg_crypto_seal(uint8_t *out, const uint8_t key[WG_KEY_LEN], uint64_t counter,
    const uint8_t *pt, size_t ptlen, const uint8_t *ad, size_t adlen)
{
	uint8_t		 nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	wg_crypto_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + ptlen,
	    NULL, pt, ptlen, ad, adlen, NULL, nonce, key);
}

/*
 * Verifies the tag of ctlen bytes (tag included) and only then decrypts
 * into out, which may alias ct.  On failure out is left untouched:
 * libsodium would zero it, destroying an in-place buffer the caller may
 * still want to look at.
 */
int
wg_crypto_open(uint8_t *out, const uint8_t key[WG_KEY_LEN], uint64_t counter,
    const uint8_t *ct, size_t ctlen, const uint8_t *ad, size_t adlen)
{
	uint8_t		 nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	size_t		 ptlen;

	if (ctlen < WG_TAG_LEN)
		return (WG_ERR_LENGTH);
	ptlen = ctlen - WG_TAG_LEN;
	wg_crypto_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(NULL, NULL,
	    ct, ptlen, ct + ptlen, ad, adlen, nonce, key) != 0)
		return (WG_ERR_DECRYPT);
	/* RFC 8439: the payload keystream starts at block 1. */
	if (ptlen > 0)
		crypto_stream_chacha20_ietf_xor_ic(out, ct, ptlen, nonce, 1,
		    key);
	return (WG_OK);
}

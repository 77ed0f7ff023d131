/*
 * The primitives of Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as the WireGuard
 * paper defines them: HASH, MAC, HMAC, HKDF, DH and the AEAD whose nonce
 * is a 64-bit little-endian counter.
 */

#ifndef FZC_WG_CRYPTO_H
#define FZC_WG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "tunneld/wg/wg.h"

void	wg_crypto_hash(uint8_t [WG_HASH_LEN], const void *, size_t,
	    const void *, size_t);
void	wg_crypto_mac(uint8_t [WG_MAC_LEN], const uint8_t *, size_t,
	    const void *, size_t);
void	wg_crypto_kdf(uint8_t *, uint8_t *, uint8_t *,
	    const uint8_t [WG_HASH_LEN], const void *, size_t);
int	wg_crypto_dh(uint8_t [WG_KEY_LEN], const uint8_t [WG_KEY_LEN],
	    const uint8_t [WG_KEY_LEN]);
void	wg_crypto_seal(uint8_t *, const uint8_t [WG_KEY_LEN], uint64_t,
	    const uint8_t *, size_t, const uint8_t *, size_t);
int	wg_crypto_open(uint8_t *, const uint8_t [WG_KEY_LEN], uint64_t,
	    const uint8_t *, size_t, const uint8_t *, size_t);

#endif /* FZC_WG_CRYPTO_H */

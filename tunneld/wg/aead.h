/*
 * The AEAD of transport data: ChaCha20-Poly1305 with WireGuard's nonce
 * (four zero bytes, then the 64-bit little-endian counter) and no
 * associated data, sealed and opened in place.  Any thread may call it;
 * each keeps cipher contexts of its own.
 */

#ifndef FZC_WG_AEAD_H
#define FZC_WG_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "tunneld/wg/wg.h"

int	wg_aead_init(void);
int	wg_aead_seal(uint8_t *, size_t, const uint8_t[WG_KEY_LEN], uint64_t);
int	wg_aead_open(uint8_t *, size_t, const uint8_t[WG_KEY_LEN], uint64_t);

#endif /* FZC_WG_AEAD_H */

/*
 * The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake of WireGuard:
 * message 1 (initiation), message 2 (response), and the transport keypair
 * derived from them.  Sans-IO: the caller supplies indices, times and
 * buffers, and sends what comes out.
 */

#ifndef FZC_WG_NOISE_H
#define FZC_WG_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunneld/wg/cookie.h"
#include "tunneld/wg/transport.h"
#include "tunneld/wg/wg.h"

struct wg_noise_identity {
	uint8_t		 private_key[WG_KEY_LEN];
	uint8_t		 public_key[WG_KEY_LEN];
	uint8_t		 mac1_key[WG_HASH_LEN];	/* checks mac1 sent to us */
	uint8_t		 hash_init[WG_HASH_LEN];	/* H0, messages to us */
};

enum wg_noise_state {
	WG_NOISE_ZEROED = 0,
	WG_NOISE_CREATED_INITIATION,
	WG_NOISE_CONSUMED_INITIATION
};

struct wg_noise_handshake {
	enum wg_noise_state	 state;
	uint32_t		 local_index;
	uint32_t		 remote_index;
	uint8_t			 ephemeral_private[WG_KEY_LEN];
	uint8_t			 remote_ephemeral[WG_KEY_LEN];
	uint8_t			 hash[WG_HASH_LEN];
	uint8_t			 chaining_key[WG_HASH_LEN];
};

struct wg_noise_peer {
	const struct wg_noise_identity	*local;
	uint8_t			 remote_static[WG_KEY_LEN];
	uint8_t			 psk[WG_KEY_LEN];
	uint8_t			 static_static[WG_KEY_LEN];
	uint8_t			 hash_init[WG_HASH_LEN];	/* H0 to peer */
	uint8_t			 latest_timestamp[WG_TIMESTAMP_LEN];
	uint64_t		 last_initiation_consumed;
	bool			 consumed_any;
	struct wg_cookie_maker	 cookie;
	struct wg_noise_handshake hs;
};

/* Finds the peer whose static public key a message 1 revealed. */
typedef struct wg_noise_peer *wg_noise_lookup_fn(void *,
    const uint8_t [WG_KEY_LEN]);

int	wg_noise_identity_new(struct wg_noise_identity **,
	    const uint8_t [WG_KEY_LEN]);
void	wg_noise_identity_free(struct wg_noise_identity *);
int	wg_noise_peer_new(struct wg_noise_peer **,
	    const struct wg_noise_identity *, const uint8_t [WG_KEY_LEN],
	    const uint8_t [WG_KEY_LEN]);
void	wg_noise_peer_free(struct wg_noise_peer *);
void	wg_noise_handshake_clear(struct wg_noise_handshake *);
void	wg_noise_tai64n(uint8_t [WG_TIMESTAMP_LEN], uint64_t);

int	wg_noise_create_initiation(struct wg_noise_peer *, uint32_t, uint64_t,
	    uint64_t, uint8_t [WG_INITIATION_LEN]);
int	wg_noise_consume_initiation(const struct wg_noise_identity *,
	    wg_noise_lookup_fn *, void *, const uint8_t *, size_t, uint64_t,
	    struct wg_noise_peer **);
int	wg_noise_create_response(struct wg_noise_peer *, uint32_t, uint64_t,
	    uint8_t [WG_RESPONSE_LEN], struct wg_keypair *);
int	wg_noise_consume_response(struct wg_noise_peer *, const uint8_t *,
	    size_t, uint64_t, struct wg_keypair *);
int	wg_noise_consume_cookie(struct wg_noise_peer *, const uint8_t *,
	    size_t, uint64_t);

#endif /* FZC_WG_NOISE_H */

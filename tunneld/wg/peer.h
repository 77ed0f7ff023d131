/*
 * One WireGuard peer: its handshake, up to three keypairs (previous,
 * current, and next, the one a responder holds until the initiator uses
 * it) and its timers.  A peer is owned by one thread; workers that
 * encrypt in parallel use wg_transport_*() on a keypair the owner
 * publishes to them and keeps alive until they are done with it.
 * Local indices are chosen by the caller, who maps them to peers; once a
 * rotation drops a keypair, its index simply stops matching.
 */

#ifndef FZC_WG_PEER_H
#define FZC_WG_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunneld/wg/noise.h"
#include "tunneld/wg/timers.h"
#include "tunneld/wg/transport.h"
#include "tunneld/wg/wg.h"

#define WG_PEER_SLOTS	3

struct wg_peer {
	struct wg_noise_peer	*noise;
	struct wg_timers	 timers;
	struct wg_keypair	 slots[WG_PEER_SLOTS];
	struct wg_keypair	*previous;
	struct wg_keypair	*current;
	struct wg_keypair	*next;
	uint64_t		 last_handshake;	/* 0: never */
};

/* Finds the peer whose static public key a message 1 revealed. */
typedef struct wg_peer *wg_peer_lookup_fn(void *, const uint8_t [WG_KEY_LEN]);

int	wg_peer_new(struct wg_peer **, const struct wg_noise_identity *,
	    const uint8_t [WG_KEY_LEN], const uint8_t [WG_KEY_LEN]);
void	wg_peer_free(struct wg_peer *);

int	wg_peer_create_initiation(struct wg_peer *, uint32_t, uint64_t,
	    uint64_t, uint8_t [WG_INITIATION_LEN]);
int	wg_peer_consume_initiation(const struct wg_noise_identity *,
	    wg_peer_lookup_fn *, void *, const uint8_t *, size_t, uint64_t,
	    struct wg_peer **);
int	wg_peer_create_response(struct wg_peer *, uint32_t, uint64_t,
	    uint8_t [WG_RESPONSE_LEN]);
int	wg_peer_consume_response(struct wg_peer *, const uint8_t *, size_t,
	    uint64_t);
int	wg_peer_consume_cookie(struct wg_peer *, const uint8_t *, size_t,
	    uint64_t);

int	wg_peer_encrypt(struct wg_peer *, const uint8_t *, size_t, size_t,
	    uint8_t *, size_t, uint64_t, size_t *, int *);
int	wg_peer_decrypt(struct wg_peer *, uint8_t *, size_t, uint64_t,
	    size_t *, int *);

int		wg_peer_expire(struct wg_peer *, uint64_t);
uint64_t	wg_peer_next_deadline(const struct wg_peer *);

#endif /* FZC_WG_PEER_H */

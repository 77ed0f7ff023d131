/*
 * Transport data messages (type 4) for one keypair.  Encryption and
 * wg_transport_open() may run on several threads at once for the same
 * keypair; the replay window (wg_replay_update(), wg_transport_decrypt())
 * belongs to one thread at a time.
 */

#ifndef FZC_WG_TRANSPORT_H
#define FZC_WG_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunneld/wg/replay.h"
#include "tunneld/wg/wg.h"

struct wg_keypair {
	uint8_t			 send_key[WG_KEY_LEN];
	uint8_t			 recv_key[WG_KEY_LEN];
	_Atomic uint64_t	 send_counter;
	struct wg_replay	 replay;
	uint64_t		 birth;		/* now at derivation */
	uint32_t		 local_index;
	uint32_t		 remote_index;
	bool			 initiator;
};

void	wg_transport_keypair_clear(struct wg_keypair *);
bool	wg_transport_expired(const struct wg_keypair *, uint64_t);
size_t	wg_transport_padded_len(size_t, size_t);
int	wg_transport_encrypt(struct wg_keypair *, const uint8_t *, size_t,
	    size_t, uint8_t *, size_t, uint64_t, size_t *);
int	wg_transport_open(const struct wg_keypair *, uint8_t *, size_t,
	    uint64_t, uint64_t *, size_t *);
int	wg_transport_decrypt(struct wg_keypair *, uint8_t *, size_t, uint64_t,
	    size_t *);

#endif /* FZC_WG_TRANSPORT_H */

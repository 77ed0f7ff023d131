/*
 * Session rotation and the glue between handshake, transport and timers.
 * The three keypair slots live inside the peer, in locked memory; a slot
 * that is dropped is wiped at once.
 */

#include <string.h>

#include <sodium.h>

#include "tunneld/wg/peer.h"

/*
 * psk may be NULL.  Timers start with the default attempt time and random
 * jitter; the caller may wg_timers_init() them again, e.g. for ICE.
 */
int
wg_peer_new(struct wg_peer **pp, const struct wg_noise_identity *id,
    const uint8_t remote[WG_KEY_LEN], const uint8_t psk[WG_KEY_LEN])
{
	struct wg_peer	*p;
	int		 error;

	if ((p = sodium_malloc(sizeof(*p))) == NULL)
		return (WG_ERR_NOSPACE);
	memset(p, 0, sizeof(*p));
	if ((error = wg_noise_peer_new(&p->noise, id, remote, psk)) != WG_OK) {
		sodium_free(p);
		return (error);
	}
	wg_timers_init(&p->timers, 0, 0, NULL, NULL);
	*pp = p;
	return (WG_OK);
}

void
wg_peer_free(struct wg_peer *p)
{
	if (p == NULL)
		return;
	wg_noise_peer_free(p->noise);
	sodium_free(p);
}

/* Wipes kp unless it is the slot a rotation is about to install. */
static void
wg_peer_release(struct wg_keypair *kp, const struct wg_keypair *keep)
{
	if (kp != NULL && kp != keep)
		wg_transport_keypair_clear(kp);
}

/*
 * A slot for a keypair about to be derived.  The current keypair survives
 * every rotation, so any other slot will do; an unused one is preferred.
 * The noise code writes the slot only once the handshake succeeded.
 */
static struct wg_keypair *
wg_peer_spare_slot(struct wg_peer *p)
{
	struct wg_keypair	*kp;
	int			 i;

	for (i = 0; i < WG_PEER_SLOTS; i++) {
		kp = &p->slots[i];
		if (kp != p->current && kp != p->previous && kp != p->next)
			return (kp);
	}
	for (i = 0; i < WG_PEER_SLOTS; i++) {
		kp = &p->slots[i];
		if (kp != p->current)
			return (kp);
	}
	return (NULL);
}

static struct wg_timers_session
wg_peer_session(const struct wg_keypair *kp)
{
	struct wg_timers_session	 s;

	s.birth = kp->birth;
	s.send_counter = atomic_load_explicit(&kp->send_counter,
	    memory_order_relaxed);
	s.initiator = kp->initiator;
	return (s);
}

int
wg_peer_create_initiation(struct wg_peer *p, uint32_t local_index,
    uint64_t wall_ns, uint64_t now, uint8_t out[WG_INITIATION_LEN])
{
	int	 error;

	error = wg_noise_create_initiation(p->noise, local_index, wall_ns, now,
	    out);
	if (error == WG_OK)
		wg_timers_event(&p->timers, WG_TIMERS_HANDSHAKE_INITIATED, now,
		    NULL);
	return (error);
}

struct wg_peer_lookup {
	wg_peer_lookup_fn	*fn;
	void			*arg;
	struct wg_peer		*found;
};

static struct wg_noise_peer *
wg_peer_noise_lookup(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer_lookup	*l = arg;

	l->found = l->fn(l->arg, pub);
	return (l->found != NULL ? l->found->noise : NULL);
}

int
wg_peer_consume_initiation(const struct wg_noise_identity *id,
    wg_peer_lookup_fn *lookup, void *arg, const uint8_t *msg, size_t len,
    uint64_t now, struct wg_peer **pp)
{
	struct wg_peer_lookup	 l = { lookup, arg, NULL };
	struct wg_noise_peer	*np;
	int			 error;

	error = wg_noise_consume_initiation(id, wg_peer_noise_lookup, &l, msg,
	    len, now, &np);
	if (error != WG_OK)
		return (error);
	wg_timers_event(&l.found->timers, WG_TIMERS_AUTH_RECEIVED, now, NULL);
	*pp = l.found;
	return (WG_OK);
}

/*
 * The responder's new keypair waits in "next" until the initiator uses
 * it; anything older than the current keypair is of no more use.
 */
int
wg_peer_create_response(struct wg_peer *p, uint32_t local_index,
    uint64_t now, uint8_t out[WG_RESPONSE_LEN])
{
	struct wg_keypair	*kp;
	int			 error;

	kp = wg_peer_spare_slot(p);
	error = wg_noise_create_response(p->noise, local_index, now, out, kp);
	if (error != WG_OK)
		return (error);
	wg_peer_release(p->previous, kp);
	wg_peer_release(p->next, kp);
	p->previous = NULL;
	p->next = kp;
	wg_timers_event(&p->timers, WG_TIMERS_SESSION_DERIVED, now, NULL);
	wg_timers_event(&p->timers, WG_TIMERS_AUTH_SENT, now, NULL);
	return (WG_OK);
}

/*
 * The initiator can use its new keypair at once.  An unconfirmed "next"
 * from a crossing handshake is dropped rather than kept: it was never
 * proven to be shared with the peer.
 */
int
wg_peer_consume_response(struct wg_peer *p, const uint8_t *msg, size_t len,
    uint64_t now)
{
	struct wg_keypair	*kp;
	int			 error;

	kp = wg_peer_spare_slot(p);
	error = wg_noise_consume_response(p->noise, msg, len, now, kp);
	if (error != WG_OK)
		return (error);
	wg_peer_release(p->next, kp);
	wg_peer_release(p->previous, kp);
	p->next = NULL;
	p->previous = p->current;
	p->current = kp;
	p->last_handshake = now;
	wg_timers_event(&p->timers, WG_TIMERS_AUTH_RECEIVED, now, NULL);
	wg_timers_event(&p->timers, WG_TIMERS_HANDSHAKE_COMPLETE, now, NULL);
	wg_timers_event(&p->timers, WG_TIMERS_SESSION_DERIVED, now, NULL);
	return (WG_OK);
}

/*
 * A cookie reply answers either our pending message 1 or, when the
 * initiator is under load, the message 2 that created "next".
 */
int
wg_peer_consume_cookie(struct wg_peer *p, const uint8_t *msg, size_t len,
    uint64_t now)
{
	if (len == WG_COOKIE_REPLY_LEN && p->next != NULL &&
	    wg_get_le32(msg + 4) == p->next->local_index)
		return (wg_cookie_consume_reply(&p->noise->cookie, msg, len,
		    now));
	return (wg_noise_consume_cookie(p->noise, msg, len, now));
}

/*
 * Seals a packet (len 0: a keepalive) with the current keypair.  Without
 * a usable one it returns WG_ERR_NO_SESSION: the caller queues the packet
 * and carries out *actions, which may ask for a handshake.
 */
int
wg_peer_encrypt(struct wg_peer *p, const uint8_t *payload, size_t len,
    size_t mtu, uint8_t *out, size_t outsize, uint64_t now, size_t *outlen,
    int *actions)
{
	struct wg_timers_session s;
	int			 error;

	*actions = 0;
	if (p->current == NULL)
		error = WG_ERR_NO_SESSION;
	else
		error = wg_transport_encrypt(p->current, payload, len, mtu, out,
		    outsize, now, outlen);
	if (error == WG_ERR_NO_SESSION || error == WG_ERR_EXPIRED ||
	    error == WG_ERR_EXHAUSTED) {
		*actions = wg_timers_event(&p->timers,
		    WG_TIMERS_WANT_HANDSHAKE, now, NULL);
		return (WG_ERR_NO_SESSION);
	}
	if (error != WG_OK)
		return (error);
	s = wg_peer_session(p->current);
	*actions = wg_timers_event(&p->timers, len == 0 ?
	    WG_TIMERS_KEEPALIVE_SENT : WG_TIMERS_DATA_SENT, now, &s);
	return (WG_OK);
}

static struct wg_keypair *
wg_peer_find(struct wg_peer *p, uint32_t index)
{
	if (p->current != NULL && p->current->local_index == index)
		return (p->current);
	if (p->next != NULL && p->next->local_index == index)
		return (p->next);
	if (p->previous != NULL && p->previous->local_index == index)
		return (p->previous);
	return (NULL);
}

/*
 * Opens a transport message addressed to one of the peer's keypairs.  The
 * first packet on "next" proves the initiator holds it: it becomes
 * current and the handshake is complete on this side too.
 */
int
wg_peer_decrypt(struct wg_peer *p, uint8_t *msg, size_t len, uint64_t now,
    size_t *plainlen, int *actions)
{
	struct wg_timers_session s;
	struct wg_keypair	*kp;
	size_t			 plain;
	int			 error;

	*actions = 0;
	if (len < WG_TRANSPORT_MIN_LEN)
		return (WG_ERR_LENGTH);
	if (wg_get_le32(msg) != WG_MSG_TRANSPORT)
		return (WG_ERR_TYPE);
	if ((kp = wg_peer_find(p, wg_get_le32(msg + 4))) == NULL)
		return (WG_ERR_UNKNOWN_INDEX);
	if ((error = wg_transport_decrypt(kp, msg, len, now, &plain)) != WG_OK)
		return (error);

	if (kp == p->next) {
		wg_peer_release(p->previous, NULL);
		p->previous = p->current;
		p->current = kp;
		p->next = NULL;
		p->last_handshake = now;
		wg_timers_event(&p->timers, WG_TIMERS_HANDSHAKE_COMPLETE, now,
		    NULL);
	}
	s = wg_peer_session(p->current);
	*actions = wg_timers_event(&p->timers, plain == 0 ?
	    WG_TIMERS_AUTH_RECEIVED : WG_TIMERS_DATA_RECEIVED, now, &s);
	*plainlen = plain;
	return (WG_OK);
}

/* Runs due timers; zeroing keys is done here, the rest is the caller's. */
int
wg_peer_expire(struct wg_peer *p, uint64_t now)
{
	int	 actions, i;

	actions = wg_timers_expire(&p->timers, now);
	if (actions & WG_TIMERS_ZERO_KEYS) {
		for (i = 0; i < WG_PEER_SLOTS; i++)
			wg_transport_keypair_clear(&p->slots[i]);
		p->previous = p->current = p->next = NULL;
		wg_noise_handshake_clear(&p->noise->hs);
	}
	return (actions);
}

uint64_t
wg_peer_next_deadline(const struct wg_peer *p)
{
	return (wg_timers_next_deadline(&p->timers));
}

/*
 * Transport data: 16-byte header {type 4, receiver, counter}, then the
 * padded payload sealed with ChaCha20-Poly1305 using the counter as nonce.
 */

#include <string.h>

#include <sodium.h>

#include "tunneld/wg/aead.h"
#include "tunneld/wg/transport.h"

void
wg_transport_keypair_clear(struct wg_keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

bool
wg_transport_expired(const struct wg_keypair *kp, uint64_t now)
{
	return (wg_elapsed(now, kp->birth) >= WG_REJECT_AFTER_TIME);
}

/*
 * Payload length after padding to a multiple of 16, but never beyond mtu
 * (0: no limit) so that a full-sized packet does not outgrow the path.
 */
size_t
wg_transport_padded_len(size_t len, size_t mtu)
{
	size_t	 padded;

	padded = (len + 15) & ~(size_t)15;
	if (mtu != 0 && padded > mtu)
		padded = len > mtu ? len : mtu;
	return (padded);
}

/*
 * Seals len bytes of payload into out (outsize bytes) and stores the
 * message length in *outlen.  payload may already sit at out + 16, which
 * lets a worker read a packet straight into its send buffer.  An empty
 * payload is a keepalive.
 */
int
wg_transport_encrypt(struct wg_keypair *kp, const uint8_t *payload,
    size_t len, size_t mtu, uint8_t *out, size_t outsize, uint64_t now,
    size_t *outlen)
{
	uint64_t	 counter;
	size_t		 padded;
	int		 error;

	padded = wg_transport_padded_len(len, mtu);
	if (outsize < WG_TRANSPORT_OVERHEAD ||
	    padded > outsize - WG_TRANSPORT_OVERHEAD)
		return (WG_ERR_NOSPACE);
	if (wg_transport_expired(kp, now))
		return (WG_ERR_EXPIRED);
	/*
	 * tunneld seals a peer's packets under its send lock, so that their
	 * counters leave in order; the fetch-add keeps this function safe
	 * without it.  Checking first keeps an exhausted counter from ever
	 * wrapping: the 2^13 slack absorbs racing callers.
	 */
	if (atomic_load_explicit(&kp->send_counter, memory_order_relaxed) >=
	    WG_REJECT_AFTER_MESSAGES)
		return (WG_ERR_EXHAUSTED);
	counter = atomic_fetch_add_explicit(&kp->send_counter, 1,
	    memory_order_relaxed);
	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return (WG_ERR_EXHAUSTED);

	if (payload != out + WG_TRANSPORT_HDR_LEN && len > 0)
		memmove(out + WG_TRANSPORT_HDR_LEN, payload, len);
	memset(out + WG_TRANSPORT_HDR_LEN + len, 0, padded - len);
	wg_put_le32(out, WG_MSG_TRANSPORT);
	wg_put_le32(out + 4, kp->remote_index);
	wg_put_le64(out + 8, counter);
	error = wg_aead_seal(out + WG_TRANSPORT_HDR_LEN, padded, kp->send_key,
	    counter);
	if (error != WG_OK)
		return (error);
	*outlen = WG_TRANSPORT_OVERHEAD + padded;
	return (WG_OK);
}

/*
 * Authenticates and decrypts msg in place, leaving the plaintext at
 * msg + 16 and its (padded) length in *plainlen, the counter in *counter.
 * It does not look at the replay window, so workers can run it in
 * parallel; whoever owns the window then calls wg_replay_update() with
 * the counter, and drops the packet if that fails.  On failure msg is
 * left as it was.
 */
int
wg_transport_open(const struct wg_keypair *kp, uint8_t *msg, size_t len,
    uint64_t now, uint64_t *counter, size_t *plainlen)
{
	uint64_t	 c;
	int		 error;

	if (len < WG_TRANSPORT_MIN_LEN)
		return (WG_ERR_LENGTH);
	if (wg_get_le32(msg) != WG_MSG_TRANSPORT)
		return (WG_ERR_TYPE);
	if (wg_get_le32(msg + 4) != kp->local_index)
		return (WG_ERR_UNKNOWN_INDEX);
	if (wg_transport_expired(kp, now))
		return (WG_ERR_EXPIRED);
	c = wg_get_le64(msg + 8);
	if (c >= WG_REJECT_AFTER_MESSAGES)
		return (WG_ERR_REPLAY);
	error = wg_aead_open(msg + WG_TRANSPORT_HDR_LEN,
	    len - WG_TRANSPORT_HDR_LEN, kp->recv_key, c);
	if (error != WG_OK)
		return (error);
	*counter = c;
	*plainlen = len - WG_TRANSPORT_OVERHEAD;
	return (WG_OK);
}

/*
 * Single-threaded receive: a cheap replay check first, so that replayed
 * packets cost no AEAD, then wg_transport_open() and the window update.
 */
int
wg_transport_decrypt(struct wg_keypair *kp, uint8_t *msg, size_t len,
    uint64_t now, size_t *plainlen)
{
	uint64_t	 counter;
	size_t		 plain;
	int		 error;

	if (len >= WG_TRANSPORT_MIN_LEN &&
	    !wg_replay_acceptable(&kp->replay, wg_get_le64(msg + 8)))
		return (WG_ERR_REPLAY);
	error = wg_transport_open(kp, msg, len, now, &counter, &plain);
	if (error != WG_OK)
		return (error);
	error = wg_replay_update(&kp->replay, counter);
	if (error != WG_OK)
		return (error);
	*plainlen = plain;
	return (WG_OK);
}

/*
 * Noise_IKpsk2 handshake, following section 5.4 of the WireGuard paper.
 * Every consume function works on local copies of the chaining key and
 * hash and commits to the peer only once the whole message checked out,
 * so a rejected message leaves no trace.  Temporaries holding secrets are
 * wiped on every path out.
 */

#include <string.h>

#include <sodium.h>

#include "tunneld/wg/crypto.h"
#include "tunneld/wg/noise.h"

#define WG_CONSTRUCTION		"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_IDENTIFIER		"WireGuard v1 zx2c4 Jason@zx2c4.com"

/* TAI64 label of the Unix epoch, as WireGuard encodes it. */
#define WG_TAI64_EPOCH		0x400000000000000aULL
/* Timestamps are rounded down to 2^24 ns (~17 ms): no fine timing leaks. */
#define WG_TAI64N_GRAIN		(1U << 24)

/* Message 1 layout. */
#define INIT_SENDER		4
#define INIT_EPHEMERAL		8
#define INIT_STATIC		40
#define INIT_TIMESTAMP		88
/* Message 2 layout. */
#define RESP_SENDER		4
#define RESP_RECEIVER		8
#define RESP_EPHEMERAL		12
#define RESP_EMPTY		44
/* Message 3 layout. */
#define COOKIE_RECEIVER		4

/* Secrets of one message computation, wiped as a block. */
struct wg_noise_tmp {
	uint8_t		 ck[WG_HASH_LEN];
	uint8_t		 h[WG_HASH_LEN];
	uint8_t		 key[WG_KEY_LEN];
	uint8_t		 dh[WG_KEY_LEN];
	uint8_t		 tau[WG_HASH_LEN];
	uint8_t		 eph[WG_KEY_LEN];
	uint8_t		 eph_pub[WG_KEY_LEN];
	uint8_t		 remote_static[WG_KEY_LEN];
	uint8_t		 timestamp[WG_TIMESTAMP_LEN];
};

/* Ci = HASH(CONSTRUCTION), Hi = HASH(HASH(Ci || IDENTIFIER) || pub) */
static void
wg_noise_init_ck(uint8_t ck[WG_HASH_LEN])
{
	wg_crypto_hash(ck, WG_CONSTRUCTION, sizeof(WG_CONSTRUCTION) - 1,
	    NULL, 0);
}

static void
wg_noise_init_hash(uint8_t h[WG_HASH_LEN], const uint8_t pub[WG_KEY_LEN])
{
	uint8_t		 ck[WG_HASH_LEN];

	wg_noise_init_ck(ck);
	wg_crypto_hash(h, ck, sizeof(ck), WG_IDENTIFIER,
	    sizeof(WG_IDENTIFIER) - 1);
	wg_crypto_hash(h, h, WG_HASH_LEN, pub, WG_KEY_LEN);
}

static void
wg_noise_mix_hash(uint8_t h[WG_HASH_LEN], const uint8_t *in, size_t len)
{
	wg_crypto_hash(h, h, WG_HASH_LEN, in, len);
}

/* Ci = KDF1(Ci, in) */
static void
wg_noise_mix_key(uint8_t ck[WG_HASH_LEN], const uint8_t *in, size_t len)
{
	wg_crypto_kdf(ck, NULL, NULL, ck, in, len);
}

/* (Ci, k) = KDF2(Ci, DH(priv, pub)) */
static int
wg_noise_mix_dh(struct wg_noise_tmp *t, const uint8_t priv[WG_KEY_LEN],
    const uint8_t pub[WG_KEY_LEN])
{
	if (wg_crypto_dh(t->dh, priv, pub) != WG_OK)
		return (WG_ERR_KEY);
	wg_crypto_kdf(t->ck, t->key, NULL, t->ck, t->dh, sizeof(t->dh));
	return (WG_OK);
}

static void
wg_noise_derive(struct wg_keypair *kp, const uint8_t ck[WG_HASH_LEN],
    bool initiator, uint32_t local, uint32_t remote, uint64_t now)
{
	memset(kp, 0, sizeof(*kp));
	if (initiator)
		wg_crypto_kdf(kp->send_key, kp->recv_key, NULL, ck, NULL, 0);
	else
		wg_crypto_kdf(kp->recv_key, kp->send_key, NULL, ck, NULL, 0);
	atomic_init(&kp->send_counter, 0);
	wg_replay_init(&kp->replay);
	kp->birth = now;
	kp->local_index = local;
	kp->remote_index = remote;
	kp->initiator = initiator;
}

/*
 * Identities and peers hold long-term secrets, so they live in
 * sodium_malloc() memory: locked against swapping, guarded, and wiped
 * when freed.
 */
int
wg_noise_identity_new(struct wg_noise_identity **idp,
    const uint8_t private_key[WG_KEY_LEN])
{
	struct wg_noise_identity *id;

	if ((id = sodium_malloc(sizeof(*id))) == NULL)
		return (WG_ERR_NOSPACE);
	memcpy(id->private_key, private_key, WG_KEY_LEN);
	if (crypto_scalarmult_base(id->public_key, id->private_key) != 0) {
		sodium_free(id);
		return (WG_ERR_KEY);
	}
	wg_cookie_mac1_key(id->mac1_key, id->public_key);
	wg_noise_init_hash(id->hash_init, id->public_key);
	*idp = id;
	return (WG_OK);
}

void
wg_noise_identity_free(struct wg_noise_identity *id)
{
	if (id != NULL)
		sodium_free(id);
}

/* psk may be NULL for "no preshared key", which Noise treats as zeros. */
int
wg_noise_peer_new(struct wg_noise_peer **peerp,
    const struct wg_noise_identity *id, const uint8_t remote[WG_KEY_LEN],
    const uint8_t psk[WG_KEY_LEN])
{
	struct wg_noise_peer *p;

	if ((p = sodium_malloc(sizeof(*p))) == NULL)
		return (WG_ERR_NOSPACE);
	memset(p, 0, sizeof(*p));
	p->local = id;
	memcpy(p->remote_static, remote, WG_KEY_LEN);
	if (psk != NULL)
		memcpy(p->psk, psk, WG_KEY_LEN);
	/* A low-order remote key would make every DH with it zero. */
	if (wg_crypto_dh(p->static_static, id->private_key, remote) != WG_OK) {
		sodium_free(p);
		return (WG_ERR_KEY);
	}
	wg_noise_init_hash(p->hash_init, remote);
	wg_cookie_maker_init(&p->cookie, remote);
	*peerp = p;
	return (WG_OK);
}

void
wg_noise_peer_free(struct wg_noise_peer *p)
{
	if (p != NULL)
		sodium_free(p);
}

void
wg_noise_handshake_clear(struct wg_noise_handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

/* TAI64N of a CLOCK_REALTIME reading in nanoseconds, big-endian. */
void
wg_noise_tai64n(uint8_t out[WG_TIMESTAMP_LEN], uint64_t wall_ns)
{
	uint64_t	 sec;
	uint32_t	 nsec;
	int		 i;

	sec = WG_TAI64_EPOCH + wall_ns / NSEC_PER_SEC;
	nsec = (uint32_t)(wall_ns % NSEC_PER_SEC);
	nsec -= nsec % WG_TAI64N_GRAIN;
	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)sec;
		sec >>= 8;
	}
	for (i = 11; i >= 8; i--) {
		out[i] = (uint8_t)nsec;
		nsec >>= 8;
	}
}

/*
 * Builds message 1 for peer p into out.  local_index is the index the
 * caller registered for this handshake; wall_ns is the realtime clock
 * used for the replay-protecting timestamp; now the monotonic clock.
 */
int
wg_noise_create_initiation(struct wg_noise_peer *p, uint32_t local_index,
    uint64_t wall_ns, uint64_t now, uint8_t out[WG_INITIATION_LEN])
{
	struct wg_noise_tmp	 t;
	int			 error;

	wg_noise_init_ck(t.ck);
	memcpy(t.h, p->hash_init, WG_HASH_LEN);
	crypto_box_keypair(t.eph_pub, t.eph);

	memset(out, 0, WG_INITIATION_LEN);
	wg_put_le32(out, WG_MSG_INITIATION);
	wg_put_le32(out + INIT_SENDER, local_index);
	memcpy(out + INIT_EPHEMERAL, t.eph_pub, WG_KEY_LEN);
	wg_noise_mix_key(t.ck, t.eph_pub, WG_KEY_LEN);
	wg_noise_mix_hash(t.h, t.eph_pub, WG_KEY_LEN);

	if ((error = wg_noise_mix_dh(&t, t.eph, p->remote_static)) != WG_OK)
		goto out;
	wg_crypto_seal(out + INIT_STATIC, t.key, 0, p->local->public_key,
	    WG_KEY_LEN, t.h, WG_HASH_LEN);
	wg_noise_mix_hash(t.h, out + INIT_STATIC, WG_KEY_LEN + WG_TAG_LEN);

	wg_crypto_kdf(t.ck, t.key, NULL, t.ck, p->static_static, WG_KEY_LEN);
	wg_noise_tai64n(t.timestamp, wall_ns);
	wg_crypto_seal(out + INIT_TIMESTAMP, t.key, 0, t.timestamp,
	    WG_TIMESTAMP_LEN, t.h, WG_HASH_LEN);
	wg_noise_mix_hash(t.h, out + INIT_TIMESTAMP,
	    WG_TIMESTAMP_LEN + WG_TAG_LEN);

	wg_cookie_add_macs(&p->cookie, out, WG_INITIATION_LEN, now);

	wg_noise_handshake_clear(&p->hs);
	p->hs.state = WG_NOISE_CREATED_INITIATION;
	p->hs.local_index = local_index;
	memcpy(p->hs.ephemeral_private, t.eph, WG_KEY_LEN);
	memcpy(p->hs.hash, t.h, WG_HASH_LEN);
	memcpy(p->hs.chaining_key, t.ck, WG_HASH_LEN);
out:
	sodium_memzero(&t, sizeof(t));
	return (error);
}

/*
 * Responder side of message 1.  The sender's static key, once decrypted,
 * is handed to lookup to find its peer, stored in *peerp on success.
 * The peer's handshake then holds what wg_noise_create_response() needs.
 */
int
wg_noise_consume_initiation(const struct wg_noise_identity *id,
    wg_noise_lookup_fn *lookup, void *arg, const uint8_t *msg, size_t len,
    uint64_t now, struct wg_noise_peer **peerp)
{
	struct wg_noise_tmp	 t;
	struct wg_noise_peer	*p;
	const uint8_t		*eph = msg + INIT_EPHEMERAL;
	int			 error;

	if (len != WG_INITIATION_LEN)
		return (WG_ERR_LENGTH);
	if (wg_get_le32(msg) != WG_MSG_INITIATION)
		return (WG_ERR_TYPE);
	if (!wg_cookie_mac1_valid(id->mac1_key, msg, len))
		return (WG_ERR_MAC1);

	wg_noise_init_ck(t.ck);
	memcpy(t.h, id->hash_init, WG_HASH_LEN);
	wg_noise_mix_key(t.ck, eph, WG_KEY_LEN);
	wg_noise_mix_hash(t.h, eph, WG_KEY_LEN);

	if ((error = wg_noise_mix_dh(&t, id->private_key, eph)) != WG_OK)
		goto out;
	error = wg_crypto_open(t.remote_static, t.key, 0, msg + INIT_STATIC,
	    WG_KEY_LEN + WG_TAG_LEN, t.h, WG_HASH_LEN);
	if (error != WG_OK)
		goto out;
	wg_noise_mix_hash(t.h, msg + INIT_STATIC, WG_KEY_LEN + WG_TAG_LEN);

	p = lookup(arg, t.remote_static);
	if (p == NULL || p->local != id) {
		error = WG_ERR_UNKNOWN_PEER;
		goto out;
	}

	wg_crypto_kdf(t.ck, t.key, NULL, t.ck, p->static_static, WG_KEY_LEN);
	error = wg_crypto_open(t.timestamp, t.key, 0, msg + INIT_TIMESTAMP,
	    WG_TIMESTAMP_LEN + WG_TAG_LEN, t.h, WG_HASH_LEN);
	if (error != WG_OK)
		goto out;
	wg_noise_mix_hash(t.h, msg + INIT_TIMESTAMP,
	    WG_TIMESTAMP_LEN + WG_TAG_LEN);

	/* Big-endian TAI64N compares as bytes; equal is a replay too. */
	if (memcmp(t.timestamp, p->latest_timestamp, WG_TIMESTAMP_LEN) <= 0) {
		error = WG_ERR_TIMESTAMP;
		goto out;
	}
	if (p->consumed_any && wg_elapsed(now, p->last_initiation_consumed) <
	    NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND) {
		error = WG_ERR_FLOOD;
		goto out;
	}

	memcpy(p->latest_timestamp, t.timestamp, WG_TIMESTAMP_LEN);
	p->last_initiation_consumed = now;
	p->consumed_any = true;
	wg_noise_handshake_clear(&p->hs);
	p->hs.state = WG_NOISE_CONSUMED_INITIATION;
	p->hs.remote_index = wg_get_le32(msg + INIT_SENDER);
	memcpy(p->hs.remote_ephemeral, eph, WG_KEY_LEN);
	memcpy(p->hs.hash, t.h, WG_HASH_LEN);
	memcpy(p->hs.chaining_key, t.ck, WG_HASH_LEN);
	*peerp = p;
out:
	sodium_memzero(&t, sizeof(t));
	return (error);
}

/*
 * The part of message 2 both sides compute alike: from the responder's
 * ephemeral public key to the empty AEAD's key (t->key) and the psk mix.
 * dh1 is DH(e_r, e_i) and dh2 DH(e_r, s_i), seen from either side.
 */
static int
wg_noise_response_keys(struct wg_noise_tmp *t, const uint8_t *eph_pub,
    const uint8_t priv1[WG_KEY_LEN], const uint8_t pub1[WG_KEY_LEN],
    const uint8_t priv2[WG_KEY_LEN], const uint8_t pub2[WG_KEY_LEN],
    const uint8_t psk[WG_KEY_LEN])
{
	wg_noise_mix_key(t->ck, eph_pub, WG_KEY_LEN);
	wg_noise_mix_hash(t->h, eph_pub, WG_KEY_LEN);
	if (wg_crypto_dh(t->dh, priv1, pub1) != WG_OK)
		return (WG_ERR_KEY);
	wg_noise_mix_key(t->ck, t->dh, WG_KEY_LEN);
	if (wg_crypto_dh(t->dh, priv2, pub2) != WG_OK)
		return (WG_ERR_KEY);
	wg_noise_mix_key(t->ck, t->dh, WG_KEY_LEN);
	wg_crypto_kdf(t->ck, t->tau, t->key, t->ck, psk, WG_KEY_LEN);
	wg_noise_mix_hash(t->h, t->tau, WG_HASH_LEN);
	return (WG_OK);
}

/*
 * Builds message 2 after wg_noise_consume_initiation() and derives the
 * responder's keypair into kp.  The keypair must not be used to send
 * until the initiator has proven it has it too (first data received).
 */
int
wg_noise_create_response(struct wg_noise_peer *p, uint32_t local_index,
    uint64_t now, uint8_t out[WG_RESPONSE_LEN], struct wg_keypair *kp)
{
	struct wg_noise_tmp	 t;
	int			 error;

	if (p->hs.state != WG_NOISE_CONSUMED_INITIATION)
		return (WG_ERR_STATE);
	memcpy(t.ck, p->hs.chaining_key, WG_HASH_LEN);
	memcpy(t.h, p->hs.hash, WG_HASH_LEN);
	crypto_box_keypair(t.eph_pub, t.eph);

	memset(out, 0, WG_RESPONSE_LEN);
	wg_put_le32(out, WG_MSG_RESPONSE);
	wg_put_le32(out + RESP_SENDER, local_index);
	wg_put_le32(out + RESP_RECEIVER, p->hs.remote_index);
	memcpy(out + RESP_EPHEMERAL, t.eph_pub, WG_KEY_LEN);
	error = wg_noise_response_keys(&t, t.eph_pub, t.eph,
	    p->hs.remote_ephemeral, t.eph, p->remote_static, p->psk);
	if (error != WG_OK)
		goto out;
	wg_crypto_seal(out + RESP_EMPTY, t.key, 0, NULL, 0, t.h, WG_HASH_LEN);
	wg_noise_mix_hash(t.h, out + RESP_EMPTY, WG_TAG_LEN);
	wg_cookie_add_macs(&p->cookie, out, WG_RESPONSE_LEN, now);

	wg_noise_derive(kp, t.ck, false, local_index, p->hs.remote_index, now);
	wg_noise_handshake_clear(&p->hs);
out:
	sodium_memzero(&t, sizeof(t));
	return (error);
}

/*
 * Initiator side of message 2, for the peer the caller found by the
 * receiver index.  On success the handshake is over and kp holds the
 * initiator's keypair, usable at once.
 */
int
wg_noise_consume_response(struct wg_noise_peer *p, const uint8_t *msg,
    size_t len, uint64_t now, struct wg_keypair *kp)
{
	struct wg_noise_tmp	 t;
	const uint8_t		*eph = msg + RESP_EPHEMERAL;
	int			 error;

	if (len != WG_RESPONSE_LEN)
		return (WG_ERR_LENGTH);
	if (wg_get_le32(msg) != WG_MSG_RESPONSE)
		return (WG_ERR_TYPE);
	if (!wg_cookie_mac1_valid(p->local->mac1_key, msg, len))
		return (WG_ERR_MAC1);
	if (p->hs.state != WG_NOISE_CREATED_INITIATION ||
	    wg_get_le32(msg + RESP_RECEIVER) != p->hs.local_index)
		return (WG_ERR_UNKNOWN_INDEX);

	memcpy(t.ck, p->hs.chaining_key, WG_HASH_LEN);
	memcpy(t.h, p->hs.hash, WG_HASH_LEN);
	error = wg_noise_response_keys(&t, eph, p->hs.ephemeral_private, eph,
	    p->local->private_key, eph, p->psk);
	if (error != WG_OK)
		goto out;
	error = wg_crypto_open(NULL, t.key, 0, msg + RESP_EMPTY, WG_TAG_LEN,
	    t.h, WG_HASH_LEN);
	if (error != WG_OK)
		goto out;
	wg_noise_mix_hash(t.h, msg + RESP_EMPTY, WG_TAG_LEN);

	wg_noise_derive(kp, t.ck, true, p->hs.local_index,
	    wg_get_le32(msg + RESP_SENDER), now);
	wg_noise_handshake_clear(&p->hs);
out:
	sodium_memzero(&t, sizeof(t));
	return (error);
}

/* A cookie reply to our pending message 1: keep the cookie for mac2. */
int
wg_noise_consume_cookie(struct wg_noise_peer *p, const uint8_t *msg,
    size_t len, uint64_t now)
{
	if (len != WG_COOKIE_REPLY_LEN)
		return (WG_ERR_LENGTH);
	if (wg_get_le32(msg) != WG_MSG_COOKIE_REPLY)
		return (WG_ERR_TYPE);
	if (p->hs.state != WG_NOISE_CREATED_INITIATION ||
	    wg_get_le32(msg + COOKIE_RECEIVER) != p->hs.local_index)
		return (WG_ERR_UNKNOWN_INDEX);
	return (wg_cookie_consume_reply(&p->cookie, msg, len, now));
}

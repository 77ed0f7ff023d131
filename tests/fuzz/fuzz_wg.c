/*
 * fuzz_wg: WireGuard message handling before authentication.  We are
 * identity A with one peer B; both sides are real (fixed keys), so the
 * harness can make genuine messages and mutate them.  Records (see
 * fuzz.h), by op & 7:
 *
 *   0  raw bytes to wg_message_classify(), wg_noise_consume_initiation(),
 *      _consume_response() (A has an initiation out), _consume_cookie(),
 *      wg_cookie_validate() and wg_transport_open()/_decrypt() on a fixed
 *      keypair.  Bit 3: recompute mac1 for A; bit 4: put in the receiver
 *      index A expects; bit 5: validate as under load.
 *   1  B's genuine initiation (sender index and timestamp from the first
 *      12 data bytes), mutated by the (offset, xor) pairs that follow,
 *      with macs recomputed (bit 3); then A's cookie check (under load
 *      with bit 4) and consume_initiation(); if accepted, A's response,
 *      mutated likewise with bit 5, goes to B, and a transport message
 *      from B must decrypt at A.
 *   2  B under load answers A's initiation with a cookie reply, mutated
 *      by the pairs in the data; A consumes it.  If the unmutated reply
 *      was taken, A's next initiation must pass B's check under load.
 *   3  a transport message sealed for the fixed keypair with the counter
 *      in the first 8 data bytes (LE) and the rest as payload; bit 3 flips
 *      one bit.  Unmutated and not a replay, it must decrypt.
 *   4  time passes: two data bytes, in ms (bit 3 clear) or s.
 *
 * libsodium's random source is replaced by a seeded one, so that every
 * input replays exactly.
 */
#include "tunneld/wg/wg.c"
#include "tunneld/wg/crypto.c"
#include "tunneld/wg/aead.c"
#include "tunneld/wg/replay.c"
#include "tunneld/wg/transport.c"
#include "tunneld/wg/cookie.c"
#include "tunneld/wg/noise.c"

#include "tests/fuzz/fuzz.h"

#define IDX_A		0x0a0a0a01U	/* A's index for its initiation */
#define IDX_KP		0x11223344U	/* the fixed keypair's local index */
#define WALL_BASE	(1700000000ULL * NSEC_PER_SEC)

static struct fuzz_rng			 rng;
static struct wg_noise_identity		*id_a, *id_b;
static struct wg_noise_peer		*peer_ab, *peer_ba;	/* X's view of Y */
static struct wg_noise_peer		 tmpl_ab, tmpl_ba;
static struct wg_cookie_checker		 checker_a, checker_b;
static struct wg_keypair		 kp_rx;
static uint8_t				 init_a[WG_INITIATION_LEN];
static uint64_t				 now;

static const uint8_t	 src_addr[18] = { 192, 0, 2, 1, 0xca, 0x6c };
static const uint8_t	 kp_key[WG_KEY_LEN] = { 0x4b, 0x50, [31] = 0x01 };

/* A seeded random source: sodium's callbacks. */
static const char *
rb_name(void)
{
	return ("fuzz");
}

static uint32_t
rb_random(void)
{
	return ((uint32_t)fuzz_rng_u64(&rng));
}

static void
rb_buf(void *const buf, const size_t size)
{
	fuzz_rng_fill(&rng, buf, size);
}

static struct randombytes_implementation rb_impl = {
	.implementation_name = rb_name,
	.random = rb_random,
	.buf = rb_buf,
};

static struct wg_noise_peer *
lookup(void *arg, const uint8_t key[WG_KEY_LEN])
{
	(void)arg;
	return (memcmp(key, id_b->public_key, WG_KEY_LEN) == 0 ? peer_ab :
	    NULL);
}

/* Returns whether any byte changed. */
static bool
mutate(uint8_t *msg, size_t len, const uint8_t *pairs, size_t n)
{
	size_t	 i;
	bool	 changed = false;

	for (i = 0; i + 1 < n; i += 2) {
		msg[pairs[i] % len] ^= pairs[i + 1];
		changed |= pairs[i + 1] != 0;
	}
	return (changed);
}

static void
fix_mac1(uint8_t *msg, size_t len)
{
	if (len >= 2 * WG_MAC_LEN)
		wg_crypto_mac(msg + WG_MAC1_OFF(len), id_a->mac1_key,
		    WG_HASH_LEN, msg, WG_MAC1_OFF(len));
}

/* B seals payload for A under kp (B's side of A's kp_a). */
static void
check_transport(struct wg_keypair *kp_b, struct wg_keypair *kp_a,
    const uint8_t *payload, size_t len)
{
	uint8_t		 buf[WG_TRANSPORT_OVERHEAD + 256 + 16];
	size_t		 outlen, plain;

	if (len > 256)
		len = 256;
	FUZZ_ASSERT(wg_transport_encrypt(kp_b, payload, len, 0, buf,
	    sizeof(buf), now, &outlen) == WG_OK);
	FUZZ_ASSERT(wg_transport_decrypt(kp_a, buf, outlen, now, &plain) ==
	    WG_OK);
	FUZZ_ASSERT(plain >= len && memcmp(buf + WG_TRANSPORT_HDR_LEN,
	    payload, len) == 0);
	/* The same message again is a replay. */
	FUZZ_ASSERT(wg_transport_decrypt(kp_a, buf, outlen, now, &plain) ==
	    WG_ERR_REPLAY);
}

static void
op_raw(const struct fuzz_rec *r)
{
	struct wg_noise_peer	*p = NULL;
	struct wg_keypair	 kp;
	uint8_t			*m, *m2;
	uint64_t		 counter;
	size_t			 len = r->len, plain;
	uint32_t		 receiver;
	int			 type, rv;

	if ((m = malloc(len > 0 ? len : 1)) == NULL ||
	    (m2 = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(m, r->data, len);
	type = wg_message_classify(m, len, &receiver);
	FUZZ_ASSERT(type < 0 || (type >= WG_MSG_INITIATION &&
	    type <= WG_MSG_TRANSPORT));
	if ((r->op & 8) &&
	    (len == WG_INITIATION_LEN || len == WG_RESPONSE_LEN))
		fix_mac1(m, len);
	if (r->op & 16) {
		if (len >= 12 && type == WG_MSG_RESPONSE)
			wg_put_le32(m + 8, IDX_A);
		else if (len >= 8)
			wg_put_le32(m + 4, type == WG_MSG_TRANSPORT ? IDX_KP :
			    IDX_A);
	}

	rv = wg_noise_consume_initiation(id_a, lookup, NULL, m, len, now, &p);
	FUZZ_ASSERT(rv == WG_OK ? p == peer_ab : p == NULL);
	rv = wg_noise_consume_response(peer_ab, m, len, now, &kp);
	if (rv == WG_OK)
		FUZZ_ASSERT(kp.initiator && kp.local_index == IDX_A);
	(void)wg_noise_consume_cookie(peer_ab, m, len, now);
	if (len >= 4 && (type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE))
		(void)wg_cookie_validate(&checker_a, m, len, src_addr,
		    sizeof(src_addr), (r->op & 32) != 0, now);
	/* Both decrypt in place: each gets its own copy. */
	memcpy(m2, m, len);
	rv = wg_transport_open(&kp_rx, m2, len, now, &counter, &plain);
	if (rv == WG_OK)
		FUZZ_ASSERT(plain == len - WG_TRANSPORT_OVERHEAD);
	else
		FUZZ_ASSERT(memcmp(m2, m, len) == 0);
	(void)wg_transport_decrypt(&kp_rx, m, len, now, &plain);
	free(m2);
	free(m);
}

static void
op_initiation(const struct fuzz_rec *r)
{
	struct wg_noise_peer	*p = NULL;
	struct wg_keypair	 kp_a, kp_b;
	uint8_t			 msg[WG_INITIATION_LEN], resp[WG_RESPONSE_LEN];
	uint64_t		 wall;
	uint32_t		 idx;
	size_t			 i;
	int			 rv;

	idx = wg_get_le32((const uint8_t[4]){ fuzz_byte(r, 0),
	    fuzz_byte(r, 1), fuzz_byte(r, 2), fuzz_byte(r, 3) });
	for (wall = 0, i = 4; i < 12; i++)
		wall = wall << 8 | fuzz_byte(r, i);
	/* Mostly increasing timestamps, some replayed ones. */
	wall = WALL_BASE + (wall & 0xffffffffffULL);
	if (wg_noise_create_initiation(peer_ba, idx, wall, now, msg) != WG_OK)
		return;
	if (r->len > 12)
		mutate(msg, sizeof(msg), r->data + 12, r->len - 12);
	if (r->op & 8)
		wg_cookie_add_macs(&peer_ba->cookie, msg, sizeof(msg), now);
	rv = wg_cookie_validate(&checker_a, msg, sizeof(msg), src_addr,
	    sizeof(src_addr), (r->op & 16) != 0, now);
	if (rv == WG_ERR_COOKIE_REQUIRED || rv == WG_ERR_MAC1)
		return;
	rv = wg_noise_consume_initiation(id_a, lookup, NULL, msg,
	    sizeof(msg), now, &p);
	if (rv != WG_OK)
		return;
	FUZZ_ASSERT(p == peer_ab && p->hs.remote_index == wg_get_le32(msg +
	    INIT_SENDER));
	if (wg_noise_create_response(p, 0x0b0b0b02U, now, resp, &kp_a) !=
	    WG_OK)
		return;
	/* The handshake is spent: a second response cannot be made. */
	FUZZ_ASSERT(wg_noise_create_response(p, 1, now, resp, &kp_b) ==
	    WG_ERR_STATE);
	if ((r->op & 32) && r->len > 12)
		mutate(resp, sizeof(resp), r->data + 12, r->len - 12);
	rv = wg_noise_consume_response(peer_ba, resp, sizeof(resp), now,
	    &kp_b);
	if (rv != WG_OK)
		return;
	FUZZ_ASSERT(kp_b.remote_index == kp_a.local_index);
	check_transport(&kp_b, &kp_a, r->data, r->len);
	wg_transport_keypair_clear(&kp_a);
	wg_transport_keypair_clear(&kp_b);
}

static void
op_cookie(const struct fuzz_rec *r)
{
	uint8_t		 reply[WG_COOKIE_REPLY_LEN], msg[WG_INITIATION_LEN];
	bool		 expect;
	int		 rv;

	FUZZ_ASSERT(wg_cookie_validate(&checker_b, init_a, sizeof(init_a),
	    src_addr, sizeof(src_addr), false, now) == WG_OK);
	FUZZ_ASSERT(wg_cookie_create_reply(&checker_b, init_a,
	    sizeof(init_a), src_addr, sizeof(src_addr), now, reply) == WG_OK);
	/* init_a is A's last message while its handshake is pending. */
	expect = peer_ab->hs.state == WG_NOISE_CREATED_INITIATION &&
	    peer_ab->cookie.have_last_mac1;
	if (mutate(reply, sizeof(reply), r->data, r->len))
		expect = false;
	rv = wg_noise_consume_cookie(peer_ab, reply, sizeof(reply), now);
	FUZZ_ASSERT(!expect || rv == WG_OK);
	if (rv != WG_OK)
		return;
	/* A has the cookie: its next initiation carries a good mac2. */
	FUZZ_ASSERT(wg_noise_create_initiation(peer_ab, IDX_A,
	    WALL_BASE + NSEC_PER_SEC, now, msg) == WG_OK);
	FUZZ_ASSERT(wg_cookie_validate(&checker_b, msg, sizeof(msg),
	    src_addr, sizeof(src_addr), true, now) == WG_OK);
	memcpy(init_a, msg, sizeof(msg));
}

static void
op_transport(const struct fuzz_rec *r)
{
	uint8_t		*m;
	uint64_t	 counter = 0;
	size_t		 i, plen, len, plain;
	bool		 fresh;
	int		 rv;

	for (i = 0; i < 8; i++)
		counter |= (uint64_t)fuzz_byte(r, i) << (8 * i);
	plen = r->len > 8 ? r->len - 8 : 0;
	len = WG_TRANSPORT_OVERHEAD + plen;
	if ((m = malloc(len)) == NULL)
		abort();
	wg_put_le32(m, WG_MSG_TRANSPORT);
	wg_put_le32(m + 4, IDX_KP);
	wg_put_le64(m + 8, counter);
	wg_crypto_seal(m + WG_TRANSPORT_HDR_LEN, kp_key, counter,
	    plen > 0 ? r->data + 8 : NULL, plen, NULL, 0);
	if (r->op & 8)
		m[fuzz_byte(r, 8) % len] ^= 1U << (fuzz_byte(r, 9) & 7);
	fresh = wg_replay_acceptable(&kp_rx.replay, counter);
	rv = wg_transport_decrypt(&kp_rx, m, len, now, &plain);
	if (!(r->op & 8) && fresh &&
	    !wg_transport_expired(&kp_rx, now)) {
		FUZZ_ASSERT(rv == WG_OK && plain == plen);
		FUZZ_ASSERT(plen == 0 || memcmp(m + WG_TRANSPORT_HDR_LEN,
		    r->data + 8, plen) == 0);
	}
	if (rv == WG_OK)
		FUZZ_ASSERT(!wg_replay_acceptable(&kp_rx.replay, counter));
	free(m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t	 sk[WG_KEY_LEN], psk[WG_KEY_LEN];

	(void)argc;
	(void)argv;
	if (randombytes_set_implementation(&rb_impl) != 0 ||
	    sodium_init() == -1)
		abort();
	memset(sk, 0xa1, sizeof(sk));
	if (wg_noise_identity_new(&id_a, sk) != WG_OK)
		abort();
	memset(sk, 0xb2, sizeof(sk));
	if (wg_noise_identity_new(&id_b, sk) != WG_OK)
		abort();
	memset(psk, 0x5c, sizeof(psk));
	if (wg_noise_peer_new(&peer_ab, id_a, id_b->public_key, psk) !=
	    WG_OK ||
	    wg_noise_peer_new(&peer_ba, id_b, id_a->public_key, psk) != WG_OK)
		abort();
	tmpl_ab = *peer_ab;
	tmpl_ba = *peer_ba;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in	 in = { data, size };
	struct fuzz_rec	 r;
	uint64_t	 dt;

	rng.s = 1;
	now = 1000 * NSEC_PER_SEC;
	*peer_ab = tmpl_ab;
	*peer_ba = tmpl_ba;
	wg_cookie_checker_init(&checker_a, id_a->public_key);
	wg_cookie_checker_init(&checker_b, id_b->public_key);
	memset(&kp_rx, 0, sizeof(kp_rx));
	memcpy(kp_rx.recv_key, kp_key, WG_KEY_LEN);
	kp_rx.local_index = IDX_KP;
	kp_rx.birth = now;
	wg_replay_init(&kp_rx.replay);
	if (wg_noise_create_initiation(peer_ab, IDX_A, WALL_BASE, now,
	    init_a) != WG_OK)
		abort();

	while (fuzz_next(&in, &r)) {
		switch (r.op & 7) {
		case 0:
			op_raw(&r);
			break;
		case 1:
			op_initiation(&r);
			break;
		case 2:
			op_cookie(&r);
			break;
		case 3:
			op_transport(&r);
			break;
		case 4:
			dt = (uint64_t)(fuzz_byte(&r, 0) << 8 |
			    fuzz_byte(&r, 1)) * (r.op & 8 ? NSEC_PER_SEC : NSEC_PER_MSEC);
			now += dt;
			break;
		}
	}
	wg_cookie_checker_clear(&checker_a);
	wg_cookie_checker_clear(&checker_b);
	wg_transport_keypair_clear(&kp_rx);
	return (0);
}

/*
 * Session rotation through the peer API: two peers handshake, rekey from
 * either side, and keep decrypting packets sent just before a rotation.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tunneld/wg/peer.h"
#include "tunneld/wg/wg.h"

Suite	*wg_peer_suite(void);

#define T0	(500 * WG_NSEC)
#define WALL0	(1700000000ULL * WG_NSEC)

static struct wg_noise_identity	*id_a, *id_b;
static struct wg_peer		*pa, *pb;	/* a's view of b, b's of a */
static uint64_t			 now, wall;
static uint32_t			 next_index;

static uint32_t
zero_jitter(void *arg)
{
	(void)arg;
	return (0);
}

/* Each side knows only the other. */
static struct wg_peer *
lookup(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer	*p = arg;

	return (memcmp(pub, p->noise->remote_static, WG_KEY_LEN) == 0 ?
	    p : NULL);
}

static void
setup(void)
{
	uint8_t	 priv[WG_KEY_LEN], psk[WG_KEY_LEN];

	randombytes_buf(priv, sizeof(priv));
	ck_assert_int_eq(wg_noise_identity_new(&id_a, priv), WG_OK);
	randombytes_buf(priv, sizeof(priv));
	ck_assert_int_eq(wg_noise_identity_new(&id_b, priv), WG_OK);
	randombytes_buf(psk, sizeof(psk));
	ck_assert_int_eq(wg_peer_new(&pa, id_a, id_b->public_key, psk), WG_OK);
	ck_assert_int_eq(wg_peer_new(&pb, id_b, id_a->public_key, psk), WG_OK);
	wg_timers_init(&pa->timers, 0, 0, zero_jitter, NULL);
	wg_timers_init(&pb->timers, 0, 0, zero_jitter, NULL);
	now = T0;
	wall = WALL0;
	next_index = 1;
}

static void
teardown(void)
{
	wg_peer_free(pa);
	wg_peer_free(pb);
	wg_noise_identity_free(id_a);
	wg_noise_identity_free(id_b);
}

/* i initiates to r; time moves on a second first. */
static void
handshake(struct wg_peer *i, struct wg_peer *r,
    struct wg_noise_identity *r_id)
{
	uint8_t		 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];
	struct wg_peer	*found = NULL;

	now += WG_NSEC;
	wall += WG_NSEC;
	ck_assert_int_eq(wg_peer_create_initiation(i, next_index++, wall, now,
	    m1), WG_OK);
	ck_assert_int_eq(wg_peer_consume_initiation(r_id, lookup, r, m1,
	    sizeof(m1), now, &found), WG_OK);
	ck_assert_ptr_eq(found, r);
	ck_assert_int_eq(wg_peer_create_response(r, next_index++, now, m2),
	    WG_OK);
	ck_assert_int_eq(wg_peer_consume_response(i, m2, sizeof(m2), now),
	    WG_OK);
}

struct packet {
	uint8_t	 buf[128];
	size_t	 len;
};

static void
seal(struct wg_peer *p, const char *text, struct packet *pkt)
{
	int	 actions;

	ck_assert_int_eq(wg_peer_encrypt(p, (const uint8_t *)text,
	    strlen(text), 0, pkt->buf, sizeof(pkt->buf), now, &pkt->len,
	    &actions), WG_OK);
}

static void
open_ok(struct wg_peer *p, const struct packet *pkt, const char *text)
{
	struct packet	 copy = *pkt;
	size_t		 plain;
	int		 actions;

	ck_assert_int_eq(wg_peer_decrypt(p, copy.buf, copy.len, now, &plain,
	    &actions), WG_OK);
	ck_assert_mem_eq(copy.buf + 16, text, strlen(text));
}

static void
open_fails(struct wg_peer *p, const struct packet *pkt, int error)
{
	struct packet	 copy = *pkt;
	struct wg_peer	 snap;
	size_t		 plain;
	int		 actions = 99;

	memcpy(&snap, p, sizeof(snap));
	ck_assert_int_eq(wg_peer_decrypt(p, copy.buf, copy.len, now, &plain,
	    &actions), error);
	ck_assert_int_eq(actions, 0);
	ck_assert_mem_eq(&snap, p, sizeof(snap));
}

static bool
slot_zero(const struct wg_keypair *kp)
{
	static const struct wg_keypair	 zero;

	return (memcmp(kp, &zero, sizeof(zero)) == 0);
}

START_TEST(test_responder_confirms_on_first_data)
{
	struct packet	 pkt;
	size_t		 len;
	int		 actions;

	handshake(pa, pb, id_b);
	ck_assert_ptr_nonnull(pa->current);
	ck_assert_ptr_null(pa->next);
	ck_assert_ptr_null(pb->current);
	ck_assert_ptr_nonnull(pb->next);
	ck_assert_uint_eq(pa->last_handshake, now);
	ck_assert_uint_eq(pb->last_handshake, 0);

	/* b cannot send on an unconfirmed keypair, so it asks to rekey. */
	ck_assert_int_eq(wg_peer_encrypt(pb, (const uint8_t *)"x", 1, 0,
	    pkt.buf, sizeof(pkt.buf), now, &len, &actions),
	    WG_ERR_NO_SESSION);
	ck_assert_int_eq(actions, WG_TIMERS_SEND_INITIATION);

	seal(pa, "", &pkt);	/* a's keepalive confirms */
	open_ok(pb, &pkt, "");
	ck_assert_ptr_nonnull(pb->current);
	ck_assert_ptr_null(pb->next);
	ck_assert_ptr_null(pb->previous);
	ck_assert_uint_eq(pb->last_handshake, now);
	seal(pb, "b to a", &pkt);
	open_ok(pa, &pkt, "b to a");
}
END_TEST

START_TEST(test_rekey_keeps_old_packets)
{
	struct packet		 old_from_b, old_from_a, pkt;
	struct wg_keypair	*first_a, *first_b;

	handshake(pa, pb, id_b);
	seal(pa, "confirm", &pkt);
	open_ok(pb, &pkt, "confirm");
	first_a = pa->current;
	first_b = pb->current;

	seal(pb, "sent before rekey", &old_from_b);
	seal(pa, "also before rekey", &old_from_a);

	/* Now b initiates. */
	handshake(pb, pa, id_a);
	ck_assert_ptr_eq(pa->current, first_a);
	ck_assert_ptr_nonnull(pa->next);
	ck_assert_ptr_nonnull(pb->previous);
	open_ok(pb, &old_from_a, "also before rekey");

	seal(pb, "first on new", &pkt);
	open_ok(pa, &pkt, "first on new");
	ck_assert_ptr_ne(pa->current, first_a);
	ck_assert_ptr_eq(pa->previous, first_a);
	ck_assert_ptr_null(pa->next);
	/* Late packet on the previous keypair still goes through. */
	open_ok(pa, &old_from_b, "sent before rekey");
	open_fails(pa, &old_from_b, WG_ERR_REPLAY);

	/* A third handshake pushes the first keypairs out and wipes them. */
	seal(pb, "on second", &old_from_b);
	ck_assert_ptr_eq(pb->previous, first_b);
	handshake(pa, pb, id_b);
	ck_assert_ptr_ne(pa->previous, first_a);
	ck_assert(slot_zero(first_a));
	ck_assert_ptr_null(pb->previous);
	ck_assert(slot_zero(first_b));
	open_fails(pa, &old_from_a, WG_ERR_UNKNOWN_INDEX);
	open_ok(pa, &old_from_b, "on second");
	seal(pa, "third", &pkt);
	open_ok(pb, &pkt, "third");
	seal(pb, "back", &pkt);
	open_ok(pa, &pkt, "back");
}
END_TEST

START_TEST(test_peer_rejects)
{
	struct packet	 pkt, bad;

	handshake(pa, pb, id_b);
	seal(pa, "hello", &pkt);
	bad = pkt;
	bad.buf[4] ^= 0xff;
	open_fails(pb, &bad, WG_ERR_UNKNOWN_INDEX);
	bad = pkt;
	bad.buf[30] ^= 1;
	open_fails(pb, &bad, WG_ERR_DECRYPT);
	bad = pkt;
	bad.len = 31;
	open_fails(pb, &bad, WG_ERR_LENGTH);
	bad = pkt;
	bad.buf[0] = 1;
	open_fails(pb, &bad, WG_ERR_TYPE);
	/* None of that confirmed b's keypair. */
	ck_assert_ptr_null(pb->current);
	open_ok(pb, &pkt, "hello");
	ck_assert_ptr_nonnull(pb->current);
}
END_TEST

START_TEST(test_peer_timers)
{
	struct packet	 pkt;
	uint64_t	 t;

	handshake(pa, pb, id_b);
	t = now;
	/* a sent and got nothing back: the retransmit timer is off. */
	ck_assert_uint_eq(wg_peer_next_deadline(pa),
	    t + 3 * WG_REJECT_AFTER_TIME);
	seal(pa, "data", &pkt);
	ck_assert_uint_eq(wg_peer_next_deadline(pa),
	    t + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT);
	open_ok(pb, &pkt, "data");
	/* b owes a keepalive within 10 s unless it sends something. */
	ck_assert_uint_eq(wg_peer_next_deadline(pb), t + WG_KEEPALIVE_TIMEOUT);
	ck_assert_int_eq(wg_peer_expire(pb, t + WG_KEEPALIVE_TIMEOUT),
	    WG_TIMERS_SEND_KEEPALIVE);
	ck_assert_int_eq(wg_peer_expire(pa, t + WG_KEEPALIVE_TIMEOUT +
	    WG_REKEY_TIMEOUT), WG_TIMERS_SEND_INITIATION);

	ck_assert_int_eq(wg_peer_expire(pa, t + 3 * WG_REJECT_AFTER_TIME),
	    WG_TIMERS_ZERO_KEYS);
	ck_assert_ptr_null(pa->current);
	ck_assert_ptr_null(pa->previous);
	ck_assert(slot_zero(&pa->slots[0]));
	ck_assert(slot_zero(&pa->slots[1]));
	ck_assert(slot_zero(&pa->slots[2]));
}
END_TEST

START_TEST(test_expired_session)
{
	struct packet	 pkt;
	int		 actions;

	handshake(pa, pb, id_b);
	now += WG_REJECT_AFTER_TIME;
	ck_assert_int_eq(wg_peer_encrypt(pa, (const uint8_t *)"x", 1, 0,
	    pkt.buf, sizeof(pkt.buf), now, &pkt.len, &actions),
	    WG_ERR_NO_SESSION);
	ck_assert_int_eq(actions, WG_TIMERS_SEND_INITIATION);
}
END_TEST

/* a, as initiator, is under load and sends b a cookie for message 2. */
START_TEST(test_cookie_for_response)
{
	struct wg_cookie_checker checker_a;
	uint8_t		 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];
	uint8_t		 reply[WG_COOKIE_REPLY_LEN];
	static const uint8_t src_b[] = { 10, 0, 0, 2, 0x01, 0xbb };
	struct wg_peer	*found = NULL;

	wg_cookie_checker_init(&checker_a, id_a->public_key);
	ck_assert_int_eq(wg_peer_create_initiation(pa, 1, wall, now, m1),
	    WG_OK);
	ck_assert_int_eq(wg_peer_consume_initiation(id_b, lookup, pb, m1,
	    sizeof(m1), now, &found), WG_OK);
	ck_assert_int_eq(wg_peer_create_response(pb, 2, now, m2), WG_OK);
	ck_assert_int_eq(wg_cookie_validate(&checker_a, m2, sizeof(m2), src_b,
	    sizeof(src_b), true, now), WG_ERR_COOKIE_REQUIRED);
	ck_assert_int_eq(wg_cookie_create_reply(&checker_a, m2, sizeof(m2),
	    src_b, sizeof(src_b), now, reply), WG_OK);
	ck_assert_uint_eq(wg_get_le32(reply + 4), 2);

	ck_assert(!pb->noise->cookie.have_cookie);
	ck_assert_int_eq(wg_peer_consume_cookie(pb, reply, sizeof(reply),
	    now), WG_OK);
	ck_assert(pb->noise->cookie.have_cookie);
	ck_assert_int_eq(wg_peer_consume_cookie(pb, reply, sizeof(reply),
	    now), WG_ERR_STATE);

	/* b's next handshake message gets through a's load check. */
	ck_assert_int_eq(wg_peer_create_initiation(pb, 3, wall, now + 1, m1),
	    WG_OK);
	ck_assert_int_eq(wg_cookie_validate(&checker_a, m1, sizeof(m1), src_b,
	    sizeof(src_b), true, now + 1), WG_OK);
	wg_cookie_checker_clear(&checker_a);
}
END_TEST

/*
 * Random datagrams, shaped to get past the framing checks, must all be
 * refused with both peers left exactly as they were.
 */
START_TEST(test_random_datagrams)
{
	static const uint8_t	 seed[randombytes_SEEDBYTES] = { 'f', 'z' };
	static const size_t	 lens[] = { WG_INITIATION_LEN,
	    WG_RESPONSE_LEN, WG_COOKIE_REPLY_LEN, WG_TRANSPORT_MIN_LEN, 48 };
	struct wg_peer		 snap_a, snap_b, *found;
	struct wg_noise_peer	 nsnap_a, nsnap_b;
	struct packet		 pkt;
	uint8_t			 m1[WG_INITIATION_LEN];
	uint8_t			*stream, *d;
	uint32_t		 rx;
	size_t			 len, plain, off = 0;
	int			 i, type, actions, error;

	handshake(pa, pb, id_b);
	seal(pa, "confirm", &pkt);
	open_ok(pb, &pkt, "confirm");
	/* a has an initiation pending too, so responses have a target. */
	ck_assert_int_eq(wg_peer_create_initiation(pa, 77, wall + WG_NSEC,
	    now, m1), WG_OK);
	memcpy(&snap_a, pa, sizeof(snap_a));
	memcpy(&snap_b, pb, sizeof(snap_b));
	memcpy(&nsnap_a, pa->noise, sizeof(nsnap_a));
	memcpy(&nsnap_b, pb->noise, sizeof(nsnap_b));

	stream = malloc(10000 * 256);
	ck_assert_ptr_nonnull(stream);
	randombytes_buf_deterministic(stream, 10000 * 256, seed);
	for (i = 0; i < 10000; i++, off += 256) {
		d = stream + off;
		/* Mostly well-framed: a known type and a plausible length. */
		if (d[255] < 200) {
			d[0] = 1 + d[254] % 4;
			d[1] = d[2] = d[3] = 0;
			len = lens[d[253] % 5];
			if (d[0] == WG_MSG_TRANSPORT && d[252] & 1)
				wg_put_le32(d + 4, pa->current->local_index);
			if (d[0] == WG_MSG_RESPONSE && d[252] & 2)
				wg_put_le32(d + 8, 77);
		} else
			len = d[254] % 250;
		type = wg_message_classify(d, len, &rx);
		switch (type) {
		case WG_MSG_INITIATION:
			error = wg_peer_consume_initiation(id_a, lookup, pa, d,
			    len, now, &found);
			break;
		case WG_MSG_RESPONSE:
			error = wg_peer_consume_response(pa, d, len, now);
			break;
		case WG_MSG_COOKIE_REPLY:
			error = wg_peer_consume_cookie(pa, d, len, now);
			break;
		case WG_MSG_TRANSPORT:
			error = wg_peer_decrypt(pa, d, len, now, &plain,
			    &actions);
			break;
		default:
			/* Framing refused it; the data path must agree. */
			ck_assert_int_lt(type, 0);
			error = wg_peer_decrypt(pb, d, len, now, &plain,
			    &actions);
			break;
		}
		ck_assert_msg(error < 0, "datagram %d accepted", i);
	}
	ck_assert_mem_eq(&snap_a, pa, sizeof(snap_a));
	ck_assert_mem_eq(&snap_b, pb, sizeof(snap_b));
	ck_assert_mem_eq(&nsnap_a, pa->noise, sizeof(nsnap_a));
	ck_assert_mem_eq(&nsnap_b, pb->noise, sizeof(nsnap_b));
	free(stream);
}
END_TEST

Suite *
wg_peer_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wg_peer");
	tc = tcase_create("rotation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_responder_confirms_on_first_data);
	tcase_add_test(tc, test_rekey_keeps_old_packets);
	tcase_add_test(tc, test_peer_rejects);
	tcase_add_test(tc, test_peer_timers);
	tcase_add_test(tc, test_expired_session);
	tcase_add_test(tc, test_cookie_for_response);
	tcase_add_test(tc, test_random_datagrams);
	suite_add_tcase(s, tc);
	return (s);
}

/*
 * TURN client tests against a fake relay built with the STUN codec, on a
 * fake clock.  The relay keeps a log of every request it saw, with the
 * time, so the tests can check what went out and when.
 */

#include <netinet/in.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tunneld/nat/stun.h"
#include "tunneld/nat/turn.h"
#include "tests/unit/check_main.h"

#define S(x)	((uint64_t)(x) * NSEC_PER_SEC)
#define MS(x)	((uint64_t)(x) * NSEC_PER_MSEC)

static const char *user = "1767225600:q0Yl2rQ9";
static const char *pass = "Zk1p-secret";

static const struct stun_addr mapped = { .family = AF_INET, .port = 40000,
    .ip = { 203, 0, 113, 5 } };
static const struct stun_addr relayed4 = { .family = AF_INET, .port = 50000,
    .ip = { 198, 51, 100, 7 } };
static const struct stun_addr zero4 = { .family = AF_INET };
static const struct stun_addr relayed6 = { .family = AF_INET6, .port = 50001,
    .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 } };
static const struct stun_addr peer_p = { .family = AF_INET, .port = 52625,
    .ip = { 192, 0, 2, 10 } };
static const struct stun_addr peer_q = { .family = AF_INET6, .port = 52625,
    .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

struct sent {
	uint64_t		at;
	uint16_t		method;
	bool			authed;
	bool			aaf;
	bool			aaf_draft;	/* coturn's code point */
	uint32_t		transport;
	uint32_t		lifetime;
	uint32_t		channel;
	struct stun_addr	peer;
	char			nonce[64];
	uint8_t			txid[STUN_TXID_LEN];
};

struct harness {
	struct turn_client	*c;
	uint64_t		 now;
	uint8_t			 rng;
	/* The fake relay. */
	char			 nonce[64];
	uint8_t			 key[STUN_KEY_LEN];
	uint32_t		 lifetime;
	bool			 silent;	/* drops every request */
	bool			 rotate;	/* new nonce for each request */
	bool			 v4_only;	/* 440 to a second family */
	bool			 zero_second;	/* as coturn: 0.0.0.0:0 for it */
	int			 perm_error;	/* CREATE-PERMISSION's answer */
	int			 mismatch;	/* 437s to ALLOCATE to give */
	bool			 moved;		/* 437 to REFRESH: not ours */
	struct sent		 log[256];
	size_t			 nlog;
};

static void
fake_random(void *arg, uint8_t *buf, size_t len)
{
	struct harness	*h = arg;
	size_t		 i;

	for (i = 0; i < len; i++)
		buf[i] = ++h->rng;
}

static void
h_init(struct harness *h, const char *relay_pass)
{
	struct turn_config	cfg;

	memset(h, 0, sizeof(*h));
	strcpy(h->nonce, "nonce-1");
	h->lifetime = 600;
	ck_assert_int_eq(stun_long_term_key(h->key, user, "firezone",
	    relay_pass), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.username = user;
	cfg.password = pass;
	cfg.random = fake_random;
	cfg.random_arg = h;
	h->c = turn_new(&cfg);
	ck_assert_ptr_nonnull(h->c);
}

static size_t
relay_answer(struct harness *h, const struct stun_msg *m, uint8_t *out,
    size_t cap)
{
	struct stun_builder	 b;
	const struct stun_attr	*n;
	uint32_t		 lt;
	size_t			 len;

	if (m->method == STUN_BINDING) {
		stun_build(&b, out, cap, m->method, STUN_SUCCESS, m->txid);
		stun_put_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, &mapped);
		ck_assert_int_eq(stun_build_end(&b, &len), 0);
		return (len);
	}
	if (h->rotate)
		h->nonce[strlen(h->nonce) - 1]++;
	n = stun_find(m, STUN_A_NONCE);
	if (m->mi_off == 0 || n == NULL ||
	    !stun_check_integrity(m, h->key, sizeof(h->key)) ||
	    n->len != strlen(h->nonce) ||
	    memcmp(n->val, h->nonce, n->len) != 0) {
		stun_build(&b, out, cap, m->method, STUN_ERROR, m->txid);
		/* A wrong nonce is stale only if the MAC was right. */
		if (m->mi_off != 0 && n != NULL &&
		    stun_check_integrity(m, h->key, sizeof(h->key)))
			stun_put_error(&b, 438, "Stale Nonce");
		else
			stun_put_error(&b, 401, "Unauthorized");
		stun_put_str(&b, STUN_A_REALM, "firezone");
		stun_put_str(&b, STUN_A_NONCE, h->nonce);
		ck_assert_int_eq(stun_build_end(&b, &len), 0);
		return (len);
	}
	lt = 1;
	if (m->method == STUN_REFRESH)
		ck_assert(stun_get_u32(m, STUN_A_LIFETIME, &lt));
	if ((m->method == STUN_ALLOCATE && h->mismatch > 0) ||
	    (m->method == STUN_REFRESH && h->moved && lt != 0)) {
		if (m->method == STUN_ALLOCATE)
			h->mismatch--;
		stun_build(&b, out, cap, m->method, STUN_ERROR, m->txid);
		stun_put_error(&b, 437, "Allocation Mismatch");
		stun_put_integrity(&b, h->key, sizeof(h->key));
		ck_assert_int_eq(stun_build_end(&b, &len), 0);
		return (len);
	}
	if ((m->method == STUN_CREATE_PERMISSION && h->perm_error != 0) ||
	    (m->method == STUN_ALLOCATE && h->v4_only &&
	    stun_find(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY) != NULL)) {
		stun_build(&b, out, cap, m->method, STUN_ERROR, m->txid);
		stun_put_error(&b, m->method == STUN_ALLOCATE ? 440 :
		    h->perm_error, "No");
		stun_put_integrity(&b, h->key, sizeof(h->key));
		ck_assert_int_eq(stun_build_end(&b, &len), 0);
		return (len);
	}
	stun_build(&b, out, cap, m->method, STUN_SUCCESS, m->txid);
	switch (m->method) {
	case STUN_ALLOCATE:
		stun_put_addr(&b, STUN_A_XOR_RELAYED_ADDRESS, &relayed4);
		if (h->zero_second)
			stun_put_addr(&b, STUN_A_XOR_RELAYED_ADDRESS, &zero4);
		else if (stun_find(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY) != NULL)
			stun_put_addr(&b, STUN_A_XOR_RELAYED_ADDRESS,
			    &relayed6);
		stun_put_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, &mapped);
		stun_put_u32(&b, STUN_A_LIFETIME, h->lifetime);
		break;
	case STUN_REFRESH:
		ck_assert(stun_get_u32(m, STUN_A_LIFETIME, &lt));
		stun_put_u32(&b, STUN_A_LIFETIME, lt == 0 ? 0 : h->lifetime);
		break;
	}
	stun_put_integrity(&b, h->key, sizeof(h->key));
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &len), 0);
	return (len);
}

static void
h_log(struct harness *h, const struct stun_msg *m)
{
	struct sent		*s;
	const struct stun_attr	*a;
	const char		*sw = "snownet";

	ck_assert_uint_lt(h->nlog, sizeof(h->log) / sizeof(h->log[0]));
	s = &h->log[h->nlog++];
	memset(s, 0, sizeof(*s));
	s->at = h->now;
	s->method = m->method;
	s->authed = m->mi_off != 0;
	s->aaf = stun_find(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY) != NULL;
	s->aaf_draft = stun_find(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT) !=
	    NULL;
	memcpy(s->txid, m->txid, STUN_TXID_LEN);
	stun_get_u32(m, STUN_A_REQUESTED_TRANSPORT, &s->transport);
	stun_get_u32(m, STUN_A_LIFETIME, &s->lifetime);
	stun_get_u32(m, STUN_A_CHANNEL_NUMBER, &s->channel);
	stun_get_addr(m, STUN_A_XOR_PEER_ADDRESS, &s->peer);
	if ((a = stun_find(m, STUN_A_NONCE)) != NULL) {
		ck_assert_uint_lt(a->len, sizeof(s->nonce));
		memcpy(s->nonce, a->val, a->len);
	}
	a = stun_find(m, STUN_A_SOFTWARE);
	ck_assert_ptr_nonnull(a);
	ck_assert_mem_eq(a->val, sw, strlen(sw));
	if (s->authed) {
		a = stun_find(m, STUN_A_REALM);
		ck_assert_ptr_nonnull(a);
		ck_assert_mem_eq(a->val, "firezone", 8);
		a = stun_find(m, STUN_A_USERNAME);
		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->len, strlen(user));
		ck_assert_mem_eq(a->val, user, a->len);
	}
}

static enum turn_input
h_input(struct harness *h, const uint8_t *p, size_t n)
{
	struct stun_addr	 peer;
	const uint8_t		*data;
	size_t			 dlen;

	return (turn_handle_input(h->c, h->now, p, n, &peer, &data, &dlen));
}

/* Hand everything the client wants to send to the relay, and answer it. */
static void
h_flush(struct harness *h)
{
	uint8_t		req[1500], resp[1500];
	size_t		n, rlen;
	struct stun_msg	m;

	while ((n = turn_poll_transmit(h->c, req, sizeof(req))) > 0) {
		ck_assert_int_eq(stun_parse(&m, req, n, NULL), 0);
		ck_assert_int_eq(m.class, STUN_REQUEST);
		h_log(h, &m);
		if (h->silent)
			continue;
		rlen = relay_answer(h, &m, resp, sizeof(resp));
		ck_assert_int_eq(h_input(h, resp, rlen), TURN_IN_CONSUMED);
	}
}

/* Advance the clock deadline by deadline up to `until'. */
static void
h_run(struct harness *h, uint64_t until)
{
	uint64_t	d;

	for (;;) {
		d = turn_next_deadline(h->c);
		ck_assert_uint_gt(d, h->now);
		if (d > until)
			break;
		h->now = d;
		turn_handle_timeout(h->c, h->now);
		h_flush(h);
	}
	h->now = until;
}

static struct turn_event
h_event(struct harness *h, enum turn_event_type type)
{
	struct turn_event	ev;

	ck_assert_msg(turn_poll_event(h->c, &ev), "no event, wanted %d", type);
	ck_assert_int_eq(ev.type, type);
	return (ev);
}

static void
h_no_event(struct harness *h)
{
	struct turn_event	ev;

	ck_assert(!turn_poll_event(h->c, &ev));
}

static void
h_allocate(struct harness *h)
{
	struct turn_event	ev;

	ck_assert_int_eq(turn_start(h->c, h->now), 0);
	h_flush(h);
	ck_assert_int_eq(turn_get_state(h->c), TURN_ALLOCATED);
	while (turn_poll_event(h->c, &ev))
		;
	h->nlog = 0;
}

/* Requests of one method logged at or after `from'. */
static size_t
h_count(struct harness *h, uint16_t method, uint64_t from)
{
	size_t	i, n = 0;

	for (i = 0; i < h->nlog; i++)
		if (h->log[i].method == method && h->log[i].at >= from)
			n++;
	return (n);
}

/* The k-th request (from 0) of one method logged at or after `from'. */
static const struct sent *
h_nth(struct harness *h, uint16_t method, uint64_t from, size_t k)
{
	size_t	i;

	for (i = 0; i < h->nlog; i++)
		if (h->log[i].method == method && h->log[i].at >= from &&
		    k-- == 0)
			return (&h->log[i]);
	return (NULL);
}

static const struct sent *
h_first(struct harness *h, uint16_t method, uint64_t from)
{
	return (h_nth(h, method, from, 0));
}

START_TEST(test_allocate_after_401)
{
	struct harness		 h;
	struct turn_event	 ev;
	struct stun_addr	 a;

	h_init(&h, pass);
	ck_assert_int_eq(turn_get_state(h.c), TURN_IDLE);
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	ck_assert_int_eq(turn_start(h.c, 0), -1);
	h_flush(&h);

	/* BINDING, ALLOCATE refused with 401, ALLOCATE with credentials. */
	ck_assert_uint_eq(h.nlog, 3);
	ck_assert_uint_eq(h.log[0].method, STUN_BINDING);
	ck_assert(!h.log[0].authed);
	ck_assert_uint_eq(h.log[1].method, STUN_ALLOCATE);
	ck_assert(!h.log[1].authed);
	ck_assert_uint_eq(h.log[1].transport, 17U << 24);
	ck_assert(h.log[1].aaf && h.log[1].aaf_draft);
	ck_assert_uint_eq(h.log[2].method, STUN_ALLOCATE);
	ck_assert(h.log[2].authed);
	ck_assert_str_eq(h.log[2].nonce, "nonce-1");
	ck_assert_uint_eq(h.log[2].transport, 17U << 24);
	ck_assert(h.log[2].aaf && h.log[2].aaf_draft);
	/* A retry is a new transaction. */
	ck_assert_mem_ne(h.log[1].txid, h.log[2].txid, STUN_TXID_LEN);

	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	ev = h_event(&h, TURN_EV_SRFLX);
	ck_assert(stun_addr_eq(&ev.addr, &mapped));
	ev = h_event(&h, TURN_EV_RELAYED);
	ck_assert(stun_addr_eq(&ev.addr, &relayed4));
	ev = h_event(&h, TURN_EV_RELAYED);
	ck_assert(stun_addr_eq(&ev.addr, &relayed6));
	h_no_event(&h);
	ck_assert(turn_get_relayed(h.c, AF_INET6, &a));
	ck_assert(stun_addr_eq(&a, &relayed6));
	ck_assert(turn_get_srflx(h.c, &a));
	ck_assert(stun_addr_eq(&a, &mapped));
	/* Next thing to do is the 25 s keep-alive. */
	ck_assert_uint_eq(turn_next_deadline(h.c), S(25));
	turn_free(h.c);
}
END_TEST

START_TEST(test_refresh_and_keepalive)
{
	struct harness		 h;
	const struct sent	*s;

	h_init(&h, pass);
	h_allocate(&h);
	h_run(&h, S(300) - 1);
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 0);
	/* Keep-alives at 25, 50, ... 275 s. */
	ck_assert_uint_eq(h_count(&h, STUN_BINDING, 0), 11);
	ck_assert_uint_eq(h_first(&h, STUN_BINDING, 0)->at, S(25));

	h_run(&h, S(601));
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 2);
	s = h_first(&h, STUN_REFRESH, 0);
	ck_assert_uint_eq(s->at, S(300));
	ck_assert(s->authed);
	ck_assert_uint_eq(s->lifetime, 600);
	/* The answer's lifetime restarted the clock: next at 600 s. */
	ck_assert_uint_eq(h_first(&h, STUN_REFRESH, S(300) + 1)->at, S(600));
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	h_no_event(&h);
	turn_free(h.c);
}
END_TEST

START_TEST(test_stale_nonce)
{
	struct harness		 h;
	const struct sent	*s;

	h_init(&h, pass);
	h_allocate(&h);
	strcpy(h.nonce, "nonce-2");
	h_run(&h, S(300));
	/* Refused with 438, sent again at once with the new nonce. */
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 2);
	s = h_nth(&h, STUN_REFRESH, 0, 0);
	ck_assert_uint_eq(s->at, S(300));
	ck_assert_str_eq(s->nonce, "nonce-1");
	s = h_nth(&h, STUN_REFRESH, 0, 1);
	ck_assert_uint_eq(s->at, S(300));
	ck_assert(s->authed);
	ck_assert_str_eq(s->nonce, "nonce-2");
	ck_assert_mem_ne(s->txid, h_nth(&h, STUN_REFRESH, 0, 0)->txid,
	    STUN_TXID_LEN);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	h_no_event(&h);
	/* Accepted: the next refresh is half a lifetime later. */
	h_run(&h, S(599));
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, S(301)), 0);
	turn_free(h.c);
}
END_TEST

START_TEST(test_second_family_refused)
{
	struct harness		 h;
	struct turn_event	 ev;
	struct stun_addr	 a;

	h_init(&h, pass);
	h.v4_only = true;
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	h_flush(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	/* 401, then 440 for IPv6, then plain IPv4. */
	ck_assert_uint_eq(h_count(&h, STUN_ALLOCATE, 0), 3);
	ck_assert(h_nth(&h, STUN_ALLOCATE, 0, 1)->aaf);
	ck_assert(!h_nth(&h, STUN_ALLOCATE, 0, 2)->aaf);
	ck_assert(!h_nth(&h, STUN_ALLOCATE, 0, 2)->aaf_draft);
	h_event(&h, TURN_EV_SRFLX);
	ev = h_event(&h, TURN_EV_RELAYED);
	ck_assert(stun_addr_eq(&ev.addr, &relayed4));
	h_no_event(&h);
	ck_assert(!turn_get_relayed(h.c, AF_INET6, &a));
	turn_free(h.c);
}
END_TEST

/* coturn without the second family: only the real address is offered. */
START_TEST(test_second_family_zero)
{
	struct harness		 h;
	struct turn_event	 ev;
	struct stun_addr	 a;

	h_init(&h, pass);
	h.zero_second = true;
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	h_flush(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	h_event(&h, TURN_EV_SRFLX);
	ev = h_event(&h, TURN_EV_RELAYED);
	ck_assert(stun_addr_eq(&ev.addr, &relayed4));
	h_no_event(&h);
	ck_assert(!turn_get_relayed(h.c, AF_INET6, &a));
	ck_assert(turn_get_relayed(h.c, AF_INET, &a));
	ck_assert(stun_addr_eq(&a, &relayed4));
	turn_free(h.c);
}
END_TEST

START_TEST(test_stale_nonce_loop)
{
	struct harness		h;
	struct turn_event	ev;

	h_init(&h, pass);
	h_allocate(&h);
	h.rotate = true;
	h_run(&h, S(300));
	/* The first REFRESH and three retries, then it stops. */
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 4);
	ck_assert_int_eq(turn_get_state(h.c), TURN_FAILED);
	ev = h_event(&h, TURN_EV_FAILED);
	ck_assert_int_eq(ev.error, TURN_ERR_REJECTED);
	ck_assert_int_eq(ev.code, 438);
	turn_free(h.c);
}
END_TEST

START_TEST(test_bad_credentials)
{
	struct harness		h;
	struct turn_event	ev;

	h_init(&h, "not-the-password");
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	h_flush(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_FAILED);
	ck_assert_int_eq(turn_get_error(h.c), TURN_ERR_AUTH);
	/* Exactly one try with credentials: no retry storm. */
	ck_assert_uint_eq(h_count(&h, STUN_ALLOCATE, 0), 2);
	h_event(&h, TURN_EV_SRFLX);
	ev = h_event(&h, TURN_EV_FAILED);
	ck_assert_int_eq(ev.error, TURN_ERR_AUTH);
	ck_assert_int_eq(ev.code, 401);
	h_no_event(&h);
	ck_assert_uint_eq(turn_next_deadline(h.c), TIMER_NEVER);
	h_run(&h, S(100));
	ck_assert_uint_eq(h.nlog, 3);
	ck_assert_str_eq(turn_strerror(TURN_ERR_AUTH),
	    "relay rejected the credentials");
	turn_free(h.c);
}
END_TEST

START_TEST(test_channel_data)
{
	struct harness		 h;
	struct turn_event	 ev;
	struct stun_addr	 from;
	const uint8_t		*data;
	size_t			 dlen, n;
	uint8_t			 out[64], in[64];
	struct stun_builder	 b;
	static const uint8_t	 txid[STUN_TXID_LEN] = { 9, 9, 9 };

	h_init(&h, pass);
	h_allocate(&h);
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p,
	    (const uint8_t *)"hello", 5, out, sizeof(out), &n),
	    TURN_WRAP_PENDING);
	/* Asking again while the bind is in flight sends nothing more. */
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p,
	    (const uint8_t *)"hello", 5, out, sizeof(out), &n),
	    TURN_WRAP_PENDING);
	h_flush(&h);
	ck_assert_uint_eq(h.nlog, 2);
	ck_assert_uint_eq(h.log[0].method, STUN_CREATE_PERMISSION);
	ck_assert(stun_addr_eq(&h.log[0].peer, &peer_p));
	ck_assert(h.log[0].authed);
	ck_assert_uint_eq(h.log[1].method, STUN_CHANNEL_BIND);
	ck_assert_uint_eq(h.log[1].channel, 0x4000U << 16);
	ck_assert(stun_addr_eq(&h.log[1].peer, &peer_p));
	ev = h_event(&h, TURN_EV_CHANNEL_BOUND);
	ck_assert(stun_addr_eq(&ev.addr, &peer_p));

	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p,
	    (const uint8_t *)"hello", 5, out, sizeof(out), &n), TURN_WRAP_OK);
	ck_assert_uint_eq(n, 9);
	ck_assert_mem_eq(out, "\x40\x00\x00\x05hello", 9);
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p,
	    (const uint8_t *)"hello", 5, out, 8, &n), TURN_WRAP_ERROR);

	/* A second peer gets the next channel number. */
	ck_assert_int_eq(turn_bind_peer(h.c, h.now, &peer_q), 0);
	h_flush(&h);
	ck_assert_uint_eq(h.log[3].channel, 0x4001U << 16);
	h_event(&h, TURN_EV_CHANNEL_BOUND);

	/* From the relay, unpadded and padded. */
	memcpy(in, "\x40\x00\x00\x05world\0\0\0", 12);
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, 9, &from, &data,
	    &dlen), TURN_IN_DATA);
	ck_assert(stun_addr_eq(&from, &peer_p));
	ck_assert_uint_eq(dlen, 5);
	ck_assert_mem_eq(data, "world", 5);
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, 12, &from, &data,
	    &dlen), TURN_IN_DATA);
	ck_assert_uint_eq(dlen, 5);
	/* Half-padded, truncated, unbound channel: all dropped. */
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, 10, &from, &data,
	    &dlen), TURN_IN_DROP);
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, 8, &from, &data,
	    &dlen), TURN_IN_DROP);
	in[1] = 0x05;
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, 9, &from, &data,
	    &dlen), TURN_IN_DROP);
	in[1] = 0x01;
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, 9, &from, &data,
	    &dlen), TURN_IN_DATA);
	ck_assert(stun_addr_eq(&from, &peer_q));

	/* A Data indication from a permitted IP, other port. */
	from = peer_p;
	from.port = 1234;
	stun_build(&b, in, sizeof(in), STUN_DATA, STUN_INDICATION, txid);
	stun_put_addr(&b, STUN_A_XOR_PEER_ADDRESS, &from);
	stun_put(&b, STUN_A_DATA, "abc", 3);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	memset(&from, 0, sizeof(from));
	ck_assert_int_eq(turn_handle_input(h.c, h.now, in, n, &from, &data,
	    &dlen), TURN_IN_DATA);
	ck_assert_uint_eq(from.port, 1234);
	ck_assert_uint_eq(dlen, 3);
	ck_assert_mem_eq(data, "abc", 3);
	h_no_event(&h);
	turn_free(h.c);
}
END_TEST

START_TEST(test_permission_refused)
{
	struct harness		 h;
	struct turn_event	 ev;
	uint8_t			 out[64];
	size_t			 n;

	h_init(&h, pass);
	h_allocate(&h);
	h.perm_error = 403;
	ck_assert_int_eq(turn_bind_peer(h.c, h.now, &peer_p), 0);
	h_flush(&h);
	ev = h_event(&h, TURN_EV_CHANNEL_FAILED);
	ck_assert(stun_addr_eq(&ev.addr, &peer_p));
	ck_assert_int_eq(ev.code, 403);
	/* The bind in flight was abandoned with the peer. */
	h_no_event(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	/* Allowed again, the peer starts over with a fresh channel. */
	h.perm_error = 0;
	h.nlog = 0;
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_PENDING);
	h_flush(&h);
	ck_assert_uint_eq(h_count(&h, STUN_CHANNEL_BIND, 0), 1);
	ck_assert_uint_eq(h_first(&h, STUN_CHANNEL_BIND, 0)->channel,
	    0x4001U << 16);
	h_event(&h, TURN_EV_CHANNEL_BOUND);
	turn_free(h.c);
}
END_TEST

START_TEST(test_permission_refresh)
{
	struct harness		 h;
	struct turn_event	 ev;
	const struct sent	*s;
	uint8_t			 out[64];
	size_t			 n;

	h_init(&h, pass);
	h_allocate(&h);
	ck_assert_int_eq(turn_bind_peer(h.c, 0, &peer_p), 0);
	h_flush(&h);
	h_event(&h, TURN_EV_CHANNEL_BOUND);
	h.nlog = 0;

	/* Traffic, so the permission is refreshed at half its 300 s. */
	h_run(&h, S(10));
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_OK);
	h_run(&h, S(150));
	s = h_first(&h, STUN_CREATE_PERMISSION, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->at, S(150));
	ck_assert_uint_eq(h_count(&h, STUN_CHANNEL_BIND, 0), 0);

	/* More traffic: at 300 s both, the channel being half way too. */
	h_run(&h, S(160));
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_OK);
	h_run(&h, S(300));
	ck_assert_uint_eq(h_count(&h, STUN_CREATE_PERMISSION, S(300)), 1);
	s = h_first(&h, STUN_CHANNEL_BIND, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->at, S(300));
	ck_assert_uint_eq(s->channel, 0x4000U << 16);

	/* Idle: the 450 s refresh is skipped... */
	h_run(&h, S(455));
	ck_assert_uint_eq(h_count(&h, STUN_CREATE_PERMISSION, S(301)), 0);
	/* ...until traffic comes back, which refreshes at once. */
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_OK);
	h_flush(&h);
	ck_assert_uint_eq(h_count(&h, STUN_CREATE_PERMISSION, S(455)), 1);
	ck_assert_uint_eq(h_count(&h, STUN_CHANNEL_BIND, S(301)), 0);
	h_no_event(&h);

	/* Idle again: lapses at 455 + 300 s and says so. */
	h_run(&h, S(755) - 1);
	h_no_event(&h);
	h_run(&h, S(755));
	ev = h_event(&h, TURN_EV_PEER_EXPIRED);
	ck_assert(stun_addr_eq(&ev.addr, &peer_p));
	ck_assert_uint_eq(h_count(&h, STUN_CREATE_PERMISSION, S(456)), 0);

	/* Traffic now rebinds the same channel number. */
	h.nlog = 0;
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_PENDING);
	h_flush(&h);
	ck_assert_uint_eq(h_count(&h, STUN_CREATE_PERMISSION, 0), 1);
	s = h_first(&h, STUN_CHANNEL_BIND, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->channel, 0x4000U << 16);
	h_event(&h, TURN_EV_CHANNEL_BOUND);
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_OK);
	turn_free(h.c);
}
END_TEST

START_TEST(test_retransmit_and_give_up)
{
	struct harness		h;
	struct turn_event	ev;
	uint8_t			first[256], again[256];
	size_t			n, m;
	static const uint64_t	at[] = { S(1), S(3), S(7) };
	size_t			i;

	h_init(&h, pass);
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	n = turn_poll_transmit(h.c, first, sizeof(first));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(turn_poll_transmit(h.c, again, sizeof(again)), 0);
	ck_assert_uint_eq(turn_next_deadline(h.c), S(1));

	/* Early wake-ups send nothing. */
	turn_handle_timeout(h.c, MS(999));
	ck_assert_uint_eq(turn_poll_transmit(h.c, again, sizeof(again)), 0);

	/* 1 s, then doubling: the same bytes at 1, 3 and 7 s. */
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(turn_next_deadline(h.c), at[i]);
		turn_handle_timeout(h.c, at[i]);
		m = turn_poll_transmit(h.c, again, sizeof(again));
		ck_assert_uint_eq(m, n);
		ck_assert_mem_eq(again, first, n);
	}
	/* 8 s after the first send it is over. */
	ck_assert_uint_eq(turn_next_deadline(h.c), S(8));
	turn_handle_timeout(h.c, S(8));
	ck_assert_uint_eq(turn_poll_transmit(h.c, again, sizeof(again)), 0);
	ck_assert_int_eq(turn_get_state(h.c), TURN_FAILED);
	ev = h_event(&h, TURN_EV_FAILED);
	ck_assert_int_eq(ev.error, TURN_ERR_TIMEOUT);
	ck_assert_uint_eq(turn_next_deadline(h.c), TIMER_NEVER);
	turn_free(h.c);
}
END_TEST

START_TEST(test_expiry)
{
	struct harness		h;
	struct turn_event	ev;

	h_init(&h, pass);
	h.lifetime = 10;
	h_allocate(&h);
	ck_assert_uint_eq(turn_next_deadline(h.c), S(5));
	h.silent = true;
	/* Refresh at 5 s, resent at 6 and 8; the allocation ends at 10 s. */
	h_run(&h, S(10) - 1);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 3);
	ck_assert_uint_eq(h_first(&h, STUN_REFRESH, 0)->at, S(5));
	h_no_event(&h);
	h_run(&h, S(10));
	ck_assert_int_eq(turn_get_state(h.c), TURN_FAILED);
	ck_assert_int_eq(turn_get_error(h.c), TURN_ERR_EXPIRED);
	ev = h_event(&h, TURN_EV_FAILED);
	ck_assert_int_eq(ev.error, TURN_ERR_EXPIRED);
	ck_assert_uint_eq(turn_next_deadline(h.c), TIMER_NEVER);
	turn_free(h.c);
}
END_TEST

START_TEST(test_delete_on_close)
{
	struct harness		 h;
	const struct sent	*s;
	uint8_t			 out[64];
	size_t			 n;

	h_init(&h, pass);
	h_allocate(&h);
	ck_assert_int_eq(turn_bind_peer(h.c, h.now, &peer_p), 0);
	h_flush(&h);
	h.nlog = 0;
	turn_close(h.c, h.now);
	ck_assert_int_eq(turn_get_state(h.c), TURN_DELETING);
	h_flush(&h);
	ck_assert_uint_eq(h.nlog, 1);
	s = &h.log[0];
	ck_assert_uint_eq(s->method, STUN_REFRESH);
	ck_assert(s->authed);
	ck_assert_uint_eq(s->lifetime, 0);
	ck_assert_int_eq(turn_get_state(h.c), TURN_CLOSED);
	h_event(&h, TURN_EV_CHANNEL_BOUND);
	h_event(&h, TURN_EV_CLOSED);
	h_no_event(&h);
	ck_assert_uint_eq(turn_next_deadline(h.c), TIMER_NEVER);
	ck_assert_int_eq(turn_wrap(h.c, h.now, &peer_p, out, 1, out,
	    sizeof(out), &n), TURN_WRAP_ERROR);
	turn_free(h.c);

	/* A relay that no longer answers still ends in CLOSED, at 8 s. */
	h_init(&h, pass);
	h_allocate(&h);
	h.silent = true;
	turn_close(h.c, h.now);
	h_run(&h, S(8) - 1);
	ck_assert_int_eq(turn_get_state(h.c), TURN_DELETING);
	h_run(&h, S(8));
	ck_assert_int_eq(turn_get_state(h.c), TURN_CLOSED);
	h_event(&h, TURN_EV_CLOSED);
	turn_free(h.c);
}
END_TEST

/*
 * 437 to ALLOCATE: an allocation of ours from this 5-tuple lives on at
 * the relay; it is deleted with our credentials and made again, once.
 */
START_TEST(test_allocation_mismatch)
{
	struct harness		 h;
	struct turn_event	 ev;

	h_init(&h, pass);
	h.mismatch = 1;
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	h_flush(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	/* 401, 437, then the one that works; the delete in between. */
	ck_assert_uint_eq(h_count(&h, STUN_ALLOCATE, 0), 3);
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 1);
	ck_assert(h_first(&h, STUN_REFRESH, 0)->authed);
	ck_assert_uint_eq(h_first(&h, STUN_REFRESH, 0)->lifetime, 0);
	h_event(&h, TURN_EV_SRFLX);
	ev = h_event(&h, TURN_EV_RELAYED);
	ck_assert(stun_addr_eq(&ev.addr, &relayed4));
	turn_free(h.c);

	/* A relay that keeps saying 437: no loop, the client fails. */
	h_init(&h, pass);
	h.mismatch = 5;
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	h_flush(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_FAILED);
	ck_assert_uint_eq(h_count(&h, STUN_ALLOCATE, 0), 3);
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, 0), 1);
	h_event(&h, TURN_EV_SRFLX);
	ev = h_event(&h, TURN_EV_FAILED);
	ck_assert_int_eq(ev.error, TURN_ERR_REJECTED);
	ck_assert_int_eq(ev.code, 437);
	turn_free(h.c);
}
END_TEST

/*
 * After a network change: BINDING and REFRESH at once; a relay that has
 * no allocation of ours from where we are now says 437, and the client
 * fails as expired for its owner to allocate anew.
 */
START_TEST(test_recheck)
{
	struct harness		 h;
	struct turn_event	 ev;

	h_init(&h, pass);
	turn_recheck(h.c, 0);
	ck_assert_int_eq(turn_get_state(h.c), TURN_IDLE);
	h_flush(&h);
	ck_assert_uint_eq(h.nlog, 0);
	h_allocate(&h);
	h.now = S(30);
	turn_recheck(h.c, h.now);
	h_flush(&h);
	ck_assert_uint_eq(h_count(&h, STUN_BINDING, h.now), 1);
	ck_assert_uint_eq(h_count(&h, STUN_REFRESH, h.now), 1);
	ck_assert_uint_eq(h_first(&h, STUN_REFRESH, h.now)->lifetime, 600);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	h_no_event(&h);
	h.moved = true;
	h.now = S(40);
	turn_recheck(h.c, h.now);
	h_flush(&h);
	ck_assert_int_eq(turn_get_state(h.c), TURN_FAILED);
	ev = h_event(&h, TURN_EV_FAILED);
	ck_assert_int_eq(ev.error, TURN_ERR_EXPIRED);
	ck_assert_int_eq(ev.code, 437);
	turn_free(h.c);
}
END_TEST

START_TEST(test_unauthenticated_answers_ignored)
{
	struct harness		h;
	uint8_t			req[512], resp[512];
	size_t			n, rlen;
	struct stun_msg		m;
	struct stun_builder	b;
	struct stun_addr	a;
	uint8_t			wrong[STUN_KEY_LEN];

	h_init(&h, pass);
	ck_assert_int_eq(turn_start(h.c, 0), 0);
	n = turn_poll_transmit(h.c, req, sizeof(req));
	ck_assert_int_eq(stun_parse(&m, req, n, NULL), 0);
	rlen = relay_answer(&h, &m, resp, sizeof(resp));
	/* Someone else's transaction, or garbage: not consumed. */
	resp[8] ^= 1;
	ck_assert_int_eq(h_input(&h, resp, rlen), TURN_IN_DROP);
	resp[8] ^= 1;
	ck_assert_int_eq(h_input(&h, resp, rlen - 1), TURN_IN_DROP);
	ck_assert_int_eq(h_input(&h, resp, rlen), TURN_IN_CONSUMED);
	/* A duplicate of an answered transaction. */
	ck_assert_int_eq(h_input(&h, resp, rlen), TURN_IN_DROP);

	/* ALLOCATE, 401, authenticated ALLOCATE. */
	n = turn_poll_transmit(h.c, req, sizeof(req));
	ck_assert_int_eq(stun_parse(&m, req, n, NULL), 0);
	rlen = relay_answer(&h, &m, resp, sizeof(resp));
	ck_assert_int_eq(h_input(&h, resp, rlen), TURN_IN_CONSUMED);
	n = turn_poll_transmit(h.c, req, sizeof(req));
	ck_assert_int_eq(stun_parse(&m, req, n, NULL), 0);

	/* A success signed with the wrong key changes nothing. */
	ck_assert_int_eq(stun_long_term_key(wrong, user, "firezone", "x"), 0);
	stun_build(&b, resp, sizeof(resp), STUN_ALLOCATE, STUN_SUCCESS, m.txid);
	stun_put_addr(&b, STUN_A_XOR_RELAYED_ADDRESS, &relayed4);
	stun_put_u32(&b, STUN_A_LIFETIME, 600);
	stun_put_integrity(&b, wrong, sizeof(wrong));
	ck_assert_int_eq(stun_build_end(&b, &rlen), 0);
	ck_assert_int_eq(h_input(&h, resp, rlen), TURN_IN_DROP);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATING);
	ck_assert(!turn_get_relayed(h.c, AF_INET, &a));
	/* The genuine answer still completes the transaction. */
	rlen = relay_answer(&h, &m, resp, sizeof(resp));
	ck_assert_int_eq(h_input(&h, resp, rlen), TURN_IN_CONSUMED);
	ck_assert_int_eq(turn_get_state(h.c), TURN_ALLOCATED);
	ck_assert(turn_get_relayed(h.c, AF_INET, &a));
	ck_assert(stun_addr_eq(&a, &relayed4));
	turn_free(h.c);
}
END_TEST

static Suite *
turn_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("turn");
	tc = tcase_create("allocation");
	tcase_add_test(tc, test_allocate_after_401);
	tcase_add_test(tc, test_refresh_and_keepalive);
	tcase_add_test(tc, test_stale_nonce);
	tcase_add_test(tc, test_stale_nonce_loop);
	tcase_add_test(tc, test_second_family_refused);
	tcase_add_test(tc, test_second_family_zero);
	tcase_add_test(tc, test_bad_credentials);
	tcase_add_test(tc, test_retransmit_and_give_up);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_delete_on_close);
	tcase_add_test(tc, test_allocation_mismatch);
	tcase_add_test(tc, test_recheck);
	tcase_add_test(tc, test_unauthenticated_answers_ignored);
	suite_add_tcase(s, tc);
	tc = tcase_create("channels");
	tcase_add_test(tc, test_channel_data);
	tcase_add_test(tc, test_permission_refresh);
	tcase_add_test(tc, test_permission_refused);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { turn_suite },
};

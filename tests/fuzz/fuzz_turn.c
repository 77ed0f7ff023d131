/*
 * fuzz_turn: a TURN client that has started its allocation on a fake clock,
 * fed records (see fuzz.h) whose op says what to do:
 *
 *   op & 3 == 0  a datagram from the relay.  Bit 2: repair the STUN
 *                header; bit 3: put in the transaction id of one of the
 *                last 8 requests (bits 5-7 say which, newest first);
 *                bit 4: reseal MESSAGE-INTEGRITY and FINGERPRINT with the
 *                client's current long-term key.
 *   op & 3 == 1  time passes: the first two data bytes, in ms (bit 2
 *                clear) or s; then turn_handle_timeout(), at once (bit 3)
 *                or only when the deadline has come.
 *   op & 3 == 2  data for a peer: turn_wrap() (bit 2) or turn_bind_peer()
 *                to the address in the first bytes (bit 3: IPv6).
 *   op & 3 == 3  turn_close().
 *
 * After each record the harness sends everything the client wants sent
 * (each must parse as STUN) and drains its events.  The repairs stand in
 * for what a fuzzer cannot find by mutation: 96 random bits and an HMAC.
 */
#include "tunneld/nat/stun.c"
#include "tunneld/nat/turn.c"

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/stun_fixup.h"

#define NTXID	8

struct harness {
	struct fuzz_rng	 rng;
	uint8_t		 txid[NTXID][STUN_TXID_LEN];
	size_t		 ntxid;		/* ever made */
};

static void
fake_random(void *arg, uint8_t *buf, size_t len)
{
	struct harness	*h = arg;

	fuzz_rng_fill(&h->rng, buf, len);
	if (len == STUN_TXID_LEN)
		memcpy(h->txid[h->ntxid++ % NTXID], buf, STUN_TXID_LEN);
}

static void
read_addr(const struct fuzz_rec *r, bool v6, struct stun_addr *a)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	a->family = v6 ? AF_INET6 : AF_INET;
	a->port = (uint16_t)(fuzz_byte(r, 0) << 8 | fuzz_byte(r, 1));
	for (i = 0; i < (v6 ? 16U : 4U); i++)
		a->ip[i] = fuzz_byte(r, 2 + i);
}

static void
drain(struct turn_client *c)
{
	struct turn_event	 ev;
	struct stun_msg		 m;
	uint8_t			 buf[TURN_MAX_REQ];
	size_t			 len, n = 0;

	while ((len = turn_poll_transmit(c, buf, sizeof(buf))) > 0) {
		FUZZ_ASSERT(len <= sizeof(buf));
		/* What we send is well-formed STUN: a relay must accept it. */
		FUZZ_ASSERT(stun_classify(buf, len) == STUN_KIND_STUN);
		FUZZ_ASSERT(stun_parse(&m, buf, len, NULL) == 0);
		FUZZ_ASSERT(m.class == STUN_REQUEST);
		if (m.mi_off != 0)
			FUZZ_ASSERT(stun_check_integrity(&m, c->key,
			    sizeof(c->key)));
		FUZZ_ASSERT(++n <= TURN_TXN_SLOTS);
	}
	while (turn_poll_event(c, &ev)) {
		FUZZ_ASSERT(ev.type <= TURN_EV_CLOSED);
		FUZZ_ASSERT(ev.error <= TURN_ERR_INTERNAL);
	}
}

static void
datagram(struct harness *h, struct turn_client *c, uint64_t now,
    const struct fuzz_rec *r)
{
	struct stun_addr	 peer;
	const uint8_t		*payload = NULL;
	uint8_t			*p;
	size_t			 plen = 0, k;
	enum turn_input		 in;

	if ((p = malloc(r->len > 0 ? r->len : 1)) == NULL)
		abort();
	memcpy(p, r->data, r->len);
	if (r->op & 4)
		stun_fix_header(p, r->len);
	if ((r->op & 8) && h->ntxid > 0 && r->len >= STUN_HDR_LEN) {
		k = (r->op >> 5) % (h->ntxid < NTXID ? h->ntxid : NTXID);
		memcpy(p + 8, h->txid[(h->ntxid - 1 - k) % NTXID],
		    STUN_TXID_LEN);
	}
	if (r->op & 16)
		stun_fix_integrity(p, r->len, c->key, sizeof(c->key));
	in = turn_handle_input(c, now, p, r->len, &peer, &payload, &plen);
	FUZZ_ASSERT(in == TURN_IN_DROP || in == TURN_IN_CONSUMED ||
	    in == TURN_IN_DATA);
	if (in == TURN_IN_DATA) {
		/* The payload lies inside the datagram. */
		FUZZ_ASSERT(payload >= p && payload + plen <= p + r->len);
		FUZZ_ASSERT(peer.family == AF_INET || peer.family == AF_INET6);
	}
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness		 h;
	struct turn_config	 cfg;
	struct turn_client	*c;
	struct fuzz_in		 in = { data, size };
	struct fuzz_rec		 r;
	struct stun_addr	 a;
	uint8_t			 out[1600];
	uint64_t		 now = 1000 * NSEC_PER_SEC, dt;
	size_t			 outlen;

	memset(&h, 0, sizeof(h));
	h.rng.s = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.username = "1700000000:fzc-fuzz";
	cfg.password = "cGFzc3dvcmQgb2YgdGhlIGZ1enogcmVsYXk=";
	cfg.random = fake_random;
	cfg.random_arg = &h;
	if ((c = turn_new(&cfg)) == NULL)
		abort();
	FUZZ_ASSERT(turn_start(c, now) == 0);
	drain(c);

	while (fuzz_next(&in, &r)) {
		switch (r.op & 3) {
		case 0:
			datagram(&h, c, now, &r);
			break;
		case 1:
			dt = (uint64_t)(fuzz_byte(&r, 0) << 8 | fuzz_byte(&r,
			    1)) * (r.op & 4 ? NSEC_PER_SEC : NSEC_PER_MSEC);
			now += dt;
			if ((r.op & 8) || now >= turn_next_deadline(c))
				turn_handle_timeout(c, now);
			break;
		case 2:
			read_addr(&r, r.op & 8, &a);
			if (r.op & 4)
				(void)turn_wrap(c, now, &a, r.data, r.len,
				    out, sizeof(out), &outlen);
			else
				(void)turn_bind_peer(c, now, &a);
			break;
		case 3:
			turn_close(c, now);
			break;
		}
		drain(c);
#ifdef FUZZ_DEBUG
		fprintf(stderr, "op %02x len %zu: state %d error %d\n", r.op,
		    r.len, turn_get_state(c), turn_get_error(c));
#endif
		/* An allocation always has a relayed address. */
		if (turn_get_state(c) == TURN_ALLOCATED)
			FUZZ_ASSERT(turn_get_relayed(c, AF_INET, &a) ||
			    turn_get_relayed(c, AF_INET6, &a));
	}
	turn_free(c);
	return (0);
}

/*
 * fuzz_ice: ice_candidate_parse() and an ICE agent with fixed credentials,
 * local candidates and a fake clock, fed records (see fuzz.h):
 *
 *   op & 3 == 0  a STUN datagram; its first data byte picks the path it
 *                took (bits 0-1 local, 2-3 remote, from fixed tables).
 *                Bit 2 of op: repair the header; bit 3: put in the
 *                transaction id of one of the agent's last 8 checks
 *                (bits 5-7, newest first); bit 4: reseal MESSAGE-INTEGRITY
 *                (local password for a request, remote one otherwise) and
 *                FINGERPRINT.
 *   op & 3 == 1  time passes: two data bytes, in ms (bit 2 clear) or s;
 *                then ice_handle_timeout(), at once (bit 3) or at the
 *                deadline.
 *   op & 3 == 2  a candidate string: parsed, formatted and parsed again
 *                (the two must agree), then given to ice_add_remote(), or
 *                ice_remove_remote() with bit 2.
 *   op & 3 == 3  bit 2: ice_note_traffic(); bit 3: remove, bit 4: add
 *                back the local candidate the first data byte picks.
 *
 * The first input byte picks the role (bit 0).  After each record the
 * harness takes every datagram the agent sends (each must parse, carry a
 * FINGERPRINT and verify with the right password) and drains its events.
 */
#include "tunneld/nat/stun.c"
#include "tunneld/nat/ice_candidate.c"
#include "tunneld/nat/ice.c"

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/stun_fixup.h"

#define NTXID	8
#define LUFRAG	"lfrg"
#define LPWD	"localpwd0123456789abcdef"
#define RUFRAG	"rfrg"
#define RPWD	"remotepwd0123456789abcdef"

#ifdef FUZZ_DEBUG
static const char	*dbg_why;
#endif

struct harness {
	struct fuzz_rng	 rng;
	uint8_t		 txid[NTXID][STUN_TXID_LEN];
	size_t		 ntxid;
};

struct local_def {
	enum ice_cand_type	 type;
	struct stun_addr	 addr;
};

/* The last entry is no candidate of the agent's. */
static const struct local_def locals[4] = {
	{ ICE_CAND_HOST, { AF_INET, 50000, { 10, 0, 0, 1 } } },
	{ ICE_CAND_HOST, { AF_INET6, 50000, { 0xfd, [15] = 1 } } },
	{ ICE_CAND_RELAY, { AF_INET, 60000, { 198, 51, 100, 1 } } },
	{ ICE_CAND_HOST, { AF_INET, 1, { 10, 9, 9, 9 } } },
};

/* Signalled, signalled, unknown (peer-reflexive), odd port. */
static const struct stun_addr remotes[4] = {
	{ AF_INET, 52625, { 10, 0, 0, 2 } },
	{ AF_INET6, 52625, { 0xfd, [15] = 2 } },
	{ AF_INET, 4000, { 192, 0, 2, 77 } },
	{ AF_INET6, 1, { 0xfd, [15] = 2 } },
};

static const char *const remote_cands[] = {
	"candidate:1 1 udp 2130706431 10.0.0.2 52625 typ host",
	"candidate:2 1 udp 2130706175 fd00::2 52625 typ host",
	("candidate:3 1 udp 16777215 203.0.113.9 3478 typ relay "
	    "raddr 10.0.0.2 rport 52625"),
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
drain(struct ice_agent *a)
{
	struct ice_event	 ev;
	struct ice_path		 path;
	struct stun_msg		 m;
	uint8_t			 buf[ICE_MAX_MSG];
	const char		*key;
	size_t			 len;

	while ((len = ice_poll_transmit(a, buf, sizeof(buf), &path)) > 0) {
		FUZZ_ASSERT(len <= sizeof(buf));
		FUZZ_ASSERT(stun_parse(&m, buf, len, NULL) == 0);
		FUZZ_ASSERT(m.method == STUN_BINDING && m.has_fingerprint);
		key = m.class == STUN_REQUEST ? RPWD : LPWD;
		FUZZ_ASSERT(stun_check_integrity(&m, (const uint8_t *)key,
		    strlen(key)));
		FUZZ_ASSERT(path.local.family == AF_INET ||
		    path.local.family == AF_INET6);
	}
	while (ice_poll_event(a, &ev)) {
		FUZZ_ASSERT(ev.type == ICE_EV_STATE ||
		    ev.type == ICE_EV_NOMINATED);
		FUZZ_ASSERT(ev.state <= ICE_FAILED);
	}
}

static void
check_addr_eq(const struct stun_addr *x, const struct stun_addr *y)
{
	FUZZ_ASSERT(x->family == y->family && x->port == y->port);
	FUZZ_ASSERT(memcmp(x->ip, y->ip, x->family == AF_INET ? 4 : 16) == 0);
}

/* Parse, format, parse again: the two parses must agree. */
static void
candidate_roundtrip(const char *s)
{
	struct ice_candidate	 c, c2;
	char			 buf[ICE_CANDIDATE_STRLEN];
	const char		*why = NULL;

	if (ice_candidate_parse(&c, s, &why) == -1) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	FUZZ_ASSERT(c.type <= ICE_CAND_RELAY);
	FUZZ_ASSERT(c.addr.family == AF_INET || c.addr.family == AF_INET6);
	FUZZ_ASSERT(c.priority != 0);
	FUZZ_ASSERT(strlen(c.foundation) <= ICE_CANDIDATE_MAX_FOUNDATION);
	FUZZ_ASSERT(ice_candidate_format(&c, buf, sizeof(buf)) == 0);
	FUZZ_ASSERT(ice_candidate_parse(&c2, buf, &why) == 0);
	FUZZ_ASSERT(c2.type == c.type && c2.priority == c.priority &&
	    c2.has_related == c.has_related);
	FUZZ_ASSERT(strcmp(c2.foundation, c.foundation) == 0);
	check_addr_eq(&c2.addr, &c.addr);
	if (c.has_related)
		check_addr_eq(&c2.related, &c.related);
}

static bool
is_request(const uint8_t *p, size_t len)
{
	return (len >= 2 && (p[0] & 0x01) == 0 && (p[1] & 0x10) == 0);
}

static void
datagram(struct harness *h, struct ice_agent *a, uint64_t now,
    const struct fuzz_rec *r)
{
	struct ice_path	 path;
	const char	*why = NULL, *key;
	uint8_t		*p, sel;
	size_t		 len, k;
	enum ice_input	 in;

	if (r->len < 1)
		return;
	sel = r->data[0];
	len = r->len - 1;
	memset(&path, 0, sizeof(path));
	path.local = locals[sel & 3].addr;
	path.relayed = locals[sel & 3].type == ICE_CAND_RELAY;
	path.remote = remotes[(sel >> 2) & 3];
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(p, r->data + 1, len);
	if (r->op & 4)
		stun_fix_header(p, len);
	if ((r->op & 8) && h->ntxid > 0 && len >= STUN_HDR_LEN) {
		k = (r->op >> 5) % (h->ntxid < NTXID ? h->ntxid : NTXID);
		memcpy(p + 8, h->txid[(h->ntxid - 1 - k) % NTXID],
		    STUN_TXID_LEN);
	}
	if (r->op & 16) {
		key = is_request(p, len) ? LPWD : RPWD;
		stun_fix_integrity(p, len, (const uint8_t *)key, strlen(key));
	}
	in = ice_handle_input(a, now, p, len, &path, &why);
#ifdef FUZZ_DEBUG
	dbg_why = why;
#endif
	FUZZ_ASSERT(in == ICE_IN_HANDLED || in == ICE_IN_NOT_MINE ||
	    in == ICE_IN_IGNORED);
	FUZZ_ASSERT(in == ICE_IN_HANDLED || why != NULL);
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness		 h;
	struct ice_config	 cfg;
	struct ice_agent	*a;
	struct ice_candidate	 out;
	struct ice_path		 sel;
	struct fuzz_in		 in;
	struct fuzz_rec		 r;
	const struct local_def	*l;
	const char		*why = NULL;
	char			 s[ICE_CANDIDATE_MAX_IN + 32];
	uint64_t		 now = 1000 * NSEC_PER_SEC, dt;
	size_t			 i, n;

	if (size < 1)
		return (0);
	memset(&h, 0, sizeof(h));
	h.rng.s = 1;
	ice_config_defaults(&cfg, data[0] & 1);
	cfg.local_ufrag = LUFRAG;
	cfg.local_pwd = LPWD;
	cfg.remote_ufrag = RUFRAG;
	cfg.remote_pwd = RPWD;
	cfg.random = fake_random;
	cfg.random_arg = &h;
	if ((a = ice_new(&cfg, &why)) == NULL)
		abort();
	for (i = 0; i < 3; i++)
		FUZZ_ASSERT(ice_add_local(a, now, locals[i].type,
		    &locals[i].addr, NULL, &out) == 0);
	for (i = 0; i < sizeof(remote_cands) / sizeof(remote_cands[0]); i++)
		FUZZ_ASSERT(ice_add_remote(a, now, remote_cands[i], &why) ==
		    0);
	ice_start(a, now);
	drain(a);

	in.p = data + 1;
	in.n = size - 1;
	while (fuzz_next(&in, &r)) {
		switch (r.op & 3) {
		case 0:
			datagram(&h, a, now, &r);
			break;
		case 1:
			dt = (uint64_t)(fuzz_byte(&r, 0) << 8 | fuzz_byte(&r,
			    1)) * (r.op & 4 ? NSEC_PER_SEC : NSEC_PER_MSEC);
			now += dt;
			if ((r.op & 8) || now >= ice_next_deadline(a))
				ice_handle_timeout(a, now);
			break;
		case 2:
			n = r.len < sizeof(s) - 1 ? r.len : sizeof(s) - 1;
			memcpy(s, r.data, n);
			s[n] = '\0';
			candidate_roundtrip(s);
			if (r.op & 4)
				(void)ice_remove_remote(a, now, s, &why);
			else
				(void)ice_add_remote(a, now, s, &why);
			break;
		case 3:
			l = &locals[fuzz_byte(&r, 0) & 3];
			if (r.op & 4)
				ice_note_traffic(a, now);
			if (r.op & 8)
				(void)ice_remove_local(a, now, &l->addr);
			if (r.op & 16)
				(void)ice_add_local(a, now, l->type, &l->addr,
				    NULL, &out);
			break;
		}
		drain(a);
#ifdef FUZZ_DEBUG
		fprintf(stderr, "op %02x len %zu: state %s, controlling %d, "
		    "why %s\n", r.op, r.len, ice_state_name(ice_get_state(a)),
		    ice_is_controlling(a), dbg_why ? dbg_why : "-");
		dbg_why = NULL;
#endif
		if (ice_get_selected(a, &sel))
			FUZZ_ASSERT(ice_get_state(a) == ICE_CONNECTED ||
			    ice_get_state(a) == ICE_CHECKING);
	}
	ice_free(a);
	return (0);
}

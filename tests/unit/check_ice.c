/*
 * ICE agent tests: two agents wired back to back through a fake network
 * on a fake clock.  The network knows which agent owns which address
 * (host or relayed), can translate one address as a NAT would, drops
 * datagrams on request, and delivers the rest after a fixed latency.  It
 * logs every datagram an agent sends, with the time, so the tests can
 * check what went out and when.
 */

#include <netinet/in.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tunneld/nat/ice.h"
#include "tunneld/nat/stun.h"
#include "tests/unit/check_main.h"

#define S(x)		((uint64_t)(x) * NSEC_PER_SEC)
#define MS(x)		((uint64_t)(x) * NSEC_PER_MSEC)
#define LATENCY		MS(5)
#define MAX_FLIGHT	256
#define MAX_LOG		2048
#define MAX_EV		64

#define CLIENT	0
#define GW	1

static const char *ufrag[2] = { "mfrg", "xk4q" };
static const char *pwd[2] = { "gzdfmnbxgi3tqojqgeztcm",
    "n5rw6zlsmvzxizlfnvqxgz" };

static const struct stun_addr a_host = { .family = AF_INET, .port = 52625,
    .ip = { 10, 0, 0, 1 } };
static const struct stun_addr b_host = { .family = AF_INET, .port = 52625,
    .ip = { 10, 0, 0, 2 } };
static const struct stun_addr a_priv = { .family = AF_INET, .port = 52625,
    .ip = { 192, 168, 1, 10 } };
static const struct stun_addr a_pub = { .family = AF_INET, .port = 40000,
    .ip = { 203, 0, 113, 1 } };
static const struct stun_addr b_relay = { .family = AF_INET, .port = 50002,
    .ip = { 198, 51, 100, 7 } };
static const struct stun_addr a_relay = { .family = AF_INET, .port = 50000,
    .ip = { 198, 51, 100, 7 } };
static const struct stun_addr a_host6 = { .family = AF_INET6, .port = 52625,
    .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

struct flight {
	uint64_t	at;
	int		to;
	struct ice_path	path;
	size_t		len;
	uint8_t		buf[ICE_MAX_MSG];
};

struct sent {
	uint64_t	at;
	struct ice_path	path;
	enum stun_class	class;
	int		code;
	bool		use_cand;
	bool		dropped;
};

struct rec {
	uint64_t	 at;
	struct ice_event ev;
};

struct owned {
	int		 side;
	struct stun_addr addr;
	bool		 relayed;
};

struct side {
	struct ice_agent	*ice;
	uint8_t			 rng;
	struct rec		 ev[MAX_EV];
	size_t			 nev;
	struct sent		 log[MAX_LOG];
	size_t			 nlog;
	unsigned int		 drop_first;
	bool			 blackhole;
	size_t			 ignored;
};

struct net {
	uint64_t	 now;
	struct side	 s[2];
	struct owned	 own[8];
	size_t		 nown;
	bool		 nat;	/* a_priv <-> a_pub */
	struct stun_addr blocked;
	bool		 has_blocked;
	struct flight	 q[MAX_FLIGHT];
	size_t		 nq;
};

static void
fake_random(void *arg, uint8_t *buf, size_t len)
{
	uint8_t	*rng = arg;
	size_t	 i;

	for (i = 0; i < len; i++)
		buf[i] = ++*rng;
}

static struct net *
net_new(bool ctrl0, bool ctrl1)
{
	struct ice_config	 cfg;
	struct net		*n;
	const char		*why = NULL;
	bool			 ctrl[2] = { ctrl0, ctrl1 };
	int			 i;

	n = calloc(1, sizeof(*n));
	ck_assert_ptr_nonnull(n);
	for (i = 0; i < 2; i++) {
		/* Distinct streams: side 1 draws the larger tie-breaker. */
		n->s[i].rng = i == 0 ? 0 : 100;
		ice_config_defaults(&cfg, ctrl[i]);
		cfg.local_ufrag = ufrag[i];
		cfg.local_pwd = pwd[i];
		cfg.remote_ufrag = ufrag[1 - i];
		cfg.remote_pwd = pwd[1 - i];
		cfg.random = fake_random;
		cfg.random_arg = &n->s[i].rng;
		n->s[i].ice = ice_new(&cfg, &why);
		ck_assert_msg(n->s[i].ice != NULL, "%s", why);
	}
	return (n);
}

static void
net_free(struct net *n)
{
	ice_free(n->s[0].ice);
	ice_free(n->s[1].ice);
	free(n);
}

static int
owner(const struct net *n, const struct stun_addr *a, bool *relayed)
{
	size_t	i;

	for (i = 0; i < n->nown; i++)
		if (stun_addr_eq(&n->own[i].addr, a)) {
			*relayed = n->own[i].relayed;
			return (n->own[i].side);
		}
	return (-1);
}

static void
log_sent(struct side *s, uint64_t now, const struct ice_path *path,
    const uint8_t *buf, size_t len, bool dropped)
{
	struct sent	*l;
	struct stun_msg	 m;

	ck_assert_uint_lt(s->nlog, MAX_LOG);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	l = &s->log[s->nlog++];
	memset(l, 0, sizeof(*l));
	l->at = now;
	l->path = *path;
	l->class = m.class;
	l->use_cand = stun_find(&m, STUN_A_USE_CANDIDATE) != NULL;
	l->dropped = dropped;
	if (m.class == STUN_ERROR)
		ck_assert(stun_get_error(&m, &l->code, NULL, NULL));
}

/* Send what side i has, through the NAT, to whoever owns the address. */
static void
drain(struct net *n, int i)
{
	struct side	*s = &n->s[i];
	struct flight	*f;
	struct ice_path	 path;
	struct ice_event ev;
	struct stun_addr src, dst;
	uint8_t		 buf[ICE_MAX_MSG];
	size_t		 len;
	bool		 relayed, drop;
	int		 to;

	while ((len = ice_poll_transmit(s->ice, buf, sizeof(buf), &path)) > 0) {
		src = path.local;
		dst = path.remote;
		if (n->nat && stun_addr_eq(&src, &a_priv))
			src = a_pub;
		if (n->nat && stun_addr_eq(&dst, &a_pub))
			dst = a_priv;
		drop = s->blackhole || s->drop_first > 0 ||
		    (n->has_blocked && (stun_addr_eq(&src, &n->blocked) ||
		    stun_addr_eq(&dst, &n->blocked)));
		if (s->drop_first > 0)
			s->drop_first--;
		/* A private address is unreachable from outside the NAT. */
		if (n->nat && i == GW && stun_addr_eq(&path.remote, &a_priv))
			drop = true;
		log_sent(s, n->now, &path, buf, len, drop);
		if (drop || (to = owner(n, &dst, &relayed)) == -1)
			continue;
		ck_assert_uint_lt(n->nq, MAX_FLIGHT);
		f = &n->q[n->nq++];
		f->at = n->now + LATENCY;
		f->to = to;
		f->path.local = dst;
		f->path.remote = src;
		f->path.relayed = relayed;
		f->len = len;
		memcpy(f->buf, buf, len);
	}
	while (ice_poll_event(s->ice, &ev)) {
		ck_assert_uint_lt(s->nev, MAX_EV);
		s->ev[s->nev].at = n->now;
		s->ev[s->nev].ev = ev;
		s->nev++;
	}
}

/* Run the two agents and the network until the clock reaches end. */
static void
run(struct net *n, uint64_t end)
{
	const char	*why;
	uint64_t	 t, d;
	size_t		 k, guard = 0;
	int		 i;

	for (;;) {
		ck_assert_uint_lt(++guard, 1000000);
		drain(n, 0);
		drain(n, 1);
		t = TIMER_NEVER;
		for (i = 0; i < 2; i++)
			if ((d = ice_next_deadline(n->s[i].ice)) < t)
				t = d;
		for (k = 0; k < n->nq; k++)
			if (n->q[k].at < t)
				t = n->q[k].at;
		if (t > end) {
			n->now = end;
			return;
		}
		if (t > n->now)
			n->now = t;
		for (k = 0; k < n->nq;) {
			if (n->q[k].at > n->now) {
				k++;
				continue;
			}
			i = n->q[k].to;
			if (ice_handle_input(n->s[i].ice, n->now, n->q[k].buf,
			    n->q[k].len, &n->q[k].path, &why) != ICE_IN_HANDLED)
				n->s[i].ignored++;
			memmove(&n->q[k], &n->q[k + 1],
			    (n->nq - k - 1) * sizeof(n->q[0]));
			n->nq--;
		}
		for (i = 0; i < 2; i++)
			if (ice_next_deadline(n->s[i].ice) <= n->now)
				ice_handle_timeout(n->s[i].ice, n->now);
	}
}

static void
own(struct net *n, int side, const struct stun_addr *a, bool relayed)
{
	ck_assert_uint_lt(n->nown, 8);
	n->own[n->nown].side = side;
	n->own[n->nown].addr = *a;
	n->own[n->nown].relayed = relayed;
	n->nown++;
}

/* Give side its candidate and, if signal, the peer its string. */
static void
add_cand(struct net *n, int side, enum ice_cand_type type,
    const struct stun_addr *a, bool signal)
{
	struct ice_candidate	 c;
	char			 str[ICE_CANDIDATE_STRLEN];
	const char		*why = NULL;

	ck_assert_int_eq(ice_add_local(n->s[side].ice, n->now, type, a,
	    NULL, &c), 0);
	if (type != ICE_CAND_SRFLX)
		own(n, side, a, type == ICE_CAND_RELAY);
	if (!signal)
		return;
	ck_assert_int_eq(ice_candidate_format(&c, str, sizeof(str)), 0);
	ck_assert_msg(ice_add_remote(n->s[1 - side].ice, n->now, str,
	    &why) == 0, "%s", why);
}

static void
start(struct net *n)
{
	ice_start(n->s[0].ice, n->now);
	ice_start(n->s[1].ice, n->now);
}

/* Index of the first event of that type (and state) at or after from. */
static int
find_ev(const struct side *s, enum ice_event_type type,
    enum ice_state state, size_t from)
{
	size_t	i;

	for (i = from; i < s->nev; i++)
		if (s->ev[i].ev.type == type &&
		    (type != ICE_EV_STATE || s->ev[i].ev.state == state))
			return ((int)i);
	return (-1);
}

static int
last_nominated(const struct side *s)
{
	int	i;

	for (i = (int)s->nev - 1; i >= 0; i--)
		if (s->ev[i].ev.type == ICE_EV_NOMINATED)
			return (i);
	return (-1);
}

static void
assert_path(const struct ice_path *p, const struct stun_addr *local,
    const struct stun_addr *remote, bool relayed)
{
	ck_assert(stun_addr_eq(&p->local, local));
	ck_assert(stun_addr_eq(&p->remote, remote));
	ck_assert_int_eq(p->relayed, relayed);
}

/*
 * The number of requests sent in [from, to] (to dst if not NULL); the
 * times of the first max of them go into at[].
 */
static size_t
request_times(const struct side *s, uint64_t from, uint64_t to,
    uint64_t *at, size_t max, const struct stun_addr *dst)
{
	size_t	i, k = 0;

	for (i = 0; i < s->nlog; i++) {
		if (s->log[i].class != STUN_REQUEST || s->log[i].at < from ||
		    s->log[i].at > to || (dst != NULL &&
		    !stun_addr_eq(&s->log[i].path.remote, dst)))
			continue;
		if (k < max)
			at[k] = s->log[i].at;
		k++;
	}
	return (k);
}

static void
candidate_string(const struct stun_addr *a, enum ice_cand_type type,
    char *buf, size_t len)
{
	struct ice_candidate	c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	strcpy(c.foundation, "1");
	c.priority = ice_candidate_priority(type, 65535);
	c.addr = *a;
	ck_assert_int_eq(ice_candidate_format(&c, buf, len), 0);
}

/* The gateway's answer to a check from a_host, keyed with key. */
static size_t
gw_success(const uint8_t *txid, const char *key, uint8_t *buf, size_t cap)
{
	struct stun_builder	b;
	size_t			len;

	stun_build(&b, buf, cap, STUN_BINDING, STUN_SUCCESS, txid);
	stun_put_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, &a_host);
	stun_put_integrity(&b, (const uint8_t *)key, strlen(key));
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &len), 0);
	return (len);
}

START_TEST(test_host_pair)
{
	struct net	*n = net_new(true, false);
	struct ice_path	 p;
	int		 e, c;
	size_t		 i;
	bool		 nominating = false;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	ck_assert_int_eq(ice_get_state(n->s[0].ice), ICE_NEW);
	start(n);
	run(n, MS(500));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ice_get_state(n->s[i].ice), ICE_CONNECTED);
		ck_assert_int_eq(find_ev(&n->s[i], ICE_EV_STATE,
		    ICE_CHECKING, 0), 0);
		c = find_ev(&n->s[i], ICE_EV_STATE, ICE_CONNECTED, 0);
		e = find_ev(&n->s[i], ICE_EV_NOMINATED, 0, 0);
		ck_assert_int_ge(c, 0);
		ck_assert_int_ge(e, 0);
		/* The check, Ta, then the nomination's round trip. */
		ck_assert_uint_le(n->s[i].ev[c].at, MS(50) + 2 * LATENCY);
		ck_assert_int_eq(n->s[i].ev[e].ev.local_type, ICE_CAND_HOST);
		ck_assert_int_eq(n->s[i].ev[e].ev.remote_type, ICE_CAND_HOST);
		/* Nominated once, and it stays. */
		ck_assert_int_eq(last_nominated(&n->s[i]), e);
	}
	assert_path(&n->s[0].ev[last_nominated(&n->s[0])].ev.path, &a_host,
	    &b_host, false);
	assert_path(&n->s[1].ev[last_nominated(&n->s[1])].ev.path, &b_host,
	    &a_host, false);
	ck_assert(ice_get_selected(n->s[0].ice, &p));
	assert_path(&p, &a_host, &b_host, false);
	ck_assert(ice_is_controlling(n->s[0].ice));
	ck_assert(!ice_is_controlling(n->s[1].ice));
	/* Only the controlling side sends USE-CANDIDATE. */
	for (i = 0; i < n->s[0].nlog; i++)
		nominating |= n->s[0].log[i].use_cand;
	ck_assert(nominating);
	for (i = 0; i < n->s[1].nlog; i++)
		ck_assert(!n->s[1].log[i].use_cand);
	/* The gateway nominates only when told to. */
	for (i = 0; i < n->s[0].nlog; i++)
		if (n->s[0].log[i].use_cand)
			break;
	e = find_ev(&n->s[1], ICE_EV_NOMINATED, 0, 0);
	ck_assert_uint_ge(n->s[1].ev[e].at, n->s[0].log[i].at + LATENCY);
	ck_assert_uint_eq(n->s[0].ignored + n->s[1].ignored, 0);
	net_free(n);
}
END_TEST

/* A local candidate is retracted as it was signalled. */
START_TEST(test_get_local)
{
	struct net		*n = net_new(true, false);
	struct ice_candidate	 added, got;

	ck_assert_int_eq(ice_add_local(n->s[CLIENT].ice, 0, ICE_CAND_HOST,
	    &a_host, NULL, &added), 0);
	ck_assert_int_eq(ice_get_local(n->s[CLIENT].ice, ICE_CAND_HOST,
	    &a_host, &got), 0);
	ck_assert_str_eq(got.foundation, added.foundation);
	ck_assert_uint_eq(got.priority, added.priority);
	ck_assert_str_ne(got.foundation, "");
	ck_assert_int_eq(ice_get_local(n->s[CLIENT].ice, ICE_CAND_RELAY,
	    &a_host, &got), -1);
	ck_assert_int_eq(ice_remove_local(n->s[CLIENT].ice, 0, &a_host), 0);
	ck_assert_int_eq(ice_get_local(n->s[CLIENT].ice, ICE_CAND_HOST,
	    &a_host, &got), -1);
	net_free(n);
}
END_TEST

START_TEST(test_order_and_pacing)
{
	struct net	*n = net_new(true, false);
	struct sent	*l = n->s[CLIENT].log;

	/*
	 * Relay first, so that the relay-relay pair sits before the
	 * host-relay pair: both have the same lower candidate priority, and
	 * only the rest of the formula puts host-relay ahead.
	 */
	add_cand(n, CLIENT, ICE_CAND_RELAY, &a_relay, false);
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	n->s[CLIENT].blackhole = true;
	start(n);
	run(n, MS(400));
	ck_assert_uint_eq(n->s[CLIENT].nlog, 4);
	/* New checks Ta apart, retransmissions on their own clock. */
	ck_assert_uint_eq(l[0].at, 0);
	assert_path(&l[0].path, &a_host, &b_relay, false);
	ck_assert_uint_eq(l[1].at, MS(50));
	assert_path(&l[1].path, &a_relay, &b_relay, true);
	ck_assert_uint_eq(l[2].at, MS(250));
	assert_path(&l[2].path, &a_host, &b_relay, false);
	ck_assert_uint_eq(l[3].at, MS(300));
	assert_path(&l[3].path, &a_relay, &b_relay, true);
	net_free(n);
}
END_TEST

/* Ta holds even for a caller that calls ice_handle_timeout() early. */
START_TEST(test_pacing_early_calls)
{
	struct net		*n = net_new(true, false);
	struct ice_agent	*cl = n->s[CLIENT].ice;
	struct ice_path		 out;
	uint8_t			 buf[ICE_MAX_MSG];

	add_cand(n, CLIENT, ICE_CAND_RELAY, &a_relay, false);
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	ice_start(cl, 0);
	ice_handle_timeout(cl, 0);
	ck_assert_uint_gt(ice_poll_transmit(cl, buf, sizeof(buf), &out), 0);
	ice_handle_timeout(cl, 0);
	ice_handle_timeout(cl, MS(49));
	ck_assert_uint_eq(ice_poll_transmit(cl, buf, sizeof(buf), &out), 0);
	ck_assert_uint_eq(ice_next_deadline(cl), MS(50));
	ice_handle_timeout(cl, MS(50));
	ck_assert_uint_gt(ice_poll_transmit(cl, buf, sizeof(buf), &out), 0);
	assert_path(&out, &a_relay, &b_relay, true);
	net_free(n);
}
END_TEST

START_TEST(test_asymmetric_response)
{
	struct net		*n = net_new(true, false);
	struct ice_agent	*cl = n->s[CLIENT].ice;
	struct ice_path		 in, out;
	struct stun_msg		 m;
	uint8_t			 buf[ICE_MAX_MSG], resp[ICE_MAX_MSG];
	const char		*why;
	size_t			 len, rlen;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	ice_start(cl, 0);
	ice_handle_timeout(cl, 0);
	len = ice_poll_transmit(cl, buf, sizeof(buf), &out);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	rlen = gw_success(m.txid, pwd[GW], resp, sizeof(resp));
	/*
	 * Authentic, but not back on the path the check took (RFC 8445
	 * 7.2.5.2.1): from another address, or to another of ours.
	 */
	memset(&in, 0, sizeof(in));
	in.local = _i == 0 ? a_host : a_priv;
	in.remote = _i == 0 ? b_relay : b_host;
	ck_assert_int_eq(ice_handle_input(cl, MS(5), resp, rlen, &in, &why),
	    ICE_IN_HANDLED);
	/* The only pair failed, and with it the agent. */
	ck_assert_int_eq(ice_get_state(cl), ICE_FAILED);
	ck_assert(!ice_get_selected(cl, &out));
	net_free(n);
}
END_TEST

START_TEST(test_nat_prflx)
{
	struct net	*n = net_new(true, false);
	struct ice_path	 p;
	char		 str[ICE_CANDIDATE_STRLEN];
	const char	*why = NULL;
	size_t		 i, nev, mark, to_priv = 0;
	int		 e;

	n->nat = true;
	/* The client only knows and signals its private address. */
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_priv, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, false);
	start(n);
	run(n, S(2));
	ck_assert_int_eq(ice_get_state(n->s[0].ice), ICE_CONNECTED);
	ck_assert_int_eq(ice_get_state(n->s[1].ice), ICE_CONNECTED);
	e = last_nominated(&n->s[GW]);
	ck_assert_int_ge(e, 0);
	/* The gateway learned the NAT's address from the client's check. */
	ck_assert_int_eq(n->s[GW].ev[e].ev.remote_type, ICE_CAND_PRFLX);
	assert_path(&n->s[GW].ev[e].ev.path, &b_host, &a_pub, false);
	e = last_nominated(&n->s[CLIENT]);
	ck_assert_int_ge(e, 0);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_priv, &b_host, false);
	/* It did check the private address it was given, in vain. */
	for (i = 0; i < n->s[GW].nlog; i++)
		if (n->s[GW].log[i].class == STUN_REQUEST &&
		    stun_addr_eq(&n->s[GW].log[i].path.remote, &a_priv)) {
			ck_assert(n->s[GW].log[i].dropped);
			to_priv++;
		}
	ck_assert_uint_gt(to_priv, 0);

	/* The prflx was paired only with the address the check reached. */
	for (i = 0; i < n->s[GW].nlog; i++)
		ck_assert(!(n->s[GW].log[i].class == STUN_REQUEST &&
		    stun_addr_eq(&n->s[GW].log[i].path.local, &b_relay) &&
		    stun_addr_eq(&n->s[GW].log[i].path.remote, &a_pub)));

	/*
	 * The NAT's address, signalled late, takes over the prflx without
	 * disturbing the path, and pairs with the relay too.
	 */
	nev = n->s[GW].nev;
	mark = n->s[GW].nlog;
	candidate_string(&a_pub, ICE_CAND_SRFLX, str, sizeof(str));
	ck_assert_int_eq(ice_add_remote(n->s[GW].ice, n->now, str, &why), 0);
	run(n, S(4));
	ck_assert_uint_eq(n->s[GW].nev, nev);
	ck_assert(ice_get_selected(n->s[GW].ice, &p));
	assert_path(&p, &b_host, &a_pub, false);
	for (i = mark; i < n->s[GW].nlog; i++)
		if (n->s[GW].log[i].class == STUN_REQUEST &&
		    stun_addr_eq(&n->s[GW].log[i].path.local, &b_relay) &&
		    stun_addr_eq(&n->s[GW].log[i].path.remote, &a_pub))
			break;
	ck_assert_uint_lt(i, n->s[GW].nlog);
	net_free(n);
}
END_TEST

START_TEST(test_loss_then_retransmit)
{
	struct net	*n = net_new(true, false);
	int		 c;

	/* The gateway learns the client only from its checks. */
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	n->s[CLIENT].drop_first = 3;
	start(n);
	run(n, S(3));
	/* RTO 250 ms doubling: 0, 250, 750, 1750 ms. */
	ck_assert_uint_ge(n->s[CLIENT].nlog, 4);
	ck_assert_uint_eq(n->s[CLIENT].log[0].at, 0);
	ck_assert_uint_eq(n->s[CLIENT].log[1].at, MS(250));
	ck_assert_uint_eq(n->s[CLIENT].log[2].at, MS(750));
	ck_assert_uint_eq(n->s[CLIENT].log[3].at, MS(1750));
	ck_assert(n->s[CLIENT].log[2].dropped);
	ck_assert(!n->s[CLIENT].log[3].dropped);
	c = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_CONNECTED, 0);
	ck_assert_int_ge(c, 0);
	ck_assert_uint_ge(n->s[CLIENT].ev[c].at, MS(1750));
	ck_assert_uint_le(n->s[CLIENT].ev[c].at, MS(1800));
	ck_assert_int_eq(ice_get_state(n->s[GW].ice), ICE_CONNECTED);
	net_free(n);
}
END_TEST

START_TEST(test_triggered_check)
{
	struct net	*n = net_new(true, false);
	uint64_t	 at[3];
	int		 c;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	n->s[CLIENT].drop_first = 1;
	start(n);
	run(n, S(1));
	/*
	 * The gateway's check at 5 ms triggers a new check at the next Ta
	 * (50 ms) instead of the retransmission at 250 ms; the nomination
	 * follows one Ta later.
	 */
	c = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_CONNECTED, 0);
	ck_assert_int_ge(c, 0);
	ck_assert_uint_eq(n->s[CLIENT].ev[c].at, MS(100) + 2 * LATENCY);
	/* The lost check, the triggered one, the nomination. */
	ck_assert_uint_eq(request_times(&n->s[CLIENT], 0, S(1), at, 3, NULL),
	    3);
	ck_assert_uint_eq(at[1], MS(50));
	ck_assert_uint_eq(at[2], MS(100));
	net_free(n);
}
END_TEST

/* An answer to a check that a triggered one replaced still counts. */
START_TEST(test_replaced_check_answered)
{
	struct net		*n = net_new(true, false);
	struct ice_agent	*cl = n->s[CLIENT].ice;
	struct ice_path		 in, out;
	struct stun_builder	 b;
	struct stun_msg		 m;
	uint8_t			 buf[ICE_MAX_MSG], first[STUN_TXID_LEN];
	const char		*why;
	size_t			 len;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	ice_start(cl, 0);
	ice_handle_timeout(cl, 0);
	len = ice_poll_transmit(cl, buf, sizeof(buf), &out);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	memcpy(first, m.txid, sizeof(first));
	/* The gateway's check arrives: answered, and a new check goes. */
	memset(&in, 0, sizeof(in));
	in.local = a_host;
	in.remote = b_host;
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST,
	    (uint8_t[STUN_TXID_LEN]){ 7 });
	stun_put_str(&b, STUN_A_USERNAME, "mfrg:xk4q");
	stun_put_u32(&b, STUN_A_PRIORITY, 1862270975);
	stun_put_u64(&b, STUN_A_ICE_CONTROLLED, 1);
	stun_put_integrity(&b, (const uint8_t *)pwd[CLIENT],
	    strlen(pwd[CLIENT]));
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &len), 0);
	ck_assert_int_eq(ice_handle_input(cl, MS(10), buf, len, &in, &why),
	    ICE_IN_HANDLED);
	ck_assert_uint_gt(ice_poll_transmit(cl, buf, sizeof(buf), &out), 0);
	ice_handle_timeout(cl, MS(50));
	len = ice_poll_transmit(cl, buf, sizeof(buf), &out);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	ck_assert_int_eq(m.class, STUN_REQUEST);
	ck_assert_mem_ne(m.txid, first, sizeof(first));
	/* Now the answer to the first one. */
	len = gw_success(first, pwd[GW], buf, sizeof(buf));
	ck_assert_int_eq(ice_handle_input(cl, MS(60), buf, len, &in, &why),
	    ICE_IN_HANDLED);
	/* Valid: the nomination follows at the next Ta. */
	ice_handle_timeout(cl, MS(100));
	len = ice_poll_transmit(cl, buf, sizeof(buf), &out);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	ck_assert_ptr_nonnull(stun_find(&m, STUN_A_USE_CANDIDATE));
	net_free(n);
}
END_TEST

/* RFC 8445 6.1.2.6: a second pair of one foundation waits for the first. */
START_TEST(test_frozen_foundation)
{
	struct net		*n = net_new(true, false);
	struct ice_agent	*cl = n->s[CLIENT].ice;
	struct stun_addr	 b2 = b_host;
	uint64_t		 at[4];

	b2.port++;
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, CLIENT, ICE_CAND_RELAY, &a_relay, false);
	ck_assert_int_eq(ice_add_remote(cl, 0, "candidate:1 1 udp 2130706431 "
	    "10.0.0.2 52625 typ host", NULL), 0);
	ck_assert_int_eq(ice_add_remote(cl, 0, "candidate:1 1 udp 2130706175 "
	    "10.0.0.2 52626 typ host", NULL), 0);
	n->s[CLIENT].blackhole = true;
	start(n);
	run(n, S(1));
	/* Host to b_host, then the relay, not the frozen twin before it. */
	ck_assert_uint_eq(request_times(&n->s[CLIENT], 0, MS(50), at, 4,
	    &b_host), 2);
	ck_assert_uint_eq(at[0], 0);
	ck_assert_uint_eq(at[1], MS(50));
	ck_assert(n->s[CLIENT].log[1].path.relayed);
	ck_assert_uint_eq(request_times(&n->s[CLIENT], 0, S(1), at, 4, &b2),
	    0);
	net_free(n);
}
END_TEST

/* PROTOCOL.md 4.3: at most 10 s for the first remote candidate. */
START_TEST(test_candidate_timeout)
{
	struct net	*n = net_new(true, false);
	int		 f;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	start(n);
	ck_assert_uint_eq(ice_next_deadline(n->s[CLIENT].ice), S(10));
	run(n, S(10) - 1);
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CHECKING);
	run(n, S(11));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_FAILED);
	f = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_FAILED, 0);
	ck_assert_uint_eq(n->s[CLIENT].ev[f].at, S(10));
	/* Stopped: candidates are refused now. */
	ck_assert_int_eq(ice_add_remote(n->s[CLIENT].ice, n->now,
	    "candidate:1 1 udp 2130706431 10.0.0.2 52625 typ host", NULL), -1);

	/* One that arrives in time is checked past 10 s. */
	net_free(n);
	n = net_new(true, false);
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	start(n);
	run(n, S(9));
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	run(n, S(12));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);
	ck_assert_int_eq(find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_FAILED, 0),
	    -1);
	net_free(n);
}
END_TEST

START_TEST(test_total_loss_fails)
{
	struct net	*n = net_new(true, false);
	size_t		 sent;
	int		 f;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	n->s[CLIENT].blackhole = true;
	start(n);
	/* 250 + 500 + 1000 + 10 * 1500 ms after the first check. */
	run(n, MS(16749));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CHECKING);
	run(n, MS(16750));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_FAILED);
	f = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_FAILED, 0);
	ck_assert_int_ge(f, 0);
	ck_assert_uint_eq(n->s[CLIENT].ev[f].at, MS(16750));
	/* The first check and 12 retransmissions, then silence. */
	sent = request_times(&n->s[CLIENT], 0, S(100), NULL, 0, NULL);
	ck_assert_uint_eq(sent, 13);
	ck_assert_uint_eq(n->s[CLIENT].log[12].at, MS(15250));
	ck_assert_uint_eq(ice_next_deadline(n->s[CLIENT].ice), TIMER_NEVER);
	run(n, S(60));
	ck_assert_uint_eq(request_times(&n->s[CLIENT], 0, S(100), NULL, 0,
	    NULL), sent);
	net_free(n);
}
END_TEST

/* Both controlling, then both controlled (RFC 8445 7.3.1.1). */
START_TEST(test_role_conflict)
{
	struct net	*n = net_new(_i == 0, _i == 0);
	struct ice_path	 p0, p1;
	size_t		 i, k;
	bool		 saw487 = false;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	start(n);
	run(n, S(2));
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(ice_get_state(n->s[i].ice), ICE_CONNECTED);
	/* Side 1 drew the larger tie-breaker: it controls. */
	ck_assert(ice_is_controlling(n->s[1].ice));
	ck_assert(!ice_is_controlling(n->s[0].ice));
	for (k = 0; k < 2; k++)
		for (i = 0; i < n->s[k].nlog; i++)
			if (n->s[k].log[i].class == STUN_ERROR &&
			    n->s[k].log[i].code == 487)
				saw487 = true;
	ck_assert(saw487);
	ck_assert(ice_get_selected(n->s[0].ice, &p0));
	ck_assert(ice_get_selected(n->s[1].ice, &p1));
	assert_path(&p0, &a_host, &b_host, false);
	assert_path(&p1, &b_host, &a_host, false);
	net_free(n);
}
END_TEST

START_TEST(test_trickle)
{
	struct net	*n = net_new(true, false);
	int		 e, i;

	start(n);
	run(n, S(1));
	/* Nothing to check yet. */
	ck_assert_uint_eq(n->s[0].nlog + n->s[1].nlog, 0);
	ck_assert_int_eq(ice_get_state(n->s[0].ice), ICE_CHECKING);
	/* Relays first, as when host candidates come late. */
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	run(n, S(2));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ice_get_state(n->s[i].ice), ICE_CONNECTED);
		e = last_nominated(&n->s[i]);
		ck_assert_int_ge(e, 0);
		ck_assert_uint_ge(n->s[i].ev[e].at, S(1));
	}
	e = last_nominated(&n->s[GW]);
	assert_path(&n->s[GW].ev[e].ev.path, &b_relay, &a_host, true);
	ck_assert_int_eq(n->s[GW].ev[e].ev.local_type, ICE_CAND_RELAY);
	/* The direct path trickles in and replaces the relayed one. */
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	run(n, S(4));
	e = last_nominated(&n->s[GW]);
	assert_path(&n->s[GW].ev[e].ev.path, &b_host, &a_host, false);
	ck_assert_uint_ge(n->s[GW].ev[e].at, S(2));
	e = last_nominated(&n->s[CLIENT]);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_host, false);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ice_get_state(n->s[i].ice), ICE_CONNECTED);
		ck_assert_int_eq(find_ev(&n->s[i], ICE_EV_STATE,
		    ICE_DISCONNECTED, 0), -1);
	}
	net_free(n);
}
END_TEST

/*
 * The direct path stops carrying anything, its candidates still standing:
 * consent is lost after a few checks and the relay takes over in < 10 s.
 */
START_TEST(test_blocked_moves_to_relay)
{
	struct net	*n = net_new(true, false);
	size_t		 mark;
	uint64_t	 t0;
	int		 e;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	start(n);
	run(n, S(3));
	e = last_nominated(&n->s[CLIENT]);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_host, false);

	mark = n->s[CLIENT].nev;
	t0 = n->now;
	n->blocked = b_host;
	n->has_blocked = true;
	run(n, t0 + S(10));
	e = last_nominated(&n->s[CLIENT]);
	ck_assert_uint_ge((size_t)e, mark);
	ck_assert_uint_lt(n->s[CLIENT].ev[e].at, t0 + S(10));
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_relay, false);
	e = last_nominated(&n->s[GW]);
	assert_path(&n->s[GW].ev[e].ev.path, &b_relay, &a_host, true);
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);
	ck_assert_int_eq(find_ev(&n->s[CLIENT], ICE_EV_STATE,
	    ICE_DISCONNECTED, 0), -1);
	net_free(n);
}
END_TEST

/*
 * A network change (connlib's reset): the direct pair failed while the
 * path was blocked and stays failed; once the agent checks again, the
 * direct path is found and nominated over the relayed one.
 */
START_TEST(test_restart_checks)
{
	struct net	*n = net_new(true, false);
	uint64_t	 t0;
	int		 e;

	n->blocked = b_host;
	n->has_blocked = true;
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	start(n);
	/* Longer than even the gateway's lax checks (615.5 s) last. */
	run(n, S(700));
	e = last_nominated(&n->s[CLIENT]);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_relay, false);
	/* Unblocked: nothing checks the failed pair again by itself. */
	n->has_blocked = false;
	run(n, S(720));
	ck_assert_int_eq(last_nominated(&n->s[CLIENT]), e);
	t0 = n->now;
	ice_restart_checks(n->s[CLIENT].ice, n->now);
	run(n, t0 + S(3));
	e = last_nominated(&n->s[CLIENT]);
	ck_assert_uint_gt(n->s[CLIENT].ev[e].at, t0);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_host, false);
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);
	net_free(n);
}
END_TEST

START_TEST(test_invalidated)
{
	struct net	*n = net_new(true, false);
	char		 str[ICE_CANDIDATE_STRLEN];
	const char	*why = NULL;
	size_t		 mark;
	int		 e, d;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	start(n);
	run(n, S(3));
	e = last_nominated(&n->s[CLIENT]);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_host, false);

	/* The gateway's host candidate goes away: the relay takes over. */
	mark = n->s[CLIENT].nev;
	n->blocked = b_host;
	n->has_blocked = true;
	candidate_string(&b_host, ICE_CAND_HOST, str, sizeof(str));
	ck_assert_int_eq(ice_remove_remote(n->s[CLIENT].ice, n->now, str,
	    &why), 0);
	run(n, S(4));
	e = last_nominated(&n->s[CLIENT]);
	ck_assert_uint_ge((size_t)e, mark);
	assert_path(&n->s[CLIENT].ev[e].ev.path, &a_host, &b_relay, false);
	ck_assert_int_eq(n->s[CLIENT].ev[e].ev.remote_type, ICE_CAND_RELAY);
	e = last_nominated(&n->s[GW]);
	assert_path(&n->s[GW].ev[e].ev.path, &b_relay, &a_host, true);
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);
	ck_assert_int_eq(find_ev(&n->s[CLIENT], ICE_EV_STATE,
	    ICE_DISCONNECTED, 0), -1);

	/* Then the relay too: nothing left, disconnected after 2 s. */
	candidate_string(&b_relay, ICE_CAND_RELAY, str, sizeof(str));
	ck_assert_int_eq(ice_remove_remote(n->s[CLIENT].ice, n->now, str,
	    &why), 0);
	ck_assert(!ice_get_selected(n->s[CLIENT].ice, &(struct ice_path){0}));
	run(n, S(4) + MS(1999));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);
	run(n, S(6));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_DISCONNECTED);
	d = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_DISCONNECTED, 0);
	ck_assert_uint_eq(n->s[CLIENT].ev[d].at, S(6));
	/* Stopped: no timers, nothing more sent. */
	ck_assert_uint_eq(ice_next_deadline(n->s[CLIENT].ice), TIMER_NEVER);
	mark = n->s[CLIENT].nlog;
	run(n, S(60));
	ck_assert_uint_eq(n->s[CLIENT].nlog, mark);
	net_free(n);
}
END_TEST

START_TEST(test_idle)
{
	struct net	*n = net_new(true, false);
	uint64_t	 at[64], last;
	size_t		 k, i;
	int		 c, d;

	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, true);
	add_cand(n, GW, ICE_CAND_HOST, &b_host, true);
	/* A second valid pair, checked only while active. */
	add_cand(n, GW, ICE_CAND_RELAY, &b_relay, true);
	start(n);
	run(n, S(1));
	c = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_CONNECTED, 0);
	ck_assert_int_ge(c, 0);
	ice_note_traffic(n->s[CLIENT].ice, S(1));
	/* Active: the path is checked every 1.5 s. */
	run(n, S(20));
	ck_assert(!ice_is_idle(n->s[CLIENT].ice));
	k = request_times(&n->s[CLIENT], S(2), S(20), at, 64, &b_host);
	ck_assert_uint_le(k, 64);
	ck_assert_uint_ge(k, 10);
	for (i = 1; i < k; i++)
		ck_assert_uint_eq(at[i] - at[i - 1], MS(1500));
	ck_assert_uint_ge(request_times(&n->s[CLIENT], S(2), S(20), at, 64,
	    &b_relay), 10);
	/* 20 s after the last traffic: idle, every 25 s. */
	run(n, S(21) + MS(1));
	ck_assert(ice_is_idle(n->s[CLIENT].ice));
	run(n, S(100));
	ck_assert_uint_eq(request_times(&n->s[CLIENT], S(21), S(100), at, 64,
	    &b_relay), 0);
	k = request_times(&n->s[CLIENT], S(2), S(100), at, 64, &b_host);
	ck_assert_uint_le(k, 64);
	/* The last active check, then three idle ones, 25 s apart. */
	ck_assert_uint_ge(k, 4);
	ck_assert_uint_le(at[k - 4], S(21));
	ck_assert_uint_gt(at[k - 3], S(21));
	for (i = k - 3; i < k; i++)
		ck_assert_uint_eq(at[i] - at[i - 1], S(25));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);

	/* Traffic again: back to the short interval at once. */
	ice_note_traffic(n->s[CLIENT].ice, n->now);
	ck_assert(!ice_is_idle(n->s[CLIENT].ice));
	ck_assert_uint_le(ice_next_deadline(n->s[CLIENT].ice), n->now);
	run(n, S(110));
	k = request_times(&n->s[CLIENT], S(100), S(110), at, 64, &b_host);
	ck_assert_uint_le(k, 64);
	ck_assert_uint_ge(k, 6);

	/* Idle again, then the gateway stops answering. */
	run(n, S(140));
	ck_assert(ice_is_idle(n->s[CLIENT].ice));
	k = request_times(&n->s[CLIENT], 0, S(140), at, 64, &b_host);
	ck_assert_uint_le(k, 64);
	last = at[k - 1];
	run(n, last + MS(100));
	n->s[GW].blackhole = true;
	/* Four checks go unanswered; the fifth finds the path lost. */
	run(n, last + S(125) + S(2) - 1);
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_CONNECTED);
	k = request_times(&n->s[CLIENT], last + 1, n->now, at, 64, &b_host);
	ck_assert_uint_le(k, 64);
	ck_assert_uint_eq(k, 5);
	/* Meanwhile it tried to move to the relay, in vain. */
	ck_assert_uint_gt(request_times(&n->s[CLIENT], last + 1, n->now, at,
	    64, &b_relay), 0);
	run(n, last + S(128));
	ck_assert_int_eq(ice_get_state(n->s[CLIENT].ice), ICE_DISCONNECTED);
	d = find_ev(&n->s[CLIENT], ICE_EV_STATE, ICE_DISCONNECTED, 0);
	ck_assert_uint_eq(n->s[CLIENT].ev[d].at, last + S(127));
	net_free(n);
}
END_TEST

START_TEST(test_local_candidates)
{
	struct net		*n = net_new(true, false);
	struct ice_candidate	 c1, c2, c3;
	char			 out[ICE_CANDIDATE_STRLEN];

	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_HOST,
	    &a_host, NULL, &c1), 0);
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_HOST,
	    &a_host6, NULL, &c2), 0);
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_SRFLX,
	    &a_pub, &a_host, &c3), 0);
	/* Unique priorities within a type; foundations by base IP. */
	ck_assert_uint_eq(c1.priority, 2130706431);
	ck_assert_uint_eq(c2.priority, 2130706431 - 256);
	ck_assert_str_ne(c1.foundation, c2.foundation);
	ck_assert_uint_eq(c3.priority, 1694498815);
	ck_assert(c3.has_related);
	ck_assert(stun_addr_eq(&c3.related, &a_host));
	ck_assert_int_eq(ice_candidate_format(&c3, out, sizeof(out)), 0);
	ck_assert(strstr(out, " 203.0.113.1 40000 typ srflx raddr 10.0.0.1 "
	    "rport 52625") != NULL);
	/* Adding the same one twice changes nothing. */
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_HOST,
	    &a_host, NULL, &c2), 0);
	ck_assert_uint_eq(c2.priority, c1.priority);
	/* Learned types and unusable addresses are not local candidates. */
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_PRFLX,
	    &a_pub, NULL, NULL), -1);
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_HOST,
	    &(struct stun_addr){ .family = AF_INET, .port = 1 }, NULL,
	    NULL), -1);
	ck_assert_int_eq(ice_remove_local(n->s[0].ice, 0, &a_host), 0);
	ck_assert_int_eq(ice_remove_local(n->s[0].ice, 0, &a_host), -1);
	/* A freed preference is reused, never a taken one. */
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_HOST,
	    &a_priv, NULL, &c1), 0);
	ck_assert_uint_eq(c1.priority, 2130706431);
	ck_assert_int_eq(ice_add_local(n->s[0].ice, 0, ICE_CAND_HOST,
	    &a_host, NULL, &c1), 0);
	ck_assert_uint_eq(c1.priority, 2130706431 - 2 * 256);
	net_free(n);
}
END_TEST

START_TEST(test_bad_config)
{
	struct ice_config	 cfg;
	const char		*why = NULL;
	uint8_t			 rng = 0;

	ice_config_defaults(&cfg, true);
	cfg.local_ufrag = "mfrg";
	cfg.local_pwd = pwd[0];
	cfg.remote_ufrag = "xk:4q";
	cfg.remote_pwd = pwd[1];
	cfg.random = fake_random;
	cfg.random_arg = &rng;
	ck_assert_ptr_null(ice_new(&cfg, &why));
	ck_assert_ptr_nonnull(why);
	cfg.remote_ufrag = "";
	ck_assert_ptr_null(ice_new(&cfg, &why));
	cfg.remote_ufrag = "xk4q";
	cfg.random = NULL;
	ck_assert_ptr_null(ice_new(&cfg, &why));
	/* Gateway timings differ from the client's. */
	ice_config_defaults(&cfg, false);
	ck_assert_uint_eq(cfg.rto_max, S(15));
	ck_assert_uint_eq(cfg.max_retransmits, 45);
	ck_assert_uint_eq(cfg.idle_retransmits, 40);
	ice_config_defaults(&cfg, true);
	ck_assert_uint_eq(cfg.rto_max, MS(1500));
	ck_assert_uint_eq(cfg.max_retransmits, 12);
	ck_assert_uint_eq(cfg.idle_retransmits, 4);
}
END_TEST

enum req_flaw {
	FLAW_NONE,
	FLAW_BAD_MI,
	FLAW_NO_MI,
	FLAW_NO_FP,
	FLAW_BAD_FP,
	FLAW_REMOTE_UFRAG,
	FLAW_OTHER_AGENT,
	FLAW_NO_USERNAME,
	FLAW_NO_PRIORITY,
	FLAW_BOTH_ROLES,
	FLAW_UNKNOWN_ATTR,
	FLAW_TRUNCATED
};

/* A check from the client (a_host) to the gateway, possibly spoiled. */
static size_t
client_request(enum req_flaw flaw, uint8_t *buf, size_t cap)
{
	struct stun_builder	b;
	uint8_t			txid[STUN_TXID_LEN] = { 1, 2, 3 };
	size_t			len;
	const char		*key = pwd[GW];

	stun_build(&b, buf, cap, STUN_BINDING, STUN_REQUEST, txid);
	if (flaw == FLAW_REMOTE_UFRAG)
		stun_put_str(&b, STUN_A_USERNAME, "xk4q:zzzz");
	else if (flaw == FLAW_OTHER_AGENT)
		stun_put_str(&b, STUN_A_USERNAME, "abcd:mfrg");
	else if (flaw != FLAW_NO_USERNAME)
		stun_put_str(&b, STUN_A_USERNAME, "xk4q:mfrg");
	if (flaw != FLAW_NO_PRIORITY)
		stun_put_u32(&b, STUN_A_PRIORITY, 1862270975);
	stun_put_u64(&b, STUN_A_ICE_CONTROLLING, 7);
	if (flaw == FLAW_BOTH_ROLES)
		stun_put_u64(&b, STUN_A_ICE_CONTROLLED, 7);
	if (flaw == FLAW_UNKNOWN_ATTR)
		stun_put_u32(&b, 0x0030, 0);
	if (flaw == FLAW_BAD_MI)
		key = pwd[CLIENT];
	if (flaw != FLAW_NO_MI)
		stun_put_integrity(&b, (const uint8_t *)key, strlen(key));
	if (flaw != FLAW_NO_FP)
		stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &len), 0);
	if (flaw == FLAW_BAD_FP)
		buf[len - 1] ^= 1;
	if (flaw == FLAW_TRUNCATED)
		len -= 4;
	return (len);
}

START_TEST(test_malformed_stun)
{
	static const struct {
		enum req_flaw	flaw;
		enum ice_input	want;
	} cases[] = {
		{ FLAW_BAD_MI, ICE_IN_IGNORED },
		{ FLAW_NO_MI, ICE_IN_IGNORED },
		{ FLAW_NO_FP, ICE_IN_IGNORED },
		{ FLAW_BAD_FP, ICE_IN_IGNORED },
		{ FLAW_REMOTE_UFRAG, ICE_IN_IGNORED },
		{ FLAW_OTHER_AGENT, ICE_IN_NOT_MINE },
		{ FLAW_NO_USERNAME, ICE_IN_IGNORED },
		{ FLAW_NO_PRIORITY, ICE_IN_IGNORED },
		{ FLAW_BOTH_ROLES, ICE_IN_IGNORED },
		{ FLAW_UNKNOWN_ATTR, ICE_IN_IGNORED },
		{ FLAW_TRUNCATED, ICE_IN_IGNORED },
	};
	struct net		*n = net_new(true, false);
	struct ice_agent	*gw, *cl;
	struct ice_path		 in, out;
	struct ice_event	 ev;
	struct stun_msg		 m;
	struct stun_addr	 mapped;
	uint8_t			 buf[ICE_MAX_MSG], resp[ICE_MAX_MSG];
	uint8_t			 txid[STUN_TXID_LEN];
	const char		*why;
	uint64_t		 dl;
	size_t			 len, i;

	gw = n->s[GW].ice;
	cl = n->s[CLIENT].ice;
	add_cand(n, GW, ICE_CAND_HOST, &b_host, false);
	start(n);
	while (ice_poll_event(gw, &ev))
		;
	memset(&in, 0, sizeof(in));
	in.local = b_host;
	in.remote = a_host;
	dl = ice_next_deadline(gw);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		len = client_request(cases[i].flaw, buf, sizeof(buf));
		ck_assert_int_eq(ice_handle_input(gw, MS(1), buf, len, &in,
		    &why), cases[i].want);
		ck_assert_ptr_nonnull(why);
		/* Nothing answered, learned, scheduled or announced. */
		ck_assert_uint_eq(ice_poll_transmit(gw, resp, sizeof(resp),
		    &out), 0);
		ck_assert(!ice_poll_event(gw, &ev));
		ck_assert_uint_eq(ice_next_deadline(gw), dl);
	}
	len = client_request(FLAW_NO_FP, buf, sizeof(buf));
	ice_handle_input(gw, MS(1), buf, len, &in, &why);
	ck_assert_str_eq(why, "missing FINGERPRINT");
	len = client_request(FLAW_BAD_MI, buf, sizeof(buf));
	ice_handle_input(gw, MS(1), buf, len, &in, &why);
	ck_assert_str_eq(why, "bad or missing MESSAGE-INTEGRITY");
	/* Arriving on an address we have no candidate for. */
	len = client_request(FLAW_NONE, buf, sizeof(buf));
	in.local = a_relay;
	ck_assert_int_eq(ice_handle_input(gw, MS(1), buf, len, &in, &why),
	    ICE_IN_IGNORED);
	ck_assert_uint_eq(ice_next_deadline(gw), dl);
	in.local = b_host;

	/* The genuine one is answered and learns a prflx candidate. */
	ck_assert_int_eq(ice_handle_input(gw, MS(1), buf, len, &in, &why),
	    ICE_IN_HANDLED);
	len = ice_poll_transmit(gw, resp, sizeof(resp), &out);
	ck_assert_uint_gt(len, 0);
	assert_path(&out, &b_host, &a_host, false);
	ck_assert_int_eq(stun_parse(&m, resp, len, NULL), 0);
	ck_assert_int_eq(m.class, STUN_SUCCESS);
	ck_assert(m.has_fingerprint);
	ck_assert(stun_check_integrity(&m, (const uint8_t *)pwd[GW],
	    strlen(pwd[GW])));
	ck_assert(stun_get_addr(&m, STUN_A_XOR_MAPPED_ADDRESS, &mapped));
	ck_assert(stun_addr_eq(&mapped, &a_host));
	/* ... and a triggered check back is due. */
	ck_assert_uint_le(ice_next_deadline(gw), MS(1));

	/* Responses: a forged one changes nothing, the real one counts. */
	add_cand(n, CLIENT, ICE_CAND_HOST, &a_host, false);
	ck_assert_int_eq(ice_add_remote(cl, 0, "candidate:9 1 udp 2130706431 "
	    "10.0.0.2 52625 typ host", &why), 0);
	ice_handle_timeout(cl, 0);
	len = ice_poll_transmit(cl, buf, sizeof(buf), &out);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	ck_assert_int_eq(m.class, STUN_REQUEST);
	memcpy(txid, m.txid, sizeof(txid));
	len = gw_success(txid, "wrongwrongwrongwrong00", resp, sizeof(resp));
	in.local = a_host;
	in.remote = b_host;
	ck_assert_int_eq(ice_handle_input(cl, MS(5), resp, len, &in, &why),
	    ICE_IN_IGNORED);
	ice_handle_timeout(cl, MS(100));
	/* No nomination followed: the pair did not succeed. */
	while ((len = ice_poll_transmit(cl, buf, sizeof(buf), &out)) > 0) {
		ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
		ck_assert_ptr_null(stun_find(&m, STUN_A_USE_CANDIDATE));
	}
	/* Unknown transaction: somebody else's. */
	len = gw_success((uint8_t[STUN_TXID_LEN]){ 9, 9, 9 }, pwd[GW], resp,
	    sizeof(resp));
	ck_assert_int_eq(ice_handle_input(cl, MS(5), resp, len, &in, &why),
	    ICE_IN_NOT_MINE);
	len = gw_success(txid, pwd[GW], resp, sizeof(resp));
	ck_assert_int_eq(ice_handle_input(cl, MS(110), resp, len, &in, &why),
	    ICE_IN_HANDLED);
	ice_handle_timeout(cl, MS(200));
	len = ice_poll_transmit(cl, buf, sizeof(buf), &out);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(stun_parse(&m, buf, len, NULL), 0);
	ck_assert_ptr_nonnull(stun_find(&m, STUN_A_USE_CANDIDATE));
	net_free(n);
}
END_TEST

static Suite *
ice_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ice");
	tc = tcase_create("candidates");
	tcase_add_test(tc, test_local_candidates);
	tcase_add_test(tc, test_bad_config);
	suite_add_tcase(s, tc);
	tc = tcase_create("checks");
	tcase_add_test(tc, test_host_pair);
	tcase_add_test(tc, test_order_and_pacing);
	tcase_add_loop_test(tc, test_asymmetric_response, 0, 2);
	tcase_add_test(tc, test_pacing_early_calls);
	tcase_add_test(tc, test_nat_prflx);
	tcase_add_test(tc, test_loss_then_retransmit);
	tcase_add_test(tc, test_triggered_check);
	tcase_add_test(tc, test_replaced_check_answered);
	tcase_add_test(tc, test_frozen_foundation);
	tcase_add_test(tc, test_total_loss_fails);
	tcase_add_test(tc, test_candidate_timeout);
	tcase_add_loop_test(tc, test_role_conflict, 0, 2);
	tcase_add_test(tc, test_trickle);
	tcase_add_test(tc, test_invalidated);
	tcase_add_test(tc, test_restart_checks);
	tcase_add_test(tc, test_get_local);
	tcase_add_test(tc, test_blocked_moves_to_relay);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_malformed_stun);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { ice_suite },
};

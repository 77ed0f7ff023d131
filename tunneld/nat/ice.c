/*
 * ICE agent (RFC 8445) with trickled candidates (RFC 8838), one component,
 * one data stream, following PROTOCOL.md 4.3.
 *
 * Nomination is regular (RFC 8445 8.1.1): the controlling agent repeats
 * the check of a pair that succeeded, with USE-CANDIDATE.  Because
 * candidates trickle in, a better pair may succeed after one was
 * nominated; the controlling agent then nominates that one too (as
 * Firezone's str0m does), so at most one pair is nominated at a time on
 * either side and the latest nomination wins.
 *
 * Simplifications, each harmless for one component over UDP: a
 * server-reflexive local candidate is only signalled, never paired, since
 * its checks would leave from its base, the host candidate, which the
 * caller adds too (RFC 8445 6.1.2.4 prunes those pairs); and a pair that
 * succeeds is itself the valid pair, without a local peer-reflexive
 * candidate for the mapped address, because the path (base and remote
 * address) the caller needs is the same.
 *
 * Once a pair is valid it is checked again every rto_max (the interval
 * str0m uses); when the caller reports no traffic for idle_after, only the
 * selected pair is, every idle_interval.  A pair that leaves that many
 * checks in a row unanswered has lost consent.
 */

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunneld/nat/ice.h"

#define ICE_MAX_PAIRS		(ICE_MAX_LOCAL * ICE_MAX_REMOTE)
#define ICE_MAX_EVENTS		32
#define ICE_MAX_TX		32

enum pair_state {
	PAIR_FROZEN,
	PAIR_WAITING,
	PAIR_IN_PROGRESS,
	PAIR_SUCCEEDED,
	PAIR_FAILED
};

enum txn_kind {
	TXN_NONE,
	TXN_CHECK,		/* retransmitted; timing out fails the pair */
	TXN_KEEPALIVE		/* sent once; counted when unanswered */
};

struct ice_local {
	bool			in_use;
	struct ice_candidate	c;
	uint16_t		pref;	/* local preference */
};

struct ice_remote {
	bool			in_use;
	struct ice_candidate	c;
};

struct ice_pair {
	bool		in_use;
	int		local;
	int		remote;
	uint64_t	prio;
	enum pair_state	state;
	bool		nominated;
	/*
	 * Controlling: the next check carries USE-CANDIDATE.  Controlled:
	 * the peer nominated the pair before it succeeded here.
	 */
	bool		nominate;
	bool		queued;		/* in the triggered queue */
	bool		lost;		/* valid, but unanswered */
	enum txn_kind	txn;
	bool		txn_use_cand;
	bool		txn_controlling;
	uint8_t		txid[STUN_TXID_LEN];
	/* A check replaced by a triggered one may still be answered. */
	bool		has_prev;
	bool		prev_controlling;
	uint8_t		prev_txid[STUN_TXID_LEN];
	unsigned int	retransmits;
	uint64_t	rto;
	uint64_t	next;		/* retransmission of a check */
	unsigned int	unanswered;	/* keepalives in a row */
	uint64_t	last_ka;
};

struct ice_tx {
	struct ice_path	path;
	size_t		len;
	uint8_t		buf[ICE_MAX_MSG];
};

struct ice_agent {
	struct ice_config	cfg;
	char			lufrag[ICE_MAX_CRED + 1];
	char			lpwd[ICE_MAX_CRED + 1];
	char			rufrag[ICE_MAX_CRED + 1];
	char			rpwd[ICE_MAX_CRED + 1];
	bool			controlling;
	uint64_t		tiebreaker;
	enum ice_state		state;
	uint64_t		started;
	bool			had_pair;
	bool			ticked;
	uint64_t		last_tick;
	uint64_t		last_traffic;
	bool			idle;
	uint64_t		grace_at;
	int			reported;	/* pair last announced */
	unsigned int		nprflx;

	struct ice_local	local[ICE_MAX_LOCAL];
	struct ice_remote	remote[ICE_MAX_REMOTE];
	struct ice_pair		pairs[ICE_MAX_PAIRS];
	int			trig[ICE_MAX_PAIRS];
	size_t			trig_head;
	size_t			trig_count;

	struct ice_event	events[ICE_MAX_EVENTS];
	size_t			ev_head;
	size_t			ev_count;
	struct ice_tx		tx[ICE_MAX_TX];
	size_t			tx_head;
	size_t			tx_count;
};

static void	update(struct ice_agent *, uint64_t);

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return (a < b ? a : b);
}

static bool
terminal(const struct ice_agent *a)
{
	return (a->state == ICE_FAILED || a->state == ICE_DISCONNECTED);
}

static size_t
addr_len(const struct stun_addr *a)
{
	return (a->family == AF_INET ? 4 : 16);
}

static void
emit(struct ice_agent *a, enum ice_event_type type, int pair)
{
	struct ice_event	*ev;
	const struct ice_pair	*p;

	/* A caller that never drains loses the newest events, not memory. */
	if (a->ev_count == ICE_MAX_EVENTS)
		return;
	ev = &a->events[(a->ev_head + a->ev_count) % ICE_MAX_EVENTS];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->state = a->state;
	if (pair >= 0) {
		p = &a->pairs[pair];
		ev->path.local = a->local[p->local].c.addr;
		ev->path.remote = a->remote[p->remote].c.addr;
		ev->path.relayed = a->local[p->local].c.type == ICE_CAND_RELAY;
		ev->local_type = a->local[p->local].c.type;
		ev->remote_type = a->remote[p->remote].c.type;
	}
	a->ev_count++;
}

static void
set_state(struct ice_agent *a, enum ice_state s)
{
	size_t	i;

	if (a->state == s)
		return;
	a->state = s;
	if (terminal(a)) {
		for (i = 0; i < ICE_MAX_PAIRS; i++) {
			a->pairs[i].txn = TXN_NONE;
			a->pairs[i].queued = false;
		}
		a->trig_count = 0;
		a->grace_at = TIMER_NEVER;
	}
	emit(a, ICE_EV_STATE, -1);
}

static void
pair_prio(struct ice_agent *a, struct ice_pair *p)
{
	uint64_t	g, d;

	g = a->local[p->local].c.priority;
	d = a->remote[p->remote].c.priority;
	if (!a->controlling) {
		g = a->remote[p->remote].c.priority;
		d = a->local[p->local].c.priority;
	}
	/* RFC 8445 6.1.2.3 */
	p->prio = (min64(g, d) << 32) + 2 * (g > d ? g : d) + (g > d);
}

static bool
same_foundation(const struct ice_agent *a, const struct ice_pair *p,
    const struct ice_pair *q)
{
	return (strcmp(a->local[p->local].c.foundation,
	    a->local[q->local].c.foundation) == 0 &&
	    strcmp(a->remote[p->remote].c.foundation,
	    a->remote[q->remote].c.foundation) == 0);
}

/* A pair of the same foundation is already being checked. */
static bool
foundation_busy(const struct ice_agent *a, const struct ice_pair *p)
{
	const struct ice_pair	*q;
	size_t			 i;

	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		q = &a->pairs[i];
		if (q->in_use && q != p && (q->state == PAIR_WAITING ||
		    q->state == PAIR_IN_PROGRESS) && same_foundation(a, p, q))
			return (true);
	}
	return (false);
}

static int
find_pair(const struct ice_agent *a, int l, int r)
{
	int	i;

	for (i = 0; i < ICE_MAX_PAIRS; i++)
		if (a->pairs[i].in_use && a->pairs[i].local == l &&
		    a->pairs[i].remote == r)
			return (i);
	return (-1);
}

static int
add_pair(struct ice_agent *a, int l, int r)
{
	struct ice_pair	*p;
	int		 i;

	if ((i = find_pair(a, l, r)) != -1)
		return (i);
	for (i = 0; i < ICE_MAX_PAIRS; i++)
		if (!a->pairs[i].in_use)
			break;
	if (i == ICE_MAX_PAIRS)
		return (-1);
	p = &a->pairs[i];
	memset(p, 0, sizeof(*p));
	p->in_use = true;
	p->local = l;
	p->remote = r;
	pair_prio(a, p);
	/* RFC 8838 11: one pair per foundation is checked first. */
	p->state = foundation_busy(a, p) ? PAIR_FROZEN : PAIR_WAITING;
	a->had_pair = true;
	return (i);
}

static bool
pairable(const struct ice_agent *a, int l, int r)
{
	const struct ice_candidate	*lc = &a->local[l].c;

	return (lc->type != ICE_CAND_SRFLX &&
	    lc->addr.family == a->remote[r].c.addr.family);
}

static void
drop_pair(struct ice_agent *a, int i)
{
	size_t	n, k;
	int	keep[ICE_MAX_PAIRS];

	if (a->reported == i)
		a->reported = -1;
	if (a->pairs[i].queued) {
		/* Keep the queue's order without the dropped entry. */
		for (n = k = 0; n < a->trig_count; n++)
			if (a->trig[(a->trig_head + n) % ICE_MAX_PAIRS] != i)
				keep[k++] = a->trig[(a->trig_head + n) %
				    ICE_MAX_PAIRS];
		memcpy(a->trig, keep, k * sizeof(keep[0]));
		a->trig_head = 0;
		a->trig_count = k;
	}
	memset(&a->pairs[i], 0, sizeof(a->pairs[i]));
}

static void
enqueue(struct ice_agent *a, int i)
{
	if (a->pairs[i].queued || a->trig_count == ICE_MAX_PAIRS)
		return;
	a->pairs[i].queued = true;
	a->trig[(a->trig_head + a->trig_count) % ICE_MAX_PAIRS] = i;
	a->trig_count++;
}

static int
find_local(const struct ice_agent *a, const struct stun_addr *addr,
    bool relayed)
{
	const struct ice_local	*l;
	int			 i;

	for (i = 0; i < ICE_MAX_LOCAL; i++) {
		l = &a->local[i];
		if (l->in_use && l->c.type != ICE_CAND_SRFLX &&
		    (l->c.type == ICE_CAND_RELAY) == relayed &&
		    stun_addr_eq(&l->c.addr, addr))
			return (i);
	}
	return (-1);
}

/* A local candidate by type and address, as it was added. */
static int
local_of_type(const struct ice_agent *a, enum ice_cand_type type,
    const struct stun_addr *addr)
{
	int	i;

	for (i = 0; i < ICE_MAX_LOCAL; i++)
		if (a->local[i].in_use && a->local[i].c.type == type &&
		    stun_addr_eq(&a->local[i].c.addr, addr))
			return (i);
	return (-1);
}

static int
find_remote(const struct ice_agent *a, const struct stun_addr *addr)
{
	int	i;

	for (i = 0; i < ICE_MAX_REMOTE; i++)
		if (a->remote[i].in_use &&
		    stun_addr_eq(&a->remote[i].c.addr, addr))
			return (i);
	return (-1);
}

/* Pairs that can carry data: exactly one nominated, valid, answering. */
static int
selectable(const struct ice_agent *a)
{
	const struct ice_pair	*p;
	int			 i;

	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (p->in_use && p->nominated && p->state == PAIR_SUCCEEDED &&
		    !p->lost)
			return (i);
	}
	return (-1);
}

static void
set_nominated(struct ice_agent *a, int i)
{
	size_t	k;

	for (k = 0; k < ICE_MAX_PAIRS; k++)
		a->pairs[k].nominated = false;
	a->pairs[i].nominated = true;
	a->pairs[i].nominate = false;
}

static void
pair_failed(struct ice_pair *p)
{
	p->state = PAIR_FAILED;
	p->txn = TXN_NONE;
	p->has_prev = false;
	p->nominated = false;
	p->nominate = false;
	p->lost = false;
}

/*
 * The controlling side nominates the best answering valid pair when
 * nothing better is in use, one nomination at a time.
 */
static void
nominate_policy(struct ice_agent *a)
{
	const struct ice_pair	*p;
	int			 i, best = -1, cur;

	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (!p->in_use)
			continue;
		if (p->nominate || (p->txn == TXN_CHECK && p->txn_use_cand))
			return;
		if (p->state == PAIR_SUCCEEDED && !p->lost &&
		    (best == -1 || p->prio > a->pairs[best].prio))
			best = i;
	}
	if (best == -1)
		return;
	cur = selectable(a);
	if (cur == best ||
	    (cur != -1 && a->pairs[cur].prio >= a->pairs[best].prio))
		return;
	a->pairs[best].nominate = true;
	enqueue(a, best);
}

static void
update(struct ice_agent *a, uint64_t now)
{
	size_t	i, n = 0, failed = 0;
	int	sel;

	if (a->state == ICE_NEW || terminal(a))
		return;
	if ((sel = selectable(a)) != -1) {
		a->grace_at = TIMER_NEVER;
		if (sel != a->reported) {
			a->reported = sel;
			emit(a, ICE_EV_NOMINATED, sel);
		}
		if (a->state != ICE_CONNECTED) {
			/* Connecting counts as traffic for the idle timer. */
			a->last_traffic = now;
			a->idle = false;
			set_state(a, ICE_CONNECTED);
		}
	} else if (a->state == ICE_CONNECTED) {
		if (a->grace_at == TIMER_NEVER)
			a->grace_at = now + a->cfg.grace;
	} else {
		for (i = 0; i < ICE_MAX_PAIRS; i++) {
			if (!a->pairs[i].in_use)
				continue;
			n++;
			if (a->pairs[i].state == PAIR_FAILED)
				failed++;
		}
		if (n > 0 && failed == n) {
			set_state(a, ICE_FAILED);
			return;
		}
	}
	if (a->controlling)
		nominate_policy(a);
}

static void
local_base(const struct ice_agent *a, const struct ice_pair *p,
    struct ice_path *path)
{
	const struct ice_candidate	*lc = &a->local[p->local].c;

	path->local = lc->addr;
	path->relayed = lc->type == ICE_CAND_RELAY;
	path->remote = a->remote[p->remote].c.addr;
}

static struct ice_tx *
tx_slot(struct ice_agent *a)
{
	struct ice_tx	*t;

	/* Full means the caller is not draining: behave like loss. */
	if (a->tx_count == ICE_MAX_TX)
		return (NULL);
	t = &a->tx[(a->tx_head + a->tx_count) % ICE_MAX_TX];
	memset(&t->path, 0, sizeof(t->path));
	t->len = 0;
	return (t);
}

/* MESSAGE-INTEGRITY and FINGERPRINT, then queue it. */
static void
seal(struct ice_agent *a, struct stun_builder *b, struct ice_tx *t,
    const char *key)
{
	stun_put_integrity(b, (const uint8_t *)key, strlen(key));
	stun_put_fingerprint(b);
	if (stun_build_end(b, &t->len) == 0)
		a->tx_count++;
}

static void
send_request(struct ice_agent *a, struct ice_pair *p)
{
	struct stun_builder	 b;
	struct ice_tx		*t;
	char			 user[2 * ICE_MAX_CRED + 2];

	if ((t = tx_slot(a)) == NULL)
		return;
	local_base(a, p, &t->path);
	snprintf(user, sizeof(user), "%s:%s", a->rufrag, a->lufrag);
	stun_build(&b, t->buf, sizeof(t->buf), STUN_BINDING, STUN_REQUEST,
	    p->txid);
	stun_put_str(&b, STUN_A_USERNAME, user);
	/* The priority a peer-reflexive candidate of ours would get. */
	stun_put_u32(&b, STUN_A_PRIORITY, ice_candidate_priority(ICE_CAND_PRFLX,
	    a->local[p->local].pref));
	stun_put_u64(&b, p->txn_controlling ? STUN_A_ICE_CONTROLLING :
	    STUN_A_ICE_CONTROLLED, a->tiebreaker);
	if (p->txn_use_cand)
		stun_put(&b, STUN_A_USE_CANDIDATE, NULL, 0);
	seal(a, &b, t, a->rpwd);
}

static void
send_response(struct ice_agent *a, const struct stun_msg *req,
    const struct ice_path *path, int code)
{
	struct stun_builder	 b;
	struct ice_tx		*t;

	if ((t = tx_slot(a)) == NULL)
		return;
	t->path = *path;
	if (code == 0) {
		stun_build(&b, t->buf, sizeof(t->buf), STUN_BINDING,
		    STUN_SUCCESS, req->txid);
		stun_put_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, &path->remote);
	} else {
		stun_build(&b, t->buf, sizeof(t->buf), STUN_BINDING,
		    STUN_ERROR, req->txid);
		stun_put_error(&b, code, "Role Conflict");
	}
	seal(a, &b, t, a->lpwd);
}

static void
start_txn(struct ice_agent *a, uint64_t now, struct ice_pair *p,
    enum txn_kind kind)
{
	p->txn = kind;
	p->txn_controlling = a->controlling;
	p->txn_use_cand = kind == TXN_CHECK && a->controlling && p->nominate;
	p->nominate = p->nominate && !p->txn_use_cand;
	a->cfg.random(a->cfg.random_arg, p->txid, sizeof(p->txid));
	p->retransmits = 0;
	p->rto = a->cfg.rto_initial;
	p->next = now + p->rto;
	send_request(a, p);
}

/* The pair Ta lets us check next: triggered ones first (RFC 8445 6.1.4.2). */
static int
next_check(const struct ice_agent *a, bool *triggered)
{
	const struct ice_pair	*p;
	size_t			 n;
	int			 i, best = -1;

	*triggered = false;
	for (n = 0; n < a->trig_count; n++) {
		i = a->trig[(a->trig_head + n) % ICE_MAX_PAIRS];
		p = &a->pairs[i];
		/* Skip those a check in flight or a success made moot. */
		if (p->txn != TXN_CHECK &&
		    (p->state != PAIR_SUCCEEDED || p->nominate)) {
			*triggered = true;
			return (i);
		}
	}
	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (p->in_use && p->state == PAIR_WAITING &&
		    (best == -1 || p->prio > a->pairs[best].prio))
			best = i;
	}
	if (best != -1)
		return (best);
	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (p->in_use && p->state == PAIR_FROZEN &&
		    !foundation_busy(a, p) &&
		    (best == -1 || p->prio > a->pairs[best].prio))
			best = i;
	}
	return (best);
}

static void
tick(struct ice_agent *a, uint64_t now)
{
	struct ice_pair	*p;
	bool		 triggered;
	int		 i;

	if ((i = next_check(a, &triggered)) == -1)
		return;
	p = &a->pairs[i];
	if (triggered) {
		/* The moot entries ahead of it go too. */
		while (a->trig_count > 0) {
			a->pairs[a->trig[a->trig_head]].queued = false;
			a->trig_count--;
			if (a->trig[a->trig_head] == i) {
				a->trig_head = (a->trig_head + 1) %
				    ICE_MAX_PAIRS;
				break;
			}
			a->trig_head = (a->trig_head + 1) % ICE_MAX_PAIRS;
		}
	}
	if (p->state != PAIR_SUCCEEDED)
		p->state = PAIR_IN_PROGRESS;
	start_txn(a, now, p, TXN_CHECK);
	a->ticked = true;
	a->last_tick = now;
}

static uint64_t
ka_interval(const struct ice_agent *a)
{
	return (a->idle ? a->cfg.idle_interval : a->cfg.rto_max);
}

static bool
ka_applies(const struct ice_agent *a, int i)
{
	const struct ice_pair	*p = &a->pairs[i];

	return (p->in_use && p->state == PAIR_SUCCEEDED &&
	    p->txn != TXN_CHECK && (!a->idle || i == a->reported));
}

static void
keepalive(struct ice_agent *a, uint64_t now, int i)
{
	struct ice_pair	*p = &a->pairs[i];
	unsigned int	 limit;

	limit = a->idle ? a->cfg.idle_retransmits : a->cfg.consent_misses;
	if (p->unanswered >= limit) {
		/* The path in use gets its grace period; others just go. */
		if (!p->nominated) {
			pair_failed(p);
			return;
		}
		p->lost = true;
	}
	p->last_ka = now;
	p->unanswered++;
	start_txn(a, now, p, TXN_KEEPALIVE);
}

void
ice_handle_timeout(struct ice_agent *a, uint64_t now)
{
	struct ice_pair	*p;
	int		 i;

	if (a->state == ICE_NEW || terminal(a))
		return;
	if (a->grace_at != TIMER_NEVER && now >= a->grace_at) {
		set_state(a, ICE_DISCONNECTED);
		return;
	}
	if (a->state == ICE_CHECKING && !a->had_pair &&
	    now >= a->started + a->cfg.candidate_timeout) {
		set_state(a, ICE_FAILED);
		return;
	}
	if (a->state == ICE_CONNECTED && !a->idle &&
	    now >= a->last_traffic + a->cfg.idle_after)
		a->idle = true;
	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (!p->in_use)
			continue;
		if (p->txn == TXN_CHECK && now >= p->next) {
			if (p->retransmits == a->cfg.max_retransmits) {
				pair_failed(p);
				continue;
			}
			p->retransmits++;
			p->rto = min64(2 * p->rto, a->cfg.rto_max);
			p->next = now + p->rto;
			send_request(a, p);
		} else if (ka_applies(a, i) &&
		    now >= p->last_ka + ka_interval(a))
			keepalive(a, now, i);
	}
	if (!a->ticked || now >= a->last_tick + a->cfg.pacing)
		tick(a, now);
	update(a, now);
}

/*
 * The network under us changed (connlib's reset): what failed may work
 * now, and what worked may not. Failed pairs are checked again, valid
 * ones get a consent check at once, and an agent that had no pair yet
 * waits for candidates anew; the agent leaves idle mode.
 */
void
ice_restart_checks(struct ice_agent *a, uint64_t now)
{
	struct ice_pair	*p;
	int		 i;

	if (a->state == ICE_NEW || terminal(a))
		return;
	a->idle = false;
	a->last_traffic = now;
	if (!a->had_pair)
		a->started = now;
	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (!p->in_use)
			continue;
		if (p->state == PAIR_FAILED)
			p->state = PAIR_WAITING;
		else if (p->state == PAIR_SUCCEEDED && p->txn != TXN_CHECK) {
			p->unanswered = 0;
			p->last_ka = 0;
		}
	}
	update(a, now);
}

uint64_t
ice_next_deadline(const struct ice_agent *a)
{
	const struct ice_pair	*p;
	uint64_t		 d = TIMER_NEVER;
	bool			 triggered;
	int			 i;

	if (a->state == ICE_NEW || terminal(a))
		return (TIMER_NEVER);
	d = a->grace_at;
	if (a->state == ICE_CHECKING && !a->had_pair)
		d = min64(d, a->started + a->cfg.candidate_timeout);
	if (a->state == ICE_CONNECTED && !a->idle)
		d = min64(d, a->last_traffic + a->cfg.idle_after);
	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (p->in_use && p->txn == TXN_CHECK)
			d = min64(d, p->next);
		else if (ka_applies(a, i))
			d = min64(d, p->last_ka + ka_interval(a));
	}
	if (next_check(a, &triggered) != -1)
		d = min64(d, a->ticked ? a->last_tick + a->cfg.pacing : 0);
	return (d);
}

size_t
ice_poll_transmit(struct ice_agent *a, uint8_t *buf, size_t cap,
    struct ice_path *path)
{
	struct ice_tx	*t;

	while (a->tx_count > 0) {
		t = &a->tx[a->tx_head];
		a->tx_head = (a->tx_head + 1) % ICE_MAX_TX;
		a->tx_count--;
		/* One that does not fit is lost, as on the wire. */
		if (t->len > cap)
			continue;
		memcpy(buf, t->buf, t->len);
		*path = t->path;
		return (t->len);
	}
	return (0);
}

bool
ice_poll_event(struct ice_agent *a, struct ice_event *ev)
{
	if (a->ev_count == 0)
		return (false);
	*ev = a->events[a->ev_head];
	a->ev_head = (a->ev_head + 1) % ICE_MAX_EVENTS;
	a->ev_count--;
	return (true);
}

void
ice_note_traffic(struct ice_agent *a, uint64_t now)
{
	a->last_traffic = now;
	/* Leaving idle: the shorter interval may already be due. */
	a->idle = false;
}

static void
switch_role(struct ice_agent *a)
{
	size_t	i;

	a->controlling = !a->controlling;
	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		if (!a->pairs[i].in_use)
			continue;
		pair_prio(a, &a->pairs[i]);
		/* The flag means something else in the other role. */
		a->pairs[i].nominate = false;
	}
}

/* RFC 8445 7.3.1.3: learn a peer-reflexive candidate. */
static int
learn_prflx(struct ice_agent *a, const struct stun_addr *from, uint32_t prio)
{
	struct ice_remote	*r;
	int			 i;

	for (i = 0; i < ICE_MAX_REMOTE; i++)
		if (!a->remote[i].in_use)
			break;
	if (i == ICE_MAX_REMOTE)
		return (-1);
	r = &a->remote[i];
	memset(r, 0, sizeof(*r));
	r->in_use = true;
	r->c.type = ICE_CAND_PRFLX;
	r->c.priority = prio;
	r->c.addr = *from;
	/* Any value unique among the remote foundations will do. */
	snprintf(r->c.foundation, sizeof(r->c.foundation), "prflx%u",
	    ++a->nprflx);
	return (i);
}

/* Why a message keyed with key is not to be trusted, or NULL. */
static const char *
distrust(const struct stun_msg *m, const char *key)
{
	if (!stun_check_integrity(m, (const uint8_t *)key, strlen(key)))
		return ("bad or missing MESSAGE-INTEGRITY");
	if (m->nunknown > 0)
		return ("unknown comprehension-required attribute");
	return (NULL);
}

/* The part of USERNAME before or after its first colon is s. */
static bool
username_part(const struct stun_attr *u, bool first, const char *s)
{
	const uint8_t	*colon;
	size_t		 n = strlen(s), at;

	if ((colon = memchr(u->val, ':', u->len)) == NULL)
		return (false);
	at = (size_t)(colon - u->val);
	if (first)
		return (at == n && memcmp(u->val, s, n) == 0);
	return (u->len - at - 1 == n && memcmp(colon + 1, s, n) == 0);
}

static enum ice_input
handle_request(struct ice_agent *a, uint64_t now, const struct stun_msg *m,
    const struct ice_path *path, const char **why)
{
	const struct stun_attr	*u;
	struct ice_pair		*p;
	uint64_t		 theirs;
	uint32_t		 prio;
	bool			 they_control, use_cand;
	int			 l, r, i;

	if ((u = stun_find(m, STUN_A_USERNAME)) == NULL) {
		*why = "request without USERNAME";
		return (ICE_IN_IGNORED);
	}
	/* Ours is "<our ufrag>:<their ufrag>" as they send it. */
	if (!username_part(u, true, a->lufrag)) {
		*why = "USERNAME names another agent";
		return (ICE_IN_NOT_MINE);
	}
	if (!username_part(u, false, a->rufrag)) {
		*why = "USERNAME has the wrong remote ufrag";
		return (ICE_IN_IGNORED);
	}
	if ((*why = distrust(m, a->lpwd)) != NULL)
		return (ICE_IN_IGNORED);
	if (!stun_get_u32(m, STUN_A_PRIORITY, &prio) || prio == 0) {
		*why = "missing PRIORITY";
		return (ICE_IN_IGNORED);
	}
	they_control = stun_get_u64(m, STUN_A_ICE_CONTROLLING, &theirs);
	if (they_control == stun_get_u64(m, STUN_A_ICE_CONTROLLED, &theirs)) {
		*why = "not exactly one of ICE-CONTROLLING, ICE-CONTROLLED";
		return (ICE_IN_IGNORED);
	}
	if ((l = find_local(a, &path->local, path->relayed)) == -1) {
		*why = "arrived on an address that is no local candidate";
		return (ICE_IN_IGNORED);
	}
	use_cand = stun_find(m, STUN_A_USE_CANDIDATE) != NULL;

	/* RFC 8445 7.3.1.1 */
	if (they_control == a->controlling) {
		if ((a->tiebreaker >= theirs) == a->controlling) {
			send_response(a, m, path, 487);
			*why = "role conflict: answered 487";
			return (ICE_IN_HANDLED);
		}
		switch_role(a);
	}
	send_response(a, m, path, 0);

	if ((r = find_remote(a, &path->remote)) == -1 &&
	    (r = learn_prflx(a, &path->remote, prio)) == -1) {
		*why = "answered, but no room for a peer-reflexive candidate";
		return (ICE_IN_HANDLED);
	}
	if ((i = add_pair(a, l, r)) == -1) {
		*why = "answered, but no room for the pair";
		return (ICE_IN_HANDLED);
	}
	p = &a->pairs[i];
	/* RFC 8445 7.3.1.5 */
	if (use_cand && !a->controlling) {
		if (p->state == PAIR_SUCCEEDED) {
			if (!p->nominated)
				set_nominated(a, i);
		} else
			p->nominate = true;
	}
	/* RFC 8445 7.3.1.4: a triggered check, unless it is valid already. */
	if (p->state != PAIR_SUCCEEDED) {
		if (p->txn == TXN_CHECK) {
			/* Never a nomination: the pair is not valid yet. */
			p->has_prev = true;
			p->prev_controlling = p->txn_controlling;
			memcpy(p->prev_txid, p->txid, STUN_TXID_LEN);
			p->txn = TXN_NONE;
		}
		p->state = PAIR_WAITING;
		enqueue(a, i);
	}
	update(a, now);
	*why = NULL;
	return (ICE_IN_HANDLED);
}

/* The pair with a transaction of that id; *prev if it was replaced. */
static int
find_txn(const struct ice_agent *a, const uint8_t *txid, bool *prev)
{
	const struct ice_pair	*p;
	int			 i;

	for (i = 0; i < ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (!p->in_use)
			continue;
		*prev = false;
		if (p->txn != TXN_NONE &&
		    memcmp(p->txid, txid, STUN_TXID_LEN) == 0)
			return (i);
		*prev = true;
		if (p->has_prev &&
		    memcmp(p->prev_txid, txid, STUN_TXID_LEN) == 0)
			return (i);
	}
	return (-1);
}

static enum ice_input
handle_response(struct ice_agent *a, uint64_t now, const struct stun_msg *m,
    const struct ice_path *path, const char **why)
{
	struct ice_pair		*p;
	struct stun_addr	 mapped;
	enum txn_kind		 kind;
	bool			 prev, use_cand, controlling, symmetric;
	int			 i, code = 0;

	if ((i = find_txn(a, m->txid, &prev)) == -1) {
		*why = "response to no transaction of ours";
		return (ICE_IN_NOT_MINE);
	}
	p = &a->pairs[i];
	if ((*why = distrust(m, a->rpwd)) != NULL)
		return (ICE_IN_IGNORED);
	if (m->class == STUN_SUCCESS &&
	    !stun_get_addr(m, STUN_A_XOR_MAPPED_ADDRESS, &mapped)) {
		*why = "success without XOR-MAPPED-ADDRESS";
		return (ICE_IN_IGNORED);
	}
	if (m->class == STUN_ERROR && !stun_get_error(m, &code, NULL, NULL)) {
		*why = "error without ERROR-CODE";
		return (ICE_IN_IGNORED);
	}
	if (prev) {
		kind = TXN_CHECK;
		use_cand = false;
		controlling = p->prev_controlling;
		p->has_prev = false;
	} else {
		kind = p->txn;
		use_cand = p->txn_use_cand;
		controlling = p->txn_controlling;
		p->txn = TXN_NONE;
	}
	*why = NULL;

	if (code == 487) {
		/* RFC 8445 7.2.5.1: only if we still have the role we sent. */
		if (controlling == a->controlling)
			switch_role(a);
		if (kind == TXN_CHECK) {
			if (p->state != PAIR_SUCCEEDED)
				p->state = PAIR_WAITING;
			enqueue(a, i);
		}
		update(a, now);
		return (ICE_IN_HANDLED);
	}
	symmetric = stun_addr_eq(&path->remote,
	    &a->remote[p->remote].c.addr) &&
	    find_local(a, &path->local, path->relayed) == p->local;
	if (kind == TXN_KEEPALIVE) {
		/* Any authentic answer proves the path is alive. */
		if (code == 0 && symmetric) {
			p->unanswered = 0;
			p->lost = false;
		}
		update(a, now);
		return (ICE_IN_HANDLED);
	}
	if (code != 0 || !symmetric) {
		pair_failed(p);
		update(a, now);
		return (ICE_IN_HANDLED);
	}
	p->state = PAIR_SUCCEEDED;
	p->lost = false;
	p->unanswered = 0;
	p->last_ka = now;
	/* Valid now: a plain check still out on it is moot. */
	p->has_prev = false;
	if (p->txn == TXN_CHECK && !p->txn_use_cand)
		p->txn = TXN_NONE;
	for (i = 0; i < ICE_MAX_PAIRS; i++)
		if (a->pairs[i].in_use && a->pairs[i].state == PAIR_FROZEN &&
		    same_foundation(a, p, &a->pairs[i]))
			a->pairs[i].state = PAIR_WAITING;
	if (a->controlling ? use_cand && controlling : p->nominate)
		set_nominated(a, (int)(p - a->pairs));
	update(a, now);
	return (ICE_IN_HANDLED);
}

enum ice_input
ice_handle_input(struct ice_agent *a, uint64_t now, const uint8_t *pkt,
    size_t len, const struct ice_path *path, const char **why)
{
	struct stun_msg	 m;
	const char	*dummy;

	if (why == NULL)
		why = &dummy;
	if (terminal(a)) {
		*why = "agent has stopped";
		return (ICE_IN_IGNORED);
	}
	if (stun_parse(&m, pkt, len, why) == -1)
		return (ICE_IN_IGNORED);
	if (m.method != STUN_BINDING) {
		*why = "not a BINDING message";
		return (ICE_IN_NOT_MINE);
	}
	if (!m.has_fingerprint) {
		*why = "missing FINGERPRINT";
		return (ICE_IN_IGNORED);
	}
	switch (m.class) {
	case STUN_REQUEST:
		return (handle_request(a, now, &m, path, why));
	case STUN_SUCCESS:
	case STUN_ERROR:
		return (handle_response(a, now, &m, path, why));
	default:
		*why = "BINDING indication";
		return (ICE_IN_IGNORED);
	}
}

void
ice_config_defaults(struct ice_config *cfg, bool controlling)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->controlling = controlling;
	/* PROTOCOL.md 4.3: the client and gateway timings. */
	cfg->rto_initial = 250 * NSEC_PER_MSEC;
	cfg->rto_max = (controlling ? 1500 : 15000) * NSEC_PER_MSEC;
	cfg->max_retransmits = controlling ? 12 : 45;
	/*
	 * A path in use that stops answering is given up after a few
	 * checks (7.5 s for the client), so that traffic moves to another
	 * valid pair, a relayed one say, while the connection lives.
	 */
	cfg->consent_misses = 5;
	cfg->idle_after = 20 * NSEC_PER_SEC;
	cfg->idle_interval = 25 * NSEC_PER_SEC;
	cfg->idle_retransmits = controlling ? 4 : 40;
	cfg->grace = 2 * NSEC_PER_SEC;
	cfg->pacing = 50 * NSEC_PER_MSEC;
	cfg->candidate_timeout = 10 * NSEC_PER_SEC;
}

struct ice_agent *
ice_new(const struct ice_config *cfg, const char **why)
{
	struct ice_agent	*a;
	uint8_t			 tb[8];
	size_t			 i;
	const char		*dummy;

	if (why == NULL)
		why = &dummy;
	if (cfg->local_ufrag == NULL || cfg->local_pwd == NULL ||
	    cfg->remote_ufrag == NULL || cfg->remote_pwd == NULL ||
	    !ice_candidate_chars(cfg->local_ufrag, ICE_MAX_CRED) ||
	    !ice_candidate_chars(cfg->local_pwd, ICE_MAX_CRED) ||
	    !ice_candidate_chars(cfg->remote_ufrag, ICE_MAX_CRED) ||
	    !ice_candidate_chars(cfg->remote_pwd, ICE_MAX_CRED)) {
		*why = "credentials missing or not ICE characters";
		return (NULL);
	}
	if (cfg->random == NULL || cfg->rto_initial == 0 ||
	    cfg->rto_max < cfg->rto_initial || cfg->idle_interval == 0 ||
	    cfg->pacing == 0 || cfg->consent_misses == 0) {
		*why = "bad timing or no random source";
		return (NULL);
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		*why = "out of memory";
		return (NULL);
	}
	a->cfg = *cfg;
	strcpy(a->lufrag, cfg->local_ufrag);
	strcpy(a->lpwd, cfg->local_pwd);
	strcpy(a->rufrag, cfg->remote_ufrag);
	strcpy(a->rpwd, cfg->remote_pwd);
	a->cfg.local_ufrag = a->lufrag;
	a->cfg.local_pwd = a->lpwd;
	a->cfg.remote_ufrag = a->rufrag;
	a->cfg.remote_pwd = a->rpwd;
	a->controlling = cfg->controlling;
	cfg->random(cfg->random_arg, tb, sizeof(tb));
	for (i = 0; i < sizeof(tb); i++)
		a->tiebreaker = a->tiebreaker << 8 | tb[i];
	a->state = ICE_NEW;
	a->grace_at = TIMER_NEVER;
	a->reported = -1;
	return (a);
}

void
ice_free(struct ice_agent *a)
{
	if (a == NULL)
		return;
	/* The passwords key MESSAGE-INTEGRITY. */
	explicit_bzero(a, sizeof(*a));
	free(a);
}

void
ice_start(struct ice_agent *a, uint64_t now)
{
	if (a->state != ICE_NEW)
		return;
	a->started = now;
	a->last_traffic = now;
	set_state(a, ICE_CHECKING);
	update(a, now);
}

/*
 * Foundation of a local candidate: its type and IP (RFC 8445 5.1.1.3),
 * which for the types we pair is the base.
 */
static void
local_foundation(struct ice_candidate *c)
{
	uint32_t	h = 2166136261U;
	size_t		i;

	h = (h ^ (uint8_t)c->type) * 16777619U;
	for (i = 0; i < addr_len(&c->addr); i++)
		h = (h ^ c->addr.ip[i]) * 16777619U;
	snprintf(c->foundation, sizeof(c->foundation), "%u", h);
}

static bool
usable_addr(const struct stun_addr *a)
{
	static const uint8_t	zero[16];

	if (a->family != AF_INET && a->family != AF_INET6)
		return (false);
	return (a->port != 0 && memcmp(a->ip, zero, addr_len(a)) != 0);
}

static bool
pref_taken(const struct ice_agent *a, enum ice_cand_type type, uint16_t pref)
{
	int	i;

	for (i = 0; i < ICE_MAX_LOCAL; i++)
		if (a->local[i].in_use && a->local[i].c.type == type &&
		    a->local[i].pref == pref)
			return (true);
	return (false);
}

int
ice_add_local(struct ice_agent *a, uint64_t now, enum ice_cand_type type,
    const struct stun_addr *addr, const struct stun_addr *related,
    struct ice_candidate *out)
{
	struct ice_local	*l;
	uint16_t		 pref = 65535;
	int			 i, k, r;

	if (terminal(a) || type == ICE_CAND_PRFLX || !usable_addr(addr))
		return (-1);
	if ((i = local_of_type(a, type, addr)) != -1) {
		if (out != NULL)
			*out = a->local[i].c;
		return (0);
	}
	for (k = 0; k < ICE_MAX_LOCAL; k++)
		if (!a->local[k].in_use)
			break;
	if (k == ICE_MAX_LOCAL)
		return (-1);
	/* Unique priorities among candidates of one type (RFC 8445 5.1.2). */
	while (pref_taken(a, type, pref))
		pref--;
	l = &a->local[k];
	memset(l, 0, sizeof(*l));
	l->in_use = true;
	l->pref = pref;
	l->c.type = type;
	l->c.addr = *addr;
	l->c.priority = ice_candidate_priority(type, l->pref);
	if (related != NULL && type != ICE_CAND_HOST) {
		l->c.has_related = true;
		l->c.related = *related;
	}
	local_foundation(&l->c);
	if (out != NULL)
		*out = l->c;
	for (r = 0; r < ICE_MAX_REMOTE; r++)
		if (a->remote[r].in_use && pairable(a, k, r))
			add_pair(a, k, r);
	update(a, now);
	return (0);
}

/* The candidate as signalled (foundation, priority), to retract it. */
int
ice_get_local(const struct ice_agent *a, enum ice_cand_type type,
    const struct stun_addr *addr, struct ice_candidate *out)
{
	int	i;

	if ((i = local_of_type(a, type, addr)) == -1)
		return (-1);
	*out = a->local[i].c;
	return (0);
}

int
ice_remove_local(struct ice_agent *a, uint64_t now,
    const struct stun_addr *addr)
{
	int	i, k, found = 0;

	for (k = 0; k < ICE_MAX_LOCAL; k++) {
		if (!a->local[k].in_use ||
		    !stun_addr_eq(&a->local[k].c.addr, addr))
			continue;
		for (i = 0; i < ICE_MAX_PAIRS; i++)
			if (a->pairs[i].in_use && a->pairs[i].local == k)
				drop_pair(a, i);
		memset(&a->local[k], 0, sizeof(a->local[k]));
		found = 1;
	}
	update(a, now);
	return (found ? 0 : -1);
}

int
ice_add_remote(struct ice_agent *a, uint64_t now, const char *s,
    const char **why)
{
	struct ice_candidate	 c;
	struct ice_remote	*rc;
	const char		*dummy;
	int			 i, l, r;

	if (why == NULL)
		why = &dummy;
	if (ice_candidate_parse(&c, s, why) == -1)
		return (-1);
	if (!usable_addr(&c.addr)) {
		*why = "unusable address";
		return (-1);
	}
	if (terminal(a)) {
		*why = "agent has stopped";
		return (-1);
	}
	*why = NULL;
	if ((r = find_remote(a, &c.addr)) != -1) {
		rc = &a->remote[r];
		if (rc->c.type != ICE_CAND_PRFLX || c.type == ICE_CAND_PRFLX)
			return (0);
		/*
		 * RFC 8838 11.4: the signalled candidate replaces the
		 * prflx, which was paired only with the base it reached.
		 */
		rc->c = c;
		for (i = 0; i < ICE_MAX_PAIRS; i++)
			if (a->pairs[i].in_use && a->pairs[i].remote == r)
				pair_prio(a, &a->pairs[i]);
	} else {
		for (r = 0; r < ICE_MAX_REMOTE; r++)
			if (!a->remote[r].in_use)
				break;
		if (r == ICE_MAX_REMOTE) {
			*why = "too many remote candidates";
			return (-1);
		}
		a->remote[r].in_use = true;
		a->remote[r].c = c;
	}
	for (l = 0; l < ICE_MAX_LOCAL; l++)
		if (a->local[l].in_use && pairable(a, l, r))
			add_pair(a, l, r);
	update(a, now);
	return (0);
}

int
ice_remove_remote(struct ice_agent *a, uint64_t now, const char *s,
    const char **why)
{
	struct ice_candidate	 c;
	const char		*dummy;
	int			 i, r;

	if (why == NULL)
		why = &dummy;
	if (ice_candidate_parse(&c, s, why) == -1)
		return (-1);
	*why = NULL;
	/* A prflx learned for the same address is the same path. */
	while ((r = find_remote(a, &c.addr)) != -1) {
		for (i = 0; i < ICE_MAX_PAIRS; i++)
			if (a->pairs[i].in_use && a->pairs[i].remote == r)
				drop_pair(a, i);
		memset(&a->remote[r], 0, sizeof(a->remote[r]));
	}
	update(a, now);
	return (0);
}

enum ice_state
ice_get_state(const struct ice_agent *a)
{
	return (a->state);
}

bool
ice_is_controlling(const struct ice_agent *a)
{
	return (a->controlling);
}

bool
ice_is_idle(const struct ice_agent *a)
{
	return (a->idle);
}

bool
ice_get_selected(const struct ice_agent *a, struct ice_path *path)
{
	int	i;

	if (terminal(a) || (i = selectable(a)) == -1)
		return (false);
	local_base(a, &a->pairs[i], path);
	return (true);
}

const char *
ice_state_name(enum ice_state s)
{
	switch (s) {
	case ICE_NEW:
		return ("new");
	case ICE_CHECKING:
		return ("checking");
	case ICE_CONNECTED:
		return ("connected");
	case ICE_DISCONNECTED:
		return ("disconnected");
	case ICE_FAILED:
		return ("failed");
	}
	return ("unknown");
}

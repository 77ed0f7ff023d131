/*
 * TURN client (RFC 8656) for one relay address, following PROTOCOL.md 4.2:
 * BINDING first (server-reflexive address), then ALLOCATE with long-term
 * credentials, REFRESH at half the lifetime, a BINDING keep-alive every
 * 25 s, and CREATE-PERMISSION plus CHANNEL-BIND per peer, kept fresh only
 * while the peer carries traffic.
 *
 * Requests are rebuilt from their parameters each time they are sent, so
 * a retransmission keeps its transaction id without a copy of every
 * request being kept; it differs only if a 438 brought a new nonce since,
 * and then it carries the nonce the relay wants.
 */

#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "tunneld/nat/turn.h"

#define TURN_RTO		(1 * NSEC_PER_SEC)
#define TURN_GIVEUP		(8 * NSEC_PER_SEC)
#define TURN_KEEPALIVE		(25 * NSEC_PER_SEC)
#define TURN_PERM_LIFETIME	(300 * NSEC_PER_SEC)
#define TURN_CHAN_LIFETIME	(600 * NSEC_PER_SEC)
#define TURN_LIFETIME		600	/* seconds asked for in REFRESH */
#define TURN_MAX_STALE		3	/* 438s in a row before giving up */
#define TURN_MAX_EVENTS		32
#define TURN_TXN_SLOTS		(2 * TURN_MAX_PEERS + 8)
#define TURN_SOFTWARE		"snownet"
#define TURN_PROTO_UDP		17

struct turn_txn {
	bool		in_use;
	bool		due;		/* to be handed out by poll_transmit */
	bool		authed;		/* sent with our credentials */
	uint16_t	method;
	int		peer;		/* index into peers, or -1 */
	uint32_t	lifetime;	/* REFRESH only; 0 deletes */
	int		stale;		/* 438s answered in this chain */
	uint8_t		txid[STUN_TXID_LEN];
	uint64_t	start;
	uint64_t	next;
	uint64_t	rto;
};

struct turn_peer {
	bool		in_use;
	bool		bound;		/* ChannelData may flow */
	bool		used;		/* traffic since the last refresh */
	bool		lapsing;	/* refresh skipped: no traffic */
	struct stun_addr addr;
	uint16_t	channel;
	uint64_t	refresh_at;
	uint64_t	chan_refresh_at;
	uint64_t	perm_exp;
	uint64_t	chan_exp;
};

struct turn_client {
	char		*username;
	char		*password;
	turn_random_fn	 random;
	void		*random_arg;

	enum turn_state	 state;
	enum turn_error	 error;
	bool		 have_auth;
	char		 realm[STUN_MAX_TEXT + 1];
	char		 nonce[STUN_MAX_TEXT + 1];
	uint8_t		 key[STUN_KEY_LEN];
	bool		 no_aaf;	/* relay refused a second family */
	bool		 cleared;	/* deleted a stale allocation once */

	bool		 have_srflx;
	struct stun_addr srflx;
	uint64_t	 rtt;		/* of the last BINDING, 0: none yet */
	struct stun_addr relayed[2];
	size_t		 nrelayed;
	uint64_t	 expires_at;
	uint64_t	 refresh_at;
	uint64_t	 keepalive_at;
	uint16_t	 next_channel;

	struct turn_txn	 txn[TURN_TXN_SLOTS];
	struct turn_peer peers[TURN_MAX_PEERS];
	struct turn_event events[TURN_MAX_EVENTS];
	size_t		 ev_head;
	size_t		 ev_count;
};

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return (a < b ? a : b);
}

static void
emit(struct turn_client *c, enum turn_event_type type, enum turn_error err,
    int code, const struct stun_addr *addr)
{
	struct turn_event	*ev;

	/* A caller that never drains loses the newest events, not memory. */
	if (c->ev_count == TURN_MAX_EVENTS)
		return;
	ev = &c->events[(c->ev_head + c->ev_count) % TURN_MAX_EVENTS];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->error = err;
	ev->code = code;
	if (addr != NULL)
		ev->addr = *addr;
	c->ev_count++;
}

static void
drop_all(struct turn_client *c)
{
	memset(c->txn, 0, sizeof(c->txn));
	memset(c->peers, 0, sizeof(c->peers));
}

static void
fail(struct turn_client *c, enum turn_error err, int code)
{
	if (c->state == TURN_FAILED || c->state == TURN_CLOSED)
		return;
	drop_all(c);
	c->state = TURN_FAILED;
	c->error = err;
	emit(c, TURN_EV_FAILED, err, code, NULL);
}

static void
closed(struct turn_client *c)
{
	drop_all(c);
	c->state = TURN_CLOSED;
	emit(c, TURN_EV_CLOSED, TURN_ERR_NONE, 0, NULL);
}

static struct turn_peer *
peer_at(struct turn_client *c, int idx)
{
	if (idx < 0 || idx >= TURN_MAX_PEERS || !c->peers[idx].in_use)
		return (NULL);
	return (&c->peers[idx]);
}

static int
peer_index(const struct turn_client *c, const struct stun_addr *a)
{
	int	i;

	for (i = 0; i < TURN_MAX_PEERS; i++)
		if (c->peers[i].in_use && stun_addr_eq(&c->peers[i].addr, a))
			return (i);
	return (-1);
}

/* Forget a peer with its requests; late answers to them are dropped. */
static void
peer_free(struct turn_client *c, int idx)
{
	size_t	i;

	for (i = 0; i < TURN_TXN_SLOTS; i++)
		if (c->txn[i].in_use && c->txn[i].peer == idx)
			c->txn[i].in_use = false;
	memset(&c->peers[idx], 0, sizeof(c->peers[idx]));
}

static bool
peer_binding(const struct turn_client *c, int idx)
{
	size_t	i;

	for (i = 0; i < TURN_TXN_SLOTS; i++)
		if (c->txn[i].in_use && c->txn[i].peer == idx &&
		    c->txn[i].method == STUN_CHANNEL_BIND)
			return (true);
	return (false);
}

static int
send_request(struct turn_client *c, uint64_t now, uint16_t method, int peer,
    uint32_t lifetime, int stale)
{
	struct turn_txn	*t = NULL;
	size_t		 i;

	for (i = 0; i < TURN_TXN_SLOTS; i++)
		if (!c->txn[i].in_use) {
			t = &c->txn[i];
			break;
		}
	if (t == NULL)
		return (-1);
	memset(t, 0, sizeof(*t));
	c->random(c->random_arg, t->txid, sizeof(t->txid));
	t->in_use = true;
	t->due = true;
	/* BINDING is answered without credentials, also by Firezone relays. */
	t->authed = method != STUN_BINDING && c->have_auth;
	t->method = method;
	t->peer = peer;
	t->lifetime = lifetime;
	t->stale = stale;
	t->start = now;
	t->rto = TURN_RTO;
	t->next = now + TURN_RTO;
	return (0);
}

static int
build_request(struct turn_client *c, const struct turn_txn *t, uint8_t *buf,
    size_t cap, size_t *len)
{
	struct stun_builder	 b;
	struct turn_peer	*p;

	stun_build(&b, buf, cap, t->method, STUN_REQUEST, t->txid);
	/* peer_free() cancels a peer's requests, so p is set for them. */
	p = t->peer == -1 ? NULL : &c->peers[t->peer];
	switch (t->method) {
	case STUN_ALLOCATE:
		stun_put_u32(&b, STUN_A_REQUESTED_TRANSPORT,
		    (uint32_t)TURN_PROTO_UDP << 24);
		if (!c->no_aaf) {
			stun_put_u32(&b, STUN_A_ADDITIONAL_ADDRESS_FAMILY,
			    (uint32_t)STUN_FAMILY_V6 << 24);
			stun_put_u32(&b, STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT,
			    (uint32_t)STUN_FAMILY_V6 << 24);
		}
		break;
	case STUN_REFRESH:
		stun_put_u32(&b, STUN_A_LIFETIME, t->lifetime);
		break;
	case STUN_CREATE_PERMISSION:
	case STUN_CHANNEL_BIND:
		if (t->method == STUN_CHANNEL_BIND)
			stun_put_u32(&b, STUN_A_CHANNEL_NUMBER,
			    (uint32_t)p->channel << 16);
		stun_put_addr(&b, STUN_A_XOR_PEER_ADDRESS, &p->addr);
		break;
	}
	stun_put_str(&b, STUN_A_SOFTWARE, TURN_SOFTWARE);
	if (t->authed) {
		stun_put_str(&b, STUN_A_USERNAME, c->username);
		stun_put_str(&b, STUN_A_REALM, c->realm);
		stun_put_str(&b, STUN_A_NONCE, c->nonce);
		stun_put_integrity(&b, c->key, sizeof(c->key));
	}
	return (stun_build_end(&b, len));
}

static void
set_srflx(struct turn_client *c, const struct stun_addr *a)
{
	if (c->have_srflx && stun_addr_eq(&c->srflx, a))
		return;
	c->srflx = *a;
	c->have_srflx = true;
	emit(c, TURN_EV_SRFLX, TURN_ERR_NONE, 0, a);
}

static void
set_lifetime(struct turn_client *c, uint64_t now, uint32_t secs)
{
	c->expires_at = now + secs * NSEC_PER_SEC;
	c->refresh_at = now + secs * NSEC_PER_SEC / 2;
}

/* Send CREATE-PERMISSION, and CHANNEL-BIND too when it is due. */
static int
peer_refresh(struct turn_client *c, uint64_t now, int idx, bool bind)
{
	struct turn_peer	*p = &c->peers[idx];

	p->used = false;
	p->lapsing = false;
	p->refresh_at = TIMER_NEVER;
	if (send_request(c, now, STUN_CREATE_PERMISSION, idx, 0, 0) == -1)
		return (-1);
	if (bind || now >= p->chan_refresh_at) {
		p->chan_refresh_at = TIMER_NEVER;
		if (send_request(c, now, STUN_CHANNEL_BIND, idx, 0, 0) == -1)
			return (-1);
	}
	return (0);
}

static void
peer_failed(struct turn_client *c, int idx, int code)
{
	struct turn_peer	*p;

	if ((p = peer_at(c, idx)) == NULL)
		return;
	emit(c, TURN_EV_CHANNEL_FAILED, TURN_ERR_REJECTED, code, &p->addr);
	peer_free(c, idx);
}

static void
mark_used(struct turn_client *c, uint64_t now, int idx)
{
	struct turn_peer	*p = &c->peers[idx];

	p->used = true;
	if (p->lapsing && peer_refresh(c, now, idx, false) == -1)
		peer_failed(c, idx, 0);
}

/* Take REALM and NONCE from a 401 or 438 and derive the key. */
static bool
take_auth(struct turn_client *c, const struct stun_msg *m, bool need_realm)
{
	const struct stun_attr	*n, *r;
	char			 realm[STUN_MAX_TEXT + 1];
	uint8_t			 key[STUN_KEY_LEN];

	n = stun_find(m, STUN_A_NONCE);
	r = stun_find(m, STUN_A_REALM);
	if (n == NULL || (r == NULL && (need_realm || !c->have_auth)))
		return (false);
	/* They go back out as C strings: an embedded NUL would corrupt them. */
	if (memchr(n->val, '\0', n->len) != NULL ||
	    (r != NULL && memchr(r->val, '\0', r->len) != NULL))
		return (false);
	/* Commit nothing until the key is derived. */
	if (r != NULL) {
		memcpy(realm, r->val, r->len);
		realm[r->len] = '\0';
		if (stun_long_term_key(key, c->username, realm,
		    c->password) == -1)
			return (false);
		memcpy(c->realm, realm, sizeof(realm));
		memcpy(c->key, key, sizeof(key));
		explicit_bzero(key, sizeof(key));
	}
	memcpy(c->nonce, n->val, n->len);
	c->nonce[n->len] = '\0';
	c->have_auth = true;
	return (true);
}

/*
 * The answer to the REFRESH with lifetime 0 that cleared a stale
 * allocation of ours (437 to ALLOCATE, see below): allocate again,
 * whatever it said. False: it was a plain delete.
 */
static bool
stale_cleared(struct turn_client *c, uint64_t now)
{
	if (c->state != TURN_ALLOCATING)
		return (false);
	if (send_request(c, now, STUN_ALLOCATE, -1, 0, 0) == -1)
		fail(c, TURN_ERR_INTERNAL, 0);
	return (true);
}

static void
handle_error(struct turn_client *c, uint64_t now, const struct turn_txn *t,
    const struct stun_msg *m, int code)
{
	int	stale = 0;

	switch (code) {
	case 401:
		/* Credentials were sent and refused: retrying cannot help. */
		if (t->authed) {
			fail(c, TURN_ERR_AUTH, code);
			return;
		}
		if (!take_auth(c, m, true)) {
			fail(c, TURN_ERR_PROTOCOL, code);
			return;
		}
		break;
	case 438:
		if (t->stale >= TURN_MAX_STALE || !take_auth(c, m, false)) {
			fail(c, TURN_ERR_REJECTED, code);
			return;
		}
		stale = t->stale + 1;
		break;
	case 437:
		/*
		 * ALLOCATE: the relay still holds an allocation of ours from
		 * this 5-tuple (made before a restart, or not deleted in
		 * time): delete it with our credentials and allocate again,
		 * once. REFRESH: the allocation is not ours from where we
		 * are now (our address moved): the caller allocates anew.
		 */
		if (t->method == STUN_ALLOCATE && !c->cleared && t->authed) {
			c->cleared = true;
			if (send_request(c, now, STUN_REFRESH, -1, 0, 0) == -1)
				fail(c, TURN_ERR_INTERNAL, 0);
			return;
		}
		if (t->method == STUN_REFRESH && t->lifetime != 0) {
			fail(c, TURN_ERR_EXPIRED, code);
			return;
		}
		if (t->method == STUN_REFRESH && stale_cleared(c, now))
			return;
		fail(c, TURN_ERR_REJECTED, code);
		return;
	case 440:
		/* No second address family here: ask for the default one. */
		if (t->method == STUN_ALLOCATE && !c->no_aaf) {
			c->no_aaf = true;
			break;
		}
		/* FALLTHROUGH */
	default:
		if (t->method == STUN_CREATE_PERMISSION ||
		    t->method == STUN_CHANNEL_BIND)
			peer_failed(c, t->peer, code);
		else if (t->method == STUN_REFRESH && t->lifetime == 0) {
			if (!stale_cleared(c, now))
				closed(c);
		} else
			fail(c, TURN_ERR_REJECTED, code);
		return;
	}
	if (send_request(c, now, t->method, t->peer, t->lifetime, stale) == -1)
		fail(c, TURN_ERR_INTERNAL, 0);
}

/*
 * A relayed address the relay gave: coturn answers the family it has no
 * address of with a second XOR-RELAYED-ADDRESS of 0.0.0.0 port 0 rather
 * than leaving it out (RFC 8656 6.3), which is no address to offer.
 */
static bool
relayed_usable(const struct stun_addr *a)
{
	static const uint8_t	 zero[16];

	return (a->port != 0 &&
	    memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) != 0);
}

static void
handle_success(struct turn_client *c, uint64_t now, const struct turn_txn *t,
    const struct stun_msg *m)
{
	const struct stun_attr	*a = NULL;
	struct stun_addr	 addr, relayed[2];
	struct turn_peer	*p;
	uint32_t		 lifetime;
	size_t			 n = 0, i;
	bool			 wasbound;

	switch (t->method) {
	case STUN_BINDING:
		if (!stun_get_addr(m, STUN_A_XOR_MAPPED_ADDRESS, &addr) &&
		    !stun_get_addr(m, STUN_A_MAPPED_ADDRESS, &addr)) {
			if (c->state == TURN_BINDING)
				fail(c, TURN_ERR_PROTOCOL, 0);
			return;
		}
		set_srflx(c, &addr);
		c->rtt = now - t->start;
		if (c->state != TURN_BINDING)
			return;
		c->state = TURN_ALLOCATING;
		if (send_request(c, now, STUN_ALLOCATE, -1, 0, 0) == -1)
			fail(c, TURN_ERR_INTERNAL, 0);
		return;
	case STUN_ALLOCATE:
		if (c->state != TURN_ALLOCATING)
			return;
		while (n < 2 && (a = stun_find_next(m,
		    STUN_A_XOR_RELAYED_ADDRESS, a)) != NULL)
			if (stun_attr_addr(m, a, &relayed[n]) &&
			    relayed_usable(&relayed[n]))
				n++;
		if (n == 0 || !stun_get_u32(m, STUN_A_LIFETIME, &lifetime) ||
		    lifetime == 0) {
			fail(c, TURN_ERR_PROTOCOL, 0);
			return;
		}
		if (stun_get_addr(m, STUN_A_XOR_MAPPED_ADDRESS, &addr))
			set_srflx(c, &addr);
		c->state = TURN_ALLOCATED;
		c->nrelayed = n;
		set_lifetime(c, now, lifetime);
		c->keepalive_at = now + TURN_KEEPALIVE;
		for (i = 0; i < n; i++) {
			c->relayed[i] = relayed[i];
			emit(c, TURN_EV_RELAYED, TURN_ERR_NONE, 0, &relayed[i]);
		}
		return;
	case STUN_REFRESH:
		if (t->lifetime == 0) {
			if (!stale_cleared(c, now))
				closed(c);
			return;
		}
		if (c->state != TURN_ALLOCATED)
			return;
		if (!stun_get_u32(m, STUN_A_LIFETIME, &lifetime)) {
			fail(c, TURN_ERR_PROTOCOL, 0);
			return;
		}
		if (lifetime == 0) {
			fail(c, TURN_ERR_EXPIRED, 0);
			return;
		}
		set_lifetime(c, now, lifetime);
		return;
	case STUN_CREATE_PERMISSION:
	case STUN_CHANNEL_BIND:
		if ((p = peer_at(c, t->peer)) == NULL)
			return;
		/* Either one installs or refreshes the permission. */
		p->perm_exp = now + TURN_PERM_LIFETIME;
		p->refresh_at = now + TURN_PERM_LIFETIME / 2;
		p->lapsing = false;
		if (t->method == STUN_CREATE_PERMISSION)
			return;
		wasbound = p->bound;
		p->bound = true;
		p->chan_exp = now + TURN_CHAN_LIFETIME;
		p->chan_refresh_at = now + TURN_CHAN_LIFETIME / 2;
		if (!wasbound)
			emit(c, TURN_EV_CHANNEL_BOUND, TURN_ERR_NONE, 0,
			    &p->addr);
		return;
	}
}

static enum turn_input
handle_data_indication(struct turn_client *c, uint64_t now,
    const struct stun_msg *m, struct stun_addr *peer,
    const uint8_t **payload, size_t *plen)
{
	const struct stun_attr	*d;
	struct stun_addr	 from;
	struct turn_peer	*p;
	int			 i;

	if (!stun_get_addr(m, STUN_A_XOR_PEER_ADDRESS, &from) ||
	    (d = stun_find(m, STUN_A_DATA)) == NULL)
		return (TURN_IN_DROP);
	/* Permissions are per IP address, so the port may differ. */
	for (i = 0; i < TURN_MAX_PEERS; i++) {
		p = &c->peers[i];
		if (!p->in_use || now >= p->perm_exp ||
		    p->addr.family != from.family ||
		    memcmp(p->addr.ip, from.ip,
		    from.family == AF_INET ? 4 : 16) != 0)
			continue;
		mark_used(c, now, i);
		*peer = from;
		*payload = d->val;
		*plen = d->len;
		return (TURN_IN_DATA);
	}
	return (TURN_IN_DROP);
}

static enum turn_input
handle_stun(struct turn_client *c, uint64_t now, const struct stun_msg *m,
    struct stun_addr *peer, const uint8_t **payload, size_t *plen)
{
	struct turn_txn	 t;
	size_t		 i;
	int		 code = 0;

	if (m->class == STUN_INDICATION && m->method == STUN_DATA &&
	    c->state == TURN_ALLOCATED)
		return (handle_data_indication(c, now, m, peer, payload,
		    plen));
	if (m->class != STUN_SUCCESS && m->class != STUN_ERROR)
		return (TURN_IN_DROP);
	for (i = 0; i < TURN_TXN_SLOTS; i++)
		if (c->txn[i].in_use && c->txn[i].method == m->method &&
		    memcmp(c->txn[i].txid, m->txid, STUN_TXID_LEN) == 0)
			break;
	if (i == TURN_TXN_SLOTS)
		return (TURN_IN_DROP);
	/* An answer we cannot fully understand does not count. */
	if (m->nunknown > 0)
		return (TURN_IN_DROP);
	if (m->class == STUN_ERROR && !stun_get_error(m, &code, NULL, NULL))
		return (TURN_IN_DROP);
	/*
	 * Only 401 and 438 come without MESSAGE-INTEGRITY; anything else
	 * answering an authenticated request must prove it knows the key,
	 * or an off-path attacker could tear the allocation down.
	 */
	if (c->txn[i].authed && code != 401 && code != 438 &&
	    !stun_check_integrity(m, c->key, sizeof(c->key)))
		return (TURN_IN_DROP);
	t = c->txn[i];
	c->txn[i].in_use = false;
	if (m->class == STUN_ERROR)
		handle_error(c, now, &t, m, code);
	else
		handle_success(c, now, &t, m);
	return (TURN_IN_CONSUMED);
}

static enum turn_input
handle_channel(struct turn_client *c, uint64_t now, const uint8_t *pkt,
    size_t len, struct stun_addr *peer, const uint8_t **payload,
    size_t *plen)
{
	uint16_t	ch;
	size_t		n;
	int		i;

	if (c->state != TURN_ALLOCATED || len < TURN_CHANNEL_HDR)
		return (TURN_IN_DROP);
	ch = pkt[0] << 8 | pkt[1];
	n = pkt[2] << 8 | pkt[3];
	/* Over UDP the relay may pad to 4 bytes, or not; nothing else. */
	if (len != TURN_CHANNEL_HDR + n &&
	    len != ((TURN_CHANNEL_HDR + n + 3) & ~(size_t)3))
		return (TURN_IN_DROP);
	if (ch < TURN_CHANNEL_MIN || ch > TURN_CHANNEL_MAX)
		return (TURN_IN_DROP);
	for (i = 0; i < TURN_MAX_PEERS; i++)
		if (c->peers[i].in_use && c->peers[i].bound &&
		    c->peers[i].channel == ch)
			break;
	if (i == TURN_MAX_PEERS)
		return (TURN_IN_DROP);
	mark_used(c, now, i);
	*peer = c->peers[i].addr;
	*payload = pkt + TURN_CHANNEL_HDR;
	*plen = n;
	return (TURN_IN_DATA);
}

enum turn_input
turn_handle_input(struct turn_client *c, uint64_t now, const uint8_t *pkt,
    size_t len, struct stun_addr *peer, const uint8_t **payload, size_t *plen)
{
	struct stun_msg	m;

	if (c->state == TURN_IDLE || c->state == TURN_CLOSED ||
	    c->state == TURN_FAILED)
		return (TURN_IN_DROP);
	switch (stun_classify(pkt, len)) {
	case STUN_KIND_STUN:
		if (stun_parse(&m, pkt, len, NULL) == -1)
			return (TURN_IN_DROP);
		return (handle_stun(c, now, &m, peer, payload, plen));
	case STUN_KIND_CHANNELDATA:
		return (handle_channel(c, now, pkt, len, peer, payload, plen));
	default:
		return (TURN_IN_DROP);
	}
}

static void
txn_timeout(struct turn_client *c, uint64_t now, struct turn_txn *t)
{
	struct turn_txn	copy;

	if (now < t->start + TURN_GIVEUP) {
		t->due = true;
		t->rto *= 2;
		t->next = min64(now + t->rto, t->start + TURN_GIVEUP);
		return;
	}
	copy = *t;
	t->in_use = false;
	if (copy.method == STUN_CREATE_PERMISSION ||
	    copy.method == STUN_CHANNEL_BIND)
		peer_failed(c, copy.peer, 0);
	else if (copy.method == STUN_REFRESH && copy.lifetime == 0) {
		if (!stale_cleared(c, now))
			closed(c);
	} else
		fail(c, TURN_ERR_TIMEOUT, 0);
}

static void
peer_timeout(struct turn_client *c, uint64_t now, int idx)
{
	struct turn_peer	*p = &c->peers[idx];

	if (now >= p->chan_exp) {
		if (p->bound)
			emit(c, TURN_EV_PEER_EXPIRED, TURN_ERR_NONE, 0,
			    &p->addr);
		peer_free(c, idx);
		return;
	}
	if (p->bound && now >= p->perm_exp) {
		/* Kept until the channel expires, to rebind the same number. */
		p->bound = false;
		emit(c, TURN_EV_PEER_EXPIRED, TURN_ERR_NONE, 0, &p->addr);
	}
	if (now >= p->refresh_at) {
		if (p->used) {
			if (peer_refresh(c, now, idx, false) == -1)
				peer_failed(c, idx, 0);
		} else {
			p->refresh_at = TIMER_NEVER;
			p->lapsing = true;
		}
	}
}

void
turn_handle_timeout(struct turn_client *c, uint64_t now)
{
	size_t	i;
	int	j;

	if (c->state == TURN_ALLOCATED && now >= c->expires_at) {
		fail(c, TURN_ERR_EXPIRED, 0);
		return;
	}
	for (i = 0; i < TURN_TXN_SLOTS; i++) {
		if (c->txn[i].in_use && now >= c->txn[i].next)
			txn_timeout(c, now, &c->txn[i]);
		if (c->state == TURN_FAILED || c->state == TURN_CLOSED)
			return;
	}
	if (c->state != TURN_ALLOCATED)
		return;
	if (now >= c->refresh_at) {
		c->refresh_at = TIMER_NEVER;
		if (send_request(c, now, STUN_REFRESH, -1, TURN_LIFETIME,
		    0) == -1) {
			fail(c, TURN_ERR_INTERNAL, 0);
			return;
		}
	}
	if (now >= c->keepalive_at) {
		c->keepalive_at = now + TURN_KEEPALIVE;
		if (send_request(c, now, STUN_BINDING, -1, 0, 0) == -1) {
			fail(c, TURN_ERR_INTERNAL, 0);
			return;
		}
	}
	for (j = 0; j < TURN_MAX_PEERS; j++)
		if (c->peers[j].in_use)
			peer_timeout(c, now, j);
}

uint64_t
turn_next_deadline(const struct turn_client *c)
{
	const struct turn_peer	*p;
	uint64_t		 d = TIMER_NEVER;
	size_t			 i;

	for (i = 0; i < TURN_TXN_SLOTS; i++)
		if (c->txn[i].in_use)
			d = min64(d, c->txn[i].next);
	if (c->state != TURN_ALLOCATED)
		return (d);
	d = min64(d, min64(c->expires_at, c->refresh_at));
	d = min64(d, c->keepalive_at);
	for (i = 0; i < TURN_MAX_PEERS; i++) {
		p = &c->peers[i];
		if (!p->in_use)
			continue;
		d = min64(d, min64(p->refresh_at, p->chan_exp));
		if (p->bound)
			d = min64(d, p->perm_exp);
	}
	return (d);
}

size_t
turn_poll_transmit(struct turn_client *c, uint8_t *buf, size_t cap)
{
	size_t	i, len;

	for (i = 0; i < TURN_TXN_SLOTS; i++) {
		if (!c->txn[i].in_use || !c->txn[i].due)
			continue;
		/* One that does not fit is left to time out. */
		if (build_request(c, &c->txn[i], buf, cap, &len) == -1)
			continue;
		c->txn[i].due = false;
		return (len);
	}
	return (0);
}

bool
turn_poll_event(struct turn_client *c, struct turn_event *ev)
{
	if (c->ev_count == 0)
		return (false);
	*ev = c->events[c->ev_head];
	c->ev_head = (c->ev_head + 1) % TURN_MAX_EVENTS;
	c->ev_count--;
	return (true);
}

_Static_assert(TURN_MAX_PEERS <= TURN_CHANNEL_MAX - TURN_CHANNEL_MIN,
    "fewer peers than channel numbers");

/*
 * Numbers go round-robin so that a freed one is not reused soon: the relay
 * keeps a channel for up to 10 minutes after its last refresh.  The loop
 * ends because there are more numbers than peers.
 */
static uint16_t
alloc_channel(struct turn_client *c)
{
	uint16_t	ch;
	int		i;

	for (;;) {
		ch = c->next_channel;
		c->next_channel = ch == TURN_CHANNEL_MAX ? TURN_CHANNEL_MIN :
		    ch + 1;
		for (i = 0; i < TURN_MAX_PEERS; i++)
			if (c->peers[i].in_use && c->peers[i].channel == ch)
				break;
		if (i == TURN_MAX_PEERS)
			return (ch);
	}
}

int
turn_bind_peer(struct turn_client *c, uint64_t now, const struct stun_addr *a)
{
	struct turn_peer	*p;
	int			 idx;

	if (c->state != TURN_ALLOCATED ||
	    (a->family != AF_INET && a->family != AF_INET6))
		return (-1);
	if ((idx = peer_index(c, a)) != -1) {
		if (c->peers[idx].bound || peer_binding(c, idx))
			return (0);
	} else {
		for (idx = 0; idx < TURN_MAX_PEERS; idx++)
			if (!c->peers[idx].in_use)
				break;
		if (idx == TURN_MAX_PEERS)
			return (-1);
		p = &c->peers[idx];
		memset(p, 0, sizeof(*p));
		p->in_use = true;
		p->addr = *a;
		p->channel = alloc_channel(c);
		p->chan_exp = TIMER_NEVER;
	}
	/* A peer kept after its permission lapsed rebinds the same number. */
	if (peer_refresh(c, now, idx, true) == -1) {
		peer_free(c, idx);
		return (-1);
	}
	return (0);
}

/* The channel bound to a peer, 0 if none yet; asking counts as use. */
uint16_t
turn_peer_channel(struct turn_client *c, uint64_t now,
    const struct stun_addr *peer)
{
	int	 idx;

	if (c->state != TURN_ALLOCATED || (idx = peer_index(c, peer)) == -1 ||
	    !c->peers[idx].bound)
		return (0);
	mark_used(c, now, idx);
	return (c->peers[idx].channel);
}

enum turn_wrap
turn_wrap(struct turn_client *c, uint64_t now, const struct stun_addr *peer,
    const uint8_t *data, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct turn_peer	*p;
	int			 idx;

	if (c->state != TURN_ALLOCATED)
		return (TURN_WRAP_ERROR);
	if ((idx = peer_index(c, peer)) == -1 || !c->peers[idx].bound) {
		if (turn_bind_peer(c, now, peer) == -1)
			return (TURN_WRAP_ERROR);
		return (TURN_WRAP_PENDING);
	}
	if (len > 0xffff || cap < TURN_CHANNEL_HDR ||
	    len > cap - TURN_CHANNEL_HDR)
		return (TURN_WRAP_ERROR);
	mark_used(c, now, idx);
	p = &c->peers[idx];
	out[0] = p->channel >> 8;
	out[1] = p->channel & 0xff;
	out[2] = len >> 8;
	out[3] = len & 0xff;
	memcpy(out + TURN_CHANNEL_HDR, data, len);
	/* No padding: over UDP it is optional and only costs bytes. */
	*outlen = TURN_CHANNEL_HDR + len;
	return (TURN_WRAP_OK);
}

struct turn_client *
turn_new(const struct turn_config *cfg)
{
	struct turn_client	*c;

	if (cfg->username == NULL || cfg->password == NULL ||
	    cfg->random == NULL)
		return (NULL);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->random = cfg->random;
	c->random_arg = cfg->random_arg;
	c->next_channel = TURN_CHANNEL_MIN;
	c->state = TURN_IDLE;
	if ((c->username = strdup(cfg->username)) == NULL ||
	    (c->password = strdup(cfg->password)) == NULL) {
		turn_free(c);
		return (NULL);
	}
	return (c);
}

void
turn_free(struct turn_client *c)
{
	if (c == NULL)
		return;
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->username);
	explicit_bzero(c->key, sizeof(c->key));
	free(c);
}

int
turn_start(struct turn_client *c, uint64_t now)
{
	if (c->state != TURN_IDLE)
		return (-1);
	if (send_request(c, now, STUN_BINDING, -1, 0, 0) == -1)
		return (-1);
	c->state = TURN_BINDING;
	return (0);
}

void
turn_close(struct turn_client *c, uint64_t now)
{
	switch (c->state) {
	case TURN_ALLOCATED:
		/* Nothing else matters once the allocation goes. */
		drop_all(c);
		if (send_request(c, now, STUN_REFRESH, -1, 0, 0) == -1) {
			closed(c);
			return;
		}
		c->state = TURN_DELETING;
		return;
	case TURN_IDLE:
	case TURN_BINDING:
	case TURN_ALLOCATING:
		closed(c);
		return;
	case TURN_DELETING:
	case TURN_CLOSED:
	case TURN_FAILED:
		return;
	}
}

/*
 * The network changed: ask again from where we are now. BINDING learns
 * the server-reflexive address anew, REFRESH tells whether the
 * allocation is still ours: a relay that answers 437 has it under the
 * old 5-tuple, and the client fails with TURN_ERR_EXPIRED for the
 * caller to allocate anew. Only an allocated client has anything to ask.
 */
void
turn_recheck(struct turn_client *c, uint64_t now)
{
	if (c->state != TURN_ALLOCATED)
		return;
	c->keepalive_at = now + TURN_KEEPALIVE;
	if (send_request(c, now, STUN_BINDING, -1, 0, 0) == -1 ||
	    send_request(c, now, STUN_REFRESH, -1, TURN_LIFETIME, 0) == -1)
		fail(c, TURN_ERR_INTERNAL, 0);
}

enum turn_state
turn_get_state(const struct turn_client *c)
{
	return (c->state);
}

enum turn_error
turn_get_error(const struct turn_client *c)
{
	return (c->error);
}

/* From the first sending of the last answered BINDING, retransmits too. */
uint64_t
turn_get_rtt(const struct turn_client *c)
{
	return (c->rtt);
}

const char *
turn_strerror(enum turn_error err)
{
	switch (err) {
	case TURN_ERR_NONE:
		return ("no error");
	case TURN_ERR_AUTH:
		return ("relay rejected the credentials");
	case TURN_ERR_TIMEOUT:
		return ("relay did not answer");
	case TURN_ERR_REJECTED:
		return ("relay refused the request");
	case TURN_ERR_EXPIRED:
		return ("allocation expired");
	case TURN_ERR_PROTOCOL:
		return ("malformed answer from relay");
	case TURN_ERR_INTERNAL:
		return ("internal error");
	}
	return ("unknown error");
}

bool
turn_get_srflx(const struct turn_client *c, struct stun_addr *out)
{
	if (!c->have_srflx)
		return (false);
	*out = c->srflx;
	return (true);
}

bool
turn_get_relayed(const struct turn_client *c, sa_family_t family,
    struct stun_addr *out)
{
	size_t	i;

	if (c->state != TURN_ALLOCATED)
		return (false);
	for (i = 0; i < c->nrelayed; i++)
		if (c->relayed[i].family == family) {
			*out = c->relayed[i];
			return (true);
		}
	return (false);
}

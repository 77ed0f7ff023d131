/*
 * dns_tcp.c: the TCP responder behind the sentinels (dns_tcp.h). Just
 * enough of RFC 9293 for a local peer that answers DNS: passive open
 * with the peer's MSS, in-order data only (anything else is acked and
 * dropped, the peer sends it again), go-back-N retransmission, FIN both
 * ways, RST for what fits no connection. No window scaling, SACK or
 * timestamps are offered, so the peer uses none.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "controld/dns_tcp.h"

#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_PSH		0x08
#define TH_ACK		0x10
#define TCP_HDR		IPC_DNS_TCP_MIN
#define OPT_MSS		2
#define MSS_DEFAULT	536	/* RFC 9293 3.7.1: no option */
#define MSS_MIN		64
#define DNS_HDR		12

struct dns_tcp_conn {
	uint64_t		 id;
	struct ipc_sockaddr	 client;
	struct ipc_sockaddr	 sentinel;
	bool			 established;
	uint32_t		 irs, iss;
	uint32_t		 rcv_nxt;
	uint32_t		 snd_una, snd_nxt, snd_max;
	uint32_t		 snd_wnd;
	uint32_t		 fin_seq;
	size_t			 mss;
	bool			 fin_rcvd;
	bool			 fin_queued;	/* ours, after what tx holds */
	bool			 fin_sent;
	unsigned		 pending;	/* queries being answered */
	unsigned		 tries;
	uint64_t		 rto_at;	/* 0: nothing in flight */
	uint64_t		 idle_at;
	uint16_t		 wnd_sent;
	size_t			 rxlen;
	uint8_t			 rx[2 + DNS_TCP_MSG_MAX];
	size_t			 txlen;		/* from snd_una on */
	uint8_t			*tx;
};

/* The parts of a segment the responder reads. */
struct seg {
	uint32_t	 seq, ack;
	uint8_t		 flags;
	uint16_t	 wnd;
	size_t		 mss;
	const uint8_t	*data;
	size_t		 len;
};

/* Sequence numbers compared modulo 2^32. */
static bool
seq_lt(uint32_t a, uint32_t b)
{
	return ((int32_t)(a - b) < 0);
}

static bool
seq_le(uint32_t a, uint32_t b)
{
	return ((int32_t)(a - b) <= 0);
}

void
dns_tcp_init(struct dns_tcp *t, dns_tcp_send_fn *send, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->send = send;
	t->arg = arg;
	t->next_id = 1;
}

static void
conn_free(struct dns_tcp *t, size_t i)
{
	struct dns_tcp_conn	*c = t->c[i];

	t->bytes -= c->txlen;
	free(c->tx);
	free(c);
	t->c[i] = t->c[--t->n];
}

void
dns_tcp_clear(struct dns_tcp *t)
{
	while (t->n > 0)
		conn_free(t, t->n - 1);
}

static size_t
conn_index(const struct dns_tcp *t, const struct dns_tcp_conn *c)
{
	size_t	 i;

	for (i = 0; t->c[i] != c; i++)
		;
	return (i);
}

/* A segment from the sentinel to the application, as tunneld takes it. */
static void
emit(struct dns_tcp *t, const struct ipc_sockaddr *client,
    const struct ipc_sockaddr *sentinel, uint32_t seq, uint32_t ack,
    uint8_t flags, uint16_t wnd, bool mss, const uint8_t *data, size_t len)
{
	struct ipc_dns	*s = &t->seg;
	size_t		 hlen = TCP_HDR + (mss ? 4 : 0);

	memset(s->data, 0, s->len);
	s->client = *client;
	s->sentinel = *sentinel;
	s->flags = IPC_DNS_TCP;
	be_put16(s->data, 53);
	be_put16(s->data + 2, client->port);
	be_put32(s->data + 4, seq);
	be_put32(s->data + 8, ack);
	s->data[12] = (uint8_t)(hlen / 4) << 4;
	s->data[13] = flags;
	be_put16(s->data + 14, wnd);
	if (mss) {
		s->data[20] = OPT_MSS;
		s->data[21] = 4;
		be_put16(s->data + 22, DNS_TCP_MSS);
	}
	if (len > 0)
		memcpy(s->data + hlen, data, len);
	s->len = (uint32_t)(hlen + len);
	t->nsent++;
	t->send(t->arg, s);
}

/* What the window offers: room for one more segment at most. */
static uint16_t
window(const struct dns_tcp_conn *c)
{
	size_t	 room = sizeof(c->rx) - c->rxlen;

	return ((uint16_t)(room < DNS_TCP_MSS ? room : DNS_TCP_MSS));
}

static void
conn_send(struct dns_tcp *t, struct dns_tcp_conn *c, uint32_t seq,
    uint8_t flags, const uint8_t *data, size_t len)
{
	c->wnd_sent = window(c);
	emit(t, &c->client, &c->sentinel, seq, c->rcv_nxt, flags | TH_ACK,
	    c->wnd_sent, (flags & TH_SYN) != 0, data, len);
}

static void
conn_reset(struct dns_tcp *t, struct dns_tcp_conn *c)
{
	emit(t, &c->client, &c->sentinel, c->snd_nxt, c->rcv_nxt,
	    TH_RST | TH_ACK, 0, false, NULL, 0);
	conn_free(t, conn_index(t, c));
}

static uint64_t
rto(const struct dns_tcp_conn *c)
{
	return (DNS_TCP_RTO_NS << c->tries);
}

/* What the window lets out of tx, then our FIN once tx is all out. */
static void
flush(struct dns_tcp *t, struct dns_tcp_conn *c, uint64_t now)
{
	size_t	 off, n, wnd;

	if (!c->established)
		return;
	off = c->snd_nxt - c->snd_una;
	while (off < c->txlen) {
		wnd = c->snd_wnd > off ? c->snd_wnd - off : 0;
		n = c->txlen - off;
		if (n > c->mss)
			n = c->mss;
		if (n > wnd)
			n = wnd;
		if (n == 0)
			break;
		conn_send(t, c, c->snd_nxt, TH_PSH, c->tx + off, n);
		c->snd_nxt += (uint32_t)n;
		off += n;
	}
	if (c->fin_queued && off == c->txlen) {
		c->fin_seq = c->snd_nxt;
		c->fin_sent = true;
		conn_send(t, c, c->snd_nxt++, TH_FIN, NULL, 0);
	}
	if (seq_lt(c->snd_max, c->snd_nxt))
		c->snd_max = c->snd_nxt;
	if (c->snd_nxt != c->snd_una && c->rto_at == 0)
		c->rto_at = now + rto(c);
}

/* The next query in rx is whole (and its length was checked). */
static bool
has_query(const struct dns_tcp_conn *c)
{
	return (c->rxlen >= 2 && c->rxlen >= 2 + (size_t)be_get16(c->rx));
}

/* The next length in rx is not one of a query we take. */
static bool
bad_length(const struct dns_tcp_conn *c)
{
	return (c->rxlen >= 2 &&
	    (be_get16(c->rx) < DNS_HDR || be_get16(c->rx) > DNS_TCP_MSG_MAX));
}

/* Our FIN once the peer's came and everything asked is answered. */
static void
maybe_close(struct dns_tcp *t, struct dns_tcp_conn *c, uint64_t now)
{
	if (c->fin_rcvd && !c->fin_queued && c->pending == 0 && !has_query(c)) {
		c->fin_queued = true;
		flush(t, c, now);
	}
}

static bool
parse(const struct ipc_dns *in, struct seg *s)
{
	const uint8_t	*p = in->data, *o;
	size_t		 hlen, olen, i;

	if (in->len < TCP_HDR || in->len > IPC_DNS_MAX)
		return (false);
	hlen = (size_t)(p[12] >> 4) * 4;
	if (hlen < TCP_HDR || hlen > in->len)
		return (false);
	s->seq = be_get32(p + 4);
	s->ack = be_get32(p + 8);
	s->flags = p[13];
	s->wnd = be_get16(p + 14);
	s->data = p + hlen;
	s->len = in->len - hlen;
	s->mss = MSS_DEFAULT;
	o = p + TCP_HDR;
	olen = hlen - TCP_HDR;
	for (i = 0; i < olen;) {
		if (o[i] == 0)			/* end of options */
			break;
		if (o[i] == 1) {		/* no-op */
			i++;
			continue;
		}
		if (i + 1 >= olen || o[i + 1] < 2 || i + o[i + 1] > olen)
			return (false);
		if (o[i] == OPT_MSS && o[i + 1] == 4)
			s->mss = be_get16(o + i + 2);
		i += o[i + 1];
	}
	return (true);
}

/* RFC 9293 3.10.7.1: the answer to a segment no connection takes. */
static void
refuse(struct dns_tcp *t, const struct ipc_dns *in, const struct seg *s)
{
	uint32_t	 ack;

	if (s->flags & TH_RST)
		return;
	if (s->flags & TH_ACK) {
		emit(t, &in->client, &in->sentinel, s->ack, 0, TH_RST, 0, false,
		    NULL, 0);
		return;
	}
	ack = s->seq + (uint32_t)s->len + ((s->flags & TH_SYN) != 0) +
	    ((s->flags & TH_FIN) != 0);
	emit(t, &in->client, &in->sentinel, 0, ack, TH_RST | TH_ACK, 0, false,
	    NULL, 0);
}

static void
syn_ack(struct dns_tcp *t, struct dns_tcp_conn *c)
{
	conn_send(t, c, c->iss, TH_SYN, NULL, 0);
}

static void
open_conn(struct dns_tcp *t, uint64_t now, const struct ipc_dns *in,
    const struct seg *s)
{
	struct dns_tcp_conn	*c;

	if ((s->flags & (TH_SYN | TH_ACK | TH_RST | TH_FIN)) != TH_SYN ||
	    t->n == DNS_TCP_CONNS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		refuse(t, in, s);
		return;
	}
	t->c[t->n++] = c;
	c->id = t->next_id++;
	c->client = in->client;
	c->sentinel = in->sentinel;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;	/* data on a SYN is not taken */
	c->iss = arc4random();
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_wnd = s->wnd;
	c->mss = s->mss;
	if (c->mss > IPC_DNS_MAX - TCP_HDR)
		c->mss = IPC_DNS_MAX - TCP_HDR;
	if (c->mss < MSS_MIN)
		c->mss = MSS_MIN;
	c->rto_at = now + rto(c);
	c->idle_at = now + DNS_TCP_IDLE_NS;
	syn_ack(t, c);
}

/* An acceptable ACK: what it acknowledges leaves tx. */
static void
take_ack(struct dns_tcp *t, struct dns_tcp_conn *c, const struct seg *s,
    uint64_t now)
{
	size_t	 acked;

	if (seq_lt(c->snd_una, s->ack)) {
		acked = s->ack - c->snd_una;
		if (acked > c->txlen)
			acked = c->txlen;	/* the rest: our FIN */
		if (acked > 0)
			memmove(c->tx, c->tx + acked, c->txlen - acked);
		c->txlen -= acked;
		t->bytes -= acked;
		c->snd_una = s->ack;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->tries = 0;
		c->rto_at = c->snd_nxt != c->snd_una ? now + rto(c) : 0;
	}
	c->snd_wnd = s->wnd;
}

/*
 * In-order data into rx (what the window has room for), then the FIN if
 * it came right after; true if an ACK is owed.
 */
static bool
take_data(struct dns_tcp_conn *c, const struct seg *s)
{
	const uint8_t	*data = s->data;
	uint32_t	 seq = s->seq, skip;
	size_t		 len = s->len, n;
	bool		 fin = (s->flags & TH_FIN) != 0;

	if (len == 0 && !fin)
		return (false);
	if (c->fin_rcvd)
		return (true);
	if (seq_lt(seq, c->rcv_nxt)) {
		skip = c->rcv_nxt - seq;
		if (skip > len)
			return (true);		/* all old */
		data += skip;
		len -= skip;
		seq = c->rcv_nxt;
	}
	if (seq != c->rcv_nxt)
		return (true);			/* a hole before it */
	n = sizeof(c->rx) - c->rxlen;
	if (n > len)
		n = len;
	memcpy(c->rx + c->rxlen, data, n);
	c->rxlen += n;
	c->rcv_nxt += (uint32_t)n;
	if (fin && n == len) {
		c->fin_rcvd = true;
		c->rcv_nxt++;
	}
	return (true);
}

void
dns_tcp_input(struct dns_tcp *t, uint64_t now, const struct ipc_dns *in)
{
	struct dns_tcp_conn	*c = NULL;
	struct seg		 s;
	size_t			 i, alen;
	uint64_t		 nsent;
	bool			 ack;

	if (in->flags != IPC_DNS_TCP || !parse(in, &s))
		return;
	alen = in->client.family == AF_INET6 ? 16 : 4;
	for (i = 0; i < t->n; i++)
		if (t->c[i]->client.port == in->client.port &&
		    t->c[i]->client.family == in->client.family &&
		    memcmp(t->c[i]->client.addr, in->client.addr, alen) == 0 &&
		    memcmp(t->c[i]->sentinel.addr, in->sentinel.addr, alen) ==
			0) {
			c = t->c[i];
			break;
		}
	if (c == NULL) {
		open_conn(t, now, in, &s);
		return;
	}
	if (s.flags & TH_RST) {
		/* Only at the edge we expect (RFC 5961 3.2, loosely). */
		if (seq_le(c->rcv_nxt, s.seq) &&
		    seq_lt(s.seq, c->rcv_nxt + c->wnd_sent + 1))
			conn_free(t, i);
		return;
	}
	if (s.flags & TH_SYN) {
		if (!c->established && s.seq == c->irs)
			syn_ack(t, c);
		else {
			/* The application's port, reused: a new connection. */
			conn_free(t, i);
			open_conn(t, now, in, &s);
		}
		return;
	}
	if (!(s.flags & TH_ACK))
		return;
	if (seq_lt(c->snd_max, s.ack) || seq_lt(s.ack, c->snd_una)) {
		if (!c->established)
			refuse(t, in, &s);
		else
			conn_send(t, c, c->snd_nxt, 0, NULL, 0);
		return;
	}
	if (!c->established) {
		if (s.ack != c->iss + 1) {
			refuse(t, in, &s);
			return;
		}
		c->established = true;
	}
	c->idle_at = now + DNS_TCP_IDLE_NS;
	take_ack(t, c, &s, now);
	ack = take_data(c, &s);
	if (bad_length(c)) {
		conn_reset(t, c);
		return;
	}
	if (c->fin_sent && seq_lt(c->fin_seq, c->snd_una) && c->fin_rcvd) {
		/* Both FINs are through: the last ACK of ours goes out. */
		if (ack)
			conn_send(t, c, c->snd_nxt, 0, NULL, 0);
		conn_free(t, i);
		return;
	}
	nsent = t->nsent;
	flush(t, c, now);
	maybe_close(t, c, now);
	if (ack && t->nsent == nsent)
		conn_send(t, c, c->snd_nxt, 0, NULL, 0);
}

/*
 * The next whole query of any connection that may have one more being
 * answered; false: none.
 */
bool
dns_tcp_query(struct dns_tcp *t, struct dns_tcp_query *q)
{
	struct dns_tcp_conn	*c;
	size_t			 i = 0, len;

	while (i < t->n) {
		c = t->c[i];
		/* The next one, after the query taken before. */
		if (bad_length(c)) {
			conn_reset(t, c);
			continue;
		}
		if (c->fin_queued || c->pending == DNS_TCP_PENDING_MAX ||
		    !has_query(c)) {
			i++;
			continue;
		}
		len = be_get16(c->rx);
		q->conn = c->id;
		q->client = c->client;
		q->sentinel = c->sentinel;
		q->len = len;
		memcpy(q->msg, c->rx + 2, len);
		c->rxlen -= 2 + len;
		memmove(c->rx, c->rx + 2 + len, c->rxlen);
		c->pending++;
		/* The window had closed: say it is open again. */
		if (c->wnd_sent < DNS_TCP_MSS && window(c) > c->wnd_sent)
			conn_send(t, c, c->snd_nxt, 0, NULL, 0);
		return (true);
	}
	return (false);
}

/*
 * The answer to a query dns_tcp_query() gave, on its connection; msg
 * NULL: none will come.
 */
void
dns_tcp_answer(struct dns_tcp *t, uint64_t now, uint64_t id, const uint8_t *msg,
    size_t len)
{
	struct dns_tcp_conn	*c = NULL;
	uint8_t			*tx;
	size_t			 i;

	for (i = 0; i < t->n; i++)
		if (t->c[i]->id == id) {
			c = t->c[i];
			break;
		}
	if (c == NULL)
		return;			/* gone meanwhile */
	if (c->pending > 0)
		c->pending--;
	if (msg == NULL || c->fin_queued || len < DNS_HDR ||
	    len > DNS_TCP_ANSWER_MAX) {
		maybe_close(t, c, now);
		return;
	}
	if (c->txlen + 2 + len > DNS_TCP_TX_MAX ||
	    t->bytes + 2 + len > DNS_TCP_BYTES_MAX ||
	    (tx = realloc(c->tx, c->txlen + 2 + len)) == NULL) {
		/* The peer does not read what it asked for: let it go. */
		conn_reset(t, c);
		return;
	}
	c->tx = tx;
	be_put16(c->tx + c->txlen, (uint16_t)len);
	memcpy(c->tx + c->txlen + 2, msg, len);
	c->txlen += 2 + len;
	t->bytes += 2 + len;
	c->idle_at = now + DNS_TCP_IDLE_NS;
	flush(t, c, now);
	maybe_close(t, c, now);
}

/* Retransmissions, connections given up on, idle connections closed. */
void
dns_tcp_timeout(struct dns_tcp *t, uint64_t now)
{
	struct dns_tcp_conn	*c;
	size_t			 i = 0;

	while (i < t->n) {
		c = t->c[i];
		if (c->rto_at != 0 && c->rto_at <= now) {
			if (++c->tries > DNS_TCP_TRIES) {
				conn_reset(t, c);
				continue;
			}
			c->rto_at = now + rto(c);
			if (!c->established)
				syn_ack(t, c);
			else {
				/* Go back to the first byte not acked. */
				c->snd_nxt = c->snd_una;
				c->fin_sent = false;
				flush(t, c, now);
			}
		}
		if (c->idle_at <= now) {
			if (c->fin_queued || !c->established) {
				conn_reset(t, c);
				continue;
			}
			c->fin_queued = true;
			c->idle_at = now + DNS_TCP_IDLE_NS;
			flush(t, c, now);
		}
		i++;
	}
}

/* When dns_tcp_timeout() has work; 0: never. */
uint64_t
dns_tcp_deadline(const struct dns_tcp *t)
{
	uint64_t	 d = 0;
	size_t		 i;

	for (i = 0; i < t->n; i++) {
		if (t->c[i]->rto_at != 0 && (d == 0 || t->c[i]->rto_at < d))
			d = t->c[i]->rto_at;
		if (d == 0 || t->c[i]->idle_at < d)
			d = t->c[i]->idle_at;
	}
	return (d);
}

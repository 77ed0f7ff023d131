/*
 * dns_tcpup.c: one query per protected TCP connection to an upstream
 * (dns_tcpup.h). Connections are not kept: TCP to the upstream is for
 * the few queries that need it, and a connection per query needs no
 * agreement on pipelining or out-of-order answers.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/be.h"
#include "common/log.h"
#include "common/util.h"
#include "controld/dns_tcpup.h"
#include "controld/tunneld_chan.h"

struct tq {
	struct dns_tcpup		*t;
	uint32_t			 req;	/* the socket asked; 0: here */
	int				 fd;
	struct event			*ev;
	struct portal_addr		 addr;
	struct dns_forward_query	 who;
	uint64_t			 deadline;
	uint8_t				*out;	/* length, then the query */
	size_t				 outlen, outoff;
	uint8_t				 len[2];	/* the answer's */
	size_t				 lenoff;
	uint8_t				*in;
	size_t				 inlen, inoff;
	uint8_t				*fallback;
	size_t				 fallback_len;
};

struct dns_tcpup {
	struct event_base	*base;
	struct tunneld_chan	*tc;
	dns_tcpup_done_fn	*done;
	void			*arg;
	struct tq		*q[DNS_TCPUP_MAX];
	size_t			 n;
};

struct dns_tcpup *
dns_tcpup_new(struct event_base *base, struct tunneld_chan *tc,
    dns_tcpup_done_fn *done, void *arg)
{
	struct dns_tcpup	*t = xcalloc(1, sizeof(*t));

	t->base = base;
	t->tc = tc;
	t->done = done;
	t->arg = arg;
	return (t);
}

static void
tq_free(struct tq *q)
{
	if (q->ev != NULL)
		event_free(q->ev);
	if (q->fd != -1)
		close(q->fd);
	free(q->out);
	free(q->in);
	free(q->fallback);
	free(q);
}

void
dns_tcpup_free(struct dns_tcpup *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		tq_free(t->q[i]);
	free(t);
}

/*
 * Out of the table first: the callback may ask again. ans NULL: no
 * answer came.
 */
static void
finish(struct tq *q, const uint8_t *ans, size_t len)
{
	struct dns_tcpup	*t = q->t;
	size_t			 i;

	for (i = 0; t->q[i] != q; i++)
		;
	t->q[i] = t->q[--t->n];
	t->done(t->arg, &q->who, ans, len, q->fallback, q->fallback_len);
	tq_free(q);
}

/*
 * Sends the query for who to the upstream at addr over TCP; fallback is
 * handed back if no answer comes. false: not asked.
 */
bool
dns_tcpup_ask(struct dns_tcpup *t, const struct portal_addr *addr,
    const uint8_t *query, size_t len, const struct dns_forward_query *who,
    const uint8_t *fallback, size_t fallback_len)
{
	struct tq	*q;

	if (t->n == DNS_TCPUP_MAX || len < DNS_HDR_LEN || len > 0xffff ||
	    (q = calloc(1, sizeof(*q))) == NULL)
		return (false);
	q->t = t;
	q->fd = -1;
	q->addr = *addr;
	q->who = *who;
	q->who.client_id = be_get16(query);
	q->who.id = (uint16_t)arc4random();
	q->outlen = 2 + len;
	if ((q->out = malloc(q->outlen)) == NULL ||
	    (fallback != NULL &&
		(q->fallback = malloc(fallback_len)) == NULL)) {
		tq_free(q);
		return (false);
	}
	be_put16(q->out, (uint16_t)len);
	memcpy(q->out + 2, query, len);
	be_put16(q->out + 2, q->who.id);
	if (fallback != NULL) {
		memcpy(q->fallback, fallback, fallback_len);
		q->fallback_len = fallback_len;
	}
	if (tunneld_chan_request_socket(t->tc, addr->family, SOCK_STREAM,
	    &q->req) == -1) {
		log_warn("dns: asking tunneld for a TCP socket");
		tq_free(q);
		return (false);
	}
	q->deadline = util_now_ns() + DNS_FORWARD_TIMEOUT_NS;
	t->q[t->n++] = q;
	return (true);
}

static void	 io_cb(evutil_socket_t, short, void *);

static int
watch(struct tq *q, short what)
{
	struct timeval	 tv;
	uint64_t	 now = util_now_ns(), left;

	left = q->deadline > now ? q->deadline - now : 0;
	tv.tv_sec = (time_t)(left / 1000000000ULL);
	tv.tv_usec = (suseconds_t)(left % 1000000000ULL / 1000);
	if (q->ev != NULL)
		event_free(q->ev);
	q->ev = event_new(q->t->base, q->fd, what | EV_PERSIST, io_cb, q);
	if (q->ev == NULL || event_add(q->ev, &tv) == -1)
		return (-1);
	return (0);
}

/* -1: the connection failed, 0: more to come, 1: the answer is in. */
static int
io_read(struct tq *q)
{
	ssize_t	 n;

	for (;;) {
		if (q->lenoff < 2)
			n = read(q->fd, q->len + q->lenoff, 2 - q->lenoff);
		else
			n = read(q->fd, q->in + q->inoff, q->inlen - q->inoff);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR ? 0 : -1);
		if (n == 0)
			return (-1);
		if (q->lenoff < 2) {
			q->lenoff += (size_t)n;
			if (q->lenoff < 2)
				continue;
			q->inlen = be_get16(q->len);
			if (q->inlen < DNS_HDR_LEN ||
			    (q->in = malloc(q->inlen)) == NULL)
				return (-1);
			continue;
		}
		q->inoff += (size_t)n;
		if (q->inoff == q->inlen)
			return (1);
	}
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tq	*q = arg;
	ssize_t		 n;
	int		 rc;

	if (what & EV_TIMEOUT) {
		log_debug("dns: no answer from the upstream over TCP");
		finish(q, NULL, 0);
		return;
	}
	if (q->outoff < q->outlen) {
		n = write(fd, q->out + q->outoff, q->outlen - q->outoff);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			log_debug("dns: upstream over TCP: %s",
			    strerror(errno));
			finish(q, NULL, 0);
			return;
		}
		q->outoff += (size_t)n;
		if (q->outoff == q->outlen && watch(q, EV_READ) == -1)
			finish(q, NULL, 0);
		return;
	}
	if ((rc = io_read(q)) == 0)
		return;
	/* The QR bit, and our id: the answer to what was asked. */
	if (rc == -1 || (q->in[2] & 0x80) == 0 ||
	    be_get16(q->in) != q->who.id) {
		log_debug("dns: no answer from the upstream over TCP");
		finish(q, NULL, 0);
		return;
	}
	be_put16(q->in, q->who.client_id);
	finish(q, q->in, q->inlen);
}

/* An IPC_SOCKET or _FAILED answer: 1 if it was ours. */
int
dns_tcpup_socket(struct dns_tcpup *t, uint32_t id, int fd)
{
	struct sockaddr_storage	 ss;
	struct tq		*q = NULL;
	socklen_t		 salen;
	size_t			 i;

	for (i = 0; i < t->n && id != 0; i++)
		if (t->q[i]->req == id) {
			q = t->q[i];
			break;
		}
	if (q == NULL)
		return (0);
	q->req = 0;
	q->fd = fd;
	if (fd == -1) {
		log_warnx("dns: tunneld gave no TCP socket");
		finish(q, NULL, 0);
		return (1);
	}
	salen = dns_forward_sockaddr(&q->addr, DNS_PORT, &ss);
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (connect(fd, (struct sockaddr *)&ss, salen) == -1 &&
	    errno != EINPROGRESS) ||
	    watch(q, EV_WRITE) == -1) {
		log_debug("dns: connecting to the upstream over TCP: %s",
		    strerror(errno));
		finish(q, NULL, 0);
	}
	return (1);
}

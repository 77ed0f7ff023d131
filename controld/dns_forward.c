/* dns_forward.c: the table of forwarded queries (dns_forward.h). */
#include <string.h>

#include "controld/dns_forward.h"

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void
dns_forward_expire(struct dns_forward *f, uint64_t now)
{
	size_t	 i = 0;

	while (i < f->n)
		if (f->v[i].expires <= now)
			f->v[i] = f->v[--f->n];
		else
			i++;
}

static struct dns_forward_query *
find(struct dns_forward *f, uint16_t id, int upstream)
{
	size_t	 i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].id == id && f->v[i].upstream == upstream)
			return (&f->v[i]);
	return (NULL);
}

/*
 * Records the query msg (rewritten to carry id) for upstream, asked by
 * client over UDP or over TCP connection conn; -1: too many wait, or id
 * is taken (the caller draws another).
 */
int
dns_forward_add(struct dns_forward *f, uint8_t *msg, size_t len, int upstream,
    const struct ipc_sockaddr *client, const struct ipc_sockaddr *sentinel,
    uint64_t conn, uint16_t id, uint64_t now)
{
	struct dns_forward_query	*q;

	dns_forward_expire(f, now);
	if (len < DNS_HDR_LEN || f->n == DNS_FORWARD_MAX ||
	    find(f, id, upstream) != NULL)
		return (-1);
	q = &f->v[f->n++];
	memset(q, 0, sizeof(*q));
	q->id = id;
	q->client_id = get16(msg);
	q->upstream = upstream;
	q->conn = conn;
	q->client = *client;
	q->sentinel = *sentinel;
	q->expires = now + DNS_FORWARD_TIMEOUT_NS;
	put16(msg, id);
	return (0);
}

/*
 * An answer from upstream: if a query waits for it, *out says whose it
 * is and msg carries the application's id again.
 */
bool
dns_forward_answer(struct dns_forward *f, uint8_t *msg, size_t len,
    int upstream, uint64_t now, struct dns_forward_query *out)
{
	struct dns_forward_query	*q;

	dns_forward_expire(f, now);
	/* The QR bit: an answer. */
	if (len < DNS_HDR_LEN || (msg[2] & 0x80) == 0 ||
	    (q = find(f, get16(msg), upstream)) == NULL)
		return (false);
	*out = *q;
	put16(msg, q->client_id);
	*q = f->v[--f->n];
	return (true);
}

/*
 * dns_forward.c: the table of forwarded queries, and the messages for a
 * truncated answer (dns_forward.h), on ldns.
 */
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/be.h"
#include "controld/dns_forward.h"

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
 * Records the query msg (rewritten to carry id) for who->upstream, asked
 * by who->client over UDP or over TCP connection who->conn; -1: too many
 * wait, or id is taken (the caller draws another).
 */
int
dns_forward_add(struct dns_forward *f, uint8_t *msg, size_t len,
    const struct dns_forward_query *who, uint16_t id, uint64_t now)
{
	struct dns_forward_query	*q;

	dns_forward_expire(f, now);
	if (len < DNS_HDR_LEN || f->n == DNS_FORWARD_MAX ||
	    find(f, id, who->upstream) != NULL)
		return (-1);
	q = &f->v[f->n++];
	*q = *who;
	q->id = id;
	q->client_id = be_get16(msg);
	q->expires = now + DNS_FORWARD_TIMEOUT_NS;
	be_put16(msg, id);
	return (0);
}

/* dns_forward_add() under an id drawn at random, a few draws at most. */
int
dns_forward_add_random(struct dns_forward *f, uint8_t *msg, size_t len,
    const struct dns_forward_query *who, uint64_t now)
{
	int	 tries;

	for (tries = 0; tries < 4; tries++)
		if (dns_forward_add(f, msg, len, who, (uint16_t)arc4random(),
		    now) == 0)
			return (0);
	return (-1);
}

/* Address a and port as a socket address; returns its length. */
socklen_t
dns_forward_sockaddr(const struct portal_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return (sizeof(*sin));
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->addr, 16);
	return (sizeof(*sin6));
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
	    (q = find(f, be_get16(msg), upstream)) == NULL)
		return (false);
	*out = *q;
	be_put16(msg, q->client_id);
	*q = f->v[--f->n];
	return (true);
}

/*
 * The query to ask again over TCP for a truncated answer: its question,
 * id, RD and CD, and EDNS if the answer had it (its DO bit is the
 * query's, RFC 3225 3). NULL: none to ask (free() it otherwise).
 */
uint8_t *
dns_forward_retry_query(const uint8_t *ans, size_t len, size_t *outlen)
{
	ldns_pkt	*a = NULL, *q;
	uint8_t		*out = NULL;

	if (ldns_wire2pkt(&a, ans, len) != LDNS_STATUS_OK)
		return (NULL);
	if (ldns_pkt_qdcount(a) == 1 && (q = ldns_pkt_new()) != NULL) {
		ldns_pkt_set_id(q, ldns_pkt_id(a));
		ldns_pkt_set_opcode(q, LDNS_PACKET_QUERY);
		ldns_pkt_set_rd(q, ldns_pkt_rd(a));
		ldns_pkt_set_cd(q, ldns_pkt_cd(a));
		ldns_pkt_push_rr(q, LDNS_SECTION_QUESTION,
		    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(a), 0)));
		if (ldns_pkt_edns(a)) {
			ldns_pkt_set_edns_udp_size(q,
			    ldns_pkt_edns_udp_size(a));
			ldns_pkt_set_edns_do(q, ldns_pkt_edns_do(a));
		}
		if (ldns_pkt2wire(&out, q, outlen) != LDNS_STATUS_OK)
			out = NULL;
		ldns_pkt_free(q);
	}
	ldns_pkt_free(a);
	return (out);
}

/*
 * A full answer (from TCP) as an application that asked over UDP can
 * take it: as it is if it fits in size bytes, else as upstreams truncate
 * (RFC 2181 9): TC set, the question and EDNS kept, the records left out.
 * NULL: not an answer (free() it otherwise).
 */
uint8_t *
dns_forward_fit(const uint8_t *ans, size_t len, size_t size, size_t *outlen)
{
	ldns_pkt	*a = NULL;
	ldns_rr_list	*an = NULL, *ns = NULL, *ar = NULL;
	uint8_t		*out = NULL;

	if (len < DNS_HDR_LEN)
		return (NULL);
	if (len <= size) {
		if ((out = malloc(len)) != NULL) {
			memcpy(out, ans, len);
			*outlen = len;
		}
		return (out);
	}
	if ((an = ldns_rr_list_new()) == NULL ||
	    (ns = ldns_rr_list_new()) == NULL ||
	    (ar = ldns_rr_list_new()) == NULL ||
	    ldns_wire2pkt(&a, ans, len) != LDNS_STATUS_OK) {
		ldns_rr_list_free(an);
		ldns_rr_list_free(ns);
		ldns_rr_list_free(ar);
		return (NULL);
	}
	ldns_pkt_set_tc(a, true);
	ldns_rr_list_deep_free(ldns_pkt_answer(a));
	ldns_rr_list_deep_free(ldns_pkt_authority(a));
	ldns_rr_list_deep_free(ldns_pkt_additional(a));
	ldns_pkt_set_answer(a, an);
	ldns_pkt_set_authority(a, ns);
	ldns_pkt_set_additional(a, ar);
	ldns_pkt_set_ancount(a, 0);
	ldns_pkt_set_nscount(a, 0);
	ldns_pkt_set_arcount(a, 0);
	if (ldns_pkt2wire(&out, a, outlen) != LDNS_STATUS_OK)
		out = NULL;
	ldns_pkt_free(a);
	return (out);
}

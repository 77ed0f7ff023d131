/*
 * dns_remote.c: a gateway's answers to SRV and TXT queries on port 53535
 * (dns_remote.h), on ldns packets. The query that reaches the resolver is
 * made anew from the name and type alone; nothing else of the client's
 * message goes on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/be.h"
#include "controld/dns_remote.h"

#define DNS_HDR_LEN	12
#define DNS_UDP_MIN	512	/* what every client takes (RFC 1035) */

/* An answer with no records: the question, if any, and rcode. */
static uint8_t *
build(uint16_t id, bool rd, const ldns_rr *question, ldns_pkt_rcode rcode,
    bool tc, size_t *len)
{
	ldns_pkt	*r;
	uint8_t		*wire = NULL;

	if ((r = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_id(r, id);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(r, rd);
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_tc(r, tc);
	ldns_pkt_set_rcode(r, rcode);
	if (question != NULL)
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
		    ldns_rr_clone(question));
	if (ldns_pkt2wire(&wire, r, len) != LDNS_STATUS_OK)
		wire = NULL;
	ldns_pkt_free(r);
	return (wire);
}

/* The question of q, as the client asked it. */
static ldns_rr *
question(const struct dns_remote_query *q)
{
	char		 fqdn[DNS_NAME_MAX + 2];
	ldns_rdf	*owner;
	ldns_rr		*rr;

	snprintf(fqdn, sizeof(fqdn), "%s.", q->asked);
	if ((owner = ldns_dname_new_frm_str(fqdn)) == NULL)
		return (NULL);
	if ((rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(owner);
		return (NULL);
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, q->type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(rr, true);
	return (rr);
}

/* The name asked, without the trailing dot; false: not a host's. */
static bool
qname(const ldns_rr *rr, struct dns_remote_query *q)
{
	char	*s;
	size_t	 len, i;
	bool	 ok;

	if ((s = ldns_rdf2str(ldns_rr_owner(rr))) == NULL)
		return (false);
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[--len] = '\0';
	/* The root and escapes: never a name of a resource. */
	ok = strcmp(s, ".") != 0 && len < sizeof(q->asked) &&
	    strchr(s, '\\') == NULL;
	if (ok) {
		memcpy(q->asked, s, len + 1);
		for (i = 0; i <= len; i++)
			q->name[i] = (char)tolower((unsigned char)s[i]);
	}
	free(s);
	return (ok);
}

/*
 * A datagram to port 53535: ASK with q filled, REPLY with the answer in
 * *reply (malloc'd), or DROP with *why.
 */
enum dns_remote_action
dns_remote_parse(const uint8_t *msg, size_t len, struct dns_remote_query *q,
    uint8_t **reply, size_t *rlen, const char **why)
{
	enum dns_remote_action	 action = DNS_REMOTE_DROP;
	ldns_pkt_rcode		 rcode = LDNS_RCODE_REFUSED;
	const ldns_rr		*rr = NULL;
	ldns_pkt		*p = NULL;
	ldns_rr_type		 type;

	memset(q, 0, sizeof(*q));
	*reply = NULL;
	*why = NULL;
	if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK) {
		*why = "not a DNS message";
		return (DNS_REMOTE_DROP);
	}
	if (ldns_pkt_qr(p)) {
		*why = "a response, not a query";
		goto out;
	}
	if (ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY)
		rcode = LDNS_RCODE_NOTIMPL;
	else if (ldns_pkt_qdcount(p) != 1 || ldns_pkt_ancount(p) != 0)
		rcode = LDNS_RCODE_FORMERR;
	else {
		rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		type = ldns_rr_get_type(rr);
		/* Only what the client's stub sends here; the rest is not. */
		if ((type == LDNS_RR_TYPE_SRV || type == LDNS_RR_TYPE_TXT) &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN && qname(rr, q)) {
			q->id = ldns_pkt_id(p);
			q->type = (uint16_t)type;
			q->rd = ldns_pkt_rd(p);
			q->limit = DNS_UDP_MIN;
			if (ldns_pkt_edns(p) &&
			    ldns_pkt_edns_udp_size(p) > DNS_UDP_MIN)
				q->limit = ldns_pkt_edns_udp_size(p) <
					DNS_REMOTE_MAX ?
				    ldns_pkt_edns_udp_size(p) :
				    DNS_REMOTE_MAX;
			action = DNS_REMOTE_ASK;
			goto out;
		}
	}
	*reply = build(ldns_pkt_id(p), ldns_pkt_rd(p), rr, rcode, false, rlen);
	if (*reply != NULL)
		action = DNS_REMOTE_REPLY;
	else
		*why = "out of memory building the answer";
 out:
	ldns_pkt_free(p);
	return (action);
}

/* The answer to q with no records and rcode (REFUSED, SERVFAIL). */
uint8_t *
dns_remote_error(const struct dns_remote_query *q, int rcode, size_t *len)
{
	ldns_rr	*rr;
	uint8_t	*wire;

	if ((rr = question(q)) == NULL)
		return (NULL);
	wire = build(q->id, q->rd, rr, (ldns_pkt_rcode)rcode, false, len);
	ldns_rr_free(rr);
	return (wire);
}

/*
 * The resolver's answer to q (what c-ares took as one: a response to its
 * query) for the client: its id, and only the header and question with
 * TC set when it is larger than the client takes. NULL: not an answer.
 */
uint8_t *
dns_remote_answer(const struct dns_remote_query *q, const uint8_t *abuf,
    size_t alen, size_t *len)
{
	ldns_rr	*rr;
	uint8_t	*wire;

	if (alen < DNS_HDR_LEN || (abuf[2] & 0x80) == 0)
		return (NULL);
	if (alen > q->limit) {
		if ((rr = question(q)) == NULL)
			return (NULL);
		wire = build(q->id, q->rd, rr, (ldns_pkt_rcode)(abuf[3] & 0x0f),
		    true, len);
		ldns_rr_free(rr);
		return (wire);
	}
	if ((wire = malloc(alen)) == NULL)
		return (NULL);
	memcpy(wire, abuf, alen);
	be_put16(wire, q->id);
	*len = alen;
	return (wire);
}

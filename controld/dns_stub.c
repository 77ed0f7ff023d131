/*
 * dns_stub.c: the stub resolver's decisions, on ldns packets. Answers
 * mirror the question (id, name as asked, RD, EDNS) so that the
 * application takes them as its resolver's.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "controld/dns_stub.h"

/* Firefox turns its own DNS-over-HTTPS off when this does not resolve. */
#define CANARY		"use-application-dns.net"
#define EDNS_SIZE	1232

/* The question's name, lower case, without the trailing dot. */
static bool
qname_text(const ldns_rr *q, char *out, size_t size)
{
	char	*s;
	size_t	 len, i;

	if ((s = ldns_rdf2str(ldns_rr_owner(q))) == NULL)
		return (false);
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len >= size) {
		free(s);
		return (false);
	}
	for (i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	free(s);
	return (true);
}

/* The address a reverse name stands for; false: not one. */
static bool
reverse_addr(const char *name, int *family, uint8_t *addr)
{
	unsigned	 o[4], i;
	const char	*p = name;
	int		 n, nib;
	char		 c;

	memset(addr, 0, 16);
	if (sscanf(name, "%3u.%3u.%3u.%3u.in-addr.arp%c%n", &o[3], &o[2], &o[1],
		&o[0], &c, &n) == 5 &&
	    c == 'a' && name[n] == '\0') {
		for (i = 0; i < 4; i++) {
			if (o[i] > 255)
				return (false);
			addr[i] = (uint8_t)o[i];
		}
		*family = AF_INET;
		return (true);
	}
	for (i = 0; i < 32; i++, p += 2) {
		if (!isxdigit((unsigned char)p[0]) || p[1] != '.')
			return (false);
		nib = isdigit((unsigned char)p[0]) ?
		    p[0] - '0' :
		    tolower((unsigned char)p[0]) - 'a' + 10;
		addr[15 - i / 2] |= (uint8_t)(i % 2 == 0 ? nib : nib << 4);
	}
	*family = AF_INET6;
	return (strcmp(p, "ip6.arpa") == 0);
}

/* An answer to q with its question, no records yet. */
static ldns_pkt *
reply_new(const ldns_pkt *q, const ldns_rr *question, ldns_pkt_rcode rcode)
{
	ldns_pkt	*r;

	if ((r = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, rcode);
	if (question != NULL) {
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
		    ldns_rr_clone(question));
	}
	if (ldns_pkt_edns(q))
		ldns_pkt_set_edns_udp_size(r, EDNS_SIZE);
	return (r);
}

static bool
push_record(ldns_pkt *r, const ldns_rr *question, ldns_rr_type type,
    ldns_rdf *data)
{
	ldns_rr	*rr;

	if (data == NULL || (rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(data);
		return (false);
	}
	ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(question)));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, DNS_STUB_TTL);
	ldns_rr_push_rdf(rr, data);
	ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	return (true);
}

/* The proxy IPs of the family asked for, as the resource allows. */
static bool
push_proxy(ldns_pkt *r, const ldns_rr *question, ldns_rr_type type,
    const struct dns_proxy_name *pn, enum portal_ip_stack stack)
{
	int	 i;

	if (type == LDNS_RR_TYPE_A && stack != PORTAL_STACK_IPV6_ONLY) {
		for (i = 0; i < DNS_PROXY_PER_FAMILY; i++)
			if (!push_record(r, question, LDNS_RR_TYPE_A,
			    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4,
			    pn->v4[i])))
				return (false);
	}
	if (type == LDNS_RR_TYPE_AAAA && stack != PORTAL_STACK_IPV4_ONLY) {
		for (i = 0; i < DNS_PROXY_PER_FAMILY; i++)
			if (!push_record(r, question, LDNS_RR_TYPE_AAAA,
			    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16,
			    pn->v6[i])))
				return (false);
	}
	return (true);
}

static void
finish(ldns_pkt *r, bool ok, struct dns_stub_result *res)
{
	if (r == NULL || !ok ||
	    ldns_pkt2wire(&res->reply, r, &res->len) != LDNS_STATUS_OK) {
		res->action = DNS_STUB_DROP;
		res->why = "out of memory building the answer";
		res->reply = NULL;
		res->len = 0;
	} else
		res->action = DNS_STUB_REPLY;
	ldns_pkt_free(r);
}

/* A PTR question for a proxy IP: its name, or NXDOMAIN if it has none. */
static bool
answer_ptr(struct dns_proxy *proxy, const ldns_pkt *q, const ldns_rr *question,
    const char *name, struct dns_stub_result *res)
{
	const struct dns_proxy_name	*pn;
	uint8_t				 addr[16];
	char				 fqdn[DNS_NAME_MAX + 2];
	ldns_pkt			*r;
	int				 family;
	bool				 ok = true;

	if (!reverse_addr(name, &family, addr) ||
	    !dns_proxy_in_range(family, addr))
		return (false);
	pn = dns_proxy_by_addr(proxy, family, addr);
	r = reply_new(q, question,
	    pn != NULL ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN);
	if (r != NULL && pn != NULL) {
		snprintf(fqdn, sizeof(fqdn), "%s.", pn->name);
		ok = push_record(r, question, LDNS_RR_TYPE_PTR,
		    ldns_dname_new_frm_str(fqdn));
	}
	finish(r, ok, res);
	return (true);
}

void
dns_stub_query(struct dns_proxy *proxy, dns_stub_lookup_fn *lookup, void *arg,
    const uint8_t *msg, size_t len, struct dns_stub_result *res)
{
	ldns_pkt		*q = NULL, *r;
	const ldns_rr		*question;
	ldns_rr_type		 type;
	enum portal_ip_stack	 stack;
	char			 name[DNS_NAME_MAX + 2];
	bool			 ok = true;

	memset(res, 0, sizeof(*res));
	res->action = DNS_STUB_DROP;
	if (ldns_wire2pkt(&q, msg, len) != LDNS_STATUS_OK) {
		res->why = "not a DNS message";
		return;
	}
	if (ldns_pkt_qr(q)) {
		res->why = "a response, not a query";
		goto out;
	}
	/* What an answer over UDP may take (RFC 6891 6.2.3, 6.2.5). */
	res->udp_size = 512;
	if (ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > 512)
		res->udp_size = ldns_pkt_edns_udp_size(q);
	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY) {
		finish(reply_new(q, NULL, LDNS_RCODE_NOTIMPL), true, res);
		goto out;
	}
	if (ldns_pkt_qdcount(q) != 1 || ldns_pkt_ancount(q) != 0) {
		finish(reply_new(q, NULL, LDNS_RCODE_FORMERR), true, res);
		goto out;
	}
	question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	type = ldns_rr_get_type(question);
	if (!qname_text(question, name, sizeof(name))) {
		res->why = "question name too long";
		goto out;
	}
	if (strcmp(name, CANARY) == 0) {
		finish(reply_new(q, question, LDNS_RCODE_NXDOMAIN), true, res);
		goto out;
	}
	if (type == LDNS_RR_TYPE_PTR &&
	    answer_ptr(proxy, q, question, name, res))
		goto out;
	/* Escapes in a name: never one of a resource's. */
	if (strchr(name, '\\') != NULL ||
	    ldns_rr_get_class(question) != LDNS_RR_CLASS_IN ||
	    !lookup(arg, name, res->resource_id, &stack)) {
		res->action = DNS_STUB_FORWARD;
		goto out;
	}
	/* The resource's gateway answers these from its own resolver. */
	if (type == LDNS_RR_TYPE_SRV || type == LDNS_RR_TYPE_TXT) {
		res->action = DNS_STUB_GATEWAY;
		goto out;
	}
	r = reply_new(q, question, LDNS_RCODE_NOERROR);
	/*
	 * A and AAAA get proxy IPs; HTTPS gets nothing, so that browsers use
	 * A and AAAA; the other types, empty too.
	 */
	if (r != NULL &&
	    (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA)) {
		if ((res->proxy = dns_proxy_get(proxy, name, &res->fresh)) ==
		    NULL) {
			ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
		} else
			ok = push_proxy(r, question, type, res->proxy, stack);
	}
	finish(r, ok, res);
 out:
	ldns_pkt_free(q);
}

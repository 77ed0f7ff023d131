/*
 * fuzz_dns_stub: dns_stub_query() on DNS messages as applications send
 * them to a sentinel. Input: records (fuzz.h), each one query; op bit 0
 * picks which of two patterns sets the resource lookup uses, so names
 * get proxy IPs and the PTR path has names to find. Oracles: a reply is
 * a DNS message ldns parses, an answer to that query (same id, QR set),
 * and answers with proxy IPs carry addresses from the proxy ranges.
 * With op bit 1 set the record is an upstream's answer instead, as the
 * truncation path takes it (dns_forward.c), for a UDP size of 512 + 64 *
 * (op >> 2): the query asked again is a query with its id, and the
 * answer made to fit is the same bytes when they fit, else truncated.
 */
#include "common/log.c"
#include "common/util.c"
#include "controld/dns_pattern.c"
#include "controld/dns_proxy.c"
#include "controld/dns_stub.c"
#include "controld/dns_forward.c"

#include "tests/fuzz/fuzz.h"

static const char *const sets[2][3] = {
	{ "*.corp.example.com", "**.example.com", "a?c.example.org" },
	{ "example.com", "*", "x.*.y" },
};

static bool
lookup(void *arg, const char *name, char id[PORTAL_ID_SIZE],
    enum portal_ip_stack *stack)
{
	const char *const	*set = arg;
	ssize_t			 i;

	if ((i = dns_pattern_best(set, 3, name)) < 0)
		return (false);
	snprintf(id, PORTAL_ID_SIZE, "00000000-0000-4000-8000-%012zd", i);
	*stack = (enum portal_ip_stack)i;
	return (true);
}

static void
check_reply(const uint8_t *q, size_t qlen, const struct dns_stub_result *r)
{
	ldns_pkt	*p = NULL;
	ldns_rr_list	*an;
	ldns_rdf	*d;
	size_t		 i;

	if (r->action != DNS_STUB_REPLY)
		return;
	if (ldns_wire2pkt(&p, r->reply, r->len) != LDNS_STATUS_OK)
		abort();
	if (qlen < 2 || !ldns_pkt_qr(p) ||
	    ldns_pkt_id(p) != ((uint16_t)q[0] << 8 | q[1]))
		abort();
	an = ldns_pkt_answer(p);
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		d = ldns_rr_rdf(ldns_rr_list_rr(an, i), 0);
		if (ldns_rr_get_type(ldns_rr_list_rr(an, i)) ==
			LDNS_RR_TYPE_A &&
		    !dns_proxy_in_range(AF_INET, ldns_rdf_data(d)))
			abort();
		if (ldns_rr_get_type(ldns_rr_list_rr(an, i)) ==
			LDNS_RR_TYPE_AAAA &&
		    !dns_proxy_in_range(AF_INET6, ldns_rdf_data(d)))
			abort();
	}
	ldns_pkt_free(p);
}

static void
check_upstream(const uint8_t *a, size_t len, size_t size)
{
	ldns_pkt	*p = NULL;
	uint8_t		*out;
	size_t		 n;

	if ((out = dns_forward_retry_query(a, len, &n)) != NULL) {
		if (ldns_wire2pkt(&p, out, n) != LDNS_STATUS_OK ||
		    ldns_pkt_qr(p) || ldns_pkt_qdcount(p) != 1 ||
		    ldns_pkt_id(p) != be_get16(a))
			abort();
		ldns_pkt_free(p);
		p = NULL;
		free(out);
	}
	if ((out = dns_forward_fit(a, len, size, &n)) != NULL) {
		if (len <= size ? n != len || memcmp(out, a, len) != 0 :
		    ldns_wire2pkt(&p, out, n) != LDNS_STATUS_OK ||
		    !ldns_pkt_tc(p) || ldns_pkt_ancount(p) != 0 ||
		    ldns_pkt_id(p) != be_get16(a))
			abort();
		ldns_pkt_free(p);
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in = { data, size };
	struct fuzz_rec		 rec;
	struct dns_proxy	 proxy;
	struct dns_stub_result	 res;

	log_init(LOG_LEVEL_WARNING, "fuzz_dns_stub");
	dns_proxy_init(&proxy);
	while (fuzz_next(&in, &rec)) {
		if (rec.op & 2) {
			check_upstream(rec.data, rec.len,
			    512 + 64 * (size_t)(rec.op >> 2));
			continue;
		}
		dns_stub_query(&proxy, lookup, (void *)sets[rec.op & 1],
		    rec.data, rec.len, &res);
		if (res.action == DNS_STUB_DROP && res.why == NULL)
			abort();
		if (res.action != DNS_STUB_DROP && res.udp_size < 512)
			abort();
		check_reply(rec.data, rec.len, &res);
		free(res.reply);
	}
	dns_proxy_clear(&proxy);
	return (0);
}

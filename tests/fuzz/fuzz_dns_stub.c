/*
 * fuzz_dns_stub: dns_stub_query() on DNS messages as applications send
 * them to a sentinel. Input: records (fuzz.h), each one query; op bit 0
 * picks which of two patterns sets the resource lookup uses, so names
 * get proxy IPs and the PTR path has names to find. Oracles: a reply is
 * a DNS message ldns parses, an answer to that query (same id, QR set),
 * and answers with proxy IPs carry addresses from the proxy ranges.
 */
#include "common/log.c"
#include "common/util.c"
#include "controld/dns_pattern.c"
#include "controld/dns_proxy.c"
#include "controld/dns_stub.c"

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
		dns_stub_query(&proxy, lookup, (void *)sets[rec.op & 1],
		    rec.data, rec.len, &res);
		if (res.action == DNS_STUB_DROP && res.why == NULL)
			abort();
		check_reply(rec.data, rec.len, &res);
		free(res.reply);
	}
	dns_proxy_clear(&proxy);
	return (0);
}

/* The stub resolver's answers, checked by parsing them back with ldns. */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "controld/dns_pattern.h"
#include "controld/dns_stub.h"
#include "tests/unit/check_main.h"

#define RES_GIT		"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6"
#define RES_V4		"a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a"

static const char *patterns[] = { "*.git.example.com", "v4.example.com" };
static const char *ids[] = { RES_GIT, RES_V4 };
static const enum portal_ip_stack stacks[] = { PORTAL_STACK_DUAL,
    PORTAL_STACK_IPV4_ONLY };

static bool
lookup(void *arg, const char *name, char id[PORTAL_ID_SIZE],
    enum portal_ip_stack *stack)
{
	ssize_t	 i;

	(*(int *)arg)++;
	if ((i = dns_pattern_best(patterns, 2, name)) < 0)
		return (false);
	strcpy(id, ids[i]);
	*stack = stacks[i];
	return (true);
}

/* The wire form of a question, id 0x1234, RD, with EDNS if asked. */
static uint8_t *
query(const char *name, ldns_rr_type type, bool edns, size_t *len)
{
	ldns_pkt	*q;
	uint8_t		*wire;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, type,
			     LDNS_RR_CLASS_IN, LDNS_RD),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x1234);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, 4096);
	ck_assert_int_eq(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return (wire);
}

static ldns_pkt *
run(struct dns_proxy *p, const char *name, ldns_rr_type type,
    struct dns_stub_result *res)
{
	ldns_pkt	*r = NULL;
	uint8_t		*q;
	size_t		 len;
	int		 calls = 0;

	q = query(name, type, true, &len);
	dns_stub_query(p, lookup, &calls, q, len, res);
	free(q);
	if (res->action != DNS_STUB_REPLY)
		return (NULL);
	ck_assert_int_eq(ldns_wire2pkt(&r, res->reply, res->len),
	    LDNS_STATUS_OK);
	free(res->reply);
	ck_assert_uint_eq(ldns_pkt_id(r), 0x1234);
	ck_assert(ldns_pkt_qr(r));
	ck_assert(ldns_pkt_rd(r));
	ck_assert_uint_eq(ldns_pkt_qdcount(r), 1);
	return (r);
}

static void
addr_of(const ldns_rr *rr, uint8_t *out, size_t n)
{
	ldns_rdf	*d = ldns_rr_rdf(rr, 0);

	ck_assert_uint_eq(ldns_rdf_size(d), n);
	memcpy(out, ldns_rdf_data(d), n);
}

START_TEST(test_a_aaaa)
{
	struct dns_proxy	 p;
	struct dns_stub_result	 res;
	ldns_pkt		*r;
	const ldns_rr		*rr;
	uint8_t			 a[16];
	char			 buf[INET6_ADDRSTRLEN];
	size_t			 i;

	dns_proxy_init(&p);
	r = run(&p, "Web.Git.Example.com.", LDNS_RR_TYPE_A, &res);
	ck_assert_ptr_nonnull(r);
	ck_assert(res.fresh);
	ck_assert_str_eq(res.resource_id, RES_GIT);
	ck_assert_str_eq(res.proxy->name, "web.git.example.com");
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_edns(r));
	ck_assert_uint_eq(ldns_pkt_ancount(r), 4);
	for (i = 0; i < 4; i++) {
		rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
		ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
		ck_assert_uint_eq(ldns_rr_ttl(rr), 1);
		addr_of(rr, a, 4);
		ck_assert(memcmp(a, res.proxy->v4[i], 4) == 0);
	}
	inet_ntop(AF_INET, a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "100.96.0.4");
	ldns_pkt_free(r);

	r = run(&p, "web.git.example.com", LDNS_RR_TYPE_AAAA, &res);
	ck_assert(!res.fresh);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 4);
	rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	ck_assert_int_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_AAAA);
	ck_assert_uint_eq(ldns_rr_ttl(rr), 1);
	addr_of(rr, a, 16);
	inet_ntop(AF_INET6, a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "fd00:2021:1111:8000::");
	ldns_pkt_free(r);

	/* The apex matches `*.` too; the next name, the next addresses. */
	r = run(&p, "git.example.com", LDNS_RR_TYPE_A, &res);
	ck_assert(res.fresh);
	addr_of(ldns_rr_list_rr(ldns_pkt_answer(r), 0), a, 4);
	inet_ntop(AF_INET, a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "100.96.0.5");
	ldns_pkt_free(r);
	dns_proxy_clear(&p);
}
END_TEST

START_TEST(test_ip_stack)
{
	struct dns_proxy	 p;
	struct dns_stub_result	 res;
	ldns_pkt		*r;

	dns_proxy_init(&p);
	r = run(&p, "v4.example.com", LDNS_RR_TYPE_AAAA, &res);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	r = run(&p, "v4.example.com", LDNS_RR_TYPE_A, &res);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 4);
	ldns_pkt_free(r);
	dns_proxy_clear(&p);
}
END_TEST

START_TEST(test_special)
{
	struct dns_proxy	 p;
	struct dns_stub_result	 res;
	ldns_pkt		*r;
	ldns_rdf		*d;
	char			*s;

	dns_proxy_init(&p);
	r = run(&p, "use-application-dns.net", LDNS_RR_TYPE_A, &res);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);

	r = run(&p, "a.git.example.com", LDNS_RR_TYPE_HTTPS, &res);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 0);
	ck_assert_ptr_null(res.proxy);
	ldns_pkt_free(r);

	ldns_pkt_free(run(&p, "b.git.example.com", LDNS_RR_TYPE_A, &res));
	r = run(&p, "3.0.96.100.in-addr.arpa", LDNS_RR_TYPE_PTR, &res);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 1);
	d = ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0);
	s = ldns_rdf2str(d);
	ck_assert_str_eq(s, "b.git.example.com.");
	free(s);
	ldns_pkt_free(r);

	r = run(&p,
	    "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.1.1.1.1.1.2.0.2."
	    "0.0.d.f.ip6.arpa",
	    LDNS_RR_TYPE_PTR, &res);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 1);
	d = ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0);
	s = ldns_rdf2str(d);
	ck_assert_str_eq(s, "b.git.example.com.");
	free(s);
	ldns_pkt_free(r);

	/* A proxy IP nobody got: no such name, and not asked upstream. */
	r = run(&p, "9.9.96.100.in-addr.arpa", LDNS_RR_TYPE_PTR, &res);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	dns_proxy_clear(&p);
}
END_TEST

START_TEST(test_forward)
{
	struct dns_proxy	 p;
	struct dns_stub_result	 res;

	dns_proxy_init(&p);
	ck_assert_ptr_null(run(&p, "example.org", LDNS_RR_TYPE_A, &res));
	ck_assert_int_eq(res.action, DNS_STUB_FORWARD);
	ck_assert_ptr_null(
	    run(&p, "1.1.168.192.in-addr.arpa", LDNS_RR_TYPE_PTR, &res));
	ck_assert_int_eq(res.action, DNS_STUB_FORWARD);
	ck_assert_ptr_null(
	    run(&p, "git.example.com.evil.org", LDNS_RR_TYPE_A, &res));
	ck_assert_int_eq(res.action, DNS_STUB_FORWARD);
	ck_assert_uint_eq(p.nnames, 0);
	dns_proxy_clear(&p);
}
END_TEST

/* SRV and TXT of a resource name are the gateway's; of others, upstream. */
START_TEST(test_gateway)
{
	struct dns_proxy	 p;
	struct dns_stub_result	 res;

	dns_proxy_init(&p);
	ck_assert_ptr_null(
	    run(&p, "_Http._tcp.x.git.example.com", LDNS_RR_TYPE_SRV, &res));
	ck_assert_int_eq(res.action, DNS_STUB_FORWARD);
	ck_assert_ptr_null(
	    run(&p, "X.git.example.com", LDNS_RR_TYPE_SRV, &res));
	ck_assert_int_eq(res.action, DNS_STUB_GATEWAY);
	ck_assert_str_eq(res.resource_id, RES_GIT);
	ck_assert_ptr_null(run(&p, "v4.example.com", LDNS_RR_TYPE_TXT, &res));
	ck_assert_int_eq(res.action, DNS_STUB_GATEWAY);
	ck_assert_str_eq(res.resource_id, RES_V4);
	ck_assert_ptr_null(run(&p, "example.com", LDNS_RR_TYPE_TXT, &res));
	ck_assert_int_eq(res.action, DNS_STUB_FORWARD);
	/* No proxy IPs for them. */
	ck_assert_uint_eq(p.nnames, 0);
	dns_proxy_clear(&p);
}
END_TEST

START_TEST(test_malformed)
{
	struct dns_proxy	 p;
	struct dns_stub_result	 res;
	uint8_t			*q, junk[64];
	size_t			 len, i;
	int			 calls = 0;

	dns_proxy_init(&p);
	q = query("a.git.example.com", LDNS_RR_TYPE_A, false, &len);
	/* Every truncation of a good query is dropped, not answered. */
	for (i = 0; i < len; i++) {
		dns_stub_query(&p, lookup, &calls, q, i, &res);
		ck_assert_int_eq(res.action, DNS_STUB_DROP);
		ck_assert_ptr_nonnull(res.why);
	}
	/* A response is not a query. */
	q[2] |= 0x80;
	dns_stub_query(&p, lookup, &calls, q, len, &res);
	ck_assert_int_eq(res.action, DNS_STUB_DROP);
	free(q);
	memset(junk, 0xff, sizeof(junk));
	dns_stub_query(&p, lookup, &calls, junk, sizeof(junk), &res);
	ck_assert_int_eq(res.action, DNS_STUB_DROP);
	ck_assert_int_eq(calls, 0);
	ck_assert_uint_eq(p.nnames, 0);
	dns_proxy_clear(&p);
}
END_TEST

static Suite *
dns_stub_suite(void)
{
	Suite	*s = suite_create("dns_stub");
	TCase	*tc = tcase_create("stub");

	tcase_add_test(tc, test_a_aaaa);
	tcase_add_test(tc, test_ip_stack);
	tcase_add_test(tc, test_special);
	tcase_add_test(tc, test_forward);
	tcase_add_test(tc, test_gateway);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_stub_suite },
};

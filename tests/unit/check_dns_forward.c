/* Forwarded queries: our ids out, the application's back, nothing else. */

#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include <check.h>

#include <ldns/ldns.h>

#include "common/timer.h"
#include "controld/dns_forward.h"
#include "tests/unit/check_main.h"

#define NS(s)	(NSEC_PER_SEC * (s))

static struct dns_forward	 fwd;

START_TEST(test_round_trip)
{
	struct dns_forward_query	 out, who;
	struct ipc_sockaddr		 client, sentinel;
	uint8_t				 m[32];

	memset(&fwd, 0, sizeof(fwd));
	memset(&client, 0, sizeof(client));
	client.family = AF_INET;
	client.port = 40000;
	sentinel = client;
	sentinel.port = 53;
	memset(m, 0, sizeof(m));
	m[0] = 0xab;
	m[1] = 0xcd;
	memset(&who, 0, sizeof(who));
	who.upstream = 1;
	who.conn = 7;
	who.client = client;
	who.sentinel = sentinel;
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), &who, 0x1111,
			     NS(10)),
	    0);
	ck_assert_uint_eq(m[0], 0x11);
	/* Taken: the caller draws another id. */
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), &who, 0x1111,
			     NS(10)),
	    -1);
	ck_assert_int_eq(dns_forward_add(&fwd, m, 5, &who, 0x2222, NS(10)), -1);

	/* Not an answer, another upstream, another id: none taken. */
	m[0] = m[1] = 0x11;
	ck_assert(!dns_forward_answer(&fwd, m, sizeof(m), 1, NS(11), &out));
	m[2] = 0x80;
	ck_assert(!dns_forward_answer(&fwd, m, sizeof(m), 0, NS(11), &out));
	m[1] = 0x12;
	ck_assert(!dns_forward_answer(&fwd, m, sizeof(m), 1, NS(11), &out));
	m[1] = 0x11;
	ck_assert(dns_forward_answer(&fwd, m, sizeof(m), 1, NS(11), &out));
	ck_assert_uint_eq(m[0], 0xab);
	ck_assert_uint_eq(m[1], 0xcd);
	ck_assert_uint_eq(out.client.port, 40000);
	ck_assert_uint_eq(out.sentinel.port, 53);
	ck_assert_uint_eq(out.conn, 7);
	/* Once. */
	m[0] = m[1] = 0x11;
	ck_assert(!dns_forward_answer(&fwd, m, sizeof(m), 1, NS(11), &out));
	ck_assert_uint_eq(fwd.n, 0);
}
END_TEST

/*
 * A random id each: the answer comes back under the id the query went
 * with; the socket addresses carry family, address and port.
 */
START_TEST(test_random_id_and_sockaddr)
{
	struct dns_forward_query	 out, who;
	struct portal_addr		 a4 = { AF_INET, { 10, 99, 0, 53 } };
	struct portal_addr		 a6 = { AF_INET6, { 0xfd, [15] = 1 } };
	struct sockaddr_storage		 ss;
	const struct sockaddr_in	*sin = (const void *)&ss;
	const struct sockaddr_in6	*sin6 = (const void *)&ss;
	uint8_t				 m[32];

	memset(&fwd, 0, sizeof(fwd));
	memset(&who, 0, sizeof(who));
	memset(m, 0, sizeof(m));
	m[0] = 0xab;
	m[1] = 0xcd;
	ck_assert_int_eq(dns_forward_add_random(&fwd, m, sizeof(m), &who,
			     NS(10)),
	    0);
	ck_assert_uint_eq(fwd.n, 1);
	ck_assert_uint_eq(m[0] << 8 | m[1], fwd.v[0].id);
	m[2] = 0x80;
	ck_assert(dns_forward_answer(&fwd, m, sizeof(m), 0, NS(11), &out));
	ck_assert_uint_eq(m[0] << 8 | m[1], 0xabcd);
	/* Too short: no id helps. */
	ck_assert_int_eq(dns_forward_add_random(&fwd, m, 5, &who, NS(10)), -1);

	ck_assert_uint_eq(dns_forward_sockaddr(&a4, 53, &ss), sizeof(*sin));
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 53);
	ck_assert_mem_eq(&sin->sin_addr, a4.addr, 4);
	ck_assert_uint_eq(dns_forward_sockaddr(&a6, 53535, &ss), sizeof(*sin6));
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 53535);
	ck_assert_mem_eq(&sin6->sin6_addr, a6.addr, 16);
}
END_TEST

START_TEST(test_expiry_and_bound)
{
	struct dns_forward_query	 out, who;
	uint8_t				 m[DNS_HDR_LEN];
	int				 i;

	memset(&fwd, 0, sizeof(fwd));
	memset(&who, 0, sizeof(who));
	memset(m, 0, sizeof(m));
	for (i = 0; i < DNS_FORWARD_MAX; i++)
		ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), &who,
				     (uint16_t)i, NS(1)),
		    0);
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), &who, 0xffff,
			     NS(1)),
	    -1);
	/* Late answers are not taken; their room comes back. */
	m[0] = 0;
	m[1] = 7;
	m[2] = 0x80;
	ck_assert(!dns_forward_answer(&fwd, m, sizeof(m), 0,
	    NS(1) + DNS_FORWARD_TIMEOUT_NS, &out));
	ck_assert_uint_eq(fwd.n, 0);
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), &who, 0xffff,
			     NS(7)),
	    0);
}
END_TEST

/* An answer to TXT big.example.org with n records of 200 bytes. */
static uint8_t *
big_answer(int n, bool edns, size_t *len)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		*w;
	char		 txt[260];
	int		 i;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&p, "big.example.org",
			     LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x4242);
	ldns_pkt_set_qr(p, true);
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, 1232);
		ldns_pkt_set_edns_do(p, true);
	}
	for (i = 0; i < n; i++) {
		snprintf(txt, sizeof(txt),
		    "big.example.org. 60 IN TXT \"%0200d\"", i);
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, txt, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return (w);
}

START_TEST(test_truncated)
{
	ldns_pkt	*p;
	uint8_t		*a, *q, *f;
	size_t		 alen, qlen, flen;

	/* The query asked again: the question, id, RD and EDNS with DO. */
	a = big_answer(1, true, &alen);
	a[2] |= 0x02;
	ck_assert_ptr_nonnull(q = dns_forward_retry_query(a, alen, &qlen));
	ck_assert_int_eq(ldns_wire2pkt(&p, q, qlen), LDNS_STATUS_OK);
	ck_assert(!ldns_pkt_qr(p) && !ldns_pkt_tc(p) && ldns_pkt_rd(p));
	ck_assert_uint_eq(ldns_pkt_id(p), 0x4242);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert(ldns_pkt_edns(p) && ldns_pkt_edns_do(p));
	ck_assert_uint_eq(ldns_rr_get_type(
			      ldns_rr_list_rr(ldns_pkt_question(p), 0)),
	    LDNS_RR_TYPE_TXT);
	ldns_pkt_free(p);
	free(q);
	free(a);
	ck_assert_ptr_null(
	    dns_forward_retry_query((const uint8_t *)"x", 1, &qlen));

	/* Fits: as it is. Does not: TC, the question and EDNS only. */
	a = big_answer(10, true, &alen);
	ck_assert_uint_gt(alen, 2000);
	ck_assert_ptr_nonnull(f = dns_forward_fit(a, alen, alen, &flen));
	ck_assert_uint_eq(flen, alen);
	ck_assert(memcmp(f, a, alen) == 0);
	free(f);
	ck_assert_ptr_nonnull(f = dns_forward_fit(a, alen, 1232, &flen));
	ck_assert_uint_le(flen, 1232);
	ck_assert_int_eq(ldns_wire2pkt(&p, f, flen), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_qr(p) && ldns_pkt_tc(p));
	ck_assert_uint_eq(ldns_pkt_id(p), 0x4242);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	free(f);
	free(a);
}
END_TEST

static Suite *
dns_forward_suite(void)
{
	Suite	*s = suite_create("dns_forward");
	TCase	*tc = tcase_create("forward");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_random_id_and_sockaddr);
	tcase_add_test(tc, test_expiry_and_bound);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_forward_suite },
};

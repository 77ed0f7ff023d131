/*
 * A gateway's port 53535: what it takes from a client's query, its
 * refusals and the resolver's answers, all parsed back with ldns.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "controld/dns_remote.h"
#include "tests/unit/check_main.h"

/* The wire form of a question, id 0x1234, RD; EDNS with size, if not 0. */
static uint8_t *
query(const char *name, ldns_rr_type type, ldns_rr_class class, uint16_t edns,
    size_t *len)
{
	ldns_pkt	*q;
	uint8_t		*wire;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, type, class,
			     LDNS_RD),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x1234);
	if (edns != 0)
		ldns_pkt_set_edns_udp_size(q, edns);
	ck_assert_int_eq(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return (wire);
}

static enum dns_remote_action
parse(const uint8_t *msg, size_t len, struct dns_remote_query *q,
    ldns_pkt **reply)
{
	enum dns_remote_action	 a;
	const char		*why;
	uint8_t			*r;
	size_t			 rlen;

	*reply = NULL;
	a = dns_remote_parse(msg, len, q, &r, &rlen, &why);
	if (a == DNS_REMOTE_DROP)
		ck_assert_ptr_nonnull(why);
	if (a != DNS_REMOTE_REPLY)
		return (a);
	ck_assert_int_eq(ldns_wire2pkt(reply, r, rlen), LDNS_STATUS_OK);
	free(r);
	ck_assert(ldns_pkt_qr(*reply));
	return (a);
}

START_TEST(test_ask)
{
	struct dns_remote_query	 q;
	ldns_pkt		*r;
	uint8_t			*m;
	size_t			 len;

	m = query("_Http._TCP.App.corp.example.com.", LDNS_RR_TYPE_SRV,
	    LDNS_RR_CLASS_IN, 4096, &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	ck_assert_uint_eq(q.id, 0x1234);
	ck_assert_uint_eq(q.type, LDNS_RR_TYPE_SRV);
	ck_assert(q.rd);
	ck_assert_str_eq(q.name, "_http._tcp.app.corp.example.com");
	ck_assert_str_eq(q.asked, "_Http._TCP.App.corp.example.com");
	ck_assert_uint_eq(q.limit, DNS_REMOTE_MAX);

	/* The answer's size: what the client says it takes, 512 without. */
	m = query("a.example.com", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	ck_assert_uint_eq(q.type, LDNS_RR_TYPE_TXT);
	ck_assert_uint_eq(q.limit, 512);
	m = query("a.example.com", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 800,
	    &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	ck_assert_uint_eq(q.limit, 800);
	m = query("a.example.com", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 100,
	    &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	ck_assert_uint_eq(q.limit, 512);
	/* A one-label name is a name. */
	m = query("a.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	ck_assert_str_eq(q.name, "a");
}
END_TEST

/* Not SRV or TXT of class IN, or not a name: refused here. */
START_TEST(test_refused)
{
	static const struct {
		const char	*name;
		ldns_rr_type	 type;
		ldns_rr_class	 class;
	} v[] = {
		{ "a.example.com", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN },
		{ "a.example.com", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_IN },
		{ "a.example.com", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH },
		{ "a\\.b.example.com", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN },
		{ "a\\000b.example.com", LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_IN },
		{ ".", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN },
	};
	struct dns_remote_query	 q;
	ldns_pkt		*r;
	uint8_t			*m;
	size_t			 len, i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		m = query(v[i].name, v[i].type, v[i].class, 0, &len);
		ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_REPLY);
		free(m);
		ck_assert_uint_eq(ldns_pkt_id(r), 0x1234);
		ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
		ck_assert_uint_eq(ldns_pkt_qdcount(r), 1);
		ck_assert_uint_eq(ldns_pkt_ancount(r), 0);
		ldns_pkt_free(r);
	}
}
END_TEST

START_TEST(test_malformed)
{
	struct dns_remote_query	 q;
	ldns_pkt		*r, *p;
	uint8_t			*m, junk[64];
	size_t			 len, i;

	m = query("a.example.com", LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_IN, 0, &len);
	for (i = 0; i < len; i++)
		ck_assert_int_eq(parse(m, i, &q, &r), DNS_REMOTE_DROP);
	m[2] |= 0x80;
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_DROP);
	free(m);
	memset(junk, 0xff, sizeof(junk));
	ck_assert_int_eq(parse(junk, sizeof(junk), &q, &r), DNS_REMOTE_DROP);

	/* Two questions; another opcode. */
	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&p, "a.example.com",
			     LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_IN, 0),
	    LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
	    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	ck_assert_int_eq(ldns_pkt2wire(&m, p, &len), LDNS_STATUS_OK);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_REPLY);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
	ldns_pkt_free(r);
	free(m);
	ldns_pkt_set_opcode(p, LDNS_PACKET_NOTIFY);
	ck_assert_int_eq(ldns_pkt2wire(&m, p, &len), LDNS_STATUS_OK);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_REPLY);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(r);
	free(m);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(test_error)
{
	struct dns_remote_query	 q;
	ldns_pkt		*r;
	uint8_t			*m;
	size_t			 len;
	char			*owner;

	m = query("_Sip._udp.Corp.example.com", LDNS_RR_TYPE_SRV,
	    LDNS_RR_CLASS_IN, 0, &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	ck_assert_ptr_nonnull(
	    m = dns_remote_error(&q, LDNS_RCODE_SERVFAIL, &len));
	ck_assert_int_eq(ldns_wire2pkt(&r, m, len), LDNS_STATUS_OK);
	free(m);
	ck_assert_uint_eq(ldns_pkt_id(r), 0x1234);
	ck_assert(ldns_pkt_qr(r));
	ck_assert(ldns_pkt_rd(r));
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(ldns_pkt_qdcount(r), 1);
	owner = ldns_rdf2str(
	    ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
	ck_assert_str_eq(owner, "_Sip._udp.Corp.example.com.");
	free(owner);
	ck_assert_int_eq(ldns_rr_get_type(
			     ldns_rr_list_rr(ldns_pkt_question(r), 0)),
	    LDNS_RR_TYPE_SRV);
	ldns_pkt_free(r);
}
END_TEST

/* A resolver's answer with n TXT records of 100 bytes, id 0xbeef. */
static uint8_t *
answer(int n, size_t *len)
{
	ldns_pkt	*p;
	ldns_rr		*rr;
	uint8_t		*wire;
	char		 text[200];
	int		 i;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&p, "a.example.com",
			     LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, LDNS_RD),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0xbeef);
	ldns_pkt_set_qr(p, true);
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text),
		    "a.example.com. 60 IN TXT "
		    "\"%0100d\"",
		    i);
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return (wire);
}

START_TEST(test_answer)
{
	struct dns_remote_query	 q;
	ldns_pkt		*r;
	uint8_t			*m, *a, *out;
	size_t			 len, alen, olen;

	m = query("a.example.com", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, &len);
	ck_assert_int_eq(parse(m, len, &q, &r), DNS_REMOTE_ASK);
	free(m);
	/* As it came, with the client's id. */
	a = answer(3, &alen);
	ck_assert_ptr_nonnull(out = dns_remote_answer(&q, a, alen, &olen));
	ck_assert_uint_eq(olen, alen);
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x1234);
	ck_assert(memcmp(out + 2, a + 2, alen - 2) == 0);
	free(out);
	/* Not an answer. */
	a[2] &= 0x7f;
	ck_assert_ptr_null(dns_remote_answer(&q, a, alen, &olen));
	ck_assert_ptr_null(dns_remote_answer(&q, a, 11, &olen));
	free(a);
	/* Larger than the client takes: TC, the question alone. */
	a = answer(6, &alen);
	ck_assert_uint_gt(alen, 512);
	ck_assert_ptr_nonnull(out = dns_remote_answer(&q, a, alen, &olen));
	ck_assert_uint_le(olen, 512);
	ck_assert_int_eq(ldns_wire2pkt(&r, out, olen), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_id(r), 0x1234);
	ck_assert(ldns_pkt_tc(r));
	ck_assert_uint_eq(ldns_pkt_qdcount(r), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	free(out);
	/* The same fits a client that takes 1232 bytes. */
	q.limit = DNS_REMOTE_MAX;
	ck_assert_ptr_nonnull(out = dns_remote_answer(&q, a, alen, &olen));
	ck_assert_uint_eq(olen, alen);
	free(out);
	free(a);
}
END_TEST

static Suite *
dns_remote_suite(void)
{
	Suite	*s = suite_create("dns_remote");
	TCase	*tc = tcase_create("remote");

	tcase_add_test(tc, test_ask);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_error);
	tcase_add_test(tc, test_answer);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_remote_suite },
};

/*
 * The DoH client's checks of what a server sends back, and the SERVFAIL
 * an application gets when that fails.
 */

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "controld/dns_doh.h"
#include "tests/unit/check_main.h"

/* A query for example.org A, id 0xabcd, RD (the literal's NUL aside). */
static const uint8_t query[] = "\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00"
			       "\x00\x00\x07"
			       "example\x03org\x00\x00\x01\x00\x01";
#define QLEN	(sizeof(query) - 1)
#define CT	"application/dns-message"

START_TEST(test_check)
{
	uint8_t	 a[QLEN];

	memcpy(a, query, sizeof(a));
	a[0] = a[1] = 0;
	a[2] |= 0x80;
	ck_assert_ptr_null(dns_doh_check(200, CT, a, sizeof(a)));
	ck_assert_ptr_null(
	    dns_doh_check(200, "Application/DNS-Message; x=1", a, sizeof(a)));
	ck_assert_ptr_nonnull(dns_doh_check(404, CT, a, sizeof(a)));
	ck_assert_ptr_nonnull(dns_doh_check(200, "text/html", a, sizeof(a)));
	ck_assert_ptr_nonnull(
	    dns_doh_check(200, "application/dns-messagex", a, sizeof(a)));
	ck_assert_ptr_nonnull(dns_doh_check(200, NULL, a, sizeof(a)));
	ck_assert_ptr_nonnull(dns_doh_check(200, CT, a, 11));
	ck_assert_ptr_nonnull(dns_doh_check(200, CT, a, DNS_DOH_BODY_MAX + 1));
	/* Not an answer, or to another query than the one sent (id 0). */
	a[2] &= 0x7f;
	ck_assert_ptr_nonnull(dns_doh_check(200, CT, a, sizeof(a)));
	a[2] |= 0x80;
	a[1] = 1;
	ck_assert_ptr_nonnull(dns_doh_check(200, CT, a, sizeof(a)));
}
END_TEST

START_TEST(test_servfail)
{
	uint8_t	*r, bad[QLEN];
	size_t	 len;

	ck_assert_int_eq(dns_doh_servfail(query, QLEN, &r, &len), 0);
	ck_assert_uint_eq(len, QLEN);
	/* The id, QR and RD, RA, SERVFAIL; the question as asked. */
	ck_assert_uint_eq(r[0], 0xab);
	ck_assert_uint_eq(r[1], 0xcd);
	ck_assert_uint_eq(r[2], 0x81);
	ck_assert_uint_eq(r[3], 0x82);
	ck_assert_mem_eq(r + 4, "\0\1\0\0\0\0\0\0", 8);
	ck_assert_mem_eq(r + 12, query + 12, QLEN - 12);
	free(r);
	/* An answer, or no question: nothing. */
	memcpy(bad, query, sizeof(bad));
	bad[2] |= 0x80;
	ck_assert_int_eq(dns_doh_servfail(bad, sizeof(bad), &r, &len), -1);
	ck_assert_int_eq(dns_doh_servfail(query, 12, &r, &len), -1);
	ck_assert_int_eq(dns_doh_servfail(query, QLEN - 1, &r, &len), -1);
}
END_TEST

static Suite *
dns_doh_suite(void)
{
	Suite	*s = suite_create("dns_doh");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_servfail);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_doh_suite },
};

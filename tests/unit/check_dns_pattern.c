/* DNS resource patterns: matching and the most-specific rule (4.6). */

#include <check.h>

#include "controld/dns_pattern.h"
#include "tests/unit/check_main.h"

START_TEST(test_exact)
{
	ck_assert(dns_pattern_match("git.example.com", "git.example.com"));
	ck_assert(dns_pattern_match("git.example.com", "GIT.Example.COM."));
	ck_assert(dns_pattern_match("Git.Example.com", "git.example.com"));
	ck_assert(!dns_pattern_match("git.example.com", "gitx.example.com"));
	ck_assert(!dns_pattern_match("git.example.com", "a.git.example.com"));
	ck_assert(!dns_pattern_match("git.example.com", "example.com"));
}
END_TEST

START_TEST(test_star)
{
	ck_assert(dns_pattern_match("*.example.com", "git.example.com"));
	/* 4.6: the apex too. */
	ck_assert(dns_pattern_match("*.example.com", "example.com"));
	ck_assert(!dns_pattern_match("*.example.com", "a.b.example.com"));
	ck_assert(!dns_pattern_match("*.example.com", "example.org"));
	ck_assert(dns_pattern_match("git*.example.com", "gitlab.example.com"));
	ck_assert(dns_pattern_match("git*.example.com", "git.example.com"));
	ck_assert(!dns_pattern_match("git*.example.com", "example.com"));
	ck_assert(!dns_pattern_match("git*.example.com", "agit.example.com"));
	/* A `*` not leftmost is exactly one label. */
	ck_assert(dns_pattern_match("a.*.example.com", "a.b.example.com"));
	ck_assert(!dns_pattern_match("a.*.example.com", "a.example.com"));
	ck_assert(!dns_pattern_match("a.*.example.com", "a.b.c.example.com"));
}
END_TEST

START_TEST(test_question)
{
	ck_assert(dns_pattern_match("app?.example.com", "app1.example.com"));
	ck_assert(dns_pattern_match("app?.example.com", "APPX.example.com"));
	ck_assert(!dns_pattern_match("app?.example.com", "app.example.com"));
	ck_assert(!dns_pattern_match("app?.example.com", "app12.example.com"));
	ck_assert(!dns_pattern_match("?.example.com", "example.com"));
}
END_TEST

START_TEST(test_double_star)
{
	ck_assert(dns_pattern_match("**.example.com", "example.com"));
	ck_assert(dns_pattern_match("**.example.com", "a.example.com"));
	ck_assert(dns_pattern_match("**.example.com", "a.b.c.example.com"));
	ck_assert(!dns_pattern_match("**.example.com", "example.org"));
	ck_assert(!dns_pattern_match("**.example.com", "badexample.com"));
	ck_assert(dns_pattern_match("a.**.example.com", "a.example.com"));
	ck_assert(dns_pattern_match("a.**.example.com", "a.x.y.example.com"));
	ck_assert(!dns_pattern_match("a.**.example.com", "b.x.example.com"));
	/* Bounded: many `**` are refused rather than searched. */
	ck_assert(!dns_pattern_valid("**.**.**.**.**.com"));
	ck_assert(!dns_pattern_match("**.**.**.**.**.com", "a.com"));
}
END_TEST

START_TEST(test_valid)
{
	ck_assert(dns_pattern_valid("*.example.com"));
	ck_assert(dns_pattern_valid("example.com."));
	ck_assert(!dns_pattern_valid(""));
	ck_assert(!dns_pattern_valid("a..com"));
	ck_assert(!dns_pattern_valid("[ab].com"));
	ck_assert(!dns_pattern_valid("a\\.b.com"));
	ck_assert(!dns_pattern_valid(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".com"));
	/* Brackets are not globbing here. */
	ck_assert(!dns_pattern_match("[ab].com", "a.com"));
}
END_TEST

START_TEST(test_specific)
{
	const char	*p[] = { "**.example.com", "*.example.com",
			    "?it.example.com", "git.example.com" };

	ck_assert_int_lt(dns_pattern_cmp("git.example.com", "?it.example.com"),
	    0);
	ck_assert_int_lt(dns_pattern_cmp("?it.example.com", "*.example.com"),
	    0);
	ck_assert_int_lt(dns_pattern_cmp("*.example.com", "**.example.com"), 0);
	ck_assert_int_gt(dns_pattern_cmp("**.example.com", "*.example.com"), 0);
	ck_assert_int_eq(dns_pattern_cmp("a.example.com", "b.example.com"), 0);
	/* From the right: the first label that differs in kind decides. */
	ck_assert_int_lt(dns_pattern_cmp("*.b.example.com", "a.*.example.com"),
	    0);
	ck_assert_int_lt(dns_pattern_cmp("**.b.example.com", "**.example.com"),
	    0);
	ck_assert_int_lt(dns_pattern_cmp("example.com", "*.example.com"), 0);

	ck_assert_int_eq(dns_pattern_best(p, 4, "git.example.com"), 3);
	ck_assert_int_eq(dns_pattern_best(p, 4, "bit.example.com"), 2);
	ck_assert_int_eq(dns_pattern_best(p, 4, "gitlab.example.com"), 1);
	ck_assert_int_eq(dns_pattern_best(p, 4, "example.com"), 1);
	ck_assert_int_eq(dns_pattern_best(p, 4, "a.b.example.com"), 0);
	ck_assert_int_eq(dns_pattern_best(p, 4, "example.org"), -1);
	ck_assert_int_eq(dns_pattern_best(p, 3, "git.example.com"), 2);
}
END_TEST

static Suite *
dns_pattern_suite(void)
{
	Suite	*s = suite_create("dns_pattern");
	TCase	*tc = tcase_create("pattern");

	tcase_add_test(tc, test_exact);
	tcase_add_test(tc, test_star);
	tcase_add_test(tc, test_question);
	tcase_add_test(tc, test_double_star);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_specific);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_pattern_suite },
};

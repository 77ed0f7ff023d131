/* The proxy-IP allocator: 4 + 4 per name, in order, stable, reversible. */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <check.h>

#include "controld/dns_proxy.h"
#include "tests/unit/check_main.h"

static void
text(int family, const uint8_t *a, char *buf)
{
	inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
}

START_TEST(test_first)
{
	struct dns_proxy		 p;
	const struct dns_proxy_name	*n, *m;
	char				 buf[INET6_ADDRSTRLEN];
	bool				 fresh;

	dns_proxy_init(&p);
	n = dns_proxy_get(&p, "Git.Example.com.", &fresh);
	ck_assert_ptr_nonnull(n);
	ck_assert(fresh);
	ck_assert_str_eq(n->name, "git.example.com");
	/* PROTOCOL 4.6's example. */
	text(AF_INET, n->v4[0], buf);
	ck_assert_str_eq(buf, "100.96.0.1");
	text(AF_INET, n->v4[3], buf);
	ck_assert_str_eq(buf, "100.96.0.4");
	text(AF_INET6, n->v6[0], buf);
	ck_assert_str_eq(buf, "fd00:2021:1111:8000::");
	text(AF_INET6, n->v6[3], buf);
	ck_assert_str_eq(buf, "fd00:2021:1111:8000::3");

	m = dns_proxy_get(&p, "other.example.com", &fresh);
	ck_assert(fresh);
	text(AF_INET, m->v4[0], buf);
	ck_assert_str_eq(buf, "100.96.0.5");
	text(AF_INET6, m->v6[3], buf);
	ck_assert_str_eq(buf, "fd00:2021:1111:8000::7");

	/* The same name, however spelt, keeps its addresses. */
	ck_assert_ptr_eq(dns_proxy_get(&p, "GIT.EXAMPLE.COM", &fresh), n);
	ck_assert(!fresh);
	ck_assert_ptr_eq(dns_proxy_find(&p, "git.example.com."), n);
	ck_assert_ptr_null(dns_proxy_find(&p, "nope.example.com"));

	ck_assert_ptr_eq(dns_proxy_by_addr(&p, AF_INET, n->v4[2]), n);
	ck_assert_ptr_eq(dns_proxy_by_addr(&p, AF_INET6, m->v6[1]), m);
	dns_proxy_clear(&p);
}
END_TEST

START_TEST(test_many)
{
	struct dns_proxy		 p;
	const struct dns_proxy_name	*n;
	uint8_t				 a[16];
	char				 name[64];
	bool				 fresh;
	int				 i, j, bad = 0;

	dns_proxy_init(&p);
	/* Past the IPv4 sentinel block, 100.100.111.0/24. */
	for (i = 0; i < DNS_PROXY_MAX_NAMES + 10; i++) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		n = dns_proxy_get(&p, name, &fresh);
		if (i >= DNS_PROXY_MAX_NAMES) {
			bad += n != NULL;
			continue;
		}
		if (n == NULL) {
			bad++;
			continue;
		}
		/* Plain tests in the loop: 800,000 ck_asserts are slow. */
		for (j = 0; j < DNS_PROXY_PER_FAMILY; j++)
			bad += !dns_proxy_in_range(AF_INET, n->v4[j]) ||
			    (n->v4[j][1] == 100 && n->v4[j][2] == 111) ||
			    !dns_proxy_in_range(AF_INET6, n->v6[j]) ||
			    dns_proxy_by_addr(&p, AF_INET, n->v4[j]) != n ||
			    dns_proxy_by_addr(&p, AF_INET6, n->v6[j]) != n;
	}
	ck_assert_int_eq(bad, 0);
	/* The group that reaches the sentinels jumps over them. */
	n = dns_proxy_find(&p, "n72639.example.com");
	ck_assert_ptr_nonnull(n);
	text(AF_INET, n->v4[2], name);
	ck_assert_str_eq(name, "100.100.110.255");
	text(AF_INET, n->v4[3], name);
	ck_assert_str_eq(name, "100.100.112.0");
	snprintf(name, sizeof(name), "n%d.example.com", 4242);
	n = dns_proxy_find(&p, name);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->name, name);

	inet_pton(AF_INET, "100.100.111.1", a);
	ck_assert_ptr_null(dns_proxy_by_addr(&p, AF_INET, a));
	inet_pton(AF_INET, "100.96.0.0", a);
	ck_assert_ptr_null(dns_proxy_by_addr(&p, AF_INET, a));
	inet_pton(AF_INET, "100.95.255.255", a);
	ck_assert(!dns_proxy_in_range(AF_INET, a));
	inet_pton(AF_INET, "100.128.0.0", a);
	ck_assert(!dns_proxy_in_range(AF_INET, a));
	inet_pton(AF_INET6, "fd00:2021:1111:8000::20:0", a);
	ck_assert(!dns_proxy_in_range(AF_INET6, a));
	inet_pton(AF_INET6, "fd00:2021:1111:8000::1f:ffff", a);
	ck_assert(dns_proxy_in_range(AF_INET6, a));
	ck_assert_ptr_null(dns_proxy_by_addr(&p, AF_INET6, a));
	dns_proxy_clear(&p);
}
END_TEST

START_TEST(test_bad_names)
{
	struct dns_proxy	 p;
	char			 big[300];
	bool			 fresh;

	dns_proxy_init(&p);
	ck_assert_ptr_null(dns_proxy_get(&p, "", &fresh));
	ck_assert_ptr_null(dns_proxy_get(&p, ".", &fresh));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_null(dns_proxy_get(&p, big, &fresh));
	ck_assert_uint_eq(p.nnames, 0);
	dns_proxy_clear(&p);
}
END_TEST

/*
 * A restarted controld takes back the names tunneld kept, with their
 * numbers; numbers nobody gave back stay unused, and new names come
 * after the last.
 */
START_TEST(test_restore)
{
	struct dns_proxy		 p;
	const struct dns_proxy_name	*n, *m;
	char				 buf[INET6_ADDRSTRLEN];
	bool				 fresh;

	dns_proxy_init(&p);
	n = dns_proxy_restore(&p, 2, "b.example.com");
	ck_assert_ptr_nonnull(n);
	text(AF_INET, n->v4[0], buf);
	ck_assert_str_eq(buf, "100.96.0.9");
	ck_assert_ptr_eq(dns_proxy_find(&p, "b.example.com"), n);
	/* Below the last: taken or given up. A known name is refused. */
	ck_assert_ptr_null(dns_proxy_restore(&p, 1, "a.example.com"));
	ck_assert_ptr_null(dns_proxy_restore(&p, 5, "b.example.com"));
	ck_assert_ptr_null(
	    dns_proxy_restore(&p, DNS_PROXY_MAX_NAMES, "z.example.com"));
	/* Number 0's addresses lead nowhere. */
	ck_assert_ptr_null(
	    dns_proxy_by_addr(&p, AF_INET, (const uint8_t[]){ 100, 96, 0, 1 }));
	ck_assert_ptr_eq(dns_proxy_by_addr(&p, AF_INET6, n->v6[3]), n);
	m = dns_proxy_get(&p, "c.example.com", &fresh);
	ck_assert(fresh);
	text(AF_INET, m->v4[0], buf);
	ck_assert_str_eq(buf, "100.96.0.13");
	dns_proxy_clear(&p);
}
END_TEST

static Suite *
dns_proxy_suite(void)
{
	Suite	*s = suite_create("dns_proxy");
	TCase	*tc = tcase_create("proxy");

	tcase_add_test(tc, test_first);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_restore);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_proxy_suite },
};

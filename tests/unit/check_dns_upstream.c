/* Effective upstreams (4.6): the portal's, else the system's; sentinels. */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <string.h>

#include <check.h>

#include "controld/dns_upstream.h"
#include "tests/unit/check_main.h"

static struct portal_addr
addr(const char *s)
{
	struct portal_addr	 a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(a.family, s, a.addr), 1);
	return (a);
}

static void
ck_addr(const struct portal_addr *a, const char *want)
{
	char	 buf[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

START_TEST(test_resolv)
{
	struct portal_addr	 v[4];
	const char		*text;
	size_t			 n;

	n = dns_upstream_parse_resolv("# generated\n"
	    "search corp.example.com\n"
	    "nameserver 10.0.0.53\n"
	    "  nameserver\t2001:db8::53  \n"
	    "nameserver not-an-address\n"
	    "nameserverx 1.2.3.4\n"
	    "options edns0\n"
	    "nameserver 100.100.111.1",
	    v, 4);
	ck_assert_uint_eq(n, 3);
	ck_addr(&v[0], "10.0.0.53");
	ck_addr(&v[1], "2001:db8::53");
	ck_addr(&v[2], "100.100.111.1");
	text = "nameserver 1.1.1.1\nnameserver 8.8.8.8\n";
	n = dns_upstream_parse_resolv(text, v, 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(dns_upstream_parse_resolv("", v, 4), 0);
}
END_TEST

START_TEST(test_effective)
{
	struct portal_interface	 ifc;
	struct portal_addr	 do53[3], sys[3];
	struct dns_upstream	 u[DNS_UPSTREAM_MAX];
	size_t			 n;

	memset(&ifc, 0, sizeof(ifc));
	do53[0] = addr("10.20.0.53");
	do53[1] = addr("2001:db8::1");
	do53[2] = addr("10.20.0.54");
	sys[0] = addr("100.100.111.1");		/* ours: left out */
	sys[1] = addr("192.168.1.1");
	sys[2] = addr("fd00:2021:1111:8000:100:100:111:1");

	ck_assert_int_eq(dns_upstream_effective(&ifc, sys, 3, u, &n),
	    DNS_UPSTREAM_SYSTEM);
	ck_assert_uint_eq(n, 1);
	ck_addr(&u[0].addr, "192.168.1.1");
	ck_addr(&u[0].sentinel, "100.100.111.1");

	ifc.do53 = do53;
	ifc.ndo53 = 3;
	ck_assert_int_eq(dns_upstream_effective(&ifc, sys, 3, u, &n),
	    DNS_UPSTREAM_PORTAL_DO53);
	ck_assert_uint_eq(n, 3);
	ck_addr(&u[0].sentinel, "100.100.111.1");
	ck_addr(&u[1].addr, "2001:db8::1");
	ck_addr(&u[1].sentinel, "fd00:2021:1111:8000:100:100:111:1");
	ck_addr(&u[2].sentinel, "100.100.111.2");
	ck_assert_int_eq(dns_upstream_by_sentinel(u, n, &u[2].sentinel), 2);
	ck_assert_int_eq(dns_upstream_by_sentinel(u, n, &do53[0]), -1);

	ck_assert_int_eq(dns_upstream_effective(NULL, sys, 1, u, &n),
	    DNS_UPSTREAM_NONE);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* A string of the status' upstream i. */
static const char *
field(json_t *a, size_t i, const char *key)
{
	return (json_string_value(json_object_get(json_array_get(a, i), key)));
}

/* DoH when the portal gives no Do53: IPv4 sentinels from .1, in order. */
START_TEST(test_effective_doh)
{
	struct portal_interface	 ifc;
	struct portal_addr	 do53[1], sys[1];
	struct dns_upstream	 u[DNS_UPSTREAM_MAX];
	char			*doh[2] = { "https://doh.test/dns-query",
	    "https://[2001:db8::5]:8443/q" };
	json_t			*j;
	size_t			 n;

	memset(&ifc, 0, sizeof(ifc));
	sys[0] = addr("192.168.1.1");
	ifc.doh = doh;
	ifc.ndoh = 2;
	ck_assert_int_eq(dns_upstream_effective(&ifc, sys, 1, u, &n),
	    DNS_UPSTREAM_PORTAL_DOH);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(u[0].url, doh[0]);
	ck_addr(&u[0].sentinel, "100.100.111.1");
	ck_assert_str_eq(u[1].url, doh[1]);
	ck_addr(&u[1].sentinel, "100.100.111.2");
	j = dns_upstream_json(u, n, DNS_UPSTREAM_PORTAL_DOH);
	ck_assert_str_eq(field(j, 1, "url"), doh[1]);
	ck_assert_str_eq(field(j, 1, "sentinel"), "100.100.111.2");
	ck_assert_str_eq(field(j, 0, "source"), "portal_doh");
	json_decref(j);

	/* Do53 wins over DoH. */
	do53[0] = addr("10.20.0.53");
	ifc.do53 = do53;
	ifc.ndo53 = 1;
	ck_assert_int_eq(dns_upstream_effective(&ifc, sys, 1, u, &n),
	    DNS_UPSTREAM_PORTAL_DO53);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(u[0].url, "");
	j = dns_upstream_json(u, n, DNS_UPSTREAM_PORTAL_DO53);
	ck_assert_str_eq(field(j, 0, "address"), "10.20.0.53");
	json_decref(j);
}
END_TEST

static Suite *
dns_upstream_suite(void)
{
	Suite	*s = suite_create("dns_upstream");
	TCase	*tc = tcase_create("upstream");

	tcase_add_test(tc, test_resolv);
	tcase_add_test(tc, test_effective);
	tcase_add_test(tc, test_effective_doh);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_upstream_suite },
};

/*
 * The JSON of the p2p control packets (PROTOCOL 4.6): what a peer sends
 * is parsed strictly, what fzc sends parses back, and the gateway maps
 * proxy IPs to addresses round-robin by family.
 */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "controld/dns_p2p.h"
#include "tests/unit/check_main.h"

#define RES	"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6"

static int
parse_a(const char *json, struct dns_p2p_assigned *a, const char **why)
{
	return (dns_p2p_parse_assigned((const uint8_t *)json, strlen(json), a,
	    why));
}

static int
parse_s(const char *json, struct dns_p2p_status *st, const char **why)
{
	return (
	    dns_p2p_parse_status((const uint8_t *)json, strlen(json), st, why));
}

static struct dns_p2p_ip
ip(const char *s)
{
	struct dns_p2p_ip	 v;

	memset(&v, 0, sizeof(v));
	v.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(v.family, s, v.addr), 1);
	return (v);
}

START_TEST(test_assigned)
{
	struct dns_p2p_assigned	 a, b;
	const char		*why;
	char			 buf[INET6_ADDRSTRLEN], *json;

	/* PROTOCOL 4.6's example. */
	ck_assert_int_eq(
	    parse_a("{\"resource\":\"" RES "\",\"domain\":"
		    "\"Git.Corp.Example.com\",\"proxy_ips\":[\"100.96.0.1\","
		    "\"100.96.0.2\",\"100.96.0.3\",\"100.96.0.4\","
		    "\"fd00:2021:1111:8000::\",\"fd00:2021:1111:8000::1\","
		    "\"fd00:2021:1111:8000::2\",\"fd00:2021:1111:8000::3\"],"
		    "\"later\":1}",
		&a, &why),
	    0);
	ck_assert_str_eq(a.resource_id, RES);
	ck_assert_str_eq(a.domain, "git.corp.example.com");
	ck_assert_uint_eq(a.nips, 8);
	ck_assert_int_eq(a.ips[7].family, AF_INET6);
	inet_ntop(AF_INET6, a.ips[7].addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "fd00:2021:1111:8000::3");
	/* What fzc sends is what it takes. */
	json = dns_p2p_assigned_json(&a);
	ck_assert_ptr_nonnull(json);
	ck_assert_int_eq(parse_a(json, &b, &why), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	free(json);
}
END_TEST

START_TEST(test_assigned_bad)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"resource\":\"x\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a..b\",\"proxy_ips\":"
		    "[\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b.\",\"proxy_ips\":"
		    "[\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a b\",\"proxy_ips\":"
		    "[\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a\\u0000b\","
		    "\"proxy_ips\":[\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[]}",
		/* Not a proxy IP: a resource's own, a sentinel, a tunnel IP. */
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"10.0.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"100.100.111.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"100.64.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"fd00:2021:1111::1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"100.96.0.1\",\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[1]}",
		"{\"resource\":\"" RES "\",\"resource\":\"" RES "\","
		    "\"domain\":\"a.b\",\"proxy_ips\":[\"100.96.0.1\"]}",
		"{\"resource\":\"" RES "\",\"domain\":\"a.b\",\"proxy_ips\":"
		    "[\"100.96.0.1\",\"100.96.0.2\",\"100.96.0.3\","
		    "\"100.96.0.4\",\"100.96.0.5\",\"100.96.0.6\","
		    "\"100.96.0.7\",\"100.96.0.8\",\"100.96.0.9\"]}",
	};
	struct dns_p2p_assigned	 a;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(parse_a(bad[i], &a, &why) == -1, "%s", bad[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_uint_eq(a.nips, 0);
	}
}
END_TEST

START_TEST(test_status)
{
	struct dns_p2p_status	 st;
	const char		*why;
	char			*json;

	json = dns_p2p_status_json(RES, "git.corp.example.com", true);
	ck_assert_str_eq(json,
	    "{\"resource\":\"" RES "\",\"domain\":"
	    "\"git.corp.example.com\",\"status\":\"Active\"}");
	ck_assert_int_eq(parse_s(json, &st, &why), 0);
	ck_assert(st.active);
	free(json);
	json = dns_p2p_status_json(RES, "git.corp.example.com", false);
	ck_assert_int_eq(parse_s(json, &st, &why), 0);
	ck_assert(!st.active);
	free(json);
	/* PROTOCOL 4.6: unknown values mean Inactive; case matters. */
	ck_assert_int_eq(parse_s("{\"resource\":\"" RES "\",\"domain\":"
				 "\"a.b\",\"status\":\"active\"}",
			     &st, &why),
	    0);
	ck_assert(!st.active);
	ck_assert_int_eq(parse_s("{\"resource\":\"" RES "\",\"domain\":"
				 "\"a.b\",\"status\":1}",
			     &st, &why),
	    -1);
	ck_assert_int_eq(parse_s("{\"resource\":\"" RES "\",\"domain\":"
				 "\"a.b\"}",
			     &st, &why),
	    -1);
}
END_TEST

START_TEST(test_map)
{
	struct dns_p2p_assigned	 a;
	struct dns_p2p_ip	 addrs[3], real[DNS_P2P_MAX_IPS];
	char			 buf[INET6_ADDRSTRLEN];
	size_t			 i;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "100.96.0.%zu", i + 1);
		a.ips[a.nips++] = ip(buf);
	}
	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "fd00:2021:1111:8000::%zu", i);
		a.ips[a.nips++] = ip(buf);
	}
	addrs[0] = ip("10.0.0.1");
	addrs[1] = ip("2001:db8::1");
	addrs[2] = ip("10.0.0.2");
	/* Each family in turn; IPv6 has one address for all four. */
	ck_assert_uint_eq(dns_p2p_map(&a, addrs, 3, real), 8);
	ck_assert_mem_eq(&real[0], &addrs[0], sizeof(real[0]));
	ck_assert_mem_eq(&real[1], &addrs[2], sizeof(real[0]));
	ck_assert_mem_eq(&real[2], &addrs[0], sizeof(real[0]));
	ck_assert_mem_eq(&real[3], &addrs[2], sizeof(real[0]));
	for (i = 4; i < 8; i++)
		ck_assert_mem_eq(&real[i], &addrs[1], sizeof(real[0]));
	/* No IPv6 address: those proxy IPs get none. */
	ck_assert_uint_eq(dns_p2p_map(&a, addrs, 1, real), 4);
	ck_assert_int_eq(real[4].family, 0);
	ck_assert_uint_eq(dns_p2p_map(&a, addrs, 0, real), 0);
}
END_TEST

static Suite *
dns_p2p_suite(void)
{
	Suite	*s = suite_create("dns_p2p");
	TCase	*tc = tcase_create("p2p");

	tcase_add_test(tc, test_assigned);
	tcase_add_test(tc, test_assigned_bad);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_map);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_p2p_suite },
};

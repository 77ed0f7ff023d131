/* Forwarded queries: our ids out, the application's back, nothing else. */

#include <sys/socket.h>

#include <string.h>

#include <check.h>

#include "common/timer.h"
#include "controld/dns_forward.h"
#include "tests/unit/check_main.h"

#define NS(s)	(NSEC_PER_SEC * (s))

static struct dns_forward	 fwd;

START_TEST(test_round_trip)
{
	struct dns_forward_query	 out;
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
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), 1, &client,
			     &sentinel, 7, 0x1111, NS(10)),
	    0);
	ck_assert_uint_eq(m[0], 0x11);
	/* Taken: the caller draws another id. */
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), 1, &client,
			     &sentinel, 7, 0x1111, NS(10)),
	    -1);
	ck_assert_int_eq(dns_forward_add(&fwd, m, 5, 1, &client, &sentinel, 0,
			     0x2222, NS(10)),
	    -1);

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

START_TEST(test_expiry_and_bound)
{
	struct dns_forward_query	 out;
	struct ipc_sockaddr		 c;
	uint8_t				 m[DNS_HDR_LEN];
	int				 i;

	memset(&fwd, 0, sizeof(fwd));
	memset(&c, 0, sizeof(c));
	memset(m, 0, sizeof(m));
	for (i = 0; i < DNS_FORWARD_MAX; i++)
		ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), 0, &c, &c,
				     0, (uint16_t)i, NS(1)),
		    0);
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), 0, &c, &c, 0,
			     0xffff, NS(1)),
	    -1);
	/* Late answers are not taken; their room comes back. */
	m[0] = 0;
	m[1] = 7;
	m[2] = 0x80;
	ck_assert(!dns_forward_answer(&fwd, m, sizeof(m), 0,
	    NS(1) + DNS_FORWARD_TIMEOUT_NS, &out));
	ck_assert_uint_eq(fwd.n, 0);
	ck_assert_int_eq(dns_forward_add(&fwd, m, sizeof(m), 0, &c, &c, 0,
			     0xffff, NS(7)),
	    0);
}
END_TEST

static Suite *
dns_forward_suite(void)
{
	Suite	*s = suite_create("dns_forward");
	TCase	*tc = tcase_create("forward");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_expiry_and_bound);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_forward_suite },
};

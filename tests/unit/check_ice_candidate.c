/* The SDP candidate codec and candidate priorities (ice_candidate.c). */

#include <netinet/in.h>

#include <check.h>
#include <string.h>

#include "tunneld/nat/ice_candidate.h"
#include "tests/unit/check_main.h"

/* rport before raddr: the port must survive the address. */
START_TEST(test_candidate_rport_first)
{
	struct ice_candidate	 c;
	const char		*why = NULL;

	ck_assert_int_eq(ice_candidate_parse(&c, "candidate:1 1 udp 5 "
	    "10.0.0.1 5 typ srflx rport 4000 raddr 10.0.0.9", &why), 0);
	ck_assert_int_eq(c.has_related, 1);
	ck_assert_uint_eq(c.related.port, 4000);
	ck_assert_uint_eq(c.related.ip[3], 9);
}
END_TEST

START_TEST(test_candidate_strings)
{
	static const char *const good[] = {
		"candidate:4021987365 1 udp 1694498815 198.51.100.20 41873 "
		    "typ srflx raddr 0.0.0.0 rport 0",
		"candidate:77 1 udp 16777215 2001:db8:7::5 50001 typ relay "
		    "raddr 203.0.113.5 rport 40000",
		"candidate:1 1 udp 2130706431 10.0.0.1 52625 typ host",
		"candidate:a+/Z 1 udp 1862270975 fe80::1 9 typ prflx",
		/* The longest: ICE_CANDIDATE_STRLEN must hold it. */
		"candidate:abcdefghijklmnopqrstuvwxyz012345 1 udp 4294967295 "
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 typ srflx "
		    "raddr ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff rport 65535",
	};
	static const char *const bad[] = {
		"",
		"4021987365 1 udp 1694498815 198.51.100.20 41873 typ host",
		"a=candidate:1 1 udp 2130706431 10.0.0.1 52625 typ host",
		"candidate:1 2 udp 2130706431 10.0.0.1 52625 typ host",
		"candidate:1 1 tcp 2130706431 10.0.0.1 52625 typ host",
		"candidate:1 1 udp 0 10.0.0.1 52625 typ host",
		"candidate:1 1 udp 4294967296 10.0.0.1 52625 typ host",
		"candidate:1 1 udp +5 10.0.0.1 52625 typ host",
		"candidate:1 1 udp 2130706431 300.0.0.1 52625 typ host",
		"candidate:1 1 udp 2130706431 abc.local 52625 typ host",
		"candidate:1 1 udp 2130706431 10.0.0.1 65536 typ host",
		"candidate:1 1 udp 2130706431 10.0.0.1 -1 typ host",
		"candidate:1 1 udp 2130706431 10.0.0.1 52625 type host",
		"candidate:1 1 udp 2130706431 10.0.0.1 52625 typ bogus",
		"candidate:1 1 udp 2130706431 10.0.0.1 52625 typ",
		"candidate:1 1 udp 2130706431 10.0.0.1 52625 typ host ",
		"candidate:1 1 udp 2130706431 10.0.0.1  52625 typ host",
		"candidate:1-2 1 udp 2130706431 10.0.0.1 52625 typ host",
		"candidate:123456789012345678901234567890123 1 udp 2130706431 "
		    "10.0.0.1 52625 typ host",
		"candidate:1 1 udp 1694498815 1.2.3.4 5 typ srflx raddr "
		    "0.0.0.0",
		"candidate:1 1 udp 1694498815 1.2.3.4 5 typ srflx rport 0",
		"candidate:1 1 udp 1694498815 1.2.3.4 5 typ srflx raddr "
		    "0.0.0.0 rport 0 raddr 0.0.0.0 rport 0",
		"candidate:1 1 udp 1694498815 1.2.3.4 5 typ srflx raddr x "
		    "rport 0",
		"candidate:1 1 udp 1694498815 1.2.3.4 5 typ srflx generation",
	};
	struct ice_candidate	 c;
	char			 out[ICE_CANDIDATE_STRLEN];
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		ck_assert_msg(ice_candidate_parse(&c, good[i], &why) == 0,
		    "%s: %s", good[i], why);
		ck_assert_int_eq(ice_candidate_format(&c, out, sizeof(out)),
		    0);
		ck_assert_str_eq(out, good[i]);
	}
	/* The fields of PROTOCOL.md's example. */
	ck_assert_int_eq(ice_candidate_parse(&c, good[0], NULL), 0);
	ck_assert_str_eq(c.foundation, "4021987365");
	ck_assert_uint_eq(c.priority, 1694498815);
	ck_assert_int_eq(c.type, ICE_CAND_SRFLX);
	ck_assert_int_eq(c.addr.family, AF_INET);
	ck_assert_uint_eq(c.addr.port, 41873);
	ck_assert(c.has_related);
	ck_assert_uint_eq(c.related.port, 0);
	ck_assert_int_eq(ice_candidate_parse(&c, good[1], NULL), 0);
	ck_assert_int_eq(c.type, ICE_CAND_RELAY);
	ck_assert_int_eq(c.addr.family, AF_INET6);
	ck_assert_int_eq(c.related.family, AF_INET);
	ck_assert_uint_eq(c.related.port, 40000);
	ck_assert_uint_eq(c.related.ip[3], 5);
	ck_assert_int_eq(ice_candidate_parse(&c, good[2], NULL), 0);
	ck_assert(!c.has_related);
	/* Case-insensitive transport and unknown extensions are fine. */
	ck_assert_int_eq(ice_candidate_parse(&c, "candidate:1 1 UDP "
	    "2130706431 10.0.0.1 52625 typ host generation 0 network-id 1",
	    NULL), 0);
	ck_assert_int_eq(ice_candidate_format(&c, out, sizeof(out)), 0);
	ck_assert_str_eq(out, good[2]);
	/* A buffer too small is refused, not truncated. */
	ck_assert_int_eq(ice_candidate_format(&c, out, 20), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		memset(&c, 0xa5, sizeof(c));
		ck_assert_msg(ice_candidate_parse(&c, bad[i], &why) == -1,
		    "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(why);
		/* Nothing is written on failure. */
		ck_assert_uint_eq(c.priority, 0xa5a5a5a5);
	}
	/* RFC 8445 5.1.2.1 priorities; the example's srflx uses 65535. */
	ck_assert_uint_eq(ice_candidate_priority(ICE_CAND_HOST, 65535), 2130706431);
	ck_assert_uint_eq(ice_candidate_priority(ICE_CAND_SRFLX, 65535), 1694498815);
	ck_assert_uint_eq(ice_candidate_priority(ICE_CAND_PRFLX, 65535), 1862270975);
	ck_assert_uint_eq(ice_candidate_priority(ICE_CAND_RELAY, 65535), 16777215);
}
END_TEST

static Suite *
ice_candidate_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ice_candidate");
	tc = tcase_create("codec");
	tcase_add_test(tc, test_candidate_strings);
	tcase_add_test(tc, test_candidate_rport_first);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { ice_candidate_suite },
};

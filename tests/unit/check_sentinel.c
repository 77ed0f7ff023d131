/* DNS datagrams to and from the sentinels: headers read and written. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include <check.h>

#include "tunneld/handoff.h"
#include "tunneld/sentinel.h"
#include "tests/unit/check_main.h"

static const uint8_t query[] = { 0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x03, 'w', 'e', 'b', 0x00, 0x00, 0x01, 0x00,
	0x01 };

/* A UDP packet from src:40000 to dst:port carrying query. */
static size_t
packet(int family, const char *src, const char *dst, uint16_t port, uint8_t *p)
{
	size_t	 h = family == AF_INET ? 20 : 40, ulen = 8 + sizeof(query);

	memset(p, 0, h + ulen);
	if (family == AF_INET) {
		p[0] = 0x45;
		p[2] = (h + ulen) >> 8;
		p[3] = (h + ulen) & 0xff;
		p[8] = 64;
		p[9] = IPPROTO_UDP;
		inet_pton(AF_INET, src, p + 12);
		inet_pton(AF_INET, dst, p + 16);
	} else {
		p[0] = 0x60;
		p[5] = (uint8_t)ulen;
		p[6] = IPPROTO_UDP;
		p[7] = 64;
		inet_pton(AF_INET6, src, p + 8);
		inet_pton(AF_INET6, dst, p + 24);
	}
	p[h] = 40000 >> 8;
	p[h + 1] = 40000 & 0xff;
	p[h + 2] = port >> 8;
	p[h + 3] = port & 0xff;
	p[h + 5] = (uint8_t)ulen;
	memcpy(p + h + 8, query, sizeof(query));
	return (h + ulen);
}

static uint32_t
sum(const uint8_t *p, size_t len)
{
	uint32_t	 acc = 0;
	size_t		 i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return (acc);
}

static uint16_t
fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return ((uint16_t)acc);
}

static void
round_trip(int family, const char *client, const char *sentinel)
{
	struct ipc_dns	 q;
	uint8_t		 p[256], r[256];
	size_t		 n, h = family == AF_INET ? 20 : 40;
	size_t		 alen = family == AF_INET ? 4 : 16;
	uint32_t	 acc;

	n = packet(family, client, sentinel, 53, p);
	ck_assert_int_eq(sentinel_query(p, n, &q), 0);
	ck_assert_int_eq(q.client.family, family);
	ck_assert_uint_eq(q.client.port, 40000);
	ck_assert_uint_eq(q.sentinel.port, 53);
	ck_assert_uint_eq(q.len, sizeof(query));
	ck_assert(memcmp(q.data, query, sizeof(query)) == 0);
	ck_assert(
	    memcmp(q.client.addr, p + (family == AF_INET ? 12 : 8), alen) == 0);

	q.data[2] |= 0x80;
	n = sentinel_reply(&q, r, sizeof(r));
	ck_assert_uint_eq(n, h + 8 + sizeof(query));
	/* From the sentinel's port 53 back to the application's port. */
	ck_assert(memcmp(r + (family == AF_INET ? 12 : 8), q.sentinel.addr,
	    alen) == 0);
	ck_assert(memcmp(r + (family == AF_INET ? 16 : 24), q.client.addr,
	    alen) == 0);
	ck_assert_uint_eq(r[h] << 8 | r[h + 1], 53);
	ck_assert_uint_eq(r[h + 2] << 8 | r[h + 3], 40000);
	if (family == AF_INET)
		ck_assert_uint_eq(fold(sum(r, h)), 0xffff);
	/* The UDP checksum over the pseudo-header verifies. */
	acc = sum(r + (family == AF_INET ? 12 : 8), 2 * alen) + IPPROTO_UDP +
	    (uint32_t)(n - h) + sum(r + h, n - h);
	ck_assert_uint_eq(fold(acc), 0xffff);
	ck_assert_uint_eq(sentinel_reply(&q, r, n - 1), 0);
}

START_TEST(test_round_trip)
{
	round_trip(AF_INET, "100.64.0.2", "100.100.111.1");
	round_trip(AF_INET6, "fd00:2021:1111::2",
	    "fd00:2021:1111:8000:100:100:111:1");
}
END_TEST

/* A TCP segment to the sentinel: handed over whole, and one back. */
START_TEST(test_tcp)
{
	struct handoff	 h;
	struct ipc_dns	 q;
	uint8_t		 p[256], r[256];
	size_t		 n;
	uint32_t	 acc;

	handoff_init(&h);
	memset(p, 0, sizeof(p));
	p[0] = 0x45;
	p[3] = 20 + 24;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "100.64.0.2", p + 12);
	inet_pton(AF_INET, "100.100.111.1", p + 16);
	p[20] = 40000 >> 8;
	p[21] = 40000 & 0xff;
	p[23] = 53;
	p[32] = 6 << 4;		/* header and the MSS option */
	p[33] = 0x02;		/* SYN */
	p[40] = 2;
	p[41] = 4;
	n = 20 + 24;
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_QUEUED);
	ck_assert_int_eq(sentinel_query(p, n, &q), 0);
	ck_assert_uint_eq(q.flags, IPC_DNS_TCP);
	ck_assert_uint_eq(q.len, 24);
	ck_assert_uint_eq(q.client.port, 40000);
	ck_assert(memcmp(q.data, p + 20, 24) == 0);
	/* A data offset past the end, another port: not for controld. */
	p[32] = 7 << 4;
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_NOT);
	p[32] = 6 << 4;
	p[23] = 54;
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_NOT);

	/* The answer: controld's segment as it is, its checksum filled. */
	q.data[0] = 0;
	q.data[1] = 53;
	q.data[2] = 40000 >> 8;
	q.data[3] = 40000 & 0xff;
	q.data[13] = 0x12;
	q.data[16] = q.data[17] = 0xaa;
	n = sentinel_reply(&q, r, sizeof(r));
	ck_assert_uint_eq(n, 20 + 24);
	ck_assert_uint_eq(r[9], IPPROTO_TCP);
	ck_assert_uint_eq(r[33], 0x12);
	acc = sum(r + 12, 8) + IPPROTO_TCP + 24 + sum(r + 20, 24);
	ck_assert_uint_eq(fold(acc), 0xffff);
	handoff_free(&h);
}
END_TEST

START_TEST(test_not_queries)
{
	struct handoff	 h;
	struct ipc_dns	 q;
	uint8_t		 p[256];
	size_t		 n;

	handoff_init(&h);
	n = packet(AF_INET, "100.64.0.2", "100.100.112.1", 53, p);
	ck_assert_int_eq(sentinel_query(p, n, &q), -1);
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_NOT);
	n = packet(AF_INET, "100.64.0.2", "100.100.111.1", 54, p);
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_NOT);
	/* A fragment. */
	n = packet(AF_INET, "100.64.0.2", "100.100.111.1", 53, p);
	p[6] = 0x20;
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_NOT);
	/* Shorter than its headers say. */
	n = packet(AF_INET6, "fd00:2021:1111::2",
	    "fd00:2021:1111:8000:100:100:111:1", 53, p);
	ck_assert_int_eq(sentinel_take(&h, p, n - 1), SENTINEL_NOT);
	ck_assert_int_eq(sentinel_take(&h, p, n), SENTINEL_QUEUED);
	while (sentinel_take(&h, p, n) == SENTINEL_QUEUED)
		;
	ck_assert_int_eq(h.dns.len, HANDOFF_DNS_MAX);
	handoff_free(&h);
}
END_TEST

static Suite *
sentinel_suite(void)
{
	Suite	*s = suite_create("sentinel");
	TCase	*tc = tcase_create("sentinel");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_not_queries);
	tcase_add_test(tc, test_tcp);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { sentinel_suite },
};

/* The TCP responder behind the sentinels, segment by segment. */
#include <sys/socket.h>

#include <string.h>

#include <check.h>

#include "common/be.h"
#include "controld/dns_tcp.h"
#include "tests/unit/check_main.h"

#define MS(x)	((uint64_t)(x)*1000000ULL)
#define SYN	0x02
#define RST	0x04
#define FIN	0x01
#define PSH	0x08
#define ACK	0x10

static struct ipc_dns	 sent[64];
static size_t		 nsent;
static uint16_t		 port = 40000;	/* the application's */

static void
capture(void *arg, const struct ipc_dns *s)
{
	(void)arg;
	ck_assert_uint_lt(nsent, 64);
	/* What tunneld would take: ports, flag, nothing past len. */
	ck_assert_uint_eq(s->flags, IPC_DNS_TCP);
	ck_assert_uint_eq(s->data[0] << 8 | s->data[1], 53);
	ck_assert_uint_eq(s->data[2] << 8 | s->data[3], port);
	sent[nsent++] = *s;
}

#define SEQ(s)		be_get32((s)->data + 4)
#define ACKNO(s)	be_get32((s)->data + 8)
#define FLAGS(s)	((s)->data[13])
#define WND(s)		((s)->data[14] << 8 | (s)->data[15])
#define PAYLEN(s)	((s)->len - (size_t)((s)->data[12] >> 4) * 4)
#define PAY(s)		((s)->data + ((s)->data[12] >> 4) * 4)

/* A segment from the application's 100.64.0.2:port to the sentinel. */
static void
input(struct dns_tcp *t, uint64_t now, uint32_t seq, uint32_t ack,
    uint8_t flags, uint16_t mss, const void *data, size_t len)
{
	struct ipc_dns	 s;
	size_t		 h = mss ? 24 : 20;

	memset(&s, 0, sizeof(s));
	s.client.family = s.sentinel.family = AF_INET;
	memcpy(s.client.addr, "\x64\x40\x00\x02", 4);
	memcpy(s.sentinel.addr, "\x64\x64\x6f\x01", 4);
	s.client.port = port;
	s.sentinel.port = 53;
	s.flags = IPC_DNS_TCP;
	s.data[0] = port >> 8;
	s.data[1] = port & 0xff;
	s.data[3] = 53;
	be_put32(s.data + 4, seq);
	be_put32(s.data + 8, ack);
	s.data[12] = (uint8_t)(h / 4) << 4;
	s.data[13] = flags;
	s.data[14] = 0xff;
	s.data[15] = 0xff;
	if (mss) {
		s.data[20] = 2;
		s.data[21] = 4;
		s.data[22] = mss >> 8;
		s.data[23] = mss & 0xff;
	}
	if (len > 0)
		memcpy(s.data + h, data, len);
	s.len = (uint32_t)(h + len);
	dns_tcp_input(t, now, &s);
}

/* A DNS query of len bytes (header, then filler) with its prefix. */
static size_t
query(uint8_t *p, uint16_t id, size_t len)
{
	memset(p, 0, 2 + len);
	p[0] = (uint8_t)(len >> 8);
	p[1] = len & 0xff;
	p[2] = id >> 8;
	p[3] = id & 0xff;
	return (2 + len);
}

/* A connection up: SYN from 1000, SYN-ACK, ACK; our ISS back. */
static uint32_t
open_conn(struct dns_tcp *t, uint16_t mss)
{
	uint32_t	 iss;

	nsent = 0;
	input(t, 0, 1000, 0, SYN, mss, NULL, 0);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(FLAGS(&sent[0]), SYN | ACK);
	ck_assert_uint_eq(ACKNO(&sent[0]), 1001);
	/* Our MSS, in the option. */
	ck_assert_uint_eq(sent[0].len, 24);
	ck_assert_uint_eq(sent[0].data[20], 2);
	ck_assert_uint_eq(sent[0].data[22] << 8 | sent[0].data[23],
	    DNS_TCP_MSS);
	iss = SEQ(&sent[0]);
	input(t, 0, 1001, iss + 1, ACK, 0, NULL, 0);
	ck_assert_uint_eq(nsent, 1);
	nsent = 0;
	return (iss);
}

START_TEST(test_pipelined)
{
	struct dns_tcp		 t;
	struct dns_tcp_query	 q;
	uint8_t			 buf[200], ans[300];
	size_t			 n;
	uint32_t		 iss;

	dns_tcp_init(&t, capture, NULL);
	iss = open_conn(&t, 100);
	/* Two queries in one segment, a third cut in two. */
	n = query(buf, 1, 20);
	n += query(buf + n, 2, 30);
	n += query(buf + n, 3, 40);
	input(&t, MS(1), 1001, iss + 1, ACK | PSH, 0, buf, n - 10);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(ACKNO(&sent[0]), 1001 + n - 10);
	ck_assert(dns_tcp_query(&t, &q));
	ck_assert_uint_eq(q.len, 20);
	ck_assert_uint_eq(q.msg[1], 1);
	ck_assert_uint_eq(q.client.port, 40000);
	ck_assert(dns_tcp_query(&t, &q));
	ck_assert_uint_eq(q.msg[1], 2);
	ck_assert(!dns_tcp_query(&t, &q));
	input(&t, MS(2), 1001 + (uint32_t)n - 10, iss + 1, ACK, 0, buf + n - 10,
	    10);
	ck_assert(dns_tcp_query(&t, &q));
	ck_assert_uint_eq(q.msg[1], 3);
	ck_assert_uint_eq(q.len, 40);

	/* A 250-byte answer goes out in the peer's MSS: 100, 100, 52. */
	nsent = 0;
	memset(ans, 0x5a, sizeof(ans));
	dns_tcp_answer(&t, MS(3), q.conn, ans, 250);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_eq(PAYLEN(&sent[0]), 100);
	ck_assert_uint_eq(PAY(&sent[0])[0] << 8 | PAY(&sent[0])[1], 250);
	ck_assert_uint_eq(PAYLEN(&sent[2]), 52);
	ck_assert_uint_eq(SEQ(&sent[1]), iss + 101);
	ck_assert_uint_eq(dns_tcp_deadline(&t), MS(3) + DNS_TCP_RTO_NS);

	/* Not acked: all of it again, from the first byte. */
	nsent = 0;
	dns_tcp_timeout(&t, MS(3) + DNS_TCP_RTO_NS);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_eq(SEQ(&sent[0]), iss + 1);
	/* Part acked, then all: nothing left to send again. */
	input(&t, MS(300), 1001 + (uint32_t)n, iss + 101, ACK, 0, NULL, 0);
	ck_assert_uint_eq(t.bytes, 152);
	nsent = 0;
	input(&t, MS(301), 1001 + (uint32_t)n, iss + 253, ACK, 0, NULL, 0);
	ck_assert_uint_eq(t.bytes, 0);
	ck_assert_uint_eq(nsent, 0);

	/* The peer closes with two queries unanswered: FIN after those. */
	input(&t, MS(302), 1001 + (uint32_t)n, iss + 253, ACK | FIN, 0, NULL,
	    0);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(FLAGS(&sent[0]), ACK);
	ck_assert_uint_eq(ACKNO(&sent[0]), 1002 + n);
	nsent = 0;
	dns_tcp_answer(&t, MS(303), 1, ans, 12);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(FLAGS(&sent[0]), PSH | ACK);
	dns_tcp_answer(&t, MS(303), 1, NULL, 0);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_uint_eq(FLAGS(&sent[1]), FIN | ACK);
	ck_assert_uint_eq(t.n, 1);
	input(&t, MS(304), 1002 + (uint32_t)n, SEQ(&sent[1]) + 1, ACK, 0, NULL,
	    0);
	ck_assert_uint_eq(t.n, 0);
	dns_tcp_clear(&t);
}
END_TEST

START_TEST(test_unexpected)
{
	struct dns_tcp		 t;
	struct dns_tcp_query	 q;
	uint8_t			 buf[16];
	uint32_t		 iss;

	dns_tcp_init(&t, capture, NULL);
	/* No connection: RST, none for a RST. */
	nsent = 0;
	input(&t, 0, 5, 77, ACK, 0, "x", 1);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(FLAGS(&sent[0]), RST);
	ck_assert_uint_eq(SEQ(&sent[0]), 77);
	input(&t, 0, 5, 0, FIN, 0, NULL, 0);
	ck_assert_uint_eq(FLAGS(&sent[1]), RST | ACK);
	ck_assert_uint_eq(ACKNO(&sent[1]), 6);
	input(&t, 0, 5, 0, RST, 0, NULL, 0);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_uint_eq(t.n, 0);

	/* A length shorter than a DNS header: RST, the connection gone. */
	iss = open_conn(&t, 0);
	memset(buf, 0, sizeof(buf));
	buf[1] = 5;
	input(&t, 1, 1001, iss + 1, ACK, 0, buf, 7);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(FLAGS(&sent[nsent - 1]), RST | ACK);

	/* A bad length behind a good query: RST once that is taken. */
	iss = open_conn(&t, 0);
	query(buf, 1, 12);
	buf[14] = 0;
	buf[15] = 3;
	input(&t, 1, 1001, iss + 1, ACK, 0, buf, 16);
	ck_assert_uint_eq(t.n, 1);
	ck_assert(dns_tcp_query(&t, &q));
	ck_assert(!dns_tcp_query(&t, &q));
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(FLAGS(&sent[nsent - 1]), RST | ACK);

	/* Out of order: acked at the edge, not taken. */
	iss = open_conn(&t, 0);
	input(&t, 1, 1100, iss + 1, ACK, 0, buf, 14);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(ACKNO(&sent[0]), 1001);
	ck_assert(!dns_tcp_query(&t, &q));
	/* An ACK for what was never sent: acked, dropped. */
	input(&t, 1, 1001, iss + 5, ACK, 0, NULL, 0);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_uint_eq(t.n, 1);
	/* A RST in the window closes it, silently. */
	input(&t, 1, 1001, 0, RST, 0, NULL, 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(nsent, 2);
	dns_tcp_clear(&t);
}
END_TEST

START_TEST(test_bounds)
{
	struct dns_tcp		 t;
	struct dns_tcp_query	 q;
	uint8_t			 buf[2 + DNS_TCP_MSG_MAX + 2];
	size_t			 i;
	uint32_t		 iss;

	dns_tcp_init(&t, capture, NULL);
	/* SYNs from as many ports as we take, then one more: RST. */
	for (i = 0; i < DNS_TCP_CONNS_MAX; i++) {
		port = (uint16_t)(40000 + i);
		nsent = 0;
		input(&t, 0, 1000, 0, SYN, 0, NULL, 0);
		ck_assert_uint_eq(FLAGS(&sent[0]), SYN | ACK);
	}
	port = 50000;
	ck_assert_uint_eq(t.n, DNS_TCP_CONNS_MAX);
	nsent = 0;
	input(&t, 0, 1000, 0, SYN, 0, NULL, 0);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(FLAGS(&sent[0]), RST | ACK);
	ck_assert_uint_eq(t.n, DNS_TCP_CONNS_MAX);
	dns_tcp_clear(&t);
	port = 40000;

	/* A query longer than we take: RST. */
	iss = open_conn(&t, 0);
	buf[0] = (DNS_TCP_MSG_MAX + 1) >> 8;
	buf[1] = (DNS_TCP_MSG_MAX + 1) & 0xff;
	input(&t, 1, 1001, iss + 1, ACK, 0, buf, 2);
	ck_assert_uint_eq(t.n, 0);

	/* The window never offers more than rx holds, nor one MSS. */
	iss = open_conn(&t, 0);
	memset(buf, 0, sizeof(buf));
	query(buf, 9, DNS_TCP_MSG_MAX);
	input(&t, 1, 1001, iss + 1, ACK, 0, buf, DNS_TCP_MSS);
	ck_assert_uint_eq(WND(&sent[0]), DNS_TCP_MSS);
	for (i = DNS_TCP_MSS; i < 2 + DNS_TCP_MSG_MAX; i += DNS_TCP_MSS)
		input(&t, 1, 1001 + (uint32_t)i, iss + 1, ACK, 0, buf + i,
		    i + DNS_TCP_MSS > 2 + DNS_TCP_MSG_MAX ?
			2 + DNS_TCP_MSG_MAX - i :
			DNS_TCP_MSS);
	ck_assert_uint_eq(WND(&sent[nsent - 1]), 0);
	/* Taken out: the window opens again, and says so. */
	nsent = 0;
	ck_assert(dns_tcp_query(&t, &q));
	ck_assert_uint_eq(q.len, DNS_TCP_MSG_MAX);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(WND(&sent[0]), DNS_TCP_MSS);

	/* Idle: our FIN, then a RST when nothing comes back. */
	nsent = 0;
	dns_tcp_timeout(&t, 1 + DNS_TCP_IDLE_NS);
	ck_assert_uint_eq(FLAGS(&sent[0]), FIN | ACK);
	dns_tcp_timeout(&t, 1 + 2 * DNS_TCP_IDLE_NS);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(FLAGS(&sent[nsent - 1]), RST | ACK);
	dns_tcp_clear(&t);
}
END_TEST

/* A SYN-ACK never acked: sent again, backing off, then given up. */
START_TEST(test_handshake_gives_up)
{
	struct dns_tcp	 t;
	uint64_t	 at;
	int		 i;

	dns_tcp_init(&t, capture, NULL);
	nsent = 0;
	input(&t, 0, 1000, 0, SYN, 0, NULL, 0);
	/* The SYN again: the same SYN-ACK. */
	input(&t, 1, 1000, 0, SYN, 0, NULL, 0);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_uint_eq(SEQ(&sent[1]), SEQ(&sent[0]));
	for (i = 0; i < 4; i++) {
		at = dns_tcp_deadline(&t);
		dns_tcp_timeout(&t, at);
		ck_assert_uint_eq(FLAGS(&sent[nsent - 1]), SYN | ACK);
		ck_assert_uint_eq(dns_tcp_deadline(&t) - at,
		    DNS_TCP_RTO_NS << (i + 1));
	}
	/* Given up when idle for long enough, or out of tries. */
	for (i = 0; i < DNS_TCP_TRIES && t.n > 0; i++)
		dns_tcp_timeout(&t, (at = dns_tcp_deadline(&t)));
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_le(at, DNS_TCP_IDLE_NS);
	ck_assert_uint_eq(FLAGS(&sent[nsent - 1]), RST | ACK);
	ck_assert_uint_eq(dns_tcp_deadline(&t), 0);
}
END_TEST

static Suite *
dns_tcp_suite(void)
{
	Suite	*s = suite_create("dns_tcp");
	TCase	*tc = tcase_create("dns_tcp");

	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_unexpected);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_handshake_gives_up);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { dns_tcp_suite },
};

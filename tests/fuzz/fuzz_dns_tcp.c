/*
 * fuzz_dns_tcp: controld's TCP responder behind the sentinels on a fake
 * clock, fed what applications could send. Input: records (fuzz.h); the
 * low 2 bits of op pick the step:
 *   0: a segment from application port 40000 + (op >> 2 & 3), given to
 *      the responder only if IPC_DNS_QUERY would carry it (ports put in
 *      place first, as the kernel would have them); its ACK number is
 *      taken as relative to the responder's (random) ISS on that port,
 *      so that the fuzzer gets past the handshake;
 *   1: every whole query taken out and answered, each answer as long as
 *      the record's first two bytes say (at least a DNS header);
 *   2: the clock moves on by the first two bytes in ms, timers run;
 *   3: "no answer will come" for the connection the first byte names.
 * Oracles: every segment sent is one tunneld accepts (IPC_DNS_REPLY
 * decodes), the bounds hold (connections, bytes counted and buffered),
 * and nothing leaks.
 */
#include "ipc/ipc.c"
#include "controld/dns_tcp.c"

#include "tests/fuzz/fuzz.h"

static uint8_t	 wire[IPC_MSG_MAX];
static uint8_t	 answer[DNS_TCP_ANSWER_MAX];
static uint32_t	 iss[4];		/* the last SYN-ACK's, by port */

static void
send_seg(void *arg, const struct ipc_dns *s)
{
	struct ipc_msg	*m = arg;
	const char	*why = NULL;
	size_t		 n;

	n = ipc_encode(wire, sizeof(wire), IPC_DNS_REPLY, 0, s, sizeof(*s));
	FUZZ_ASSERT(n != 0);
	FUZZ_ASSERT(ipc_decode(IPC_PEER_TUNNELD, wire, n, 0, m, &why) == 0);
	if (s->data[13] & TH_SYN)
		iss[(s->client.port - 40000) & 3] = be_get32(s->data + 4);
}

static void
check_bounds(const struct dns_tcp *t)
{
	size_t	 i, bytes = 0;

	FUZZ_ASSERT(t->n <= DNS_TCP_CONNS_MAX);
	for (i = 0; i < t->n; i++) {
		FUZZ_ASSERT(t->c[i]->rxlen <= sizeof(t->c[i]->rx));
		FUZZ_ASSERT(t->c[i]->txlen <= DNS_TCP_TX_MAX);
		FUZZ_ASSERT(t->c[i]->pending <= DNS_TCP_PENDING_MAX);
		bytes += t->c[i]->txlen;
	}
	FUZZ_ASSERT(bytes == t->bytes);
	FUZZ_ASSERT(t->bytes <= DNS_TCP_BYTES_MAX);
}

static void
segment(struct dns_tcp *t, uint64_t now, uint8_t op, const uint8_t *data,
    size_t len, struct ipc_msg *m)
{
	struct ipc_dns	*s = &m->u.dns;
	const char	*why = NULL;
	uint16_t	 port = (uint16_t)(40000 + (op >> 2 & 3));
	size_t		 n;

	if (len > IPC_DNS_MAX)
		len = IPC_DNS_MAX;
	memset(s, 0, sizeof(*s));
	s->client.family = s->sentinel.family = AF_INET;
	memcpy(s->client.addr, "\x64\x40\x00\x02", 4);
	memcpy(s->sentinel.addr, "\x64\x64\x6f\x01", 4);
	s->client.port = port;
	s->sentinel.port = 53;
	s->flags = IPC_DNS_TCP;
	s->len = (uint32_t)len;
	memcpy(s->data, data, len);
	if (len >= 4) {
		be_put16(s->data, port);
		be_put16(s->data + 2, 53);
	}
	if (len >= 12)
		be_put32(s->data + 8,
		    be_get32(s->data + 8) + iss[port - 40000]);
	n = ipc_encode(wire, sizeof(wire), IPC_DNS_QUERY, 0, s, sizeof(*s));
	if (n == 0 || ipc_decode(IPC_PEER_CONTROLD, wire, n, 0, m, &why) != 0)
		return;
	dns_tcp_input(t, now, &m->u.dns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in = { data, size };
	struct fuzz_rec		 rec;
	struct dns_tcp		*t;
	struct dns_tcp_query	*q;
	struct ipc_msg		*m, *out;
	uint64_t		 now = 1, ms;
	size_t			 alen;

	if ((t = malloc(sizeof(*t))) == NULL ||
	    (q = malloc(sizeof(*q))) == NULL ||
	    (m = malloc(sizeof(*m))) == NULL ||
	    (out = malloc(sizeof(*out))) == NULL)
		abort();
	memset(iss, 0, sizeof(iss));
	dns_tcp_init(t, send_seg, out);
	while (fuzz_next(&in, &rec)) {
		switch (rec.op & 3) {
		case 0:
			segment(t, now, rec.op, rec.data, rec.len, m);
			break;
		case 1:
			alen = rec.len >= 2 ? be_get16(rec.data) : DNS_HDR;
			if (alen < DNS_HDR)
				alen = DNS_HDR;
			while (dns_tcp_query(t, q)) {
				FUZZ_ASSERT(q->len >= DNS_HDR &&
				    q->len <= DNS_TCP_MSG_MAX);
				memcpy(answer, q->msg, DNS_HDR);
				answer[2] |= 0x80;
				dns_tcp_answer(t, now, q->conn, answer, alen);
			}
			break;
		case 2:
			ms = rec.len >= 2 ? be_get16(rec.data) : 1;
			now += ms * 1000000ULL;
			FUZZ_ASSERT(dns_tcp_deadline(t) == 0 || t->n > 0);
			dns_tcp_timeout(t, now);
			break;
		case 3:
			dns_tcp_answer(t, now, rec.len >= 1 ? rec.data[0] : 0,
			    NULL, 0);
			break;
		}
		check_bounds(t);
	}
	dns_tcp_clear(t);
	free(out);
	free(m);
	free(q);
	free(t);
	return (0);
}

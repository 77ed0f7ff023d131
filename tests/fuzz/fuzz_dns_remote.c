/*
 * fuzz_dns_remote: a gateway's port 53535 (dns_remote.c) on what clients
 * send and what resolvers answer. Input: records (fuzz.h); op bit 0
 * clear: a datagram from a client, dns_remote_parse(), then the refusal
 * of what it asks, checked against the gateway's resource patterns as
 * session_gateway.c does; set: the resolver's answer to the last query
 * asked, dns_remote_answer(). Oracles: every reply is a DNS response
 * ldns parses, with the client's id; a query asked is SRV or TXT, its
 * name the lower case of the name asked; an answer sent fits the size
 * the client takes, or is the resolver's with the client's id.
 */
#include <ctype.h>

#include "common/log.c"
#include "controld/dns_pattern.c"
#include "controld/dns_remote.c"

#include "tests/fuzz/fuzz.h"

static const char *const patterns[] = { "**.corp.example.com",
	"_*._tcp.?.example.org", "*" };

static void
check_reply(const uint8_t *msg, size_t len, uint16_t id, bool tc_or_error)
{
	ldns_pkt	*p = NULL;

	if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK || !ldns_pkt_qr(p) ||
	    ldns_pkt_id(p) != id)
		abort();
	if (tc_or_error && ldns_pkt_ancount(p) != 0)
		abort();
	ldns_pkt_free(p);
}

static void
check_query(const struct dns_remote_query *q)
{
	size_t	 i;

	if ((q->type != LDNS_RR_TYPE_SRV && q->type != LDNS_RR_TYPE_TXT) ||
	    q->limit < 512 || q->limit > DNS_REMOTE_MAX ||
	    strlen(q->name) != strlen(q->asked))
		abort();
	for (i = 0; q->asked[i] != '\0'; i++)
		if (q->name[i] != tolower((unsigned char)q->asked[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in = { data, size };
	struct fuzz_rec		 rec;
	struct dns_remote_query	 q, last;
	const char		*why;
	uint8_t			*reply;
	size_t			 len;
	bool			 have = false;

	log_init(LOG_LEVEL_WARNING, "fuzz_dns_remote");
	while (fuzz_next(&in, &rec)) {
		if (rec.op & 1) {
			if (!have)
				continue;
			reply = dns_remote_answer(&last, rec.data, rec.len,
			    &len);
			if (reply == NULL)
				continue;
			if (len > last.limit ||
			    reply[0] << 8 != (last.id & 0xff00) ||
			    reply[1] != (last.id & 0xff))
				abort();
			if (rec.len > last.limit)
				check_reply(reply, len, last.id, true);
			else if (memcmp(reply + 2, rec.data + 2, len - 2) != 0)
				abort();
			free(reply);
			continue;
		}
		switch (dns_remote_parse(rec.data, rec.len, &q, &reply, &len,
		    &why)) {
		case DNS_REMOTE_DROP:
			if (why == NULL)
				abort();
			break;
		case DNS_REMOTE_REPLY:
			check_reply(reply, len,
			    (uint16_t)(rec.data[0] << 8 | rec.data[1]), true);
			free(reply);
			break;
		case DNS_REMOTE_ASK:
			check_query(&q);
			/* The pattern check the gateway makes, on the name. */
			(void)dns_pattern_best(patterns, 3, q.name);
			reply = dns_remote_error(&q, LDNS_RCODE_REFUSED, &len);
			if (reply == NULL)
				abort();
			check_reply(reply, len, q.id, true);
			free(reply);
			last = q;
			have = true;
			break;
		}
	}
	return (0);
}

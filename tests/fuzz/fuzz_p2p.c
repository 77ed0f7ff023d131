/*
 * fuzz_p2p: the control packets peers send inside the tunnel (PROTOCOL
 * 4.6), both halves: tunneld's framing (p2p_classify(), p2p_parse() on
 * the decrypted IP packet) and controld's JSON (dns_p2p_parse_assigned(),
 * dns_p2p_parse_status()). Input: records (fuzz.h); op bit 0 picks
 * AssignedIps (0) or DomainStatus (1); bit 1 set: the data is an IP
 * packet, unwrapped first, else the JSON alone. Oracles: what parses has
 * a lower-case name, only proxy IPs, each once; it encodes to JSON that
 * parses back to the same; the gateway's mapping gives each proxy IP an
 * address of its own family only; a framed packet unwraps to itself.
 */
#include <sys/socket.h>

#include "controld/dns_p2p.c"
#include "ipc/ipc.c"
#include "tunneld/p2p.c"

#include "tests/fuzz/fuzz.h"

static void
check_assigned(const uint8_t *data, size_t len)
{
	struct dns_p2p_assigned	 a, b;
	struct dns_p2p_ip	 addrs[3], real[DNS_P2P_MAX_IPS];
	const char		*why;
	char			*json;
	size_t			 i, j, n;

	if (dns_p2p_parse_assigned(data, len, &a, &why) == -1) {
		if (why == NULL || a.nips != 0)
			abort();
		return;
	}
	if (a.nips == 0 || a.nips > DNS_P2P_MAX_IPS)
		abort();
	for (i = 0; a.domain[i] != '\0'; i++)
		if (a.domain[i] >= 'A' && a.domain[i] <= 'Z')
			abort();
	for (i = 0; i < a.nips; i++) {
		if (!dns_p2p_proxy_ip(&a.ips[i]))
			abort();
		for (j = 0; j < i; j++)
			if (memcmp(&a.ips[i], &a.ips[j], sizeof(a.ips[i])) == 0)
				abort();
	}
	if ((json = dns_p2p_assigned_json(&a)) == NULL)
		abort();
	if (dns_p2p_parse_assigned((const uint8_t *)json, strlen(json), &b,
		&why) == -1 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(json);
	/* Addresses from the input's own bytes, of both families. */
	memset(addrs, 0, sizeof(addrs));
	for (i = 0; i < 3; i++) {
		addrs[i].family = i == 1 ? AF_INET6 : AF_INET;
		memcpy(addrs[i].addr, a.domain, i == 1 ? 16 : 4);
	}
	n = dns_p2p_map(&a, addrs, len % 4, real);
	for (i = 0, j = 0; i < a.nips; i++) {
		if (real[i].family == 0)
			continue;
		if (real[i].family != a.ips[i].family)
			abort();
		j++;
	}
	if (j != n)
		abort();
}

static void
check_status(const uint8_t *data, size_t len)
{
	struct dns_p2p_status	 st, again;
	const char		*why;
	char			*json;

	if (dns_p2p_parse_status(data, len, &st, &why) == -1) {
		if (why == NULL)
			abort();
		return;
	}
	if ((json = dns_p2p_status_json(st.resource_id, st.domain,
	    st.active)) == NULL)
		abort();
	if (dns_p2p_parse_status((const uint8_t *)json, strlen(json), &again,
		&why) == -1 ||
	    memcmp(&st, &again, sizeof(st)) != 0)
		abort();
	free(json);
}

/* What tunneld hands controld: the JSON of a control packet, or nothing. */
static void
check_packet(uint8_t op, const uint8_t *pkt, size_t len)
{
	struct ipc_p2p	 m, back;
	uint8_t		 out[IP6_HDR_LEN + P2P_HDR_LEN + IPC_P2P_MAX];
	size_t		 n;

	if (p2p_parse(pkt, len, &m) == -1)
		return;
	if (p2p_classify(pkt, len) != P2P_CONTROL || m.len == 0 ||
	    m.len > IPC_P2P_MAX ||
	    (m.event != IPC_P2P_ASSIGNED_IPS &&
	    m.event != IPC_P2P_DOMAIN_STATUS))
		abort();
	n = p2p_frame(m.event, m.data, m.len, out, sizeof(out));
	if (n == 0 || p2p_parse(out, n, &back) == -1 ||
	    memcmp(&m, &back, sizeof(m)) != 0)
		abort();
	if ((op & 1) == m.event)
		(m.event == IPC_P2P_ASSIGNED_IPS ? check_assigned :
		    check_status)(m.data, m.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in	 in = { data, size };
	struct fuzz_rec	 r;

	while (fuzz_next(&in, &r)) {
		if (r.op & 2)
			check_packet(r.op, r.data, r.len);
		else if (r.op & 1)
			check_status(r.data, r.len);
		else
			check_assigned(r.data, r.len);
	}
	return (0);
}

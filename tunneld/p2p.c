/*
 * p2p.c: framing of the control packets inside the tunnel (PROTOCOL.md
 * 4.6). The workers classify every decrypted packet with p2p_classify();
 * the main thread unwraps the rest for controld and wraps what controld
 * sends.
 */
#include <string.h>

#include "tunneld/iphdr.h"
#include "tunneld/p2p.h"

#define P2P_NEXT_HEADER	255

/* An IP packet of len bytes, its length already checked by the worker. */
enum p2p_kind
p2p_classify(const uint8_t *p, size_t len)
{
	static const uint8_t	 zero[2 * IP6_ADDR_LEN];

	if (len < IP6_HDR_LEN + P2P_HDR_LEN || iphdr_version(p) != IPHDR_V6 ||
	    p[IP6_NXT] != P2P_NEXT_HEADER ||
	    memcmp(p + IP6_SRC, zero, sizeof(zero)) != 0)
		return (P2P_NOT);
	return (p[IP6_HDR_LEN] == P2P_GOODBYE ? P2P_GOODBYE_PKT : P2P_CONTROL);
}

/*
 * The event and JSON of a control packet, peer_id left for the caller;
 * -1: not AssignedIps or DomainStatus, or no JSON that fits.
 */
int
p2p_parse(const uint8_t *p, size_t len, struct ipc_p2p *m)
{
	size_t	 n;

	memset(m, 0, sizeof(*m));
	if (p2p_classify(p, len) != P2P_CONTROL ||
	    IP6_HDR_LEN + iphdr_get16(p + IP6_PAYLEN) != len)
		return (-1);
	m->event = p[IP6_HDR_LEN];
	if (m->event != IPC_P2P_ASSIGNED_IPS &&
	    m->event != IPC_P2P_DOMAIN_STATUS)
		return (-1);
	n = len - IP6_HDR_LEN - P2P_HDR_LEN;
	if (n == 0 || n > IPC_P2P_MAX)
		return (-1);
	m->len = (uint32_t)n;
	memcpy(m->data, p + IP6_HDR_LEN + P2P_HDR_LEN, n);
	return (0);
}

/* The packet for event and its JSON into out; its length, 0: no room. */
size_t
p2p_frame(uint8_t event, const uint8_t *json, size_t n, uint8_t *out,
    size_t size)
{
	size_t	 len = IP6_HDR_LEN + P2P_HDR_LEN + n;

	if (len > size || len > 0xffff)
		return (0);
	memset(out, 0, IP6_HDR_LEN + P2P_HDR_LEN);
	out[0] = IPHDR_V6 << 4;
	iphdr_put16(out + IP6_PAYLEN, (uint32_t)(len - IP6_HDR_LEN));
	out[IP6_NXT] = P2P_NEXT_HEADER;
	out[IP6_HDR_LEN] = event;
	if (n > 0)	/* Goodbye has no JSON, and json may be NULL */
		memcpy(out + IP6_HDR_LEN + P2P_HDR_LEN, json, n);
	return (len);
}

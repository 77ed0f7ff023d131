/*
 * p2p.h: the control packets peers send each other inside the tunnel
 * (PROTOCOL.md 4.6): an IPv6 header from :: to ::, next header 255, an
 * 8-byte header whose first byte is the event, then JSON. Only the
 * framing is read here; the JSON is controld's to parse.
 */
#ifndef FZC_P2P_H
#define FZC_P2P_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"

#define P2P_HDR_LEN	8
#define P2P_GOODBYE	2

enum p2p_kind {
	P2P_NOT,		/* an ordinary packet */
	P2P_GOODBYE_PKT,	/* the peer closes the connection */
	P2P_CONTROL,		/* AssignedIps, DomainStatus, or unknown */
};

enum p2p_kind p2p_classify(const uint8_t *, size_t);
int p2p_parse(const uint8_t *, size_t, struct ipc_p2p *);
size_t p2p_frame(uint8_t, const uint8_t *, size_t, uint8_t *, size_t);

#endif

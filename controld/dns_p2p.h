/*
 * dns_p2p.h: the JSON of the control packets a client and a gateway send
 * each other inside the tunnel (PROTOCOL.md 4.6): AssignedIps, the
 * client's proxy IPs for a name of a DNS resource, and DomainStatus, the
 * gateway's answer. What comes from a peer is untrusted: parsed strictly
 * here, in controld.
 */
#ifndef FZC_DNS_P2P_H
#define FZC_DNS_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/dns_pattern.h"

#define DNS_P2P_ID_SIZE		37	/* a UUID and NUL */
#define DNS_P2P_MAX_IPS		8

struct dns_p2p_ip {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* AF_INET: first 4 bytes */
};

struct dns_p2p_assigned {
	char		 resource_id[DNS_P2P_ID_SIZE];
	char		 domain[DNS_NAME_MAX + 1];	/* lower case */
	struct dns_p2p_ip ips[DNS_P2P_MAX_IPS];
	size_t		 nips;		/* 1..DNS_P2P_MAX_IPS */
};

struct dns_p2p_status {
	char		 resource_id[DNS_P2P_ID_SIZE];
	char		 domain[DNS_NAME_MAX + 1];	/* lower case */
	bool		 active;	/* "Active"; anything else is not */
};

/* The JSON text, malloc'd, NUL-terminated; NULL: it would not fit. */
char	*dns_p2p_assigned_json(const struct dns_p2p_assigned *);
char	*dns_p2p_status_json(const char *, const char *, bool);
/* 0, or -1 with *why: the packet is dropped. */
int dns_p2p_parse_assigned(const uint8_t *, size_t, struct dns_p2p_assigned *,
    const char **);
int dns_p2p_parse_status(const uint8_t *, size_t, struct dns_p2p_status *,
    const char **);
bool dns_p2p_proxy_ip(const struct dns_p2p_ip *);
size_t dns_p2p_map(const struct dns_p2p_assigned *, const struct dns_p2p_ip *,
    size_t, struct dns_p2p_ip[DNS_P2P_MAX_IPS]);

#endif

/*
 * dnat.h: the gateway's translation of DNS-resource proxy IPs (PROTOCOL.md
 * 4.6). A client's packet to one of its proxy IPs has its destination
 * rewritten to the real address the name resolved to, by nftables maps
 * keyed by client tunnel IP and proxy IP; conntrack rewrites the replies'
 * source back. The firewall (firewall.c) then sees the real destination
 * and enforces the resource's filters on it.
 *
 * Like firewall.c, this makes nft statements without I/O, from validated
 * values only; the caller runs them with firewall_nft().
 */
#ifndef FZC_DNAT_H
#define FZC_DNAT_H

#include <stddef.h>

#include "ipc/ipc.h"
#include "tunneld/firewall.h"

struct dnat;

/* NULL with *why if ifname cannot name an nft table. */
struct dnat	*dnat_new(const char *, const char **);
void		 dnat_free(struct dnat *);
const char	*dnat_table(const struct dnat *);
void		 dnat_setup(const struct dnat *, struct fw_script *);
void		 dnat_teardown(const struct dnat *, struct fw_script *);

/*
 * Client id, its tunnel /32 and /128, and the translations it has now
 * (none: it goes): appends the map element changes to the script.
 */
void dnat_client(struct dnat *, const char *, const struct ipc_prefix *,
    const struct ipc_prefix *, const struct ipc_dns_pair *, size_t,
    struct fw_script *);

/* After a failed script: the maps refilled from what dnat_client kept. */
void		 dnat_resync(const struct dnat *, struct fw_script *);

#endif

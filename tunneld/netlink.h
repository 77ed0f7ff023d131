/*
 * netlink.h: rtnetlink requests that configure the tunnel (link, addresses,
 * routes, policy rules), each recorded so that shutdown can undo it.
 *
 * Every function returns 0 (netlink_ifindex: the index) or -errno, errors
 * from the kernel included; nothing here logs.  An add creates only: if the
 * entry already exists it returns -EEXIST and records nothing, so that the
 * undo never removes what fzc did not create.
 */

#ifndef FZC_NETLINK_H
#define FZC_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netlink;

int	netlink_open(struct netlink **);
void	netlink_close(struct netlink *);
int	netlink_ifindex(struct netlink *, const char *);

/*
 * ifindex, MTU (1280 to 65535), up or down.  Not recorded: the TUN device
 * and its settings vanish with its last fd.
 */
int	netlink_link_set(struct netlink *, int, unsigned, bool);

/* ifindex, family (AF_INET, AF_INET6), address, prefix length (>= 1). */
int	netlink_addr_add(struct netlink *, int, int, const void *, unsigned);
/* Del: only what this handle added (else -ENOENT), and its record. */
int	netlink_addr_del(struct netlink *, int, int, const void *, unsigned);

/*
 * ifindex, family, destination (no bits set past the prefix), prefix length
 * (0 for a default route), table (0 for main), metric.
 */
int	netlink_route_add(struct netlink *, int, int, const void *, unsigned,
	    uint32_t, uint32_t);

/*
 * family, fwmark (0: match every packet), invert (only with a fwmark),
 * table (0 for main), priority (> 0), suppress_prefixlength 0.
 */
int	netlink_route_del(struct netlink *, int, int, const void *, unsigned,
	    uint32_t, uint32_t);
int	netlink_rule_add(struct netlink *, int, uint32_t, bool, uint32_t,
	    uint32_t, bool);
/* Del: only what this handle added (else -ENOENT), and its record. */
int	netlink_rule_del(struct netlink *, int, uint32_t, bool, uint32_t,
	    uint32_t, bool);

/*
 * Removes what this handle added, newest first.  Entries the kernel has
 * already removed count as removed; entries that fail stay recorded, so a
 * second call retries only those.  Returns the first error.
 */
int	netlink_undo_all(struct netlink *);
size_t	netlink_undo_count(const struct netlink *);

#endif

/*
 * firewall.h: the gateway role's nftables rules. One table per tunnel
 * interface: traffic from the tunnel is forwarded (and masqueraded) only
 * where an authorization allows it, everything else from the tunnel gets
 * ICMP "administratively prohibited" (PROTOCOL 4.5).
 *
 * The rule text is made here without I/O: the caller hands each script to
 * firewall_nft(), directly or through the runner that keeps it off the
 * event loop (fwrun.h).
 * What each client may reach lives in sets keyed by client tunnel IP,
 * destination range, protocol and port range; a change to a client's
 * authorizations becomes element deletions and additions, never a new
 * chain.
 */
#ifndef FZC_FIREWALL_H
#define FZC_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc/ipc.h"

#define FIREWALL_NFT		"/usr/sbin/nft"

struct firewall;

/* A growing nft script. */
struct fw_script {
	char	*text;
	size_t	 len;
	size_t	 size;
};

void		 fw_script_reset(struct fw_script *);
void		 fw_script_free(struct fw_script *);
void		 fw_script_add(struct fw_script *, const char *);

/* NULL with *why if ifname cannot name an nft table and rule. */
/* Whether nft can take the name in a table name; *why when not. */
int		 firewall_ifname_ok(const char *, const char **);
struct firewall	*firewall_new(const char *, const char **);
void		 firewall_free(struct firewall *);
const char	*firewall_table(const struct firewall *);

/* The table, replacing a stale one; its deletion. */
void		 firewall_setup(const struct firewall *, struct fw_script *);
void		 firewall_teardown(const struct firewall *,
		    struct fw_script *);

/*
 * Client id, its tunnel /32 and /128, and the resources it is authorized
 * for now (none: it goes). Appends the element changes to the script;
 * returns how many, or -1 with *why (too many elements).
 */
int		 firewall_client(struct firewall *, const char *,
		    const struct ipc_prefix *, const struct ipc_prefix *,
		    const struct ipc_gw_resource *const *, size_t,
		    struct fw_script *, const char **);

/*
 * After a script failed the kernel's sets may differ from what
 * firewall_client() assumed: firewall_resync() refills every set from
 * scratch; if that fails too, firewall_lockdown() empties them, so that
 * nothing is forwarded rather than too much. The gateway's runner drops
 * whatever waited behind a refused transaction and runs the resync in
 * its place, so the resync must write the whole of the table's changing
 * state: a set or map added to the table is refilled here too.
 */
void		 firewall_resync(const struct firewall *, struct fw_script *);
void		 firewall_lockdown(const struct firewall *, struct fw_script *);

/*
 * Runs nft -f - on the script, one transaction, waiting for it: 0, or -1
 * with nft's complaint in err. The one place nft is executed.
 */
int		 firewall_nft(const char *, const struct fw_script *, char *,
		    size_t);

#endif

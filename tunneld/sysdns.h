/*
 * sysdns.h: the system's DNS configuration while the client runs
 * (PROTOCOL 4.6, Firezone's --dns-control): the sentinels as the resolvers
 * and the portal's search domain, through systemd-resolved or by
 * rewriting /etc/resolv.conf, and the system's own configuration back when
 * fzc stops, or when it starts again after a crash.
 */
#ifndef FZC_SYSDNS_H
#define FZC_SYSDNS_H

#include <stddef.h>

#include "ipc/ipc.h"

enum sysdns_mode {
	SYSDNS_DEFAULT,		/* resolved when it runs, else the file */
	SYSDNS_DISABLED,
	SYSDNS_RESOLV_CONF,	/* "etc-resolv-conf" */
	SYSDNS_RESOLVED,	/* "systemd-resolved" */
};

#define SYSDNS_RESOLV_CONF_PATH	"/etc/resolv.conf"
/* Larger files are not ours to rewrite. */
#define SYSDNS_FILE_MAX		(64 * 1024)

/* Firezone's names for the modes; -1 for another. */
int		 sysdns_parse_mode(const char *, enum sysdns_mode *);
const char	*sysdns_mode_name(enum sysdns_mode);

/*
 * The resolv.conf that sends the system to these sentinels with this
 * search domain, keeping the original's other search domains and its
 * options. Returns the length written to out (NUL-terminated), or 0 when
 * it does not fit.
 */
size_t sysdns_render(const struct ipc_dns_config *, const char *, char *,
    size_t);

struct sysdns;

/*
 * Before tunneld gives up the right to change the file: the mode settled
 * (SYSDNS_DEFAULT resolved), the file opened for writing, and what a
 * crashed run left changed put back from the copy in state_dir. NULL with
 * *why on failure; a SYSDNS_DISABLED object does nothing.
 */
struct sysdns	*sysdns_open(enum sysdns_mode, const char *, const char *,
		    const char **);
enum sysdns_mode sysdns_mode(const struct sysdns *);
/*
 * A new read-only fd holding resolv.conf as it was before fzc changed it,
 * for controld's upstreams; -1 with errno.
 */
int		 sysdns_original_fd(const struct sysdns *);
/*
 * The configuration for the tunnel device with this ifindex: 0, or an
 * errno value. n 0 puts the system's own back.
 */
int		 sysdns_apply(struct sysdns *, int, const struct ipc_dns_config *);
/* The system's own configuration back, and everything freed. */
void		 sysdns_close(struct sysdns *);

#endif

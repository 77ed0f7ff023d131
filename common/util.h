/* util.h: allocation wrappers and small helpers shared by all programs. */
#ifndef FZC_UTIL_H
#define FZC_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The mark set on every socket fzc opens for its own traffic (portal,
 * relays, gateways, upstream DNS), so that policy routing keeps it out of
 * the tunnel: the ASCII bytes "fzc". Chosen to stay clear of wg-quick's
 * 51820 (0xca6c) and of small marks other tools commonly use.
 */
#define FZC_FWMARK		0x667a63

#define FZC_DEFAULT_USER	"fzc"
#define FZC_CONTROL_SOCKET	"/run/fzc/control.sock"
/* doc/control-protocol.md; a change that breaks a client bumps it. */
#define FZC_CONTROL_VERSION	1

/* Global and daemon state: die on out-of-memory, refuse 0 and overflow. */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);

uint64_t	 util_now_ns(void);
uint64_t	 util_realtime_s(void);

#endif

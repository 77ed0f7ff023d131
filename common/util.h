/*
 * util.h: allocation wrappers and small helpers shared by all programs.
 *
 * Return codes, the rule for every function that can fail:
 *  - Success is 0 (or a count, an index, a pointer); failure is -1 (or
 *    NULL), with errno set when it came from the system.
 *  - If the caller only needs to say why (a log line, a refusal), the
 *    function takes a last `const char **why` and points it at a static
 *    string (NULL allowed), or a `char *err, size_t errlen` when the
 *    message quotes the input; it still returns -1.
 *  - If callers must act differently on different failures, the function
 *    returns an enum whose names say what happened (ipc_recv_result,
 *    ice_input, turn_wrap, wg_error), not -2 or other bare numbers.
 *  - Negative errno values only where callers test for a kernel errno
 *    (netlink.h: -EEXIST means "not created, nothing to undo").
 */
#ifndef FZC_UTIL_H
#define FZC_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * The mark set on every socket fzc opens for its own traffic (portal,
 * relays, gateways, upstream DNS), so that policy routing keeps it out of
 * the tunnel: the ASCII bytes "fzc". Chosen to stay clear of wg-quick's
 * 51820 (0xca6c) and of small marks other tools commonly use.
 */
#define FZC_FWMARK		0x667a63
/*
 * Routes into the tunnel live in a table only unmarked traffic asks
 * (FIREZONE-CLIENTS 2.4 and 2.5), by a rule ahead of the main table: a
 * path of the tunnel never leads through the tunnel itself.
 */
#define FZC_TABLE_TUNNEL	(FZC_FWMARK + 1)
#define FZC_RULE_TUNNEL		31999

#define FZC_DEFAULT_USER	"fzc"
/* fzc-tunneld's data plane, once set up */
#define FZC_TUNNEL_USER	"fzc-tunneld"
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
int		 util_save_file(const char *, const char *, mode_t);
int		 util_sealed_memfd(const char *, const void *, size_t);

#endif

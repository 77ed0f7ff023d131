/* wgmode.h: plain WireGuard mode (--wireguard FILE), a role of role.h. */
#ifndef FZC_WGMODE_H
#define FZC_WGMODE_H

struct event_base;
struct role;
struct role_options;

struct role	*wgmode_new(struct event_base *, const struct role_options *);

#endif

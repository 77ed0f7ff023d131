/* gateway.h: the gateway role's privileged half (PROTOCOL 3, role.h). */
#ifndef FZC_GATEWAY_H
#define FZC_GATEWAY_H

struct event_base;
struct role;
struct role_options;

struct role	*gateway_new(struct event_base *, const struct role_options *);

#endif

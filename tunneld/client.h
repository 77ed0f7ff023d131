/* client.h: the client role's privileged half (role.h's operations). */
#ifndef FZC_CLIENT_H
#define FZC_CLIENT_H

struct event_base;
struct role;
struct role_options;

struct role	*client_new(struct event_base *, const struct role_options *);

#endif

/* session_client.h: the client's portal session. */
#ifndef FZC_SESSION_CLIENT_H
#define FZC_SESSION_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "controld/dns_proxy.h"
#include "controld/session.h"

extern const struct session_role session_client_role;

/* These answer for the client role only (-1, nothing or empty else). */
void	 session_client_need_authz(struct session *, const char *);
int	 session_client_set_internet(struct session *, bool,
	    session_done_fn *, void *);
json_t	*session_client_resources(struct session *);
bool	 session_client_dns_lookup(struct session *, const char *,
	    char[PORTAL_ID_SIZE], enum portal_ip_stack *);
void	 session_client_dns_restore(struct session *, const char *,
	    const struct dns_proxy_name *);
void	 session_client_dns_name(struct session *, const char *,
	    const struct dns_proxy_name *);
bool	 session_client_dns_target(struct session *, const char *, bool,
	    struct portal_addr *);

#endif

/* session_gateway.h: the gateway's portal session. */
#ifndef FZC_SESSION_GATEWAY_H
#define FZC_SESSION_GATEWAY_H

#include "controld/session.h"

extern const struct session_role session_gateway_role;

void	 session_gateway_interface(struct session *,
	    const struct portal_interface *);
void	session_gateway_dns_kept(struct session *,
	    const struct ipc_gw_dns_pattern *);
void	session_gateway_client_kept(struct session *,
	    const struct ipc_gw_client *);

#endif

/* session.h: the portal session of fzc-controld (client or gateway role). */
#ifndef FZC_SESSION_H
#define FZC_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"

struct controld;
struct session;

/* Called when tunneld answers a token store or delete: errno or 0. */
typedef void session_done_fn(void *, int);

struct session	*session_new(struct controld *);
void		 session_free(struct session *);
void		 session_config(struct session *,
		    const struct ipc_portal_config *);
void		 session_token(struct session *, int);
void		 session_token_result(struct session *, uint32_t,
		    const struct ipc_token_result *);
int		 session_socket(struct session *, uint32_t, int);
void		 session_state_ack(struct session *, uint32_t,
		    const struct ipc_state_ack *);
json_t		*session_status(struct session *);
json_t		*session_resources(struct session *);
int		 session_sign_in(struct session *, const char *,
		    session_done_fn *, void *);
int		 session_sign_out(struct session *, session_done_fn *, void *);
int		 session_set_internet(struct session *, bool, session_done_fn *,
		    void *);
void		 session_forget_waiter(struct session *, void *);
void		 session_need_authz(struct session *, const char *);
void		 session_local_candidate(struct session *,
		    const struct ipc_candidate *, bool);
void		 session_no_relays(struct session *, const char *);

#endif

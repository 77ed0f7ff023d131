/*
 * ICE agent (RFC 8445, trickle ICE RFC 8838) for one connection, sans-IO:
 * it reads no clock, owns no socket and logs nothing.  The caller gives it
 * its local candidates and the remote ones (SDP candidate strings, as the
 * portal carries them), feeds it the STUN datagrams that arrived for it
 * with the path they took, sends what ice_poll_transmit() hands out,
 * drains ice_poll_event() and calls ice_handle_timeout() at
 * ice_next_deadline().
 *
 * Paths name the local side by its base: a host socket address, or a
 * relayed address, in which case the datagram goes through (or came
 * through) the TURN allocation that owns that relayed address.  For
 * ice_handle_input() the path is the one the datagram took: local is the
 * address it arrived on, remote its source.
 *
 * ice_add_local() takes host, srflx and relay candidates, with the
 * related address (raddr/rport in the string) for the last two, or NULL,
 * and returns the candidate to signal.  Remote candidates come and go as
 * the portal's strings; ice_remove_remote() drops every pair using that
 * address, the nominated one included.
 *
 * Functions that take a "const char **why" set it to a static string
 * saying why an input was refused or ignored (NULL is allowed).
 * ICE_IN_NOT_MINE lets a caller with several agents try the next one.
 */

#ifndef FZC_ICE_H
#define FZC_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/timer.h"
#include "tunneld/nat/ice_candidate.h"
#include "tunneld/nat/stun.h"

#define ICE_MAX_LOCAL		8
#define ICE_MAX_REMOTE		32
#define ICE_MAX_CRED		256	/* ufrag, password: RFC 8839 */
#define ICE_MAX_MSG		640	/* largest message we build */

enum ice_state {
	ICE_NEW,
	ICE_CHECKING,
	ICE_CONNECTED,
	ICE_DISCONNECTED,	/* lost the path, after the grace period */
	ICE_FAILED		/* never found one */
};

struct ice_path {
	struct stun_addr	local;	/* host or relayed address */
	struct stun_addr	remote;
	bool			relayed;
};

enum ice_event_type {
	ICE_EV_STATE,		/* state */
	ICE_EV_NOMINATED	/* path, local_type, remote_type: use it */
};

struct ice_event {
	enum ice_event_type	type;
	enum ice_state		state;
	struct ice_path		path;
	enum ice_cand_type	local_type;
	enum ice_cand_type	remote_type;
};

enum ice_input {
	ICE_IN_HANDLED,
	ICE_IN_NOT_MINE,	/* another agent's ufrag or transaction */
	ICE_IN_IGNORED		/* malformed, unauthenticated: dropped */
};

typedef void	(*ice_random_fn)(void *, uint8_t *, size_t);

struct ice_config {
	bool		 controlling;
	const char	*local_ufrag;
	const char	*local_pwd;
	const char	*remote_ufrag;
	const char	*remote_pwd;
	uint64_t	 rto_initial;
	uint64_t	 rto_max;	/* and the interval once valid */
	unsigned int	 max_retransmits;
	unsigned int	 consent_misses; /* unanswered checks of a valid
					   pair in use: consent lost */
	uint64_t	 idle_after;	/* no traffic for this long: idle */
	uint64_t	 idle_interval;
	unsigned int	 idle_retransmits;
	uint64_t	 grace;		/* lost this long: disconnect */
	uint64_t	 pacing;	/* Ta, between new checks */
	uint64_t	 candidate_timeout; /* no pair this long: failed */
	ice_random_fn	 random;	/* tie-breaker, transaction ids */
	void		*random_arg;
};

struct ice_agent;

void		 ice_config_defaults(struct ice_config *, bool);
struct ice_agent *ice_new(const struct ice_config *, const char **);
void		 ice_free(struct ice_agent *);
void		 ice_start(struct ice_agent *, uint64_t);

int		 ice_add_local(struct ice_agent *, uint64_t,
		    enum ice_cand_type, const struct stun_addr *,
		    const struct stun_addr *, struct ice_candidate *);
int		 ice_remove_local(struct ice_agent *, uint64_t,
		    const struct stun_addr *);
int		 ice_get_local(const struct ice_agent *, enum ice_cand_type,
		    const struct stun_addr *, struct ice_candidate *);
int		 ice_add_remote(struct ice_agent *, uint64_t, const char *,
		    const char **);
int		 ice_remove_remote(struct ice_agent *, uint64_t,
		    const char *, const char **);

enum ice_input	 ice_handle_input(struct ice_agent *, uint64_t,
		    const uint8_t *, size_t, const struct ice_path *,
		    const char **);
void		 ice_handle_timeout(struct ice_agent *, uint64_t);
uint64_t	 ice_next_deadline(const struct ice_agent *);
size_t		 ice_poll_transmit(struct ice_agent *, uint8_t *, size_t,
		    struct ice_path *);
bool		 ice_poll_event(struct ice_agent *, struct ice_event *);
void		 ice_note_traffic(struct ice_agent *, uint64_t);
void		 ice_restart_checks(struct ice_agent *, uint64_t);

enum ice_state	 ice_get_state(const struct ice_agent *);
bool		 ice_is_controlling(const struct ice_agent *);
bool		 ice_is_idle(const struct ice_agent *);
bool		 ice_get_selected(const struct ice_agent *,
		    struct ice_path *);
const char	*ice_state_name(enum ice_state);

#endif /* FZC_ICE_H */

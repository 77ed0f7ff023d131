/*
 * ice_candidate.h: the SDP candidate codec (RFC 8839 5.1) and candidate
 * priorities (RFC 8445 5.1.2.1), sans-IO, shared by the ICE agent and its
 * callers.  Functions that take a "const char **why" set it to a static
 * string saying why an input was refused (NULL is allowed).
 */

#ifndef FZC_ICE_CANDIDATE_H
#define FZC_ICE_CANDIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunneld/nat/stun.h"

#define ICE_CANDIDATE_MAX_FOUNDATION	32
#define ICE_CANDIDATE_STRLEN		192	/* any formatted candidate */

enum ice_cand_type {
	ICE_CAND_HOST,
	ICE_CAND_SRFLX,
	ICE_CAND_PRFLX,
	ICE_CAND_RELAY
};

struct ice_candidate {
	enum ice_cand_type	type;
	char			foundation[ICE_CANDIDATE_MAX_FOUNDATION + 1];
	uint32_t		priority;
	struct stun_addr	addr;
	bool			has_related;	/* raddr/rport */
	struct stun_addr	related;
};

bool		 ice_candidate_chars(const char *, size_t);
uint32_t	 ice_candidate_priority(enum ice_cand_type, uint16_t);
int		 ice_candidate_parse(struct ice_candidate *, const char *,
		    const char **);
int		 ice_candidate_format(const struct ice_candidate *, char *,
		    size_t);

#endif /* FZC_ICE_CANDIDATE_H */

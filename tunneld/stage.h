/*
 * stage.h: packets held back, oldest first, until they can go: to a peer
 * until its session exists, to a resource until it is authorized.
 *
 * Every stage of the process draws on one budget, STAGE_CAP bytes of
 * packets in all: a flood toward many resources or peers that are not
 * ready costs at most that much memory. A packet beyond it is dropped,
 * with a log line at most every STAGE_LOG_S seconds.
 */
#ifndef FZC_STAGE_H
#define FZC_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STAGE_MAX	128		/* packets a stage */
#define STAGE_CAP	(4U << 20)	/* bytes all stages together */
#define STAGE_LOG_S	10

struct stage {
	uint8_t		*pkt[STAGE_MAX];
	size_t		 len[STAGE_MAX];
	int		 n;
	uint64_t	 since;		/* first held at, monotonic */
};

/* stage.c */
/* false: dropped (longer than mtu, or over STAGE_CAP). */
bool	stage_push(struct stage *, unsigned, const uint8_t *, size_t);
void	stage_clear(struct stage *);
/* All of the second's packets after the first's, in order; it is empty. */
void	stage_move(struct stage *, struct stage *);
/* The bytes all stages hold now. */
size_t	stage_bytes(void);

#endif

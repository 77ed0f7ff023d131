/*
 * stage.h: packets held back, oldest first, until they can go: to a peer
 * until its session exists, to a resource until it is authorized.
 */
#ifndef FZC_STAGE_H
#define FZC_STAGE_H

#include <stddef.h>
#include <stdint.h>

#define STAGE_MAX	128

struct stage {
	uint8_t		*buf;		/* STAGE_MAX slots */
	unsigned	 slot;		/* bytes each: the MTU */
	size_t		 len[STAGE_MAX];
	int		 n;
	uint64_t	 since;		/* first held at, monotonic */
};

/* stage.c */
void	stage_push(struct stage *, unsigned, const uint8_t *, size_t);
void	stage_clear(struct stage *);

#endif

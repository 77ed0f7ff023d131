/*
 * pace.h: the pace of the datagrams sent on one path, as a generic cell
 * rate algorithm: up to a burst of bytes goes at once, then bytes leave
 * at the rate. Sans-IO: the caller gives the time and waits as told.
 */
#ifndef FZC_PACE_H
#define FZC_PACE_H

#include <stddef.h>
#include <stdint.h>

struct pace {
	uint64_t	 rate;		/* bytes a second; 0: unpaced */
	uint64_t	 burst_ns;	/* the burst, in time at the rate */
	uint64_t	 tat;		/* when what was taken has left, ns */
};

void		 pace_init(struct pace *, uint64_t, uint64_t);
uint64_t	 pace_take(struct pace *, uint64_t, size_t);

#endif

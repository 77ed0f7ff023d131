/* timer.h: libevent timers armed from monotonic nanosecond deadlines. */
#ifndef FZC_TIMER_H
#define FZC_TIMER_H

#include <stdint.h>

/* What the sans-IO state machines return for "no deadline". */
#define TIMER_NEVER	UINT64_MAX

struct event;

void	timer_at(struct event *, uint64_t, uint64_t);
void	timer_in(struct event *, uint64_t);

#endif

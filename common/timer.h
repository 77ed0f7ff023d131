/* timer.h: libevent timers armed from monotonic nanosecond deadlines. */
#ifndef FZC_TIMER_H
#define FZC_TIMER_H

#include <stdint.h>

/*
 * Times are uint64_t nanoseconds everywhere (util_now_ns(), the sans-IO
 * state machines' deadlines); these turn other units into them.
 */
#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_USEC	1000ULL

/* What the sans-IO state machines return for "no deadline". */
#define TIMER_NEVER	UINT64_MAX

struct event;

void	timer_at(struct event *, uint64_t, uint64_t);
void	timer_in(struct event *, uint64_t);

#endif

/* timer.c: libevent timers armed from monotonic nanosecond deadlines. */
#include <sys/time.h>

#include <event2/event.h>

#include "common/timer.h"

/* Arms ev to fire delay nanoseconds from now. */
void
timer_in(struct event *ev, uint64_t delay)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(delay / NSEC_PER_SEC);
	tv.tv_usec = (suseconds_t)(delay % NSEC_PER_SEC / NSEC_PER_USEC);
	evtimer_add(ev, &tv);
}

/* Arms ev for the deadline (already past: at once); TIMER_NEVER: off. */
void
timer_at(struct event *ev, uint64_t deadline, uint64_t now)
{
	if (deadline == TIMER_NEVER) {
		evtimer_del(ev);
		return;
	}
	timer_in(ev, deadline > now ? deadline - now : 0);
}

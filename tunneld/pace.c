/*
 * pace.c: a pace per path (GCRA, as ATM cells and traffic policers keep
 * it): one number, the time at which what was taken so far has left at
 * the rate, stands for the bucket. A path idle for longer than a burst
 * takes at most one burst at once.
 */
#include "common/timer.h"
#include "tunneld/pace.h"

/* rate in bytes a second (0: unpaced), burst in bytes. */
void
pace_init(struct pace *p, uint64_t rate, uint64_t burst)
{
	p->rate = rate;
	p->burst_ns = rate == 0 ? 0 : burst * NSEC_PER_SEC / rate;
	p->tat = 0;
}

/*
 * Takes n bytes at now (ns, monotonic): how long the caller waits before
 * it sends them, 0 for at once.
 */
uint64_t
pace_take(struct pace *p, uint64_t now, size_t n)
{
	uint64_t	 start;

	if (p->rate == 0)
		return (0);
	start = p->tat > now ? p->tat : now;
	p->tat = start + (uint64_t)n * NSEC_PER_SEC / p->rate;
	return (p->tat - now > p->burst_ns ? p->tat - now - p->burst_ns : 0);
}

/*
 * stage.c: packets held back until they can go, each in an allocation of
 * its own length, counted against the budget of all stages together.
 * Workers push under their stage's lock; the budget is one atomic.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/stage.h"

static _Atomic size_t	 stage_total;
static _Atomic uint64_t	 stage_drops;		/* since the last line */
static _Atomic uint64_t	 stage_logged;		/* ns of the last line */

static bool
stage_reserve(size_t len)
{
	size_t	 cur = atomic_load(&stage_total);

	do {
		if (cur + len > STAGE_CAP)
			return (false);
	} while (!atomic_compare_exchange_weak(&stage_total, &cur, cur + len));
	return (true);
}

/* Held packets are plaintext: wiped before they go. */
static void
stage_release(uint8_t *pkt, size_t len)
{
	explicit_bzero(pkt, len);
	free(pkt);
	atomic_fetch_sub(&stage_total, len);
}

/* One line per STAGE_LOG_S at most, with what was dropped since. */
static void
stage_dropped(void)
{
	uint64_t	 now = util_now_ns(), last, n;

	atomic_fetch_add(&stage_drops, 1);
	last = atomic_load(&stage_logged);
	if (last != 0 && now - last < STAGE_LOG_S * NSEC_PER_SEC)
		return;
	if (!atomic_compare_exchange_strong(&stage_logged, &last, now))
		return;
	n = atomic_exchange(&stage_drops, 0);
	log_warnx("held packets: %llu dropped, the %u KiB for packets waiting "
	    "for a resource's authorization or a connection are full",
	    (unsigned long long)n, STAGE_CAP / 1024);
}

/* Full: the oldest goes, as the newest is likelier to matter. */
static void
stage_add(struct stage *st, uint8_t *p, size_t len)
{
	if (st->n == STAGE_MAX) {
		stage_release(st->pkt[0], st->len[0]);
		memmove(st->pkt, st->pkt + 1,
		    (STAGE_MAX - 1) * sizeof(st->pkt[0]));
		memmove(st->len, st->len + 1,
		    (STAGE_MAX - 1) * sizeof(st->len[0]));
		st->n--;
	}
	if (st->n == 0)
		st->since = util_now_ns();
	st->pkt[st->n] = p;
	st->len[st->n++] = len;
}

bool
stage_push(struct stage *st, unsigned mtu, const uint8_t *pkt, size_t len)
{
	uint8_t	*p;

	if (len > mtu || len == 0)
		return (false);
	if (!stage_reserve(len)) {
		stage_dropped();
		return (false);
	}
	p = xmalloc(len);
	memcpy(p, pkt, len);
	stage_add(st, p, len);
	return (true);
}

/* The packets change hands, not memory: nothing is counted twice. */
void
stage_move(struct stage *to, struct stage *from)
{
	int	 i;

	for (i = 0; i < from->n; i++)
		stage_add(to, from->pkt[i], from->len[i]);
	memset(from, 0, sizeof(*from));
}

void
stage_clear(struct stage *st)
{
	int	 i;

	for (i = 0; i < st->n; i++)
		stage_release(st->pkt[i], st->len[i]);
	memset(st, 0, sizeof(*st));
}

size_t
stage_bytes(void)
{
	return (atomic_load(&stage_total));
}

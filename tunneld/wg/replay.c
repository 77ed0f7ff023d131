/*
 * Replay window.  Counters are stored shifted by one so that top == 0
 * means "nothing received yet" and counter 0 is still accepted once.
 */

#include <string.h>

#include "tunneld/wg/replay.h"
#include "tunneld/wg/wg.h"

void
wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/*
 * Read-only check, cheap enough to run before spending time on the AEAD:
 * false when the counter is at or beyond the limit, too old, or seen.
 */
bool
wg_replay_acceptable(const struct wg_replay *r, uint64_t counter)
{
	uint64_t	 c;
	size_t		 block;
	unsigned long	 bit;

	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return (false);
	c = counter + 1;
	if (c > r->top)
		return (true);
	if (r->top - c >= WG_REPLAY_WINDOW)
		return (false);
	block = (c / WG_REPLAY_BLOCK_BITS) % WG_REPLAY_BLOCKS;
	bit = 1UL << (c % WG_REPLAY_BLOCK_BITS);
	return ((r->map[block] & bit) == 0);
}

/*
 * Records an authenticated counter.  Returns WG_ERR_REPLAY, with nothing
 * changed, when wg_replay_acceptable() would have refused it.
 */
int
wg_replay_update(struct wg_replay *r, uint64_t counter)
{
	uint64_t	 c, top_block, new_block, n, i;
	size_t		 block;
	unsigned long	 bit;

	if (!wg_replay_acceptable(r, counter))
		return (WG_ERR_REPLAY);
	c = counter + 1;
	if (c > r->top) {
		/* Clear the blocks the window slides into. */
		top_block = r->top / WG_REPLAY_BLOCK_BITS;
		new_block = c / WG_REPLAY_BLOCK_BITS;
		n = new_block - top_block;
		if (n > WG_REPLAY_BLOCKS)
			n = WG_REPLAY_BLOCKS;
		for (i = 1; i <= n; i++)
			r->map[(top_block + i) % WG_REPLAY_BLOCKS] = 0;
		r->top = c;
	}
	block = (c / WG_REPLAY_BLOCK_BITS) % WG_REPLAY_BLOCKS;
	bit = 1UL << (c % WG_REPLAY_BLOCK_BITS);
	r->map[block] |= bit;
	return (WG_OK);
}

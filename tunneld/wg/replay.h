/*
 * Sliding window over received transport counters (RFC 6479 layout): a
 * ring of bitmap blocks whose newest block is cleared as the window moves,
 * so advancing costs at most one pass over the ring.
 */

#ifndef FZC_WG_REPLAY_H
#define FZC_WG_REPLAY_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_TOTAL_BITS	4096
#define WG_REPLAY_BLOCK_BITS	(sizeof(unsigned long) * CHAR_BIT)
#define WG_REPLAY_BLOCKS	(WG_REPLAY_TOTAL_BITS / WG_REPLAY_BLOCK_BITS)
/* One block is always being recycled, so it does not count. */
#define WG_REPLAY_WINDOW	(WG_REPLAY_TOTAL_BITS - WG_REPLAY_BLOCK_BITS)

struct wg_replay {
	uint64_t	 top;	/* greatest counter accepted, plus one */
	unsigned long	 map[WG_REPLAY_BLOCKS];
};

void	wg_replay_init(struct wg_replay *);
bool	wg_replay_acceptable(const struct wg_replay *, uint64_t);
int	wg_replay_update(struct wg_replay *, uint64_t);

#endif /* FZC_WG_REPLAY_H */

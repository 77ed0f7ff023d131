/* stage.c: packets held back until they can go. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tunneld/stage.h"

/* Full: the oldest goes, as the newest is likelier to matter. */
void
stage_push(struct stage *st, unsigned mtu, const uint8_t *pkt, size_t len)
{
	if (len > mtu)
		return;
	if (st->buf == NULL) {
		st->buf = xcalloc(STAGE_MAX, mtu);
		st->slot = mtu;
	}
	if (st->n == 0)
		st->since = util_now_ns();
	if (st->n == STAGE_MAX) {
		memmove(st->buf, st->buf + mtu, (size_t)(STAGE_MAX - 1) * mtu);
		memmove(st->len, st->len + 1, (STAGE_MAX - 1) * sizeof(size_t));
		st->n--;
	}
	memcpy(st->buf + (size_t)st->n * mtu, pkt, len);
	st->len[st->n++] = len;
}

/* Held packets are plaintext: wiped before they go. */
void
stage_clear(struct stage *st)
{
	if (st->buf != NULL) {
		explicit_bzero(st->buf, (size_t)STAGE_MAX * st->slot);
		free(st->buf);
	}
	memset(st, 0, sizeof(*st));
}

/*
 * sentinel.h: DNS queries applications send to the stub resolver's
 * sentinel addresses (PROTOCOL.md 4.6). A worker hands them to the main
 * thread, which ships the UDP payload to controld (which parses DNS, not
 * this process) and writes controld's answer back as an IP packet.
 */
#ifndef FZC_SENTINEL_H
#define FZC_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/handoff.h"

enum sentinel_take {
	SENTINEL_NOT,		/* not a query to a sentinel */
	SENTINEL_QUEUED,
	SENTINEL_FULL,		/* one, but the queue is full: dropped */
};

enum sentinel_take sentinel_take(struct handoff *, const uint8_t *, size_t);
int		 sentinel_query(const uint8_t *, size_t, struct ipc_dns *);
size_t		 sentinel_reply(const struct ipc_dns *, uint8_t *, size_t);

#endif

/* wireguard.h: plain WireGuard mode, controld's half. */
#ifndef FZC_WIREGUARD_H
#define FZC_WIREGUARD_H

#include "ipc/ipc.h"

struct tunneld_chan;

void	wireguard_configure(struct tunneld_chan *, const struct ipc_msg *);

#endif

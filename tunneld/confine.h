/* confine.h: the seccomp allow-list of fzc-tunneld's data plane. */
#ifndef FZC_CONFINE_H
#define FZC_CONFINE_H

#include <stdbool.h>

void	confine_enter(bool);

#endif

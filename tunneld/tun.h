/* tun.h: the multi-queue TUN device, one queue per worker. */
#ifndef FZC_TUN_H
#define FZC_TUN_H

#include <net/if.h>

#define TUN_TXQLEN	4096

struct tun {
	char	 name[IFNAMSIZ];
	int	*fds;
	int	 nqueues;
};

int	tun_open(struct tun *, const char *, int, const char **);
void	tun_close(struct tun *);

#endif

/* tun.h: the multi-queue TUN device, one queue per worker. */
#ifndef FZC_TUN_H
#define FZC_TUN_H

#include <net/if.h>

#include <stdbool.h>

#define TUN_TXQLEN	4096

/* The offloads a device got (tun_open's last word says which to try). */
#define TUN_OFFLOAD_TSO	0x1	/* TCP super-packets, IPv4 and IPv6 */
#define TUN_OFFLOAD_USO	0x2	/* UDP super-packets */

struct tun {
	char	 name[IFNAMSIZ];
	int	*fds;
	int	 nqueues;
	bool	 vnet;		/* reads and writes carry a virtio-net header */
	unsigned offloads;
};

int	tun_open(struct tun *, const char *, int, bool, const char **);
void	tun_close(struct tun *);

#endif

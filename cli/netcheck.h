/* netcheck.h: fzc netcheck, relay and NAT checks without the daemons. */
#ifndef FZC_NETCHECK_H
#define FZC_NETCHECK_H

int	netcheck_main(int, char *[], int);

#endif

/* protsock.h: sockets whose traffic never enters the tunnel. */
#ifndef FZC_PROTSOCK_H
#define FZC_PROTSOCK_H

int	protsock_open(int, int);

#endif

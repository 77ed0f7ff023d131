/* protsock.c: sockets whose traffic never enters the tunnel. */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "common/util.h"
#include "tunneld/protsock.h"

/*
 * A socket carrying FZC_FWMARK; the policy-routing rule installed with the
 * tunnel routes marked traffic by the main table. Setting SO_MARK needs
 * CAP_NET_ADMIN, which is why fzc-controld asks us for these. Returns the
 * fd, or -1 with errno set.
 */
int
protsock_open(int family, int type)
{
	uint32_t	 mark = FZC_FWMARK;
	int		 fd, saved_errno;

	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
		return (-1);
	}
	return (fd);
}

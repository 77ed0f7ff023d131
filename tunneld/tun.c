/* tun.c: the multi-queue TUN device, one queue per worker. */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/if_tun.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "tunneld/tun.h"

static int
tun_attach(const char *name, char *actual)
{
	struct ifreq	 ifr;
	int		 fd, saved_errno;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)) == -1)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		goto fail;
	/* Queue flags are per device and a mismatch is silently accepted. */
	if (ioctl(fd, TUNGETIFF, &ifr) == -1)
		goto fail;
	if ((ifr.ifr_flags & (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)) !=
	    (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)) {
		errno = EEXIST;
		goto fail;
	}
	memcpy(actual, ifr.ifr_name, IFNAMSIZ);
	actual[IFNAMSIZ - 1] = '\0';
	return (fd);
fail:
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return (-1);
}

/*
 * The kernel's default of 500 overflows at a burst from a fast sender
 * before a worker gets to read, and every overflow is a TCP retransmit.
 */
static void
tun_set_txqlen(struct tun *t)
{
	struct ifreq	 ifr;
	int		 s;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, strnlen(t->name, IFNAMSIZ - 1));
	ifr.ifr_qlen = TUN_TXQLEN;
	(void)ioctl(s, SIOCSIFTXQLEN, &ifr);
	close(s);
}

/*
 * Opens the device NAME (a kernel-chosen name for "fzc%d" patterns) with
 * nqueues queues. Non-persistent: the device goes away with the last fd.
 */
int
tun_open(struct tun *t, const char *name, int nqueues, const char **why)
{
	int	 i;

	memset(t, 0, sizeof(*t));
	if (strlen(name) >= IFNAMSIZ) {
		*why = "interface name too long";
		errno = EINVAL;
		return (-1);
	}
	t->fds = xcalloc((size_t)nqueues, sizeof(int));
	memcpy(t->name, name, strlen(name));
	for (i = 0; i < nqueues; i++) {
		/* Later queues attach to the name the first one got. */
		if ((t->fds[i] = tun_attach(t->name, t->name)) == -1) {
			*why = errno == EEXIST ?
			    "a device of that name exists and is not a "
			    "multi-queue TUN device" : "opening /dev/net/tun";
			tun_close(t);
			return (-1);
		}
		t->nqueues++;
	}
	tun_set_txqlen(t);
	return (0);
}

void
tun_close(struct tun *t)
{
	int	 i;

	for (i = 0; i < t->nqueues; i++)
		close(t->fds[i]);
	free(t->fds);
	t->fds = NULL;
	t->nqueues = 0;
}

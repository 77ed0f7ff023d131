/* tun.c: the multi-queue TUN device, one queue per worker. */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/if_tun.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/spawner.h"
#include "tunneld/tun.h"

/* Debian 12's kernel headers (6.1) predate UDP segmentation on TUN. */
#ifndef TUN_F_USO4
#define TUN_F_USO4	0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6	0x40
#endif

static int
tun_attach(const char *name, char *actual, bool vnet)
{
	struct ifreq	 ifr;
	short		 want = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
	int		 fd, saved_errno;

	if (vnet)
		want |= IFF_VNET_HDR;
	/* Where the node is root's alone, the spawner opens it for us. */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1 && (errno != EACCES || (fd = spawner_open_tun()) == -1))
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = want;
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		goto fail;
	/* Queue flags are per device and a mismatch is silently accepted. */
	if (ioctl(fd, TUNGETIFF, &ifr) == -1)
		goto fail;
	if ((ifr.ifr_flags & (want | IFF_VNET_HDR)) != want) {
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
 * Segmentation offloads, the most the kernel takes: USO arrived in 6.2
 * (and needs USO4 and USO6 together), TSO needs CSUM. Unknown bits are
 * refused with EINVAL, which makes the call a probe.
 */
static unsigned
tun_set_offload(int fd)
{
	unsigned long	 tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	if (ioctl(fd, TUNSETOFFLOAD, tso | TUN_F_USO4 | TUN_F_USO6) == 0)
		return (TUN_OFFLOAD_TSO | TUN_OFFLOAD_USO);
	if (ioctl(fd, TUNSETOFFLOAD, tso) == 0)
		return (TUN_OFFLOAD_TSO);
	return (0);
}

/*
 * Opens the device NAME (a kernel-chosen name for "fzc%d" patterns) with
 * nqueues queues. Non-persistent: the device goes away with the last fd.
 * With offload, it tries virtio-net headers and segmentation offloads,
 * and falls back to plain packets (said once in the log).
 */
int
tun_open(struct tun *t, const char *name, int nqueues, bool offload,
    const char **why)
{
	const char	*why_not;
	int		 i;

	memset(t, 0, sizeof(*t));
	if (strlen(name) >= IFNAMSIZ) {
		*why = "interface name too long";
		errno = EINVAL;
		return (-1);
	}
	t->fds = xcalloc((size_t)nqueues, sizeof(int));
	memcpy(t->name, name, strlen(name));
	if (offload) {
		if ((t->fds[0] = tun_attach(t->name, t->name, true)) != -1 &&
		    (t->offloads = tun_set_offload(t->fds[0])) != 0) {
			t->vnet = true;
			t->nqueues = 1;
		} else {
			why_not = t->fds[0] == -1 ? strerror(errno) :
			    "TUNSETOFFLOAD refused";
			log_warnx("%s: no TUN offload (%s), plain packets",
			    t->name, why_not);
			/* Offloads are per device: start it anew. */
			if (t->fds[0] != -1)
				close(t->fds[0]);
			memcpy(t->name, name, strlen(name) + 1);
		}
	}
	for (i = t->nqueues; i < nqueues; i++) {
		/* Later queues attach to the name the first one got. */
		if ((t->fds[i] = tun_attach(t->name, t->name, t->vnet)) == -1) {
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

/* util.c: allocation wrappers and small helpers shared by all programs. */
#include <sys/mman.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		fatalx("xmalloc: zero size");
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc: allocating %zu bytes", size);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xcalloc: zero size");
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("xcalloc: allocating %zu * %zu bytes", nmemb, size);
	return (p);
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xreallocarray: zero size");
	if ((p = reallocarray(ptr, nmemb, size)) == NULL)
		fatal("xreallocarray: allocating %zu * %zu bytes", nmemb, size);
	return (p);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return (p);
}

uint64_t
util_now_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec);
}

uint64_t
util_realtime_s(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return ((uint64_t)ts.tv_sec);
}

/*
 * len bytes of data in a memfd sealed against every change, read from
 * the start: what controld may read but not alter. -1 with errno.
 */
int
util_sealed_memfd(const char *name, const void *data, size_t len)
{
	const int	 seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	    F_SEAL_SEAL;
	const uint8_t	*p = data;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		return (-1);
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, seals) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		goto fail;
	return (fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/*
 * The whole of a small state file, replaced by rename, so that a crash
 * leaves the old one or the new.
 */
int
util_save_file(const char *path, const char *text, mode_t mode)
{
	char	 tmp[PATH_MAX];
	size_t	 len = strlen(text);
	int	 fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return (-1);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno != 0 ? errno : EIO;
		(void)unlink(tmp);
		errno = saved;
		return (-1);
	}
	return (0);
}

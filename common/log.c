/* log.c: leveled logging to stderr, shared by both daemons and the CLI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"

static enum log_level	 log_level = LOG_LEVEL_INFO;
static const char	*log_procname = "fzc";
/*
 * journald reads a leading "<N>" (sd-daemon.h) as the syslog priority of
 * the line; a person at a terminal is spared it.
 */
static int		 log_prefix = 1;

static const struct {
	const char	*name;
	int		 syslog_prio;
} levels[] = {
	[LOG_LEVEL_ERROR] = { "error", 3 },
	[LOG_LEVEL_WARNING] = { "warning", 4 },
	[LOG_LEVEL_INFO] = { "info", 6 },
	[LOG_LEVEL_DEBUG] = { "debug", 7 },
};

void
log_init(enum log_level level, const char *procname)
{
	log_level = level;
	log_procname = procname;
	log_prefix = !isatty(STDERR_FILENO);
}

void
log_procinit(const char *procname)
{
	log_procname = procname;
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return (log_level);
}

int
log_parse_level(const char *s, enum log_level *level)
{
	size_t	 i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	if (strcasecmp(s, "warn") == 0) {
		*level = LOG_LEVEL_WARNING;
		return (0);
	}
	return (-1);
}

const char *
log_level_name(enum log_level level)
{
	return (levels[level].name);
}

static void
vlog(enum log_level level, const char *emsg, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved_errno = errno;

	if (level > log_level) {
		errno = saved_errno;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One fprintf per line so that concurrent threads do not interleave. */
	if (log_prefix)
		fprintf(stderr, "<%d>%s: %s%s%s\n", levels[level].syslog_prio,
		    log_procname, msg, emsg ? ": " : "", emsg ? emsg : "");
	else
		fprintf(stderr, "%s: %s%s%s\n", log_procname, msg,
		    emsg ? ": " : "", emsg ? emsg : "");
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARNING, strerror(saved_errno), fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, strerror(saved_errno), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* log.h: leveled logging to stderr, shared by both daemons and the CLI. */
#ifndef FZC_LOG_H
#define FZC_LOG_H

#include <stdarg.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void		 log_init(enum log_level, const char *);
void		 log_procinit(const char *);
void		 log_setlevel(enum log_level);
enum log_level	 log_getlevel(void);
int		 log_parse_level(const char *, enum log_level *);
const char	*log_level_name(enum log_level);
void		 log_warn(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
void		 log_warnx(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
void		 log_info(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
void		 log_debug(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
__dead void	 fatal(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
__dead void	 fatalx(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));

#endif

/* spawner.h: the small root process that alone starts fzc-controld. */
#ifndef FZC_SPAWNER_H
#define FZC_SPAWNER_H

#include <sys/types.h>

#include "common/log.h"

/* What every controld is started with, fixed when the spawner forks. */
struct spawner_conf {
	const char	*user;
	uid_t		 uid;
	gid_t		 gid;
	const char	*controld_path;
	const char	*control_socket;
	int		 control_fd;
	enum log_level	 log_level;
	const char	*max_partition;		/* "": none */
};

pid_t	spawner_start(const struct spawner_conf *);
void	spawner_end(void);
pid_t	spawner_spawn(int);
int	spawner_signal(int);
int	spawner_open_tun(void);

#endif

/* wgmode.h: plain WireGuard mode (--wireguard FILE) in fzc-tunneld. */
#ifndef FZC_WGMODE_H
#define FZC_WGMODE_H

#include "ipc/ipc.h"

struct event_base;
struct wgmode;

struct wgmode_options {
	const char	*file;
	const char	*ifname;
	int		 threads;
	unsigned	 mtu;		/* 0: the file's, else 1280 */
};

struct wgmode	*wgmode_new(struct event_base *, const struct wgmode_options *);
int		 wgmode_send_file(struct wgmode *, struct ipc_chan *);
int		 wgmode_dispatch(struct wgmode *, const struct ipc_msg *,
		    const char **);
int		 wgmode_running(const struct wgmode *);
struct device	*wgmode_device(const struct wgmode *);
void		 wgmode_free(struct wgmode *);

#endif

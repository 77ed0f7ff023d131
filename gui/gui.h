/* gui.h: state shared by fzc-gui's files. */
#ifndef FZC_GUI_H
#define FZC_GUI_H

#include <gtk/gtk.h>
#include <jansson.h>

#define GUI_APP_ID	"dev.fzc.Gui"
#define GUI_SCHEME	"firezone-fd0020211111"
#define GUI_AUTH_URL	"https://app.firezone.dev"

struct gui_ctl;
struct gui_window;
struct gui_tray;

/* What the user chooses; kept in the user's config directory, no secret. */
struct gui_settings {
	char		*auth_url;	/* the portal's sign-in page */
	char		*account_slug;
	char		*actor_name;
	char		**favorites;	/* resource ids */
	gboolean	 start_on_login;
};

struct gui {
	GtkApplication		*app;
	/* Redraws window and tray from the state below (main.c's). */
	void			(*changed)(struct gui *);
	char			*socket_path;
	struct gui_ctl		*ctl;
	struct gui_window	*win;
	struct gui_tray		*tray;
	struct gui_settings	 settings;

	/* As fzc-controld last pushed them; NULL until it has. */
	json_t			*portal;
	json_t			*resources;
	json_t			*peers;
	/* The daemon's own settings (API URL, log level); NULL: none. */
	json_t			*daemon_settings;
	guint			 daemon_settings_gen;	/* bumped on news */
	gint64			 retry_at;	/* monotonic us, if waiting */
	gboolean		 daemon_up;
	gboolean		 no_window;	/* started by autostart */
	char			*daemon_error;	/* why it is not up */
	char			*last_error;	/* of the user's last action */

	/* A browser sign-in under way: what the callback must bring back. */
	char			*nonce;
	char			*state;
};

/* gui.c */
void		 gui_error(struct gui *, const char *);
const char	*gui_portal_state(struct gui *);
gboolean	 gui_internet_on(struct gui *);
gboolean	 gui_is_favorite(struct gui *, const char *);
json_t		*gui_sorted_resources(struct gui *);
const char	*gui_resource_status(json_t *);
char		*gui_peer_name(json_t *);

/* ctl.c: the control socket (doc/control-protocol.md) */
typedef void	 gui_ctl_event_fn(const char *, json_t *, gpointer);
typedef void	 gui_ctl_reply_fn(json_t *, const char *, gpointer);
struct gui_ctl	*ctl_new(const char *, gui_ctl_event_fn *, gpointer);
void		 ctl_request(struct gui_ctl *, json_t *, gui_ctl_reply_fn *,
		    gpointer);
void		 ctl_free(struct gui_ctl *);

/* window.c */
struct gui_window *window_new(struct gui *);
void		 window_update(struct gui_window *);
void		 window_present(struct gui_window *);

/* tray.c: a StatusNotifierItem with a dbusmenu */
struct gui_tray	*tray_new(struct gui *);
void		 tray_update(struct gui_tray *);
void		 tray_free(struct gui_tray *);

/* notify.c */
void		 notify_portal(struct gui *, json_t *, json_t *);
void		 notify_resources(struct gui *, json_t *, json_t *);

/* signin.c: sign-in through the browser (deep link) or a pasted token */
void		 signin_start(struct gui *);
void		 signin_callback(struct gui *, const char *);
void		 signin_token(struct gui *, const char *);

/* settings.c */
void		 settings_load(struct gui_settings *);
void		 settings_save(const struct gui_settings *);
void		 settings_clear(struct gui_settings *);
gboolean	 settings_autostart(gboolean, GError **);

/* logs.c */
void		 logs_init(void);
void		 logs_export(struct gui *, const char *);

#endif

/*
 * main.c: fzc-gui, the desktop front-end of fzc. A GtkApplication (one
 * instance per session; a second one, started by the browser with a sign-in
 * deep link, hands the link to the first and exits) with a window and a
 * tray item that act through the same actions, over the control socket.
 */
#include <grp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "gui/gui.h"

static void
gui_reply_done(json_t *reply, const char *error, gpointer arg)
{
	struct gui	*g = arg;

	(void)reply;
	gui_error(g, error);
}

/* The daemon's settings, as a get or a change returned them. */
static void
gui_settings_reply(json_t *reply, const char *error, gpointer arg)
{
	struct gui	*g = arg;
	json_t		*v;

	if (reply != NULL &&
	    json_is_object(v = json_object_get(reply, "settings"))) {
		json_decref(g->daemon_settings);
		g->daemon_settings = json_incref(v);
		g->daemon_settings_gen++;
	}
	gui_error(g, error);
}

/* A fetch that fails (WireGuard mode has none) leaves them unknown. */
static void
gui_settings_fetched(json_t *reply, const char *error, gpointer arg)
{
	struct gui	*g = arg;
	json_t		*v;

	(void)error;
	if (reply == NULL ||
	    !json_is_object(v = json_object_get(reply, "settings")))
		return;
	json_decref(g->daemon_settings);
	g->daemon_settings = json_incref(v);
	g->daemon_settings_gen++;
	g->changed(g);
}

/* Window and tray show the same state, redrawn from it on every change. */
static void
gui_changed(struct gui *g)
{
	GAction	*a;

	a = g_action_map_lookup_action(G_ACTION_MAP(g->app), "internet");
	g_simple_action_set_state(G_SIMPLE_ACTION(a),
	    g_variant_new_boolean(gui_internet_on(g)));
	a = g_action_map_lookup_action(G_ACTION_MAP(g->app), "sign-out");
	g_simple_action_set_enabled(G_SIMPLE_ACTION(a), g->daemon_up &&
	    strcmp(gui_portal_state(g), "signed_out") != 0);
	if (g->win != NULL)
		window_update(g->win);
	if (g->tray != NULL)
		tray_update(g->tray);
}

static void
gui_event(const char *ev, json_t *o, gpointer arg)
{
	struct gui	*g = arg;
	json_t		*v;
	const char	*why;

	if (strcmp(ev, "daemon") == 0) {
		g->daemon_up = json_is_true(json_object_get(o, "up"));
		why = json_string_value(json_object_get(o, "error"));
		if (g->daemon_error == NULL || why == NULL ||
		    strcmp(g->daemon_error, why) != 0)
			g_message("fzc daemon: %s", why != NULL ? why :
			    "connected");
		g_free(g->daemon_error);
		g->daemon_error = g_strdup(why);
		if (g->daemon_up)
			ctl_request(g->ctl,
			    json_pack("{s:s}", "command", "settings"),
			    gui_settings_fetched, g);
	} else if (strcmp(ev, "portal") == 0 &&
	    json_is_object(v = json_object_get(o, "portal"))) {
		notify_portal(g, g->portal, v);
		json_decref(g->portal);
		g->portal = json_incref(v);
		/* Seconds from the push: counted down from here. */
		g->retry_at = g_get_monotonic_time() + (gint64)(
		    json_number_value(json_object_get(v, "retry_in_s")) *
		    G_USEC_PER_SEC);
	} else if (strcmp(ev, "resources") == 0 &&
	    json_is_array(v = json_object_get(o, "resources"))) {
		notify_resources(g, g->resources, v);
		json_decref(g->resources);
		g->resources = json_incref(v);
	} else if (strcmp(ev, "peers") == 0 &&
	    json_is_array(v = json_object_get(o, "peers"))) {
		json_decref(g->peers);
		g->peers = json_incref(v);
	} else
		return;
	gui_changed(g);
}

static void
act_sign_in(GSimpleAction *a, GVariant *p, gpointer arg)
{
	(void)a;
	(void)p;
	signin_start(arg);
}

static void
act_sign_out(GSimpleAction *a, GVariant *p, gpointer arg)
{
	struct gui	*g = arg;

	(void)a;
	(void)p;
	ctl_request(g->ctl, json_pack("{s:s}", "command", "sign-out"),
	    gui_reply_done, g);
}

/* The state follows the daemon's event, not the click. */
static void
act_internet(GSimpleAction *a, GVariant *v, gpointer arg)
{
	struct gui	*g = arg;

	(void)a;
	ctl_request(g->ctl, json_pack("{s:s, s:b}", "command", "internet",
	    "enabled", g_variant_get_boolean(v)), gui_reply_done, g);
}

/* A value equal to the default goes back to it: a later default holds. */
static json_t *
gui_setting_value(struct gui *g, const char *key, const char *v)
{
	json_t		*o = json_object_get(g->daemon_settings, key);
	const char	*def;

	def = json_string_value(json_object_get(o, "default"));
	return (g_strcmp0(v, def) == 0 ? json_null() : json_string(v));
}

/* The daemon's settings: (API URL, log level). */
static void
act_daemon_settings(GSimpleAction *a, GVariant *p, gpointer arg)
{
	struct gui	*g = arg;
	const char	*url, *level;
	json_t		*req;

	(void)a;
	g_variant_get(p, "(&s&s)", &url, &level);
	if (!g_str_has_prefix(url, "wss://")) {
		gui_error(g, "The portal's API URL must start with wss://");
		return;
	}
	req = json_pack("{s:s}", "command", "settings");
	json_object_set_new(req, "api_url",
	    gui_setting_value(g, "api_url", url));
	json_object_set_new(req, "log_level",
	    gui_setting_value(g, "log_level", level));
	ctl_request(g->ctl, req, gui_settings_reply, g);
}

static void
act_daemon_defaults(GSimpleAction *a, GVariant *p, gpointer arg)
{
	struct gui	*g = arg;
	json_t		*req;

	(void)a;
	(void)p;
	req = json_pack("{s:s, s:n, s:n}", "command", "settings", "api_url",
	    "log_level");
	ctl_request(g->ctl, req, gui_settings_reply, g);
}

static void
act_copy(GSimpleAction *a, GVariant *p, gpointer arg)
{
	(void)a;
	(void)arg;
	gdk_clipboard_set_text(gdk_display_get_clipboard(
	    gdk_display_get_default()), g_variant_get_string(p, NULL));
}

static void
act_favorite(GSimpleAction *a, GVariant *p, gpointer arg)
{
	struct gui	*g = arg;
	const char	*id = g_variant_get_string(p, NULL);
	GStrvBuilder	*b = g_strv_builder_new();
	char		**f;

	(void)a;
	for (f = g->settings.favorites; f != NULL && *f != NULL; f++)
		if (strcmp(*f, id) != 0)
			g_strv_builder_add(b, *f);
	if (!gui_is_favorite(g, id))
		g_strv_builder_add(b, id);
	g_strfreev(g->settings.favorites);
	g->settings.favorites = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	settings_save(&g->settings);
	gui_changed(g);
}

static void
act_show(GSimpleAction *a, GVariant *p, gpointer arg)
{
	struct gui	*g = arg;

	(void)a;
	(void)p;
	window_present(g->win);
}

static void
act_quit(GSimpleAction *a, GVariant *p, gpointer arg)
{
	struct gui	*g = arg;

	(void)a;
	(void)p;
	g_application_quit(G_APPLICATION(g->app));
}

static void
act_export_logs(GSimpleAction *a, GVariant *p, gpointer arg)
{
	(void)a;
	logs_export(arg, g_variant_get_string(p, NULL));
}

static const GActionEntry gui_actions[] = {
	{ "sign-in", act_sign_in, NULL, NULL, NULL, { 0 } },
	{ "sign-out", act_sign_out, NULL, NULL, NULL, { 0 } },
	{ "internet", NULL, NULL, "false", act_internet, { 0 } },
	{ "copy", act_copy, "s", NULL, NULL, { 0 } },
	{ "favorite", act_favorite, "s", NULL, NULL, { 0 } },
	{ "show", act_show, NULL, NULL, NULL, { 0 } },
	{ "quit", act_quit, NULL, NULL, NULL, { 0 } },
	{ "export-logs", act_export_logs, "s", NULL, NULL, { 0 } },
	{ "daemon-settings", act_daemon_settings, "(ss)", NULL, NULL, { 0 } },
	{ "daemon-defaults", act_daemon_defaults, NULL, NULL, NULL, { 0 } },
};

/* The daemon refuses whoever is not in group fzc: say so before it does. */
static char *
gui_group_problem(void)
{
	struct group	*gr;
	gid_t		 groups[512];
	int		 n, i;
	char		**m;

	if ((gr = getgrnam("fzc")) == NULL)
		return (g_strdup("fzc is not installed here (there is no "
		    "group fzc). Install the fzc package first."));
	if (getgid() == gr->gr_gid)
		return (NULL);
	n = getgroups(G_N_ELEMENTS(groups), groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return (NULL);
	for (m = gr->gr_mem; *m != NULL; m++)
		if (strcmp(*m, g_get_user_name()) == 0)
			return (g_strdup("You were added to group fzc after "
			    "you logged in. Log out and back in (or reboot) "
			    "for fzc-gui to reach fzc."));
	return (g_strdup_printf("You are not in group fzc, so fzc-gui "
	    "cannot reach fzc. Run: sudo usermod -aG fzc %s, then log out "
	    "and back in.", g_get_user_name()));
}

static void
gui_startup(GApplication *app, gpointer arg)
{
	struct gui	*g = arg;

	g->daemon_error = gui_group_problem();
	g_action_map_add_action_entries(G_ACTION_MAP(app), gui_actions,
	    G_N_ELEMENTS(gui_actions), g);
	settings_load(&g->settings);
	g->win = window_new(g);
	g->tray = tray_new(g);
	g->ctl = ctl_new(g->socket_path, gui_event, g);
	/* A tray application lives on with its window closed. */
	g_application_hold(app);
	gui_changed(g);
}

static void
gui_activate(GApplication *app, gpointer arg)
{
	struct gui	*g = arg;

	(void)app;
	/* On login only the tray item; the window when asked. */
	if (g->no_window) {
		g->no_window = FALSE;
		return;
	}
	window_present(g->win);
}

/* Deep links: the browser starts fzc-gui URL, which ends up here. */
static void
gui_open(GApplication *app, GFile **files, gint n, const char *hint,
    gpointer arg)
{
	char	*uri;
	gint	 i;

	(void)app;
	(void)hint;
	for (i = 0; i < n; i++) {
		uri = g_file_get_uri(files[i]);
		if (g_str_has_prefix(uri, GUI_SCHEME ":"))
			signin_callback(arg, uri);
		else
			g_warning("not a sign-in link, ignored");
		g_free(uri);
	}
}

static gint
gui_local_options(GApplication *app, GVariantDict *opts, gpointer arg)
{
	struct gui	*g = arg;
	char		*path = NULL;

	(void)app;
	/* Before any display or bus: a package check runs it headless. */
	if (g_variant_dict_contains(opts, "version")) {
		printf("fzc-gui %s\n", FZC_VERSION);
		return (0);
	}
	if (g_variant_dict_lookup(opts, "control-socket", "^ay", &path)) {
		g_free(g->socket_path);
		g->socket_path = path;
	}
	g->no_window = g_variant_dict_contains(opts, "no-window");
	return (-1);
}

static void
gui_shutdown(GApplication *app, gpointer arg)
{
	struct gui	*g = arg;

	(void)app;
	tray_free(g->tray);
	g->tray = NULL;
	ctl_free(g->ctl);
	g->ctl = NULL;
}

int
main(int argc, char *argv[])
{
	static const GOptionEntry	 opts[] = {
		{ "control-socket", 0, 0, G_OPTION_ARG_FILENAME, NULL,
		    "the control socket (default " FZC_CONTROL_SOCKET ")",
		    "PATH" },
		{ "no-window", 0, 0, G_OPTION_ARG_NONE, NULL,
		    "start with the tray item only", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, NULL,
		    "print the version and exit", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	struct gui	 g;
	int		 rc;

	/* A desktop program has no business with root's privileges. */
	if (getuid() == 0 || geteuid() == 0) {
		fprintf(stderr, "fzc-gui: refusing to run as root; run it as "
		    "your desktop user (a member of group fzc)\n");
		return (1);
	}
	if (sodium_init() == -1) {
		fprintf(stderr, "fzc-gui: libsodium failed to start\n");
		return (1);
	}
	logs_init();
	memset(&g, 0, sizeof(g));
	g.changed = gui_changed;
	g.socket_path = g_strdup(FZC_CONTROL_SOCKET);
	g.app = gtk_application_new(GUI_APP_ID, G_APPLICATION_HANDLES_OPEN);
	g_application_add_main_option_entries(G_APPLICATION(g.app), opts);
	g_signal_connect(g.app, "handle-local-options",
	    G_CALLBACK(gui_local_options), &g);
	g_signal_connect(g.app, "startup", G_CALLBACK(gui_startup), &g);
	g_signal_connect(g.app, "activate", G_CALLBACK(gui_activate), &g);
	g_signal_connect(g.app, "open", G_CALLBACK(gui_open), &g);
	g_signal_connect(g.app, "shutdown", G_CALLBACK(gui_shutdown), &g);
	rc = g_application_run(G_APPLICATION(g.app), argc, argv);
	g_object_unref(g.app);
	json_decref(g.portal);
	json_decref(g.resources);
	json_decref(g.peers);
	json_decref(g.daemon_settings);
	settings_clear(&g.settings);
	if (g.nonce != NULL)
		explicit_bzero(g.nonce, strlen(g.nonce));
	g_free(g.nonce);
	g_free(g.state);
	g_free(g.daemon_error);
	g_free(g.last_error);
	g_free(g.socket_path);
	return (rc);
}

/*
 * window.c: fzc-gui's window. Everything in it is redrawn from the state
 * fzc-controld last pushed (window_update), and every button goes through
 * the application's actions, the same the tray menu uses.
 */
#include <string.h>

#include "config.h"
#include "common/util.h"
#include "gui/gui.h"

struct gui_window {
	struct gui	*g;
	GtkWindow	*win;
	GtkLabel	*state;
	GtkLabel	*account;
	GtkLabel	*error;
	GtkWidget	*signin_box;
	GtkWidget	*token;
	GtkWidget	*signout;
	GtkWidget	*internet_box;
	GtkListBox	*resources;
	GtkListBox	*peers;
	GtkEditable	*auth_url;
	GtkEditable	*slug;
	GtkSwitch	*autostart;
	GtkWidget	*daemon_box;
	GtkEditable	*api_url;
	GtkDropDown	*log_level;
	guint		 settings_gen;	/* of the daemon's, as shown */
	guint		 tick;		/* counts down a retry */
};

/* log_parse_level()'s names, in the daemon's order. */
static const char *const window_levels[] = { "error", "warning", "info",
	"debug", NULL };

static void
window_label(GtkWidget *w, const char *name)
{
	gtk_accessible_update_property(GTK_ACCESSIBLE(w),
	    GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static GtkLabel *
window_text(GtkBox *box, const char *css)
{
	GtkWidget	*l = gtk_label_new("");

	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_selectable(GTK_LABEL(l), FALSE);
	if (css != NULL)
		gtk_widget_add_css_class(l, css);
	gtk_box_append(box, l);
	return (GTK_LABEL(l));
}

static void
window_clear(GtkListBox *list)
{
	GtkListBoxRow	*r;

	/* Rows only: the placeholder is a child of the list too. */
	while ((r = gtk_list_box_get_row_at_index(list, 0)) != NULL)
		gtk_list_box_remove(list, GTK_WIDGET(r));
}

static void	window_update_state(struct gui_window *);

static gboolean
window_tick(gpointer arg)
{
	window_update_state(arg);
	return (G_SOURCE_CONTINUE);
}

static void
window_update_state(struct gui_window *w)
{
	struct gui	*g = w->g;
	const char	*st = gui_portal_state(g), *reason;
	char		*text, *acct;
	gint64		 left;

	reason = json_string_value(json_object_get(g->portal, "reason"));
	if (!g->daemon_up)
		text = g_strdup_printf("Not connected to fzc%s%s",
		    g->daemon_error ? ": " : "",
		    g->daemon_error ? g->daemon_error : "");
	else if (strcmp(st, "connected") == 0)
		text = g_strdup("Connected");
	else if (strcmp(st, "connecting") == 0)
		text = g_strdup("Connecting to the portal…");
	else if (strcmp(st, "waiting") == 0) {
		left = (g->retry_at - g_get_monotonic_time()) / G_USEC_PER_SEC;
		text = g_strdup_printf("Waiting: %s; retrying in %lld s",
		    reason != NULL ? reason : "the portal is unreachable",
		    (long long)MAX(left, 0));
	} else if (strcmp(st, "signed_out") == 0)
		text = reason == NULL || strcmp(reason, "signed out") == 0 ?
		    g_strdup("Signed out") :
		    g_strdup_printf("Signed out: %s", reason);
	else
		text = g_strdup("Waiting for fzc…");
	gtk_label_set_text(w->state, text);
	g_free(text);
	/* The countdown runs only while there is one to show. */
	if (strcmp(st, "waiting") == 0 && w->tick == 0)
		w->tick = g_timeout_add_seconds(1, window_tick, w);
	else if (strcmp(st, "waiting") != 0 && w->tick != 0) {
		g_source_remove(w->tick);
		w->tick = 0;
	}
	if (g->settings.actor_name != NULL &&
	    strcmp(st, "signed_out") != 0 && strcmp(st, "unknown") != 0) {
		acct = g_strdup_printf("Signed in as %s%s%s%s",
		    g->settings.actor_name,
		    g->settings.account_slug ? " (account " : "",
		    g->settings.account_slug ? g->settings.account_slug : "",
		    g->settings.account_slug ? ")" : "");
		gtk_label_set_text(w->account, acct);
		g_free(acct);
	} else
		gtk_label_set_text(w->account, "");
	gtk_label_set_text(w->error, g->last_error ? g->last_error : "");
	gtk_widget_set_visible(GTK_WIDGET(w->error), g->last_error != NULL);
	gtk_widget_set_visible(w->signin_box, g->daemon_up &&
	    strcmp(st, "signed_out") == 0);
	gtk_widget_set_visible(w->signout, g->daemon_up &&
	    strcmp(st, "signed_out") != 0 && strcmp(st, "unknown") != 0);
}

static GtkWidget *
window_resource_row(struct gui_window *w, json_t *r)
{
	const char	*name, *addr, *site, *type, *id;
	GtkWidget	*row, *col, *b;
	GtkLabel	*l;
	char		*s;

	id = json_string_value(json_object_get(r, "id"));
	name = json_string_value(json_object_get(r, "name"));
	addr = json_string_value(json_object_get(r, "address"));
	site = json_string_value(json_object_get(r, "site"));
	type = json_string_value(json_object_get(r, "type"));
	if (name == NULL)
		name = addr != NULL ? addr : "(no name)";
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	b = gtk_toggle_button_new();
	gtk_button_set_icon_name(GTK_BUTTON(b), gui_is_favorite(w->g, id) ?
	    "starred-symbolic" : "non-starred-symbolic");
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b),
	    gui_is_favorite(w->g, id));
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "app.favorite");
	gtk_actionable_set_action_target(GTK_ACTIONABLE(b), "s", id);
	s = g_strdup_printf("Favourite %s", name);
	window_label(b, s);
	gtk_widget_set_tooltip_text(b, s);
	g_free(s);
	gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
	gtk_box_append(GTK_BOX(row), b);
	col = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_widget_set_hexpand(col, TRUE);
	l = window_text(GTK_BOX(col), "heading");
	gtk_label_set_text(l, name);
	l = window_text(GTK_BOX(col), NULL);
	s = g_strdup_printf("%s%s", type != NULL && strcmp(type, "dns") == 0 ?
	    "DNS pattern " : "", addr != NULL ? addr : "");
	gtk_label_set_text(l, s);
	g_free(s);
	l = window_text(GTK_BOX(col), "dim-label");
	s = g_strdup_printf("site %s · %s", site != NULL ? site : "-",
	    gui_resource_status(r));
	gtk_label_set_text(l, s);
	g_free(s);
	gtk_box_append(GTK_BOX(row), col);
	if (addr != NULL) {
		b = gtk_button_new_from_icon_name("edit-copy-symbolic");
		gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "app.copy");
		gtk_actionable_set_action_target(GTK_ACTIONABLE(b), "s",
		    addr);
		s = g_strdup_printf("Copy address of %s", name);
		window_label(b, s);
		gtk_widget_set_tooltip_text(b, s);
		g_free(s);
		gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
		gtk_box_append(GTK_BOX(row), b);
	}
	return (row);
}

static void
window_update_lists(struct gui_window *w)
{
	struct gui	*g = w->g;
	json_t		*sorted, *r, *p;
	const char	*type, *path, *ep, *key, *st;
	GtkWidget	*l;
	gboolean	 internet = FALSE;
	char		*s, *name;
	size_t		 i;

	window_clear(w->resources);
	/* The daemon keeps the last list after a sign-out; it is stale. */
	st = gui_portal_state(g);
	sorted = strcmp(st, "signed_out") == 0 || strcmp(st, "unknown") == 0 ?
	    json_array() : gui_sorted_resources(g);
	json_array_foreach(sorted, i, r) {
		type = json_string_value(json_object_get(r, "type"));
		if (type != NULL && strcmp(type, "internet") == 0) {
			internet = TRUE;
			continue;
		}
		gtk_list_box_append(w->resources, window_resource_row(w, r));
	}
	json_decref(sorted);
	gtk_widget_set_visible(w->internet_box, internet);
	window_clear(w->peers);
	json_array_foreach(g->peers, i, p) {
		key = json_string_value(json_object_get(p, "public_key"));
		path = json_string_value(json_object_get(p, "path"));
		ep = json_string_value(json_object_get(p, "endpoint"));
		name = gui_peer_name(p);
		s = g_strdup_printf("%s: %s%s%s", name,
		    path != NULL ? path : "connecting",
		    ep != NULL ? " via " : "", ep != NULL ? ep : "");
		l = gtk_label_new(s);
		gtk_label_set_xalign(GTK_LABEL(l), 0);
		/* The key stays at hand, as wg show gives it. */
		if (key != NULL)
			gtk_widget_set_tooltip_text(l, key);
		gtk_list_box_append(w->peers, l);
		g_free(name);
		g_free(s);
	}
}

/* Only when the daemon's settings change: the user may be typing. */
static void
window_update_daemon(struct gui_window *w)
{
	json_t		*st = w->g->daemon_settings;
	const char	*v;
	guint		 i;

	if (w->settings_gen == w->g->daemon_settings_gen)
		return;
	w->settings_gen = w->g->daemon_settings_gen;
	gtk_widget_set_sensitive(w->daemon_box, st != NULL);
	v = json_string_value(
	    json_object_get(json_object_get(st, "api_url"), "value"));
	gtk_editable_set_text(w->api_url, v != NULL ? v : "");
	v = json_string_value(
	    json_object_get(json_object_get(st, "log_level"), "value"));
	for (i = 0; v != NULL && window_levels[i] != NULL; i++)
		if (strcmp(v, window_levels[i]) == 0)
			gtk_drop_down_set_selected(w->log_level, i);
}

void
window_update(struct gui_window *w)
{
	window_update_state(w);
	window_update_lists(w);
	window_update_daemon(w);
}

void
window_present(struct gui_window *w)
{
	gtk_window_present(w->win);
}

static void
window_use_token(GtkButton *b, gpointer arg)
{
	struct gui_window	*w = arg;

	(void)b;
	signin_token(w->g, gtk_editable_get_text(GTK_EDITABLE(w->token)));
	/* GtkPasswordEntry keeps its text in non-pageable memory. */
	gtk_editable_set_text(GTK_EDITABLE(w->token), "");
}

static void
window_save_settings(GtkButton *b, gpointer arg)
{
	struct gui_window	*w = arg;
	struct gui		*g = w->g;
	GError			*err = NULL;
	const char		*url = gtk_editable_get_text(w->auth_url);

	(void)b;
	if (!g_str_has_prefix(url, "https://") &&
	    !g_str_has_prefix(url, "http://")) {
		gui_error(g, "The sign-in URL must start with https://");
		return;
	}
	g_free(g->settings.auth_url);
	g->settings.auth_url = g_strdup(url);
	g_free(g->settings.account_slug);
	g->settings.account_slug = g_strdup(gtk_editable_get_text(w->slug));
	g->settings.start_on_login = gtk_switch_get_active(w->autostart);
	settings_save(&g->settings);
	if (!settings_autostart(g->settings.start_on_login, &err)) {
		gui_error(g, err->message);
		g_error_free(err);
		return;
	}
	gui_error(g, NULL);
}

static void
window_save_daemon(GtkButton *b, gpointer arg)
{
	struct gui_window	*w = arg;
	guint			 i = gtk_drop_down_get_selected(w->log_level);
	GVariant		*v;

	(void)b;
	if (i >= G_N_ELEMENTS(window_levels) - 1)
		i = 2;
	v = g_variant_new("(ss)", gtk_editable_get_text(w->api_url),
	    window_levels[i]);
	g_action_group_activate_action(G_ACTION_GROUP(w->g->app),
	    "daemon-settings", v);
}

static void
window_export_chosen(GtkNativeDialog *d, int response, gpointer arg)
{
	struct gui_window	*w = arg;
	GFile			*f;
	char			*path;

	if (response == GTK_RESPONSE_ACCEPT &&
	    (f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d))) != NULL) {
		path = g_file_get_path(f);
		if (path != NULL)
			g_action_group_activate_action(G_ACTION_GROUP(
			    w->g->app), "export-logs",
			    g_variant_new_string(path));
		g_free(path);
		g_object_unref(f);
	}
	gtk_native_dialog_destroy(d);
	g_object_unref(d);
}

static void
window_export(GtkButton *b, gpointer arg)
{
	struct gui_window	*w = arg;
	GtkFileChooserNative	*d;
	GDateTime		*now = g_date_time_new_now_local();
	char			*name;

	(void)b;
	d = gtk_file_chooser_native_new("Export logs", w->win,
	    GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
	name = g_date_time_format(now, "fzc-logs-%Y%m%d-%H%M%S.zip");
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), name);
	g_signal_connect(d, "response", G_CALLBACK(window_export_chosen), w);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
	g_free(name);
	g_date_time_unref(now);
}

static GtkWidget *
window_scrolled(GtkListBox **list, const char *name)
{
	GtkWidget	*sw = gtk_scrolled_window_new();
	GtkWidget	*l = gtk_list_box_new();

	gtk_list_box_set_selection_mode(GTK_LIST_BOX(l), GTK_SELECTION_NONE);
	gtk_list_box_set_placeholder(GTK_LIST_BOX(l), gtk_label_new(
	    "Nothing to show yet"));
	window_label(l, name);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), l);
	gtk_widget_set_vexpand(sw, TRUE);
	*list = GTK_LIST_BOX(l);
	return (sw);
}

static GtkEditable *
window_entry(GtkBox *box, const char *name, const char *value)
{
	GtkWidget	*e = gtk_entry_new();
	GtkWidget	*l = gtk_label_new(name);

	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_box_append(box, l);
	gtk_editable_set_text(GTK_EDITABLE(e), value != NULL ? value : "");
	window_label(e, name);
	gtk_box_append(box, e);
	return (GTK_EDITABLE(e));
}

/*
 * The daemon's settings, as Firezone's advanced settings: kept by it for
 * everyone on this computer, not in the user's file.
 */
static GtkWidget *
window_daemon_box(struct gui_window *w)
{
	GtkWidget	*box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget	*l, *b, *row;

	w->daemon_box = box;
	gtk_widget_set_margin_top(box, 12);
	l = gtk_label_new("Kept by the fzc daemon, for everyone on this "
	    "computer:");
	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_widget_add_css_class(l, "dim-label");
	gtk_box_append(GTK_BOX(box), l);
	w->api_url = window_entry(GTK_BOX(box), "Portal API URL", NULL);
	l = gtk_label_new("Log level");
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_box_append(GTK_BOX(box), l);
	w->log_level = GTK_DROP_DOWN(
	    gtk_drop_down_new_from_strings((const char *const *)window_levels));
	window_label(GTK_WIDGET(w->log_level), "Log level");
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(w->log_level));
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	b = gtk_button_new_with_label("Save daemon settings");
	g_signal_connect(b, "clicked", G_CALLBACK(window_save_daemon), w);
	gtk_box_append(GTK_BOX(row), b);
	b = gtk_button_new_with_label("Daemon defaults");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b),
	    "app.daemon-defaults");
	gtk_box_append(GTK_BOX(row), b);
	gtk_box_append(GTK_BOX(box), row);
	gtk_widget_set_sensitive(box, FALSE);
	return (box);
}

static GtkWidget *
window_settings_page(struct gui_window *w)
{
	struct gui	*g = w->g;
	GtkWidget	*box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget	*row, *l, *b;

	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	w->auth_url = window_entry(GTK_BOX(box), "Sign-in URL",
	    g->settings.auth_url);
	w->slug = window_entry(GTK_BOX(box), "Account",
	    g->settings.account_slug);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	l = gtk_label_new("Start on login");
	gtk_widget_set_hexpand(l, TRUE);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_box_append(GTK_BOX(row), l);
	w->autostart = GTK_SWITCH(gtk_switch_new());
	gtk_switch_set_active(w->autostart, g->settings.start_on_login);
	window_label(GTK_WIDGET(w->autostart), "Start on login");
	gtk_box_append(GTK_BOX(row), GTK_WIDGET(w->autostart));
	gtk_box_append(GTK_BOX(box), row);
	b = gtk_button_new_with_label("Save settings");
	g_signal_connect(b, "clicked", G_CALLBACK(window_save_settings), w);
	gtk_box_append(GTK_BOX(box), b);
	gtk_box_append(GTK_BOX(box), window_daemon_box(w));
	b = gtk_button_new_with_label("Export logs…");
	g_signal_connect(b, "clicked", G_CALLBACK(window_export), w);
	gtk_box_append(GTK_BOX(box), b);
	return (box);
}

static GtkWidget *
window_about_page(void)
{
	GtkWidget	*l = gtk_label_new(NULL);

	gtk_label_set_markup(GTK_LABEL(l), "<b>fzc " PACKAGE_VERSION "</b>\n"
	    "A Firezone-compatible client for Linux.\n"
	    "fzc-gui talks to fzc's daemons over their control socket\n"
	    "(protocol version " G_STRINGIFY(FZC_CONTROL_VERSION) ").\n"
	    "Licence: see /usr/share/doc/fzc.");
	gtk_label_set_justify(GTK_LABEL(l), GTK_JUSTIFY_CENTER);
	return (l);
}

struct gui_window *
window_new(struct gui *g)
{
	struct gui_window	*w = g_new0(struct gui_window, 1);
	GtkWidget		*box, *row, *l, *b, *sw, *nb;

	w->g = g;
	w->win = GTK_WINDOW(gtk_application_window_new(g->app));
	gtk_window_set_title(w->win, "fzc");
	gtk_window_set_icon_name(w->win, GUI_APP_ID);
	gtk_window_set_default_size(w->win, 520, 560);
	/* Closing the window leaves the tray item. */
	gtk_window_set_hide_on_close(w->win, TRUE);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	w->state = window_text(GTK_BOX(box), "title-3");
	w->account = window_text(GTK_BOX(box), NULL);
	w->error = window_text(GTK_BOX(box), "error");

	w->signin_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	b = gtk_button_new_with_label("Sign in");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "app.sign-in");
	gtk_box_append(GTK_BOX(w->signin_box), b);
	w->token = gtk_password_entry_new();
	gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(w->token),
	    TRUE);
	g_object_set(w->token, "placeholder-text", "or paste a token", NULL);
	window_label(w->token, "Token");
	gtk_widget_set_hexpand(w->token, TRUE);
	gtk_box_append(GTK_BOX(w->signin_box), w->token);
	b = gtk_button_new_with_label("Use token");
	g_signal_connect(b, "clicked", G_CALLBACK(window_use_token), w);
	gtk_box_append(GTK_BOX(w->signin_box), b);
	gtk_box_append(GTK_BOX(box), w->signin_box);

	w->signout = gtk_button_new_with_label("Sign out");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(w->signout),
	    "app.sign-out");
	gtk_widget_set_halign(w->signout, GTK_ALIGN_START);
	gtk_box_append(GTK_BOX(box), w->signout);

	w->internet_box = row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	l = gtk_label_new("Internet resource: all traffic through Firezone");
	gtk_widget_set_hexpand(l, TRUE);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_box_append(GTK_BOX(row), l);
	b = gtk_switch_new();
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "app.internet");
	window_label(b, "Internet resource");
	gtk_box_append(GTK_BOX(row), b);
	gtk_box_append(GTK_BOX(box), row);

	nb = gtk_notebook_new();
	sw = window_scrolled(&w->resources, "Resources");
	gtk_notebook_append_page(GTK_NOTEBOOK(nb), sw,
	    gtk_label_new("Resources"));
	sw = window_scrolled(&w->peers, "Peers");
	gtk_notebook_append_page(GTK_NOTEBOOK(nb), sw, gtk_label_new("Peers"));
	gtk_notebook_append_page(GTK_NOTEBOOK(nb), window_settings_page(w),
	    gtk_label_new("Settings"));
	gtk_notebook_append_page(GTK_NOTEBOOK(nb), window_about_page(),
	    gtk_label_new("About"));
	gtk_widget_set_vexpand(nb, TRUE);
	gtk_box_append(GTK_BOX(box), nb);
	gtk_window_set_child(w->win, box);
	return (w);
}

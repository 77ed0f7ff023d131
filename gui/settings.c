/*
 * settings.c: what the user chooses, in fzc-gui/settings.ini under the
 * user's config directory, and the autostart entry. No secret goes here:
 * the token is the daemon's alone.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gui/gui.h"

static char *
settings_path(void)
{
	return (g_build_filename(g_get_user_config_dir(), "fzc-gui",
	    "settings.ini", NULL));
}

void
settings_load(struct gui_settings *s)
{
	GKeyFile	*k = g_key_file_new();
	char		*path = settings_path();

	/* A missing or broken file means the defaults. */
	g_key_file_load_from_file(k, path, G_KEY_FILE_NONE, NULL);
	s->auth_url = g_key_file_get_string(k, "sign-in", "auth_url", NULL);
	if (s->auth_url == NULL || *s->auth_url == '\0') {
		g_free(s->auth_url);
		s->auth_url = g_strdup(GUI_AUTH_URL);
	}
	s->account_slug = g_key_file_get_string(k, "sign-in", "account_slug",
	    NULL);
	s->actor_name = g_key_file_get_string(k, "sign-in", "actor_name",
	    NULL);
	s->favorites = g_key_file_get_string_list(k, "resources", "favorites",
	    NULL, NULL);
	s->start_on_login = g_key_file_get_boolean(k, "desktop",
	    "start_on_login", NULL);
	g_key_file_unref(k);
	g_free(path);
}

void
settings_save(const struct gui_settings *s)
{
	GKeyFile	*k = g_key_file_new();
	GError		*err = NULL;
	char		*path = settings_path(), *dir;

	g_key_file_set_string(k, "sign-in", "auth_url", s->auth_url);
	if (s->account_slug != NULL)
		g_key_file_set_string(k, "sign-in", "account_slug",
		    s->account_slug);
	if (s->actor_name != NULL)
		g_key_file_set_string(k, "sign-in", "actor_name",
		    s->actor_name);
	if (s->favorites != NULL)
		g_key_file_set_string_list(k, "resources", "favorites",
		    (const char *const *)s->favorites,
		    g_strv_length(s->favorites));
	g_key_file_set_boolean(k, "desktop", "start_on_login",
	    s->start_on_login);
	dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0700) == -1 ||
	    !g_key_file_save_to_file(k, path, &err))
		g_warning("saving %s: %s", path, err != NULL ? err->message :
		    g_strerror(errno));
	g_clear_error(&err);
	g_free(dir);
	g_free(path);
	g_key_file_unref(k);
}

void
settings_clear(struct gui_settings *s)
{
	g_free(s->auth_url);
	g_free(s->account_slug);
	g_free(s->actor_name);
	g_strfreev(s->favorites);
	memset(s, 0, sizeof(*s));
}

/* The XDG autostart entry: there when on, gone when off. */
gboolean
settings_autostart(gboolean on, GError **err)
{
	char		*dir, *path, *text;
	gboolean	 ok = TRUE;

	dir = g_build_filename(g_get_user_config_dir(), "autostart", NULL);
	path = g_build_filename(dir, GUI_APP_ID ".desktop", NULL);
	if (!on) {
		if (g_unlink(path) == -1 && errno != ENOENT) {
			g_set_error(err, G_FILE_ERROR,
			    g_file_error_from_errno(errno), "%s: %s", path,
			    g_strerror(errno));
			ok = FALSE;
		}
	} else {
		text = g_strdup_printf("[Desktop Entry]\nType=Application\n"
		    "Name=fzc\nComment=Start fzc's tray icon on login\n"
		    "Exec=%s/fzc-gui --no-window\nIcon=" GUI_APP_ID "\n"
		    "X-GNOME-Autostart-enabled=true\n", BINDIR);
		ok = g_mkdir_with_parents(dir, 0700) == 0 &&
		    g_file_set_contents(path, text, -1, err);
		if (!ok && err != NULL && *err == NULL)
			g_set_error(err, G_FILE_ERROR,
			    g_file_error_from_errno(errno), "%s: %s", dir,
			    g_strerror(errno));
		g_free(text);
	}
	g_free(path);
	g_free(dir);
	return (ok);
}

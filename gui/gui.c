/*
 * gui.c: what fzc-gui's window, tray and actions read of the state
 * fzc-controld pushed, and the last action's error. Changes reach the
 * views through gui.changed, which main.c sets, so that the views and
 * this file never call each other in a circle.
 */
#include <string.h>

#include "gui/gui.h"

/* error NULL clears what the window shows of the last action. */
void
gui_error(struct gui *g, const char *error)
{
	if (error != NULL)
		g_warning("%s", error);
	g_free(g->last_error);
	g->last_error = g_strdup(error);
	g->changed(g);
}

const char *
gui_portal_state(struct gui *g)
{
	const char	*s;

	if (!g->daemon_up || g->portal == NULL)
		return ("unknown");
	s = json_string_value(json_object_get(g->portal, "state"));
	return (s != NULL ? s : "unknown");
}

gboolean
gui_internet_on(struct gui *g)
{
	const char	*s;

	s = json_string_value(json_object_get(g->portal, "internet"));
	return (s != NULL && strcmp(s, "on") == 0);
}

gboolean
gui_is_favorite(struct gui *g, const char *id)
{
	return (g->settings.favorites != NULL && id != NULL &&
	    g_strv_contains((const char *const *)g->settings.favorites, id));
}

/*
 * What the window and the menu say of a resource: controld's status
 * (doc/control-protocol.md), which claims nothing the portal did not say.
 */
const char *
gui_resource_status(json_t *r)
{
	const char	*st, *f;

	st = json_string_value(json_object_get(r, "status"));
	if (st == NULL || strcmp(st, "unknown") == 0)
		return ("not used yet");
	if (strcmp(st, "waiting") == 0)
		return ("waiting for the portal");
	if (strcmp(st, "authorized") == 0)
		return ("authorized");
	if (strcmp(st, "connecting") == 0)
		return ("authorized, connecting");
	if (strcmp(st, "connected") == 0)
		return ("online");
	f = json_string_value(json_object_get(r, "authorization_failed"));
	if (f == NULL)
		return ("failed");
	if (strcmp(f, "offline") == 0)
		return ("offline: no gateway online");
	if (strcmp(f, "version_mismatch") == 0)
		return ("failed: gateway version mismatch");
	if (strcmp(f, "forbidden") == 0)
		return ("failed: forbidden by policy");
	if (strcmp(f, "not_found") == 0)
		return ("failed: not found");
	return ("failed");
}

/*
 * A peer as a person knows it (a new string): the portal names no
 * gateway, so its site and its resources; its key when controld knows
 * neither.
 */
char *
gui_peer_name(json_t *p)
{
	GString		*s = g_string_new(NULL);
	json_t		*names, *n;
	const char	*site, *key;
	size_t		 i;

	site = json_string_value(json_object_get(p, "site"));
	names = json_object_get(p, "resources");
	key = json_string_value(json_object_get(p, "public_key"));
	if (site == NULL && json_array_size(names) == 0) {
		g_string_printf(s, "Gateway %.8s…", key != NULL ? key : "?");
		return (g_string_free(s, FALSE));
	}
	g_string_append(s, "Gateway");
	if (site != NULL)
		g_string_append_printf(s, " in %s", site);
	json_array_foreach(names, i, n)
		g_string_append_printf(s, "%s%s", i == 0 ? " (" : ", ",
		    json_string_value(n));
	if (json_array_size(names) > 0)
		g_string_append(s, ")");
	return (g_string_free(s, FALSE));
}

static int
gui_resource_cmp(const void *a, const void *b, void *arg)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	struct gui	*g = arg;
	const char	*nx, *ny;
	int		 fx, fy;

	fx = gui_is_favorite(g, json_string_value(json_object_get(x, "id")));
	fy = gui_is_favorite(g, json_string_value(json_object_get(y, "id")));
	if (fx != fy)
		return (fy - fx);
	nx = json_string_value(json_object_get(x, "name"));
	ny = json_string_value(json_object_get(y, "name"));
	return (g_utf8_collate(nx != NULL ? nx : "", ny != NULL ? ny : ""));
}

/* The resources to show: favourites first, then by name. */
json_t *
gui_sorted_resources(struct gui *g)
{
	json_t		**v, *a = json_array(), *r;
	size_t		 i, n = json_array_size(g->resources);

	if (n == 0)
		return (a);
	v = g_new(json_t *, n);
	json_array_foreach(g->resources, i, r)
		v[i] = r;
	g_qsort_with_data(v, (gint)n, sizeof(*v), gui_resource_cmp, g);
	for (i = 0; i < n; i++)
		json_array_append(a, v[i]);
	g_free(v);
	return (a);
}

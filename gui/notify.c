/*
 * notify.c: desktop notifications (GNotification) for what a user must
 * know without looking: connected, signed out or asked to sign in again,
 * a resource whose gateways are offline or of the wrong version.
 */
#include <string.h>

#include "gui/gui.h"

static void
notify_send(struct gui *g, const char *id, const char *title,
    const char *body)
{
	GNotification	*n = g_notification_new(title);

	if (body != NULL)
		g_notification_set_body(n, body);
	g_notification_set_default_action(n, "app.show");
	g_application_send_notification(G_APPLICATION(g->app), id, n);
	g_object_unref(n);
}

static const char *
notify_state(json_t *portal)
{
	const char	*s = json_string_value(json_object_get(portal,
			    "state"));

	return (s != NULL ? s : "");
}

void
notify_portal(struct gui *g, json_t *old, json_t *new)
{
	const char	*was = notify_state(old), *now = notify_state(new);
	const char	*reason;

	if (strcmp(was, now) == 0)
		return;
	reason = json_string_value(json_object_get(new, "reason"));
	if (strcmp(now, "connected") == 0)
		notify_send(g, "portal", "fzc connected",
		    "Your resources are reachable.");
	else if (strcmp(now, "signed_out") == 0 && old != NULL)
		notify_send(g, "portal", reason != NULL &&
		    strstr(reason, "sign in again") != NULL ?
		    "fzc: sign in again" : "fzc signed out",
		    reason != NULL ? reason : NULL);
}

static const char *
notify_failure(json_t *list, const char *id)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(list, i, r)
		if (g_strcmp0(json_string_value(json_object_get(r, "id")),
		    id) == 0)
			return (json_string_value(json_object_get(r,
			    "authorization_failed")));
	return (NULL);
}

/* Only a failure that is new; the portal repeats them while it lasts. */
void
notify_resources(struct gui *g, json_t *old, json_t *new)
{
	json_t		*r;
	const char	*id, *f, *name;
	char		*body;
	size_t		 i;

	json_array_foreach(new, i, r) {
		id = json_string_value(json_object_get(r, "id"));
		f = json_string_value(json_object_get(r,
		    "authorization_failed"));
		if (id == NULL || f == NULL ||
		    g_strcmp0(notify_failure(old, id), f) == 0)
			continue;
		name = json_string_value(json_object_get(r, "name"));
		if (name == NULL)
			name = json_string_value(json_object_get(r, "type"));
		if (strcmp(f, "offline") == 0)
			body = g_strdup_printf("No gateway of %s is online.",
			    name);
		else if (strcmp(f, "version_mismatch") == 0)
			body = g_strdup_printf("The gateways of %s run a "
			    "version this client cannot use.", name);
		else
			continue;
		notify_send(g, id, strcmp(f, "offline") == 0 ?
		    "fzc: gateway offline" : "fzc: version mismatch", body);
		g_free(body);
	}
}

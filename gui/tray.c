/*
 * tray.c: the tray item, a StatusNotifierItem on the session bus with its
 * menu served by libdbusmenu-glib (GTK 4 has no tray of its own; KDE, Xfce,
 * Cinnamon and GNOME with the AppIndicator extension show these). The menu
 * is rebuilt from the state on every change and acts through the
 * application's actions, as the window does.
 */
#include <libdbusmenu-glib/dbusmenu-glib.h>
#include <string.h>
#include <unistd.h>

#include "gui/gui.h"

#define SNI_PATH	"/StatusNotifierItem"
#define SNI_MENU_PATH	"/MenuBar"
#define SNI_WATCHER	"org.kde.StatusNotifierWatcher"
#define SNI_MENU_MAX	100	/* resources listed; the window has all */

static const char sni_xml[] =
    "<node><interface name='org.kde.StatusNotifierItem'>"
    "<property name='Category' type='s' access='read'/>"
    "<property name='Id' type='s' access='read'/>"
    "<property name='Title' type='s' access='read'/>"
    "<property name='Status' type='s' access='read'/>"
    "<property name='WindowId' type='i' access='read'/>"
    "<property name='IconName' type='s' access='read'/>"
    "<property name='IconThemePath' type='s' access='read'/>"
    "<property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
    "<property name='ItemIsMenu' type='b' access='read'/>"
    "<property name='Menu' type='o' access='read'/>"
    "<method name='ContextMenu'><arg type='i' direction='in'/>"
    "<arg type='i' direction='in'/></method>"
    "<method name='Activate'><arg type='i' direction='in'/>"
    "<arg type='i' direction='in'/></method>"
    "<method name='SecondaryActivate'><arg type='i' direction='in'/>"
    "<arg type='i' direction='in'/></method>"
    "<method name='Scroll'><arg type='i' direction='in'/>"
    "<arg type='s' direction='in'/></method>"
    "<signal name='NewIcon'/><signal name='NewToolTip'/>"
    "<signal name='NewTitle'/><signal name='NewStatus'>"
    "<arg type='s'/></signal>"
    "</interface></node>";

struct gui_tray {
	struct gui		*g;
	GDBusConnection		*bus;
	GDBusNodeInfo		*info;
	guint			 reg;
	guint			 own;
	guint			 watch;
	char			*name;
	DbusmenuServer		*menu;
	const char		*icon;
	char			*tooltip;
};

static const char *
tray_icon(struct gui *g)
{
	const char	*st = gui_portal_state(g);

	if (strcmp(st, "connected") == 0)
		return ("fzc-connected");
	if (strcmp(st, "connecting") == 0 || strcmp(st, "waiting") == 0)
		return ("fzc-connecting");
	return ("fzc-signed-out");
}

static char *
tray_status_text(struct gui *g)
{
	const char	*st = gui_portal_state(g), *reason;

	reason = json_string_value(json_object_get(g->portal, "reason"));
	if (!g->daemon_up)
		return (g_strdup("fzc is not reachable"));
	if (strcmp(st, "connected") == 0)
		return (g_strdup("Connected"));
	if (strcmp(st, "connecting") == 0)
		return (g_strdup("Connecting…"));
	if (strcmp(st, "waiting") == 0)
		return (g_strdup("Waiting to reconnect"));
	return (g_strdup_printf("Signed out%s%s", reason ? ": " : "",
	    reason ? reason : ""));
}

static GVariant *
tray_get(GDBusConnection *bus, const char *sender, const char *path,
    const char *iface, const char *prop, GError **err, gpointer arg)
{
	struct gui_tray	*t = arg;

	(void)bus;
	(void)sender;
	(void)path;
	(void)iface;
	if (strcmp(prop, "Category") == 0)
		return (g_variant_new_string("ApplicationStatus"));
	if (strcmp(prop, "Id") == 0)
		return (g_variant_new_string("fzc"));
	if (strcmp(prop, "Title") == 0)
		return (g_variant_new_string("fzc"));
	if (strcmp(prop, "Status") == 0)
		return (g_variant_new_string("Active"));
	if (strcmp(prop, "WindowId") == 0)
		return (g_variant_new_int32(0));
	if (strcmp(prop, "IconName") == 0)
		return (g_variant_new_string(t->icon));
	if (strcmp(prop, "IconThemePath") == 0)
		return (g_variant_new_string(DATADIR "/icons"));
	if (strcmp(prop, "ToolTip") == 0)
		return (g_variant_new("(s@a(iiay)ss)", t->icon,
		    g_variant_new_array(G_VARIANT_TYPE("(iiay)"), NULL, 0),
		    "fzc", t->tooltip != NULL ? t->tooltip : ""));
	if (strcmp(prop, "ItemIsMenu") == 0)
		return (g_variant_new_boolean(FALSE));
	if (strcmp(prop, "Menu") == 0)
		return (g_variant_new_object_path(SNI_MENU_PATH));
	g_set_error(err, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
	    "no property %s", prop);
	return (NULL);
}

/* A click on the icon opens the window; the menu is the host's to show. */
static void
tray_call(GDBusConnection *bus, const char *sender, const char *path,
    const char *iface, const char *method, GVariant *params,
    GDBusMethodInvocation *inv, gpointer arg)
{
	struct gui_tray	*t = arg;

	(void)bus;
	(void)sender;
	(void)path;
	(void)iface;
	(void)params;
	if (strcmp(method, "Activate") == 0 ||
	    strcmp(method, "SecondaryActivate") == 0)
		g_action_group_activate_action(G_ACTION_GROUP(t->g->app),
		    "show", NULL);
	g_dbus_method_invocation_return_value(inv, NULL);
}

static const GDBusInterfaceVTable tray_vtable = {
	tray_call, tray_get, NULL, { 0 }
};

static void
tray_registered(GObject *src, GAsyncResult *res, gpointer arg)
{
	GError		*err = NULL;
	GVariant	*v;

	(void)arg;
	v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
	if (v == NULL) {
		g_warning("tray: the StatusNotifierWatcher refused the item: "
		    "%s", err->message);
		g_error_free(err);
		return;
	}
	g_message("tray: item registered");
	g_variant_unref(v);
}

/* Every time a watcher (a tray host) appears, the item registers. */
static void
tray_watcher_up(GDBusConnection *bus, const char *name, const char *owner,
    gpointer arg)
{
	struct gui_tray	*t = arg;

	(void)name;
	(void)owner;
	g_dbus_connection_call(bus, SNI_WATCHER, "/StatusNotifierWatcher",
	    SNI_WATCHER, "RegisterStatusNotifierItem",
	    g_variant_new("(s)", t->name), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
	    NULL, tray_registered, t);
}

static void
tray_watcher_down(GDBusConnection *bus, const char *name, gpointer arg)
{
	(void)bus;
	(void)name;
	(void)arg;
}

static void
tray_activate(DbusmenuMenuitem *mi, guint ts, gpointer arg)
{
	struct gui_tray	*t = arg;
	const char	*action, *target;

	(void)ts;
	action = g_object_get_data(G_OBJECT(mi), "fzc-action");
	target = g_object_get_data(G_OBJECT(mi), "fzc-target");
	if (strcmp(action, "internet") == 0)
		g_action_group_change_action_state(G_ACTION_GROUP(t->g->app),
		    action, g_variant_new_boolean(!gui_internet_on(t->g)));
	else
		g_action_group_activate_action(G_ACTION_GROUP(t->g->app),
		    action, target != NULL ? g_variant_new_string(target) :
		    NULL);
}

static DbusmenuMenuitem *
tray_item(struct gui_tray *t, DbusmenuMenuitem *parent, const char *label,
    const char *action, const char *target)
{
	DbusmenuMenuitem	*mi = dbusmenu_menuitem_new();

	dbusmenu_menuitem_property_set(mi, DBUSMENU_MENUITEM_PROP_LABEL,
	    label);
	if (action == NULL)
		dbusmenu_menuitem_property_set_bool(mi,
		    DBUSMENU_MENUITEM_PROP_ENABLED, FALSE);
	else {
		g_object_set_data(G_OBJECT(mi), "fzc-action",
		    (gpointer)action);
		g_object_set_data_full(G_OBJECT(mi), "fzc-target",
		    g_strdup(target), g_free);
		g_signal_connect(mi, DBUSMENU_MENUITEM_SIGNAL_ITEM_ACTIVATED,
		    G_CALLBACK(tray_activate), t);
	}
	dbusmenu_menuitem_child_append(parent, mi);
	g_object_unref(mi);
	return (mi);
}

static void
tray_separator(DbusmenuMenuitem *parent)
{
	DbusmenuMenuitem	*mi = dbusmenu_menuitem_new();

	dbusmenu_menuitem_property_set(mi, DBUSMENU_MENUITEM_PROP_TYPE,
	    DBUSMENU_CLIENT_TYPES_SEPARATOR);
	dbusmenu_menuitem_child_append(parent, mi);
	g_object_unref(mi);
}

static void
tray_resources(struct gui_tray *t, DbusmenuMenuitem *root)
{
	struct gui		*g = t->g;
	DbusmenuMenuitem	*sub, *mi;
	json_t			*sorted, *r;
	const char		*name, *addr, *id, *type;
	char			*s;
	size_t			 i, n = 0;
	gboolean		 internet = FALSE, fav;

	sorted = gui_sorted_resources(g);
	json_array_foreach(sorted, i, r) {
		type = json_string_value(json_object_get(r, "type"));
		if (type != NULL && strcmp(type, "internet") == 0) {
			internet = TRUE;
			continue;
		}
		if (n++ == SNI_MENU_MAX)
			break;
		id = json_string_value(json_object_get(r, "id"));
		name = json_string_value(json_object_get(r, "name"));
		addr = json_string_value(json_object_get(r, "address"));
		fav = gui_is_favorite(g, id);
		s = g_strdup_printf("%s%s", fav ? "★ " : "",
		    name != NULL ? name : addr != NULL ? addr : "?");
		sub = tray_item(t, root, s, NULL, NULL);
		g_free(s);
		dbusmenu_menuitem_property_set_bool(sub,
		    DBUSMENU_MENUITEM_PROP_ENABLED, TRUE);
		dbusmenu_menuitem_property_set(sub,
		    DBUSMENU_MENUITEM_PROP_CHILD_DISPLAY,
		    DBUSMENU_MENUITEM_CHILD_DISPLAY_SUBMENU);
		if (addr != NULL) {
			s = g_strdup_printf("Copy %s", addr);
			tray_item(t, sub, s, "copy", addr);
			g_free(s);
		}
		s = g_strdup_printf("Status: %s", gui_resource_status(r));
		tray_item(t, sub, s, NULL, NULL);
		g_free(s);
		tray_item(t, sub, fav ? "Remove from favourites" :
		    "Add to favourites", "favorite", id);
	}
	json_decref(sorted);
	if (internet) {
		tray_separator(root);
		mi = tray_item(t, root, "Internet resource", "internet",
		    NULL);
		dbusmenu_menuitem_property_set(mi,
		    DBUSMENU_MENUITEM_PROP_TOGGLE_TYPE,
		    DBUSMENU_MENUITEM_TOGGLE_CHECK);
		dbusmenu_menuitem_property_set_int(mi,
		    DBUSMENU_MENUITEM_PROP_TOGGLE_STATE, gui_internet_on(g) ?
		    DBUSMENU_MENUITEM_TOGGLE_STATE_CHECKED :
		    DBUSMENU_MENUITEM_TOGGLE_STATE_UNCHECKED);
	}
}

static void
tray_menu(struct gui_tray *t)
{
	struct gui		*g = t->g;
	DbusmenuMenuitem	*root = dbusmenu_menuitem_new();
	const char		*st = gui_portal_state(g);
	char			*s;

	s = tray_status_text(g);
	tray_item(t, root, s, NULL, NULL);
	g_free(s);
	if (g->settings.actor_name != NULL &&
	    strcmp(st, "signed_out") != 0 && strcmp(st, "unknown") != 0) {
		s = g_strdup_printf("Signed in as %s", g->settings.actor_name);
		tray_item(t, root, s, NULL, NULL);
		g_free(s);
	}
	if (strcmp(st, "signed_out") != 0 && strcmp(st, "unknown") != 0) {
		tray_separator(root);
		tray_resources(t, root);
	}
	tray_separator(root);
	if (strcmp(st, "signed_out") == 0)
		tray_item(t, root, "Sign in", "sign-in", NULL);
	else if (strcmp(st, "unknown") != 0)
		tray_item(t, root, "Sign out", "sign-out", NULL);
	tray_item(t, root, "Open window", "show", NULL);
	tray_item(t, root, "Quit", "quit", NULL);
	dbusmenu_server_set_root(t->menu, root);
	g_object_unref(root);
}

void
tray_update(struct gui_tray *t)
{
	const char	*icon = tray_icon(t->g);
	char		*tip = tray_status_text(t->g);

	tray_menu(t);
	if (t->bus == NULL)
		goto out;
	if (icon != t->icon) {
		t->icon = icon;
		g_dbus_connection_emit_signal(t->bus, NULL, SNI_PATH,
		    "org.kde.StatusNotifierItem", "NewIcon", NULL, NULL);
	}
	if (g_strcmp0(tip, t->tooltip) != 0)
		g_dbus_connection_emit_signal(t->bus, NULL, SNI_PATH,
		    "org.kde.StatusNotifierItem", "NewToolTip", NULL, NULL);
out:
	g_free(t->tooltip);
	t->tooltip = tip;
}

struct gui_tray *
tray_new(struct gui *g)
{
	struct gui_tray	*t = g_new0(struct gui_tray, 1);
	GError		*err = NULL;

	t->g = g;
	t->icon = tray_icon(g);
	t->menu = dbusmenu_server_new(SNI_MENU_PATH);
	t->bus = g_application_get_dbus_connection(G_APPLICATION(g->app));
	if (t->bus == NULL) {
		g_warning("tray: no session bus, no tray item");
		return (t);
	}
	t->info = g_dbus_node_info_new_for_xml(sni_xml, NULL);
	t->reg = g_dbus_connection_register_object(t->bus, SNI_PATH,
	    t->info->interfaces[0], &tray_vtable, t, NULL, &err);
	if (t->reg == 0) {
		g_warning("tray: %s", err->message);
		g_error_free(err);
		return (t);
	}
	/* The name the specification asks for: one per process and item. */
	t->name = g_strdup_printf("org.kde.StatusNotifierItem-%d-1",
	    (int)getpid());
	t->own = g_bus_own_name_on_connection(t->bus, t->name,
	    G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);
	t->watch = g_bus_watch_name_on_connection(t->bus, SNI_WATCHER,
	    G_BUS_NAME_WATCHER_FLAGS_NONE, tray_watcher_up, tray_watcher_down,
	    t, NULL);
	return (t);
}

void
tray_free(struct gui_tray *t)
{
	if (t == NULL)
		return;
	if (t->watch != 0)
		g_bus_unwatch_name(t->watch);
	if (t->own != 0)
		g_bus_unown_name(t->own);
	if (t->reg != 0)
		g_dbus_connection_unregister_object(t->bus, t->reg);
	if (t->info != NULL)
		g_dbus_node_info_unref(t->info);
	g_object_unref(t->menu);
	g_free(t->name);
	g_free(t->tooltip);
	g_free(t);
}

/*
 * ctl.c: fzc-gui's side of the control socket (doc/control-protocol.md).
 * One connection watches and hands every pushed event up; each request
 * gets a connection of its own, so that replies never have to be told
 * apart from events. All of it asynchronous on GLib's main loop.
 */
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <jansson.h>
#include <string.h>

#include "common/util.h"
#include "gui/gui.h"

#define CTL_RETRY_S	1

struct gui_ctl {
	char			*path;
	gui_ctl_event_fn	*fn;
	gpointer		 arg;
	GSocketClient		*client;
	GCancellable		*cancel;
	GSocketConnection	*conn;		/* the watching one */
	GDataInputStream	*in;
	guint			 retry;
};

struct ctl_req {
	struct gui_ctl		*ctl;
	char			*line;		/* may hold a token */
	size_t			 len;
	gui_ctl_reply_fn	*fn;
	gpointer		 arg;
	GSocketConnection	*conn;
	GDataInputStream	*in;
};

static void	ctl_watch(struct gui_ctl *);

/* What a user can do about a connection that failed. */
static char *
ctl_why(struct gui_ctl *ctl, GError *err)
{
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
	    g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		return (g_strdup_printf("fzc is not running: nothing listens "
		    "on %s. Start it with: sudo systemctl start fzc",
		    ctl->path));
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
		return (g_strdup_printf("Permission denied on %s: you are "
		    "not in group fzc. Run: sudo usermod -aG fzc %s, then "
		    "log out and back in.", ctl->path, g_get_user_name()));
	return (g_strdup_printf("Cannot reach fzc on %s: %s", ctl->path,
	    err->message));
}

static gboolean
ctl_retry_cb(gpointer arg)
{
	struct gui_ctl	*ctl = arg;

	ctl->retry = 0;
	ctl_watch(ctl);
	return (G_SOURCE_REMOVE);
}

/* The watch is gone: say why, and try again shortly. */
static void
ctl_down(struct gui_ctl *ctl, const char *why)
{
	json_t	*o;

	g_clear_object(&ctl->in);
	if (ctl->conn != NULL)
		g_io_stream_close(G_IO_STREAM(ctl->conn), NULL, NULL);
	g_clear_object(&ctl->conn);
	o = json_pack("{s:b, s:s}", "up", 0, "error", why);
	ctl->fn("daemon", o, ctl->arg);
	json_decref(o);
	ctl->retry = g_timeout_add_seconds(CTL_RETRY_S, ctl_retry_cb, ctl);
}

static void
ctl_watch_line(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct gui_ctl	*ctl = arg;
	GError		*err = NULL;
	json_t		*o;
	const char	*ev, *why;
	char		*line;

	line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(src), res, NULL, &err);
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_error_free(err);
		return;
	}
	if (line == NULL) {
		ctl_down(ctl, "fzc-controld closed the connection");
		g_clear_error(&err);
		return;
	}
	o = json_loads(line, 0, NULL);
	g_free(line);
	if (!json_is_object(o)) {
		json_decref(o);
		ctl_down(ctl, "fzc-controld sent something unreadable");
		return;
	}
	if ((ev = json_string_value(json_object_get(o, "event"))) != NULL)
		ctl->fn(ev, o, ctl->arg);
	else if (json_is_true(json_object_get(o, "ok"))) {
		json_object_set_new(o, "up", json_true());
		ctl->fn("daemon", o, ctl->arg);
	} else {
		why = json_string_value(json_object_get(o, "error"));
		ctl_down(ctl, why != NULL ? why : "fzc-controld refused");
		json_decref(o);
		return;
	}
	json_decref(o);
	g_data_input_stream_read_line_async(ctl->in, G_PRIORITY_DEFAULT,
	    ctl->cancel, ctl_watch_line, ctl);
}

static void
ctl_watch_connected(GObject *src, GAsyncResult *res, gpointer arg)
{
	static const char	 req[] = "{\"command\":\"watch\",\"version\":"
	    G_STRINGIFY(FZC_CONTROL_VERSION) "}\n";
	struct gui_ctl		*ctl = arg;
	GError			*err = NULL;
	char			*why;

	ctl->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res,
	    &err);
	if (ctl->conn == NULL) {
		if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			why = ctl_why(ctl, err);
			ctl_down(ctl, why);
			g_free(why);
		}
		g_error_free(err);
		return;
	}
	/* One short line: the socket buffer takes it at once. */
	if (!g_output_stream_write_all(g_io_stream_get_output_stream(
	    G_IO_STREAM(ctl->conn)), req, sizeof(req) - 1, NULL, NULL,
	    &err)) {
		why = ctl_why(ctl, err);
		ctl_down(ctl, why);
		g_free(why);
		g_error_free(err);
		return;
	}
	ctl->in = g_data_input_stream_new(g_io_stream_get_input_stream(
	    G_IO_STREAM(ctl->conn)));
	g_data_input_stream_read_line_async(ctl->in, G_PRIORITY_DEFAULT,
	    ctl->cancel, ctl_watch_line, ctl);
}

static void
ctl_watch(struct gui_ctl *ctl)
{
	GSocketAddress	*addr = g_unix_socket_address_new(ctl->path);

	g_socket_client_connect_async(ctl->client, G_SOCKET_CONNECTABLE(addr),
	    ctl->cancel, ctl_watch_connected, ctl);
	g_object_unref(addr);
}

struct gui_ctl *
ctl_new(const char *path, gui_ctl_event_fn *fn, gpointer arg)
{
	struct gui_ctl	*ctl = g_new0(struct gui_ctl, 1);

	ctl->path = g_strdup(path);
	ctl->fn = fn;
	ctl->arg = arg;
	ctl->client = g_socket_client_new();
	ctl->cancel = g_cancellable_new();
	ctl_watch(ctl);
	return (ctl);
}

static void
ctl_req_free(struct ctl_req *r)
{
	explicit_bzero(r->line, r->len);
	g_free(r->line);
	g_clear_object(&r->in);
	if (r->conn != NULL)
		g_io_stream_close(G_IO_STREAM(r->conn), NULL, NULL);
	g_clear_object(&r->conn);
	g_free(r);
}

/* The request failed: the callback gets the reason, unless we quit. */
static void
ctl_req_fail(struct ctl_req *r, GError *err, const char *why)
{
	char	*s;

	if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		s = why != NULL ? g_strdup(why) : ctl_why(r->ctl, err);
		r->fn(NULL, s, r->arg);
		g_free(s);
	}
	ctl_req_free(r);
}

static void
ctl_req_line(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct ctl_req	*r = arg;
	GError		*err = NULL;
	json_t		*o;
	char		*line;

	line = g_data_input_stream_read_line_finish_utf8(
	    G_DATA_INPUT_STREAM(src), res, NULL, &err);
	if (line == NULL) {
		ctl_req_fail(r, err, err == NULL ? "fzc-controld closed the "
		    "connection" : NULL);
		g_clear_error(&err);
		return;
	}
	o = json_loads(line, 0, NULL);
	g_free(line);
	if (!json_is_object(o))
		r->fn(NULL, "fzc-controld sent something unreadable", r->arg);
	else if (!json_is_true(json_object_get(o, "ok")))
		r->fn(NULL, json_string_value(json_object_get(o, "error")) ?
		    json_string_value(json_object_get(o, "error")) :
		    "request failed", r->arg);
	else
		r->fn(o, NULL, r->arg);
	json_decref(o);
	ctl_req_free(r);
}

static void
ctl_req_written(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct ctl_req	*r = arg;
	GError		*err = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL,
	    &err)) {
		ctl_req_fail(r, err, NULL);
		g_error_free(err);
		return;
	}
	/* A sign-in line carries the token: gone as soon as it is sent. */
	explicit_bzero(r->line, r->len);
	r->in = g_data_input_stream_new(g_io_stream_get_input_stream(
	    G_IO_STREAM(r->conn)));
	g_data_input_stream_read_line_async(r->in, G_PRIORITY_DEFAULT,
	    r->ctl->cancel, ctl_req_line, r);
}

static void
ctl_req_connected(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct ctl_req	*r = arg;
	GError		*err = NULL;

	r->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res,
	    &err);
	if (r->conn == NULL) {
		ctl_req_fail(r, err, NULL);
		g_error_free(err);
		return;
	}
	g_output_stream_write_all_async(g_io_stream_get_output_stream(
	    G_IO_STREAM(r->conn)), r->line, r->len, G_PRIORITY_DEFAULT,
	    r->ctl->cancel, ctl_req_written, r);
}

/* Takes req. fn gets the reply, or NULL and why it failed. */
void
ctl_request(struct gui_ctl *ctl, json_t *req, gui_ctl_reply_fn *fn,
    gpointer arg)
{
	struct ctl_req	*r = g_new0(struct ctl_req, 1);
	GSocketAddress	*addr;
	const char	*t;
	char		*s;

	json_object_set_new(req, "version", json_integer(FZC_CONTROL_VERSION));
	if ((s = json_dumps(req, JSON_COMPACT)) == NULL)
		g_error("out of memory");
	r->len = strlen(s) + 1;
	r->line = g_strconcat(s, "\n", NULL);
	explicit_bzero(s, r->len - 1);
	free(s);
	/* jansson frees without wiping: the token goes first. */
	if ((t = json_string_value(json_object_get(req, "token"))) != NULL)
		explicit_bzero((char *)t, strlen(t));
	json_decref(req);
	r->ctl = ctl;
	r->fn = fn;
	r->arg = arg;
	addr = g_unix_socket_address_new(ctl->path);
	g_socket_client_connect_async(ctl->client, G_SOCKET_CONNECTABLE(addr),
	    ctl->cancel, ctl_req_connected, r);
	g_object_unref(addr);
}

void
ctl_free(struct gui_ctl *ctl)
{
	if (ctl == NULL)
		return;
	g_cancellable_cancel(ctl->cancel);
	if (ctl->retry != 0)
		g_source_remove(ctl->retry);
	g_clear_object(&ctl->in);
	if (ctl->conn != NULL)
		g_io_stream_close(G_IO_STREAM(ctl->conn), NULL, NULL);
	g_clear_object(&ctl->conn);
	g_object_unref(ctl->cancel);
	g_object_unref(ctl->client);
	g_free(ctl->path);
	g_free(ctl);
}

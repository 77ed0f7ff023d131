/*
 * signin.c: signing in as Firezone's GUI client does it. A nonce and a
 * state (32 random bytes each, hex) go to the portal's sign-in page in the
 * default browser; the portal sends the browser to
 * firezone-fd0020211111://handle_client_sign_in_callback/?state=...
 * &fragment=...&account_slug=...&actor_name=..., which reaches us as a
 * deep link; the token is nonce followed by fragment. It goes to the
 * daemon and nowhere else: not to disk, not to the log.
 */
#include <sodium.h>
#include <string.h>

#include "gui/gui.h"

#define SIGNIN_RANDOM	32

static char *
signin_random_hex(void)
{
	unsigned char	 b[SIGNIN_RANDOM];
	char		 hex[2 * SIGNIN_RANDOM + 1];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
	return (g_strdup(hex));
}

static void
signin_forget(struct gui *g)
{
	if (g->nonce != NULL)
		sodium_memzero(g->nonce, strlen(g->nonce));
	g_clear_pointer(&g->nonce, g_free);
	g_clear_pointer(&g->state, g_free);
}

static void
signin_launched(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct gui	*g = arg;
	GError		*err = NULL;
	char		*why;

	(void)src;
	if (!g_app_info_launch_default_for_uri_finish(res, &err)) {
		why = g_strdup_printf("Cannot open the browser: %s",
		    err->message);
		gui_error(g, why);
		g_free(why);
		g_error_free(err);
	}
}

void
signin_start(struct gui *g)
{
	const char	*slug = g->settings.account_slug;
	char		*url;

	signin_forget(g);
	g->nonce = signin_random_hex();
	g->state = signin_random_hex();
	url = g_strdup_printf("%s%s%s?as=gui-client&nonce=%s&state=%s",
	    g->settings.auth_url, slug != NULL && *slug != '\0' ? "/" : "",
	    slug != NULL ? slug : "", g->nonce, g->state);
	g_message("sign-in: opening the portal's sign-in page in the browser");
	g_app_info_launch_default_for_uri_async(url, NULL, NULL,
	    signin_launched, g);
	/* The URL holds the nonce, half of the token. */
	sodium_memzero(url, strlen(url));
	g_free(url);
	gui_error(g, NULL);
}

static void
signin_done(json_t *reply, const char *error, gpointer arg)
{
	struct gui	*g = arg;

	(void)reply;
	if (error == NULL)
		g_message("sign-in: the daemon took the token");
	gui_error(g, error);
}

/* Pasted, or made from the deep link. */
void
signin_token(struct gui *g, const char *token)
{
	if (token == NULL || *token == '\0') {
		gui_error(g, "The token is empty.");
		return;
	}
	ctl_request(g->ctl, json_pack("{s:s, s:s}", "command", "sign-in",
	    "token", token), signin_done, g);
}

static gboolean
signin_state_ok(const char *want, const char *got)
{
	size_t	 n = strlen(want);

	/* Constant time: the length is public, the content is not. */
	return (got != NULL && strlen(got) == n &&
	    sodium_memcmp(want, got, n) == 0);
}

void
signin_callback(struct gui *g, const char *uri)
{
	GUri		*u;
	GHashTable	*q = NULL;
	const char	*state, *fragment, *slug, *actor;
	char		*token;

	u = g_uri_parse(uri, G_URI_FLAGS_ENCODED_QUERY, NULL);
	if (u == NULL || g_strcmp0(g_uri_get_host(u),
	    "handle_client_sign_in_callback") != 0 ||
	    g_uri_get_query(u) == NULL ||
	    (q = g_uri_parse_params(g_uri_get_query(u), -1, "&",
	    G_URI_PARAMS_WWW_FORM, NULL)) == NULL) {
		gui_error(g, "Sign-in refused: the link is not a sign-in "
		    "callback.");
		goto out;
	}
	state = g_hash_table_lookup(q, "state");
	fragment = g_hash_table_lookup(q, "fragment");
	slug = g_hash_table_lookup(q, "account_slug");
	actor = g_hash_table_lookup(q, "actor_name");
	if (g->state == NULL) {
		gui_error(g, "Sign-in refused: no sign-in was started here. "
		    "Click Sign in again.");
		goto out;
	}
	if (!signin_state_ok(g->state, state)) {
		gui_error(g, "Sign-in refused: the link's state does not "
		    "match the sign-in started here. Click Sign in again.");
		goto out;
	}
	if (fragment == NULL || *fragment == '\0') {
		gui_error(g, "Sign-in refused: the link carries no token.");
		goto out;
	}
	token = g_strconcat(g->nonce, fragment, NULL);
	signin_forget(g);
	signin_token(g, token);
	sodium_memzero(token, strlen(token));
	g_free(token);
	/* Who signed in is shown, and is no secret. */
	g_free(g->settings.account_slug);
	g->settings.account_slug = g_strdup(slug);
	g_free(g->settings.actor_name);
	g->settings.actor_name = g_strdup(actor);
	settings_save(&g->settings);
	g_message("sign-in: callback accepted for account %s",
	    slug != NULL ? slug : "?");
out:
	if (q != NULL)
		g_hash_table_unref(q);
	if (u != NULL)
		g_uri_unref(u);
}

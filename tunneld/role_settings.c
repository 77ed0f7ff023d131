/*
 * role_settings.c: the user's settings for the client and gateway roles,
 * as Firezone's advanced settings are: the portal's API URL and the log
 * level. Each overrides the command line's value; tunneld keeps them in
 * its state directory, so that they outlive a restart, and uses the log
 * level itself. controld is told them after every hello and change, and
 * reconnects to the portal when the URL moves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/role.h"

static void
role_settings_path(const struct role *r, char *path, size_t len)
{
	snprintf(path, len, "%s/settings", r->opt.state_dir);
}

static bool
role_settings_url_ok(const char *u)
{
	return ((strncmp(u, "wss://", 6) == 0 || strncmp(u, "ws://", 5) == 0) &&
	    strpbrk(u, " \t@") == NULL);
}

static void
role_settings_apply(struct role *r)
{
	const struct ipc_settings	*st = &r->settings;

	log_setlevel(st->log_level != IPC_LOG_DEFAULT ?
	    (enum log_level)(st->log_level - 1) :
	    (enum log_level)r->opt.log_level);
}

/* "api-url URL" and "log-level LEVEL" lines; anything else is ignored. */
void
role_settings_load(struct role *r)
{
	struct ipc_settings	*st = &r->settings;
	char			 path[512], line[IPC_URL_MAX + 16], *v;
	enum log_level		 level;
	FILE			*f;

	memset(st, 0, sizeof(*st));
	role_settings_path(r, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("reading %s", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((v = strchr(line, ' ')) != NULL)
			*v++ = '\0';
		if (v != NULL && strcmp(line, "api-url") == 0 &&
		    strlen(v) < sizeof(st->api_url) && role_settings_url_ok(v))
			memcpy(st->api_url, v, strlen(v) + 1);
		else if (v != NULL && strcmp(line, "log-level") == 0 &&
		    log_parse_level(v, &level) == 0)
			st->log_level = (uint8_t)(level + 1);
		else
			log_warnx("%s: a line for '%.32s' ignored", path, line);
	}
	fclose(f);
	role_settings_apply(r);
}

/* What IPC_SETTINGS says: the saved settings, and the defaults. */
void
role_settings_get(const struct role *r, struct ipc_settings *st)
{
	*st = r->settings;
	snprintf(st->default_api_url, sizeof(st->default_api_url), "%s",
	    r->opt.api_url);
	st->default_log_level = (uint8_t)(r->opt.log_level + 1);
}

const char *
role_settings_api_url(const struct role *r)
{
	return (r->settings.api_url[0] != '\0' ? r->settings.api_url :
	    r->opt.api_url);
}

int
role_settings_send(const struct role *r, struct ipc_chan *ch)
{
	struct ipc_settings	 st;

	role_settings_get(r, &st);
	return (ipc_chan_send(ch, IPC_SETTINGS, 0, &st, sizeof(st), -1));
}

/*
 * IPC_SETTINGS_SET: saved by rename, so that a crash leaves the old
 * settings or the new; controld hears the new ones before the ack.
 * Returns 0 or an errno value.
 */
int
role_settings_set(struct role *r, struct ipc_chan *ch,
    const struct ipc_settings *set)
{
	char	 path[512], text[sizeof(set->api_url) + 64];
	int	 n = 0;

	if (set->api_url[0] != '\0' && !role_settings_url_ok(set->api_url))
		return (EINVAL);
	role_settings_path(r, path, sizeof(path));
	text[0] = '\0';
	if (set->api_url[0] != '\0')
		n = snprintf(text, sizeof(text), "api-url %s\n", set->api_url);
	if (set->log_level != IPC_LOG_DEFAULT)
		snprintf(text + n, sizeof(text) - (size_t)n, "log-level %s\n",
		    log_level_name((enum log_level)(set->log_level - 1)));
	if (util_save_file(path, text, 0644) == -1)
		return (errno);
	memcpy(r->settings.api_url, set->api_url, sizeof(set->api_url));
	r->settings.log_level = set->log_level;
	role_settings_apply(r);
	log_info("settings: API URL %s, log level %s", role_settings_api_url(r),
	    log_level_name(log_getlevel()));
	if (role_settings_send(r, ch) == -1)
		log_warn("sending the settings to controld");
	return (0);
}

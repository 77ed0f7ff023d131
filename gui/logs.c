/*
 * logs.c: fzc-gui's own log (a file in the user's cache directory, besides
 * the journal) and "export logs": one zip holding the daemons' journal and
 * that file, written beside its target and renamed into place.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "gui/gui.h"

#define LOGS_MAX_ENTRIES	100000
#define LOGS_MAX_FILE		(8 * 1024 * 1024)

static FILE	*logs_file;

static char *
logs_path(void)
{
	return (g_build_filename(g_get_user_cache_dir(), "fzc-gui",
	    "fzc-gui.log", NULL));
}

static GLogWriterOutput
logs_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
    gpointer arg)
{
	char		*line;
	GDateTime	*now;
	char		*ts;

	if (logs_file != NULL && (level & (G_LOG_LEVEL_ERROR |
	    G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING |
	    G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))) {
		now = g_date_time_new_now_local();
		ts = g_date_time_format(now, "%F %T");
		line = g_log_writer_format_fields(level, fields, n, FALSE);
		fprintf(logs_file, "%s %s\n", ts, line);
		fflush(logs_file);
		g_free(line);
		g_free(ts);
		g_date_time_unref(now);
	}
	return (g_log_writer_default(level, fields, n, arg));
}

void
logs_init(void)
{
	char		*path = logs_path(), *dir = g_path_get_dirname(path);
	struct stat	 st;
	int		 fd;

	/* One file, started afresh when it grows too big. */
	if (g_mkdir_with_parents(dir, 0700) == 0 &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) != -1) {
		if (fstat(fd, &st) == 0 && st.st_size > LOGS_MAX_FILE &&
		    ftruncate(fd, 0) == -1)
			g_printerr("fzc-gui: truncating %s failed\n", path);
		logs_file = fdopen(fd, "a");
	}
	g_log_set_writer_func(logs_writer, NULL, NULL);
	g_free(dir);
	g_free(path);
}

/* The daemons' journal entries, oldest first, as text. */
static GString *
logs_journal(void)
{
	static const char *const	 idents[] = {
		"SYSLOG_IDENTIFIER=fzc-tunneld",
		"SYSLOG_IDENTIFIER=fzc-controld",
		"_SYSTEMD_UNIT=fzc.service",
	};
	GString		*s = g_string_new(NULL);
	sd_journal	*j;
	const void	*d;
	size_t		 len, i;
	uint64_t	 usec;
	time_t		 t;
	char		 when[32];
	int		 r, n = 0;

	if ((r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY)) < 0) {
		g_string_append_printf(s, "cannot open the journal: %s\n",
		    g_strerror(-r));
		return (s);
	}
	for (i = 0; i < G_N_ELEMENTS(idents); i++) {
		if (i > 0)
			sd_journal_add_disjunction(j);
		sd_journal_add_match(j, idents[i], 0);
	}
	/* The newest entries, up to the limit. */
	sd_journal_seek_tail(j);
	while (n < LOGS_MAX_ENTRIES && sd_journal_previous(j) > 0)
		n++;
	while (n-- > 0) {
		if (sd_journal_get_realtime_usec(j, &usec) < 0)
			usec = 0;
		t = (time_t)(usec / 1000000);
		strftime(when, sizeof(when), "%F %T", localtime(&t));
		g_string_append(s, when);
		if (sd_journal_get_data(j, "SYSLOG_IDENTIFIER", &d, &len) >= 0)
			g_string_append_printf(s, " %.*s", (int)len - 18,
			    (const char *)d + 18);
		if (sd_journal_get_data(j, "MESSAGE", &d, &len) >= 0)
			g_string_append_printf(s, ": %.*s", (int)len - 8,
			    (const char *)d + 8);
		g_string_append_c(s, '\n');
		if (sd_journal_next(j) <= 0)
			break;
	}
	if (s->len == 0)
		g_string_append(s, "no entries of fzc in the journal that "
		    "this user may read (members of group systemd-journal "
		    "or adm can)\n");
	sd_journal_close(j);
	return (s);
}

static int
logs_add(struct archive *a, const char *name, const char *data, size_t len)
{
	struct archive_entry	*e = archive_entry_new();
	int			 r;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && len > 0 &&
	    archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	archive_entry_free(e);
	return (r);
}

void
logs_export(struct gui *g, const char *path)
{
	struct archive	*a = archive_write_new();
	GString		*journal = logs_journal();
	char		*tmp = g_strconcat(path, ".part", NULL), *gui = NULL;
	char		*lp = logs_path(), *why;
	gsize		 glen = 0;
	int		 ok;

	if (!g_file_get_contents(lp, &gui, &glen, NULL)) {
		gui = g_strdup("");
		glen = 0;
	}
	ok = archive_write_set_format_zip(a) == ARCHIVE_OK &&
	    archive_write_open_filename(a, tmp) == ARCHIVE_OK &&
	    logs_add(a, "fzc-logs/daemons.log", journal->str,
	    journal->len) == ARCHIVE_OK &&
	    logs_add(a, "fzc-logs/fzc-gui.log", gui, glen) == ARCHIVE_OK &&
	    archive_write_close(a) == ARCHIVE_OK && rename(tmp, path) == 0;
	if (!ok) {
		why = g_strdup_printf("Exporting the logs to %s failed: %s",
		    path, archive_error_string(a) != NULL ?
		    archive_error_string(a) : g_strerror(errno));
		unlink(tmp);
		gui_error(g, why);
		g_free(why);
	} else {
		g_message("logs exported to %s", path);
		gui_error(g, NULL);
	}
	archive_write_free(a);
	g_string_free(journal, TRUE);
	g_free(gui);
	g_free(lp);
	g_free(tmp);
}

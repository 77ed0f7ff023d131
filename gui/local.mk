# gui/: fzc-gui, the GTK 4 desktop front-end (configure --disable-gui
# leaves it out), with its desktop entries, icons and AppStream metadata.
if GUI
bin_PROGRAMS += fzc-gui
fzc_gui_SOURCES = \
	gui/gui.h gui/gui.c gui/main.c gui/ctl.c gui/window.c gui/tray.c \
	gui/notify.c gui/signin.c gui/settings.c gui/logs.c
fzc_gui_CPPFLAGS = $(AM_CPPFLAGS) -DBINDIR=\"$(bindir)\" \
	-DDATADIR=\"$(datadir)\"
fzc_gui_CFLAGS = $(AM_CFLAGS) $(GUI_CFLAGS)
fzc_gui_LDADD = $(GUI_LIBS)

desktopdir = $(datadir)/applications
dist_desktop_DATA = packaging/desktop/dev.fzc.Gui.desktop
metainfodir = $(datadir)/metainfo
dist_metainfo_DATA = packaging/desktop/dev.fzc.Gui.metainfo.xml
appiconsdir = $(datadir)/icons/hicolor/scalable/apps
dist_appicons_DATA = packaging/desktop/icons/dev.fzc.Gui.svg
guimandir = $(mandir)/man1
dist_guiman_DATA = man/fzc-gui.1
statusiconsdir = $(datadir)/icons/hicolor/scalable/status
dist_statusicons_DATA = \
	packaging/desktop/icons/fzc-connected.svg \
	packaging/desktop/icons/fzc-connecting.svg \
	packaging/desktop/icons/fzc-signed-out.svg
endif
EXTRA_DIST += tests/gui doc

# controld/wgconf: parser for wg-quick style files (fzc-tunneld --wireguard)
noinst_LIBRARIES += libfzcwgconf.a
libfzcwgconf_a_SOURCES = controld/wgconf.c controld/wgconf.h
libfzcwgconf_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)

check_PROGRAMS += tests/unit/check_wgconf
tests_unit_check_wgconf_SOURCES = tests/unit/check_wgconf.c
tests_unit_check_wgconf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SODIUM_CFLAGS)
tests_unit_check_wgconf_LDADD = libfzcwgconf.a $(FZC_CHECK_LIBS) $(SODIUM_LIBS)

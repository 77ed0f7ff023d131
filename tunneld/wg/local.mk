noinst_LIBRARIES += libfzcwg.a
libfzcwg_a_SOURCES = tunneld/wg/wg.c tunneld/wg/wg.h \
	tunneld/wg/crypto.c tunneld/wg/crypto.h \
	tunneld/wg/aead.c tunneld/wg/aead.h \
	tunneld/wg/replay.c tunneld/wg/replay.h \
	tunneld/wg/transport.c tunneld/wg/transport.h \
	tunneld/wg/cookie.c tunneld/wg/cookie.h \
	tunneld/wg/noise.c tunneld/wg/noise.h \
	tunneld/wg/timers.c tunneld/wg/timers.h
libfzcwg_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(LIBB2_CFLAGS) \
	$(LIBCRYPTO_CFLAGS) -pthread
check_PROGRAMS += tests/unit/check_wg
tests_unit_check_wg_SOURCES = tests/unit/check_wg.c \
	tests/unit/check_wg_replay.c tests/unit/check_wg_noise.c \
	tests/unit/check_wg_timers.c tests/unit/check_wg_aead.c
tests_unit_check_wg_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SODIUM_CFLAGS) $(LIBB2_CFLAGS) \
	$(LIBCRYPTO_CFLAGS) -pthread
tests_unit_check_wg_LDADD = libfzcwg.a $(FZC_CHECK_LIBS) $(SODIUM_LIBS) \
	$(LIBB2_LIBS) $(LIBCRYPTO_LIBS) -lpthread

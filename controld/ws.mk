# controld/ws.mk: the WebSocket client of fzc-controld (TLS through libcurl,
# framing through wslay, driven by libevent) and its tests against a
# python3-websockets server.  Included from the top-level Makefile.am.

noinst_LIBRARIES += libfzcws.a
libfzcws_a_SOURCES = controld/ws.c controld/ws.h \
	controld/curl_ev.c controld/curl_ev.h
libfzcws_a_CFLAGS = $(AM_CFLAGS) $(LIBCURL_CFLAGS) $(WSLAY_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(LIBCRYPTO_CFLAGS)

# Runs tests/unit/ws_server.py from $(srcdir), which the test driver
# exports, with /usr/bin/python3 and openssl(1).
check_PROGRAMS += tests/unit/check_ws
tests_unit_check_ws_SOURCES = tests/unit/check_ws.c
tests_unit_check_ws_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_check_ws_LDADD = libfzcws.a $(FZC_CHECK_LIBS) $(LIBCURL_LIBS) \
	$(WSLAY_LIBS) $(LIBEVENT_LIBS) $(LIBCRYPTO_LIBS) $(SODIUM_LIBS)

EXTRA_DIST += tests/unit/ws_server.py

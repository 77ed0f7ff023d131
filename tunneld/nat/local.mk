# STUN codec, TURN client, ICE candidate codec and ICE agent (sans-IO);
# included from the top-level Makefile.am.

noinst_LIBRARIES += libfzcnat.a
libfzcnat_a_SOURCES = tunneld/nat/stun.c tunneld/nat/stun.h \
	tunneld/nat/turn.c tunneld/nat/turn.h \
	tunneld/nat/ice_candidate.c tunneld/nat/ice_candidate.h \
	tunneld/nat/ice.c tunneld/nat/ice.h
libfzcnat_a_CFLAGS = $(AM_CFLAGS) $(LIBCRYPTO_CFLAGS) $(ZLIB_CFLAGS)

check_PROGRAMS += tests/unit/check_stun tests/unit/check_turn \
	tests/unit/check_ice_candidate tests/unit/check_ice

tests_unit_check_stun_SOURCES = tests/unit/check_stun.c
tests_unit_check_stun_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_stun_LDADD = libfzcnat.a $(FZC_CHECK_LIBS) $(LIBCRYPTO_LIBS) \
	$(ZLIB_LIBS)

tests_unit_check_turn_SOURCES = tests/unit/check_turn.c
tests_unit_check_turn_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_turn_LDADD = libfzcnat.a $(FZC_CHECK_LIBS) $(LIBCRYPTO_LIBS) \
	$(ZLIB_LIBS)

tests_unit_check_ice_SOURCES = tests/unit/check_ice.c
tests_unit_check_ice_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_ice_LDADD = libfzcnat.a $(FZC_CHECK_LIBS) $(LIBCRYPTO_LIBS) \
	$(ZLIB_LIBS)

tests_unit_check_ice_candidate_SOURCES = tests/unit/check_ice_candidate.c
tests_unit_check_ice_candidate_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_ice_candidate_LDADD = libfzcnat.a $(FZC_CHECK_LIBS)

# controld/portal.mk: the sans-IO portal protocol core of fzc-controld
# (Phoenix channel, portal messages, URL/User-Agent, reconnect backoff,
# authorization rate limit) and its unit tests.  Included from the
# top-level Makefile.am, after EXTRA_DIST is set.

noinst_LIBRARIES += libfzcportal.a
libfzcportal_a_SOURCES = \
	controld/phoenix.c controld/phoenix.h \
	controld/portal_backoff.c controld/portal_backoff.h \
	controld/portal_msg.c controld/portal_msg.h \
	controld/portal_ratelimit.c controld/portal_ratelimit.h \
	controld/portal_url.c controld/portal_url.h
libfzcportal_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(SODIUM_CFLAGS)

FZC_PORTAL_LIBS = libfzcportal.a $(JANSSON_LIBS) $(LIBCRYPTO_LIBS) \
	$(SODIUM_LIBS)

check_PROGRAMS += tests/unit/check_phoenix tests/unit/check_portal_backoff \
	tests/unit/check_portal_msg tests/unit/check_portal_ratelimit \
	tests/unit/check_portal_url

tests_unit_check_phoenix_SOURCES = tests/unit/check_phoenix.c
tests_unit_check_phoenix_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_check_phoenix_LDADD = $(FZC_PORTAL_LIBS) $(FZC_CHECK_LIBS)

# Reads tests/unit/data/portal/ under $(srcdir), which the test driver
# exports.
tests_unit_check_portal_msg_SOURCES = tests/unit/check_portal_msg.c
tests_unit_check_portal_msg_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_check_portal_msg_LDADD = $(FZC_PORTAL_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_portal_backoff_SOURCES = tests/unit/check_portal_backoff.c
tests_unit_check_portal_backoff_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_portal_backoff_LDADD = $(FZC_PORTAL_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_portal_ratelimit_SOURCES = \
	tests/unit/check_portal_ratelimit.c
tests_unit_check_portal_ratelimit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_portal_ratelimit_LDADD = $(FZC_PORTAL_LIBS) \
	$(FZC_CHECK_LIBS)

tests_unit_check_portal_url_SOURCES = tests/unit/check_portal_url.c
tests_unit_check_portal_url_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_portal_url_LDADD = $(FZC_PORTAL_LIBS) $(FZC_CHECK_LIBS)

EXTRA_DIST += \
	tests/unit/data/portal/authorization_created.json \
	tests/unit/data/portal/authorization_creation_failed.json \
	tests/unit/data/portal/config_changed.json \
	tests/unit/data/portal/disconnect.json \
	tests/unit/data/portal/ice_candidates.json \
	tests/unit/data/portal/init.json \
	tests/unit/data/portal/relays_presence.json \
	tests/unit/data/portal/resource_cidr.json \
	tests/unit/data/portal/resource_dns.json \
	tests/unit/data/portal/resource_internet.json

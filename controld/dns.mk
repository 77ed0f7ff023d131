# controld/dns.mk: the sans-IO core of the DNS stub resolver in
# fzc-controld (resource patterns, proxy IPs, upstreams, the answers,
# forwarded queries) and its unit tests. Included from the top-level
# Makefile.am.

noinst_LIBRARIES += libfzcdns.a
libfzcdns_a_SOURCES = \
	controld/dns_forward.c controld/dns_forward.h \
	controld/dns_p2p.c controld/dns_p2p.h \
	controld/dns_pattern.c controld/dns_pattern.h \
	controld/dns_proxy.c controld/dns_proxy.h \
	controld/dns_remote.c controld/dns_remote.h \
	controld/dns_stub.c controld/dns_stub.h \
	controld/dns_tcp.c controld/dns_tcp.h \
	controld/dns_upstream.c controld/dns_upstream.h
libfzcdns_a_CFLAGS = $(AM_CFLAGS) $(LDNS_CFLAGS) $(JANSSON_CFLAGS)

FZC_DNS_LIBS = libfzcdns.a libfzcipc.a libfzccommon.a $(LDNS_LIBS) \
	$(JANSSON_LIBS)

check_PROGRAMS += tests/unit/check_dns_pattern tests/unit/check_dns_proxy \
	tests/unit/check_dns_stub tests/unit/check_dns_upstream \
	tests/unit/check_dns_forward tests/unit/check_dns_p2p \
	tests/unit/check_dns_tcp

tests_unit_check_dns_pattern_SOURCES = tests/unit/check_dns_pattern.c
tests_unit_check_dns_pattern_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_dns_pattern_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_dns_proxy_SOURCES = tests/unit/check_dns_proxy.c
tests_unit_check_dns_proxy_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_dns_proxy_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_dns_stub_SOURCES = tests/unit/check_dns_stub.c
tests_unit_check_dns_stub_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(LDNS_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_check_dns_stub_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_dns_upstream_SOURCES = tests/unit/check_dns_upstream.c
tests_unit_check_dns_upstream_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_check_dns_upstream_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_dns_forward_SOURCES = tests/unit/check_dns_forward.c
tests_unit_check_dns_forward_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(LDNS_CFLAGS)
tests_unit_check_dns_forward_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

tests_unit_check_dns_p2p_SOURCES = tests/unit/check_dns_p2p.c
tests_unit_check_dns_p2p_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_check_dns_p2p_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

check_PROGRAMS += tests/unit/check_dns_remote
tests_unit_check_dns_remote_SOURCES = tests/unit/check_dns_remote.c
tests_unit_check_dns_remote_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(LDNS_CFLAGS)
tests_unit_check_dns_remote_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

# The DoH client's checks of answers and its SERVFAIL; the client itself
# runs against dnsdist in the integration tests.
check_PROGRAMS += tests/unit/check_dns_doh
tests_unit_check_dns_doh_SOURCES = tests/unit/check_dns_doh.c \
	controld/dns_doh.c controld/dns_doh.h \
	controld/dns_resolve.c controld/dns_resolve.h \
	controld/tunneld_chan.c controld/tunneld_chan.h
tests_unit_check_dns_doh_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(LIBCURL_CFLAGS) $(LIBEVENT_CFLAGS) $(LDNS_CFLAGS) $(CARES_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_check_dns_doh_LDADD = libfzcws.a $(FZC_DNS_LIBS) \
	$(FZC_CHECK_LIBS) $(LIBCURL_LIBS) $(LIBEVENT_LIBS) $(CARES_LIBS)
tests_unit_check_dns_tcp_SOURCES = tests/unit/check_dns_tcp.c
tests_unit_check_dns_tcp_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_dns_tcp_LDADD = $(FZC_DNS_LIBS) $(FZC_CHECK_LIBS)

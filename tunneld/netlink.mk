# rtnetlink requests with an undo log; included from the top-level Makefile.am.

noinst_LIBRARIES += libfzcnetlink.a
libfzcnetlink_a_SOURCES = tunneld/netlink.c tunneld/netlink.h
libfzcnetlink_a_CFLAGS = $(AM_CFLAGS) $(LIBMNL_CFLAGS)

# Runs as root in throwaway network namespaces; exits 77 (SKIP) otherwise.
check_PROGRAMS += tests/unit/check_netlink
tests_unit_check_netlink_SOURCES = tests/unit/check_netlink.c
tests_unit_check_netlink_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBMNL_CFLAGS)
tests_unit_check_netlink_LDADD = libfzcnetlink.a $(FZC_CHECK_LIBS) \
	$(LIBMNL_LIBS)

# Network changes under the tunnel (netwatch.h): the sans-IO core and its
# rtnetlink socket, in the same library.
libfzcnetlink_a_SOURCES += tunneld/netwatch.c tunneld/netwatch.h
libfzcnetlink_a_CFLAGS += $(LIBEVENT_CFLAGS)

check_PROGRAMS += tests/unit/check_netwatch
tests_unit_check_netwatch_SOURCES = tests/unit/check_netwatch.c
tests_unit_check_netwatch_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(LIBMNL_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_check_netwatch_LDADD = libfzcnetlink.a libfzccommon.a \
	$(FZC_CHECK_LIBS) $(LIBMNL_LIBS) $(LIBEVENT_LIBS)

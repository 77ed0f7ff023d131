/*
 * check_gro.c: decrypted TCP segments coalesced (tunneld/gro.c). The
 * writer records what would reach the TUN device; each coalesced packet is
 * checked as the kernel would take it (its checksum finished from the
 * NEEDS_CSUM partial sum must hold by the plain reference of pkt.h), and
 * then cut again with gso.c to give back the segments that went in.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "tests/unit/pkt.h"
#include "tunneld/gro.h"
#include "tunneld/gso.h"

#define WRITES_MAX	16
#define IN_MAX		80

struct written {
	struct virtio_net_hdr	 vh;
	uint8_t			 pkt[GSO_PKT_MAX];
	size_t			 len;
	unsigned		 segs;
};

static struct written	 out[WRITES_MAX];
static int		 nout;
static uint8_t		 in[IN_MAX][2048];
static size_t		 inlen[IN_MAX];
static struct gro	 g;

static void
record(void *arg, const struct iovec *iov, int cnt, unsigned segs)
{
	struct written	*w = &out[nout++];
	int		 i;

	ck_assert_ptr_eq(arg, &g);
	ck_assert_int_le(nout, WRITES_MAX);
	ck_assert_uint_eq(iov[0].iov_len, sizeof(w->vh));
	memcpy(&w->vh, iov[0].iov_base, sizeof(w->vh));
	w->len = 0;
	for (i = 1; i < cnt; i++) {
		memcpy(w->pkt + w->len, iov[i].iov_base, iov[i].iov_len);
		w->len += iov[i].iov_len;
	}
	w->segs = segs;
}

static void
setup(void)
{
	gro_init(&g, record, &g);
	nout = 0;
}

/* Segment k of a flow: payload plen at sequence base + off. */
static size_t
seg(int k, const struct pkt_spec *base, size_t off, size_t plen, uint8_t flags)
{
	struct pkt_spec	 s = *base;

	s.seq = base->seq + (uint32_t)off;
	s.payload = plen;
	s.fill = base->fill + (unsigned)off;
	s.flags = flags;
	s.id = (uint16_t)(base->id + k);
	inlen[k] = pkt_build(in[k], &s);
	return (inlen[k]);
}

/* A plain packet as written: no GSO, no checksum left to do. */
static void
check_plain(const struct written *w, const uint8_t *p, size_t len)
{
	ck_assert_uint_eq(w->vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ck_assert_uint_eq(w->vh.flags, 0);
	ck_assert_uint_eq(w->segs, 1);
	ck_assert_uint_eq(w->len, len);
	ck_assert_mem_eq(w->pkt, p, len);
}

/*
 * A coalesced packet of flow base: nseg segments of seg bytes from off,
 * total payload plen; its checksum finished as the kernel would, then
 * cut again into what went in (which overwrites w->pkt).
 */
static void
check_coalesced(struct written *w, const struct pkt_spec *base, size_t off,
    size_t segsz, size_t plen, unsigned nseg)
{
	struct gso	 cut;
	size_t		 l4 = pkt_l4(base), hlen = pkt_hlen(base), j, n;
	uint8_t		*p = w->pkt, *q;
	uint16_t	 c;
	unsigned	 k = 0;

	ck_assert_uint_eq(w->segs, nseg);
	ck_assert_uint_eq(w->len, hlen + plen);
	ck_assert_uint_eq(w->vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(w->vh.gso_type,
	    base->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(w->vh.gso_size, segsz);
	ck_assert_uint_eq(w->vh.hdr_len, hlen);
	ck_assert_uint_eq(w->vh.csum_start, l4);
	ck_assert_uint_eq(w->vh.csum_offset, 16);
	if (base->v6)
		ck_assert_uint_eq(pkt_get16(p + 4), w->len - 40);
	else {
		ck_assert_uint_eq(pkt_get16(p + 2), w->len);
		ck_assert(ref_ip4_ok(p));
	}
	ck_assert_uint_eq(pkt_get32(p + l4 + 4), (uint32_t)(base->seq + off));
	for (j = 0; j < plen; j++)
		ck_assert_uint_eq(p[hlen + j], (uint8_t)(base->fill + off + j));
	/* The kernel sums from csum_start over the partial sum in the field. */
	c = (uint16_t)~ref_fold(ref_sum(0, p + l4, w->len - l4));
	pkt_put16(p + l4 + 16, c);
	ck_assert(ref_l4_ok(p, w->len, l4, PKT_TCP));
	/* Cut again: valid segments carrying the same bytes. */
	ck_assert_int_eq(gso_start(&cut, &w->vh, p, w->len), 0);
	while ((q = gso_next(&cut, &n)) != NULL) {
		ck_assert(ref_l4_ok(q, n, l4, PKT_TCP));
		ck_assert_uint_eq(pkt_get32(q + l4 + 4),
		    (uint32_t)(base->seq + off + k * segsz));
		k++;
	}
	ck_assert_uint_eq(k, nseg);
}

static const struct pkt_spec flow4 = { .proto = PKT_TCP,
	.tcp_opts = 12,
	.seq = 0xfffffc00u,
	.ack = 99,
	.id = 1,
	.sport = 40001,
	.fill = 0 };
static const struct pkt_spec flow6 = { .v6 = 1,
	.proto = PKT_TCP,
	.tcp_opts = 12,
	.seq = 5,
	.ack = 6,
	.sport = 40002,
	.fill = 50 };

START_TEST(test_coalesce_v4)
{
	int	 k;

	for (k = 0; k < 4; k++) {
		seg(k, &flow4, (size_t)k * 1000, 1000,
		    PKT_ACK | (k == 3 ? PKT_PSH : 0));
		gro_add(&g, in[k], inlen[k]);
	}
	ck_assert_int_eq(nout, 0);
	gro_flush(&g);
	ck_assert_int_eq(nout, 1);
	/* PSH from the last segment (before the check cuts it again). */
	ck_assert_uint_eq(out[0].pkt[20 + 13], PKT_ACK | PKT_PSH);
	check_coalesced(&out[0], &flow4, 0, 1000, 4000, 4);
}
END_TEST

START_TEST(test_coalesce_v6_short_last)
{
	int	 k;

	for (k = 0; k < 3; k++) {
		seg(k, &flow6, (size_t)k * 1200, k == 2 ? 77 : 1200, PKT_ACK);
		gro_add(&g, in[k], inlen[k]);
	}
	/* After a short segment the flow takes no more. */
	seg(3, &flow6, 2477, 1200, PKT_ACK);
	gro_add(&g, in[3], inlen[3]);
	gro_flush(&g);
	ck_assert_int_eq(nout, 2);
	check_coalesced(&out[0], &flow6, 0, 1200, 2477, 3);
	check_plain(&out[1], in[3], inlen[3]);
}
END_TEST

START_TEST(test_gap_and_psh)
{
	/* 0, 1000, then a hole, 3000, 4000 with PSH, then 5000. */
	seg(0, &flow4, 0, 1000, PKT_ACK);
	seg(1, &flow4, 1000, 1000, PKT_ACK);
	seg(2, &flow4, 3000, 1000, PKT_ACK);
	seg(3, &flow4, 4000, 1000, PKT_ACK | PKT_PSH);
	seg(4, &flow4, 5000, 1000, PKT_ACK);
	gro_add(&g, in[0], inlen[0]);
	gro_add(&g, in[1], inlen[1]);
	gro_add(&g, in[2], inlen[2]);
	ck_assert_int_eq(nout, 1);	/* the hole flushed the first two */
	gro_add(&g, in[3], inlen[3]);
	gro_add(&g, in[4], inlen[4]);
	gro_flush(&g);
	ck_assert_int_eq(nout, 3);
	check_coalesced(&out[0], &flow4, 0, 1000, 2000, 2);
	check_coalesced(&out[1], &flow4, 3000, 1000, 2000, 2);
	check_plain(&out[2], in[4], inlen[4]);
}
END_TEST

START_TEST(test_mixed_flows)
{
	struct pkt_spec	 other = flow4;
	int		 k;

	other.sport = 40009;
	other.fill = 33;
	/* Interleaved: flow4 at even k, the other at odd k. */
	for (k = 0; k < 6; k++) {
		seg(k, k % 2 ? &other : &flow4, (size_t)(k / 2) * 1000, 1000,
		    PKT_ACK);
		gro_add(&g, in[k], inlen[k]);
	}
	/* A UDP packet between them goes out at once. */
	{
		struct pkt_spec	 u = { .proto = PKT_UDP,
			.sport = 53,
			.payload = 100 };

		inlen[6] = pkt_build(in[6], &u);
		gro_add(&g, in[6], inlen[6]);
		ck_assert_int_eq(nout, 1);
		check_plain(&out[0], in[6], inlen[6]);
	}
	gro_flush(&g);
	ck_assert_int_eq(nout, 3);
	check_coalesced(&out[1], &flow4, 0, 1000, 3000, 3);
	check_coalesced(&out[2], &other, 0, 1000, 3000, 3);
}
END_TEST

START_TEST(test_control_segments_keep_order)
{
	/* Two data segments, then a FIN: the pending two go out first. */
	seg(0, &flow4, 0, 1000, PKT_ACK);
	seg(1, &flow4, 1000, 1000, PKT_ACK);
	seg(2, &flow4, 2000, 500, PKT_ACK | PKT_FIN);
	seg(3, &flow4, 2501, 0, PKT_ACK);		/* a pure ACK */
	gro_add(&g, in[0], inlen[0]);
	gro_add(&g, in[1], inlen[1]);
	gro_add(&g, in[2], inlen[2]);
	gro_add(&g, in[3], inlen[3]);
	ck_assert_int_eq(nout, 3);
	check_coalesced(&out[0], &flow4, 0, 1000, 2000, 2);
	check_plain(&out[1], in[2], inlen[2]);
	check_plain(&out[2], in[3], inlen[3]);
	gro_flush(&g);
	ck_assert_int_eq(nout, 3);
}
END_TEST

START_TEST(test_not_coalesced)
{
	struct pkt_spec	 opts = flow4;
	int		 k;

	/* Another acknowledgment number: not the same train. */
	seg(0, &flow4, 0, 1000, PKT_ACK);
	seg(1, &flow4, 1000, 1000, PKT_ACK);
	pkt_put32(in[1] + 28, flow4.ack + 1);
	pkt_put16(in[1] + 36, 0);
	pkt_put16(in[1] + 36,
	    (uint16_t)~ref_fold(
		ref_sum(ref_pseudo(in[1], PKT_TCP, inlen[1] - 20), in[1] + 20,
		    inlen[1] - 20)));
	/* A bad checksum: passed on alone, for the kernel to drop. */
	seg(2, &flow4, 2000, 1000, PKT_ACK);
	in[2][100] ^= 1;
	for (k = 0; k < 3; k++)
		gro_add(&g, in[k], inlen[k]);
	gro_flush(&g);
	ck_assert_int_eq(nout, 3);
	check_plain(&out[0], in[0], inlen[0]);
	check_plain(&out[1], in[1], inlen[1]);
	check_plain(&out[2], in[2], inlen[2]);

	/* IPv4 options: never coalesced. */
	nout = 0;
	opts.ip4_opts = 4;
	for (k = 0; k < 2; k++) {
		seg(k, &opts, (size_t)k * 1000, 1000, PKT_ACK);
		gro_add(&g, in[k], inlen[k]);
	}
	gro_flush(&g);
	ck_assert_int_eq(nout, 2);
	check_plain(&out[0], in[0], inlen[0]);
	check_plain(&out[1], in[1], inlen[1]);
}
END_TEST

START_TEST(test_limits)
{
	struct pkt_spec	 f = flow4;
	int		 k;

	/* 66 segments of 1000: 64 fill one packet, the rest another. */
	for (k = 0; k < 66; k++) {
		seg(k, &flow4, (size_t)k * 1000, 1000, PKT_ACK);
		gro_add(&g, in[k], inlen[k]);
	}
	gro_flush(&g);
	ck_assert_int_eq(nout, 2);
	check_coalesced(&out[0], &flow4, 0, 1000, 64000, 64);
	check_coalesced(&out[1], &flow4, 64000, 1000, 2000, 2);

	/* More flows than the table holds: all written, none lost. */
	nout = 0;
	for (k = 0; k < GRO_FLOWS + 2; k++) {
		f.sport = (uint16_t)(1000 + k);
		seg(2 * k, &f, 0, 1000, PKT_ACK);
		seg(2 * k + 1, &f, 1000, 1000, PKT_ACK);
		gro_add(&g, in[2 * k], inlen[2 * k]);
		gro_add(&g, in[2 * k + 1], inlen[2 * k + 1]);
	}
	gro_flush(&g);
	ck_assert_int_eq(nout, GRO_FLOWS + 2);
	for (k = 0; k < nout; k++)
		ck_assert_uint_eq(out[k].segs, 2);
}
END_TEST

static Suite *
gro_suite(void)
{
	Suite	*s = suite_create("gro");
	TCase	*tc = tcase_create("coalesce");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_coalesce_v4);
	tcase_add_test(tc, test_coalesce_v6_short_last);
	tcase_add_test(tc, test_gap_and_psh);
	tcase_add_test(tc, test_mixed_flows);
	tcase_add_test(tc, test_control_segments_keep_order);
	tcase_add_test(tc, test_not_coalesced);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { gro_suite },
};

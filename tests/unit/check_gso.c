/*
 * check_gso.c: TUN super-packets cut into segments (tunneld/gso.c), each
 * segment checked field by field and its checksums against the plain
 * reference computation of pkt.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "tests/unit/pkt.h"
#include "tunneld/gso.h"

#define SEGS_MAX	80

static uint8_t	 super[GSO_PKT_MAX];
static uint8_t	 orig[GSO_PKT_MAX];
static uint8_t	 segs[SEGS_MAX][2048];
static size_t	 seglen[SEGS_MAX];

/* Builds s as a super-packet, cuts it; the number of segments, or -1. */
static int
cut(const struct pkt_spec *s, unsigned type, unsigned gso_size)
{
	struct virtio_net_hdr	 vh;
	struct gso		 g;
	uint8_t			*p;
	size_t			 len, n;
	int			 i = 0;

	len = pkt_build(super, s);
	memcpy(orig, super, len);
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = (uint8_t)type;
	vh.gso_size = (uint16_t)gso_size;
	vh.hdr_len = (uint16_t)pkt_hlen(s);
	vh.csum_start = (uint16_t)pkt_l4(s);
	vh.csum_offset = s->proto == PKT_TCP ? 16 : 6;
	if (gso_start(&g, &vh, super, len) == -1)
		return (-1);
	/* Copied at once: the next segment is made over this one's end. */
	while ((p = gso_next(&g, &n)) != NULL) {
		ck_assert_int_lt(i, SEGS_MAX);
		ck_assert_uint_le(n, sizeof(segs[i]));
		memcpy(segs[i], p, n);
		seglen[i++] = n;
	}
	return (i);
}

/* Every segment of s cut at gso_size, checked against the original. */
static void
check_segments(const struct pkt_spec *s, int nseg, unsigned gso_size)
{
	size_t		 l4 = pkt_l4(s), hlen = pkt_hlen(s), plen, j;
	size_t		 want;
	uint8_t		 f, of = orig[l4 + 13];
	int		 i;

	want = (s->payload + gso_size - 1) / gso_size;
	ck_assert_int_eq(nseg, (int)want);
	for (i = 0; i < nseg; i++) {
		uint8_t	*p = segs[i];

		plen = s->payload - (size_t)i * gso_size;
		if (plen > gso_size)
			plen = gso_size;
		ck_assert_uint_eq(seglen[i], hlen + plen);
		if (s->v6) {
			ck_assert_uint_eq(pkt_get16(p + 4), seglen[i] - 40);
			/* Extension headers go along unchanged. */
			ck_assert_mem_eq(p + 40, orig + 40, l4 - 40);
		} else {
			ck_assert_uint_eq(pkt_get16(p + 2), seglen[i]);
			ck_assert_uint_eq(pkt_get16(p + 4),
			    (uint16_t)(s->id + i));
			ck_assert(ref_ip4_ok(p));
			ck_assert_mem_eq(p + 20, orig + 20, l4 - 20);
		}
		ck_assert_msg(ref_l4_ok(p, seglen[i], l4, s->proto),
		    "segment %d: bad L4 checksum", i);
		ck_assert_mem_eq(p + l4, orig + l4, 4);	/* ports */
		if (s->proto == PKT_TCP) {
			ck_assert_uint_eq(pkt_get32(p + l4 + 4),
			    s->seq + (uint32_t)(i * (int)gso_size));
			ck_assert_uint_eq(pkt_get32(p + l4 + 8), s->ack);
			ck_assert_mem_eq(p + l4 + 20, orig + l4 + 20,
			    s->tcp_opts);
			f = p[l4 + 13];
			/* FIN and PSH on the last, CWR on the first only. */
			if (i < nseg - 1)
				ck_assert_uint_eq(f & (PKT_FIN | PKT_PSH), 0);
			else
				ck_assert_uint_eq(f & (PKT_FIN | PKT_PSH),
				    of & (PKT_FIN | PKT_PSH));
			if (i > 0)
				ck_assert_uint_eq(f & PKT_CWR, 0);
			else
				ck_assert_uint_eq(f & PKT_CWR, of & PKT_CWR);
			ck_assert_uint_eq(f & PKT_ACK, of & PKT_ACK);
		} else
			ck_assert_uint_eq(pkt_get16(p + l4 + 4),
			    seglen[i] - l4);
		for (j = 0; j < plen; j++)
			ck_assert_uint_eq(p[hlen + j],
			    (uint8_t)(s->fill + (size_t)i * gso_size + j));
	}
}

START_TEST(test_tcp4)
{
	struct pkt_spec	 s = { .proto = PKT_TCP,
		.tcp_opts = 12,
		.seq = 0xfffff000u,
		.ack = 77,
		.id = 0xfffe,
		.sport = 40000,
		.flags = PKT_ACK | PKT_PSH | PKT_FIN | PKT_CWR,
		.payload = 5000,
		.fill = 3 };
	int		 n;

	/* The sequence number and the IPv4 ID wrap on the way. */
	n = cut(&s, VIRTIO_NET_HDR_GSO_TCPV4, 1200);
	check_segments(&s, n, 1200);
}
END_TEST

START_TEST(test_tcp4_ecn_and_options)
{
	struct pkt_spec	 s = { .proto = PKT_TCP,
		.ip4_opts = 8,
		.tcp_opts = 40,
		.seq = 1,
		.ack = 2,
		.id = 9,
		.sport = 1,
		.flags = PKT_ACK,
		.payload = 2400,
		.fill = 200 };
	int		 n;

	n = cut(&s, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1200);
	check_segments(&s, n, 1200);
}
END_TEST

START_TEST(test_tcp6)
{
	struct pkt_spec	 s = { .v6 = 1,
		.proto = PKT_TCP,
		.tcp_opts = 12,
		.seq = 1000,
		.ack = 5,
		.sport = 443,
		.flags = PKT_ACK | PKT_PSH,
		.payload = 60000,
		.fill = 7 };
	int		 n;

	n = cut(&s, VIRTIO_NET_HDR_GSO_TCPV6, 1208);
	check_segments(&s, n, 1208);
}
END_TEST

START_TEST(test_tcp6_extension_header)
{
	struct pkt_spec	 s = { .v6 = 1,
		.proto = PKT_TCP,
		.ext6 = 8,
		.seq = 1,
		.ack = 1,
		.sport = 80,
		.flags = PKT_ACK,
		.payload = 3001,
		.fill = 1 };
	int		 n;

	/* An odd payload: the last segment's sum ends on half a word. */
	n = cut(&s, VIRTIO_NET_HDR_GSO_TCPV6, 1000);
	check_segments(&s, n, 1000);
}
END_TEST

START_TEST(test_udp4_and_udp6)
{
	struct pkt_spec	 s4 = { .proto = PKT_UDP,
		.id = 100,
		.sport = 4433,
		.payload = 24000,
		.fill = 9 };
	struct pkt_spec	 s6 = { .v6 = 1,
		.proto = PKT_UDP,
		.sport = 4433,
		.payload = 1199,
		.fill = 9 };
	int		 n;

	n = cut(&s4, VIRTIO_NET_HDR_GSO_UDP_L4, 1200);
	check_segments(&s4, n, 1200);
	n = cut(&s6, VIRTIO_NET_HDR_GSO_UDP_L4, 1200);
	check_segments(&s6, n, 1200);
}
END_TEST

START_TEST(test_payload_at_most_one_segment)
{
	struct pkt_spec	 s = { .proto = PKT_TCP,
		.seq = 7,
		.ack = 8,
		.id = 1,
		.flags = PKT_ACK | PKT_PSH,
		.payload = 1200 };
	int		 n;

	n = cut(&s, VIRTIO_NET_HDR_GSO_TCPV4, 1200);
	check_segments(&s, n, 1200);
	s.payload = 2400;
	n = cut(&s, VIRTIO_NET_HDR_GSO_TCPV4, 1200);
	check_segments(&s, n, 1200);
}
END_TEST

/* Not a super-packet: NEEDS_CSUM is finished, the rest left alone. */
START_TEST(test_needs_csum_only)
{
	struct pkt_spec	 s = { .proto = PKT_TCP,
		.seq = 1,
		.ack = 1,
		.flags = PKT_ACK,
		.payload = 333,
		.fill = 5 };
	struct virtio_net_hdr	 vh;
	struct gso	 g;
	uint8_t		*p;
	size_t		 len, n;
	uint32_t	 partial;

	len = pkt_build(super, &s);
	memcpy(orig, super, len);
	/* As the kernel leaves it: the pseudo-header's sum in the field. */
	partial = ref_fold(ref_pseudo(super, PKT_TCP, len - 20));
	pkt_put16(super + 36, partial);
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = 20;
	vh.csum_offset = 16;
	ck_assert_int_eq(gso_start(&g, &vh, super, len), 0);
	p = gso_next(&g, &n);
	ck_assert_ptr_eq(p, super);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(p, orig, len);
	ck_assert_ptr_null(gso_next(&g, &n));

	/* Without the flag, nothing is touched. */
	memcpy(super, orig, len);
	super[36] ^= 0xff;
	vh.flags = 0;
	ck_assert_int_eq(gso_start(&g, &vh, super, len), 0);
	p = gso_next(&g, &n);
	ck_assert_uint_eq(n, len);
	ck_assert_uint_eq(p[36], orig[36] ^ 0xff);
}
END_TEST

START_TEST(test_refused)
{
	struct pkt_spec	 s = { .proto = PKT_TCP,
		.seq = 1,
		.ack = 1,
		.flags = PKT_ACK,
		.payload = 3000 };
	struct pkt_spec	 s6 = { .v6 = 1,
		.proto = PKT_TCP,
		.seq = 1,
		.ack = 1,
		.flags = PKT_ACK,
		.payload = 3000 };
	struct virtio_net_hdr	 vh;
	struct gso	 g;
	size_t		 len;

	len = pkt_build(super, &s);
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = 1000;
	vh.csum_start = 20;
	vh.csum_offset = 16;
	ck_assert_int_eq(gso_start(&g, &vh, super, len), 0);
	vh.gso_size = 0;
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	vh.gso_size = 1000;
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;	/* UFO: never asked for */
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* but IPv4 */
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.csum_start = 24;			/* not the L4 header */
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	vh.csum_start = 20;
	super[32] = 0x40;			/* TCP header of 16 bytes */
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	super[32] = 0x50;
	/* Shorter than its IP header says: a read cut short. */
	ck_assert_int_eq(gso_start(&g, &vh, super, len - 1), -1);
	pkt_put16(super + 2, 40);
	ck_assert_int_eq(gso_start(&g, &vh, super, 40), -1); /* no payload */
	pkt_put16(super + 2, 30);
	ck_assert_int_eq(gso_start(&g, &vh, super, 30), -1);
	vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	vh.csum_start = (uint16_t)len;		/* past the end */
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	len = pkt_build(super, &s6);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;	/* but IPv6 */
	vh.csum_start = 40;
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	ck_assert_int_eq(gso_start(&g, &vh, super, len), 0);
	ck_assert_int_eq(gso_start(&g, &vh, super, len - 1), -1);
	vh.csum_start = 30;			/* inside the IPv6 header */
	ck_assert_int_eq(gso_start(&g, &vh, super, len), -1);
}
END_TEST

static Suite *
gso_suite(void)
{
	Suite	*s = suite_create("gso");
	TCase	*tc = tcase_create("segment");

	tcase_add_test(tc, test_tcp4);
	tcase_add_test(tc, test_tcp4_ecn_and_options);
	tcase_add_test(tc, test_tcp6);
	tcase_add_test(tc, test_tcp6_extension_header);
	tcase_add_test(tc, test_udp4_and_udp6);
	tcase_add_test(tc, test_payload_at_most_one_segment);
	tcase_add_test(tc, test_needs_csum_only);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { gso_suite },
};

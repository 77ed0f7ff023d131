/*
 * gso.h: a super-packet read from a TUN device with offloads on (a
 * virtio-net header, then up to 64 KiB of TCP or UDP), cut into the
 * segments the kernel's GSO would have sent, with their own lengths,
 * sequence numbers, IPv4 IDs, flags and checksums. Sans-IO.
 */
#ifndef FZC_GSO_H
#define FZC_GSO_H

#include <linux/virtio_net.h>

#include <stddef.h>
#include <stdint.h>

/* Debian 12's kernel headers (6.1) predate UDP segmentation on TUN. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

#define GSO_VNET_LEN	sizeof(struct virtio_net_hdr)
/* IP and TCP headers with options, or IPv6 with extension headers. */
#define GSO_HDR_MAX	256
/* The largest IP packet a TUN read returns with offloads on. */
#define GSO_PKT_MAX	65535

struct gso {
	uint8_t		*pkt;
	size_t		 len;
	size_t		 off;	/* where the next segment's payload starts */
	size_t		 l4;	/* where the TCP or UDP header starts */
	size_t		 hlen;	/* IP and L4 headers */
	size_t		 seg;	/* payload per segment; 0: the packet as is */
	int		 proto;
	unsigned	 n;	/* segments made so far */
	uint8_t		 hdr[GSO_HDR_MAX];	/* the original headers */
};

int gso_start(struct gso *, const struct virtio_net_hdr *, uint8_t *, size_t);
uint8_t	*gso_next(struct gso *, size_t *);

#endif

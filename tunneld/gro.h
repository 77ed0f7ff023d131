/*
 * gro.h: decrypted TCP segments of one flow coalesced into one
 * super-packet for a TUN device with offloads on, written once with a
 * virtio-net header (GSO_TCPV4/6, NEEDS_CSUM) as the kernel's GRO would
 * hand it up. Sans-IO: the caller's function does the writing.
 */
#ifndef FZC_GRO_H
#define FZC_GRO_H

#include <sys/uio.h>

#include <linux/virtio_net.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flows followed at once; a batch seldom carries more. */
#define GRO_FLOWS	8
/* Segments per super-packet: 64 KiB of 1,024-byte payloads. */
#define GRO_SEGS	64

/* Writes iov[0..cnt) (iov[0]: the virtio-net header), segs IP packets. */
typedef void gro_write_fn(void *, const struct iovec *, int, unsigned);

struct gro_flow {
	uint8_t			*first;	/* its headers become the result's */
	uint8_t			*last;
	size_t			 l4;
	size_t			 hlen;
	size_t			 seg;	/* payload of the first segment */
	size_t			 total;
	uint32_t		 next_seq;
	bool			 closed;	/* a short or PSH segment came */
	int			 niov;
	struct virtio_net_hdr	 vh;
	struct iovec		 iov[GRO_SEGS + 1];
};

struct gro {
	gro_write_fn		*write;
	void			*arg;
	int			 nflows;
	struct gro_flow		 flows[GRO_FLOWS];
};

void	gro_init(struct gro *, gro_write_fn *, void *);
void	gro_add(struct gro *, uint8_t *, size_t);
void	gro_flush(struct gro *);

#endif

/*
 * fuzz.h: helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Stateful harnesses read their input as a stream of records,
 * {op: 1 byte, length: 2 bytes big-endian, data}, so that the fuzzer can
 * splice whole datagrams or frames; a record cut short by the end of the
 * input takes what is left.
 */
#ifndef FZC_FUZZ_H
#define FZC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_in {
	const uint8_t	*p;
	size_t		 n;
};

struct fuzz_rec {
	uint8_t		 op;
	const uint8_t	*data;
	size_t		 len;
};

static inline int
fuzz_next(struct fuzz_in *in, struct fuzz_rec *r)
{
	size_t	 len;

	if (in->n < 3)
		return (0);
	r->op = in->p[0];
	len = (size_t)in->p[1] << 8 | in->p[2];
	in->p += 3;
	in->n -= 3;
	if (len > in->n)
		len = in->n;
	r->data = in->p;
	r->len = len;
	in->p += len;
	in->n -= len;
	return (1);
}

/* A byte of r at i, 0 past the end: fixed-layout prefixes of a record. */
static inline uint8_t
fuzz_byte(const struct fuzz_rec *r, size_t i)
{
	return (i < r->len ? r->data[i] : 0);
}

/*
 * Deterministic "random" bytes: a crash must replay the same way, and
 * transaction ids the harness can predict let it answer them.
 */
struct fuzz_rng {
	uint64_t	 s;
};

static inline uint64_t
fuzz_rng_u64(struct fuzz_rng *g)
{
	/* splitmix64 */
	uint64_t	 z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static inline void
fuzz_rng_fill(struct fuzz_rng *g, uint8_t *buf, size_t len)
{
	uint64_t	 v;
	size_t		 i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = fuzz_rng_u64(g);
		buf[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* An oracle failed: abort so that libFuzzer keeps the input. */
#define FUZZ_ASSERT(x) do {						\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s\n",	\
		    __FILE__, __LINE__, #x);				\
		abort();						\
	}								\
} while (0)

#endif /* FZC_FUZZ_H */

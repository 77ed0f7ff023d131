/*
 * MAC1, MAC2 and cookie replies (message type 3).  The checker is the
 * responder side, one per local identity; the maker is the initiator side,
 * one per remote peer.
 */

#ifndef FZC_WG_COOKIE_H
#define FZC_WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunneld/wg/wg.h"

struct wg_cookie_checker {
	uint8_t		 mac1_key[WG_HASH_LEN];		/* our public key */
	uint8_t		 cookie_key[WG_HASH_LEN];	/* our public key */
	uint8_t		 secret[WG_HASH_LEN];
	uint64_t	 secret_birth;
	bool		 have_secret;
};

struct wg_cookie_maker {
	uint8_t		 mac1_key[WG_HASH_LEN];		/* remote public key */
	uint8_t		 cookie_key[WG_HASH_LEN];	/* remote public key */
	uint8_t		 cookie[WG_COOKIE_LEN];
	uint64_t	 cookie_birth;
	bool		 have_cookie;
	uint8_t		 last_mac1[WG_MAC_LEN];
	bool		 have_last_mac1;
};

void	wg_cookie_mac1_key(uint8_t [WG_HASH_LEN], const uint8_t [WG_KEY_LEN]);
bool	wg_cookie_mac1_valid(const uint8_t [WG_HASH_LEN], const uint8_t *,
	    size_t);

void	wg_cookie_checker_init(struct wg_cookie_checker *,
	    const uint8_t [WG_KEY_LEN]);
void	wg_cookie_checker_clear(struct wg_cookie_checker *);
int	wg_cookie_validate(const struct wg_cookie_checker *, const uint8_t *,
	    size_t, const uint8_t *, size_t, bool, uint64_t);
int	wg_cookie_create_reply(struct wg_cookie_checker *, const uint8_t *,
	    size_t, const uint8_t *, size_t, uint64_t,
	    uint8_t [WG_COOKIE_REPLY_LEN]);

void	wg_cookie_maker_init(struct wg_cookie_maker *,
	    const uint8_t [WG_KEY_LEN]);
void	wg_cookie_maker_clear(struct wg_cookie_maker *);
void	wg_cookie_add_macs(struct wg_cookie_maker *, uint8_t *, size_t,
	    uint64_t);
int	wg_cookie_consume_reply(struct wg_cookie_maker *, const uint8_t *,
	    size_t, uint64_t);

#endif /* FZC_WG_COOKIE_H */

/*
 * wg-quick style configuration parser.  The keys were made with
 * "wg genkey | tee priv | wg pubkey" and "wg genpsk" (wireguard-tools
 * 1.0.20210914); their bytes below come from "base64 -d | xxd -i".
 */

#include <sys/mman.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "controld/wgconf.h"
#include "tests/unit/check_main.h"

#define PRIV	"sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsMls="
#define PUB1	"oMWpZyCPd7KpUabhC6ylzRAtugZu9/okX/14jTxU5jo="
#define PUB2	"nZiTydSJPhIn/OcM1CT2it+gbQq/M80Fa5aaj0D4DDk="
#define PSK	"dW9ttqjLmV2RSq6Zb0wUc4MWxbI9bgw9oGbc6eFbww4="

/* Lines 1-2 and 3-4 of most rejection cases. */
#define IFACE	"[Interface]\nPrivateKey = " PRIV "\n"
#define PEER1	"[Peer]\nPublicKey = " PUB1 "\n"
#define PK	"[Interface]\nPrivateKey = "

static const uint8_t priv_bin[32] = {
	0xb0, 0x73, 0xac, 0x47, 0x32, 0x1d, 0xe1, 0x97,
	0x62, 0x29, 0x5a, 0xf8, 0x2c, 0x26, 0xad, 0xd4,
	0x6a, 0x8c, 0x2d, 0xc8, 0x06, 0x79, 0x02, 0xe9,
	0xe9, 0x9e, 0x5f, 0xcc, 0x95, 0x6c, 0x32, 0x5b,
};
static const uint8_t pub1_bin[32] = {
	0xa0, 0xc5, 0xa9, 0x67, 0x20, 0x8f, 0x77, 0xb2,
	0xa9, 0x51, 0xa6, 0xe1, 0x0b, 0xac, 0xa5, 0xcd,
	0x10, 0x2d, 0xba, 0x06, 0x6e, 0xf7, 0xfa, 0x24,
	0x5f, 0xfd, 0x78, 0x8d, 0x3c, 0x54, 0xe6, 0x3a,
};
static const uint8_t pub2_bin[32] = {
	0x9d, 0x98, 0x93, 0xc9, 0xd4, 0x89, 0x3e, 0x12,
	0x27, 0xfc, 0xe7, 0x0c, 0xd4, 0x24, 0xf6, 0x8a,
	0xdf, 0xa0, 0x6d, 0x0a, 0xbf, 0x33, 0xcd, 0x05,
	0x6b, 0x96, 0x9a, 0x8f, 0x40, 0xf8, 0x0c, 0x39,
};
static const uint8_t psk_bin[32] = {
	0x75, 0x6f, 0x6d, 0xb6, 0xa8, 0xcb, 0x99, 0x5d,
	0x91, 0x4a, 0xae, 0x99, 0x6f, 0x4c, 0x14, 0x73,
	0x83, 0x16, 0xc5, 0xb2, 0x3d, 0x6e, 0x0c, 0x3d,
	0xa0, 0x66, 0xdc, 0xe9, 0xe1, 0x5b, 0xc3, 0x0e,
};

static const char full[] =
    "[Interface]\n"
    "PrivateKey = " PRIV "\n"
    "ListenPort = 51820\n"
    "MTU = 1420\n"
    "Address = 10.8.0.2/24, fd00:8::2/64\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " PUB1 "\n"
    "PresharedKey = " PSK "\n"
    "Endpoint = 192.0.2.1:51820\n"
    "AllowedIPs = 10.8.0.0/24, 0.0.0.0/0\n"
    "AllowedIPs = ::/0\n"
    "PersistentKeepalive = 25\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " PUB2 "\n"
    "Endpoint = vpn.example.com:443\n"
    "AllowedIPs = 192.168.7.0/24\n";

/* The same file in other spellings wg(8) and wg-quick(8) accept. */
static const char variant[] =
    "# wg0, written by hand\r\n"
    "  [interface]   # comment after a header\r\n"
    "\tprivatekey\t=\t" PRIV "\t# trailing\r\n"
    "LISTENPORT=51820\r\n"
    "mtu =1420\r\n"
    "Address = 10.8.0.2/24\r\n"
    "address=fd00:8::2/64\r\n"
    "\r\n"
    "   # an indented comment\r\n"
    "[ Peer ]\r\n"
    "publickey = " PUB1 "\r\n"
    "presharedkey = " PSK "\r\n"
    "ENDPOINT = 192.0.2.1:51820\r\n"
    "allowedips=10.8.0.0/24 ,0.0.0.0/0,\t::/0\r\n"
    "persistentkeepalive = 25\r\n"
    "[PEER]\n"
    "PublicKey = " PUB2 "\n"
    "Endpoint = vpn.example.com:443#no newline at the end\n"
    "AllowedIPs = 192.168.7.0/24";

static struct wgconf *
parse_ok(const char *text)
{
	struct wgconf	*conf = NULL;
	char		 err[256];
	int		 r;

	r = wgconf_parse(text, strlen(text), "ok.conf", &conf, err,
	    sizeof(err));
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_ptr_nonnull(conf);
	ck_assert_str_eq(err, "");
	return (conf);
}

static void
ck_prefix(const struct wgconf_prefix *pf, const char *addr, int plen)
{
	uint8_t	 want[16];
	int	 family;

	memset(want, 0, sizeof(want));
	family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(family, addr, want), 1);
	ck_assert_int_eq(pf->family, family);
	ck_assert_mem_eq(pf->addr, want, sizeof(want));
	ck_assert_int_eq(pf->prefixlen, plen);
}

static void
ck_full(const struct wgconf *c)
{
	const struct wgconf_peer	*p;
	const uint8_t			 ep1[4] = { 192, 0, 2, 1 };

	ck_assert(c->has_private_key);
	ck_assert_mem_eq(c->private_key, priv_bin, 32);
	ck_assert(c->has_listen_port);
	ck_assert_uint_eq(c->listen_port, 51820);
	ck_assert_uint_eq(c->mtu, 1420);
	ck_assert_uint_eq(c->n_addresses, 2);
	ck_prefix(&c->addresses[0], "10.8.0.2", 24);
	ck_prefix(&c->addresses[1], "fd00:8::2", 64);
	ck_assert_uint_eq(c->n_ignored, 0);
	ck_assert_uint_eq(c->n_peers, 2);

	p = &c->peers[0];
	ck_assert_mem_eq(p->public_key, pub1_bin, 32);
	ck_assert(p->has_psk);
	ck_assert_mem_eq(p->psk, psk_bin, 32);
	ck_assert(p->has_endpoint);
	ck_assert_str_eq(p->endpoint_host, "192.0.2.1");
	ck_assert_int_eq(p->endpoint_family, AF_INET);
	ck_assert_mem_eq(p->endpoint_addr, ep1, 4);
	ck_assert_uint_eq(p->endpoint_port, 51820);
	ck_assert_uint_eq(p->n_allowed_ips, 3);
	ck_prefix(&p->allowed_ips[0], "10.8.0.0", 24);
	ck_prefix(&p->allowed_ips[1], "0.0.0.0", 0);
	ck_prefix(&p->allowed_ips[2], "::", 0);
	ck_assert_uint_eq(p->persistent_keepalive, 25);

	p = &c->peers[1];
	ck_assert_mem_eq(p->public_key, pub2_bin, 32);
	ck_assert(!p->has_psk);
	ck_assert(p->has_endpoint);
	ck_assert_str_eq(p->endpoint_host, "vpn.example.com");
	ck_assert_int_eq(p->endpoint_family, AF_UNSPEC);
	ck_assert_uint_eq(p->endpoint_port, 443);
	ck_assert_uint_eq(p->n_allowed_ips, 1);
	ck_prefix(&p->allowed_ips[0], "192.168.7.0", 24);
	ck_assert_uint_eq(p->persistent_keepalive, 0);
}

START_TEST(test_full)
{
	struct wgconf	*c;

	c = parse_ok(full);
	ck_full(c);
	ck_assert_uint_eq(c->peers[0].line, 7);
	ck_assert_uint_eq(c->peers[1].line, 15);
	wgconf_free(c);
}
END_TEST

START_TEST(test_variants)
{
	struct wgconf	*c;

	c = parse_ok(variant);
	ck_full(c);
	ck_assert_uint_eq(c->peers[0].line, 10);
	ck_assert_uint_eq(c->peers[1].line, 16);
	wgconf_free(c);
}
END_TEST

START_TEST(test_minimal_and_ranges)
{
	struct wgconf	*c;

	/* Only PrivateKey is required; no peers, no addresses. */
	c = parse_ok("[Interface]\nPrivateKey=" PRIV);
	ck_assert(!c->has_listen_port);
	ck_assert_uint_eq(c->mtu, 0);
	ck_assert_uint_eq(c->n_addresses, 0);
	ck_assert_uint_eq(c->n_peers, 0);
	wgconf_free(c);

	c = parse_ok(IFACE "MTU = 576\nListenPort = 1\nAddress = 10.0.0.1\n"
	    PEER1 "PersistentKeepalive = OFF\n");
	ck_assert_uint_eq(c->mtu, 576);
	ck_assert_uint_eq(c->listen_port, 1);
	ck_prefix(&c->addresses[0], "10.0.0.1", 32);
	ck_assert(!c->peers[0].has_endpoint);
	ck_assert_ptr_null(c->peers[0].endpoint_host);
	ck_assert_uint_eq(c->peers[0].n_allowed_ips, 0);
	ck_assert_uint_eq(c->peers[0].persistent_keepalive, 0);
	wgconf_free(c);

	c = parse_ok(IFACE "MTU = 1280\nListenPort = 65535\n"
	    "Address = fd00::1\n" PEER1 "PersistentKeepalive = 65535\n");
	ck_assert_uint_eq(c->mtu, 1280);
	ck_assert_uint_eq(c->listen_port, 65535);
	ck_prefix(&c->addresses[0], "fd00::1", 128);
	ck_assert_uint_eq(c->peers[0].persistent_keepalive, 65535);
	wgconf_free(c);

	c = parse_ok(IFACE "MTU = 65535\n" PEER1 "PersistentKeepalive = 0\n");
	ck_assert_uint_eq(c->mtu, 65535);
	ck_assert_uint_eq(c->peers[0].persistent_keepalive, 0);
	wgconf_free(c);
}
END_TEST

START_TEST(test_host_bits)
{
	struct wgconf	*c;

	c = parse_ok(IFACE "Address = 10.8.0.2/24, fd00::1/64\n" PEER1
	    "AllowedIPs = 10.1.2.3/8, 192.168.1.129/25, 1.2.3.4/0\n"
	    "AllowedIPs = 2001:db8:ffff::1/33, 10.9.9.9, fe80::1/127\n");
	/* Address keeps its host part: it is the interface's address. */
	ck_prefix(&c->addresses[0], "10.8.0.2", 24);
	ck_prefix(&c->addresses[1], "fd00::1", 64);
	ck_assert_uint_eq(c->peers[0].n_allowed_ips, 6);
	ck_prefix(&c->peers[0].allowed_ips[0], "10.0.0.0", 8);
	ck_prefix(&c->peers[0].allowed_ips[1], "192.168.1.128", 25);
	ck_prefix(&c->peers[0].allowed_ips[2], "0.0.0.0", 0);
	ck_prefix(&c->peers[0].allowed_ips[3], "2001:db8:8000::", 33);
	ck_prefix(&c->peers[0].allowed_ips[4], "10.9.9.9", 32);
	ck_prefix(&c->peers[0].allowed_ips[5], "fe80::", 127);
	wgconf_free(c);
}
END_TEST

START_TEST(test_ipv6_endpoint)
{
	struct wgconf	*c;
	uint8_t		 want[16];

	c = parse_ok(IFACE PEER1 "Endpoint = [2001:db8::1]:51820\n"
	    "[Peer]\nPublicKey = " PUB2 "\nEndpoint = [::ffff:192.0.2.7]:1\n");
	ck_assert(c->peers[0].has_endpoint);
	ck_assert_str_eq(c->peers[0].endpoint_host, "2001:db8::1");
	ck_assert_int_eq(c->peers[0].endpoint_family, AF_INET6);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", want), 1);
	ck_assert_mem_eq(c->peers[0].endpoint_addr, want, 16);
	ck_assert_uint_eq(c->peers[0].endpoint_port, 51820);
	ck_assert_str_eq(c->peers[1].endpoint_host, "::ffff:192.0.2.7");
	ck_assert_int_eq(c->peers[1].endpoint_family, AF_INET6);
	ck_assert_uint_eq(c->peers[1].endpoint_port, 1);
	wgconf_free(c);

	c = parse_ok(IFACE PEER1 "Endpoint = wg.example.NET.:65535\n");
	ck_assert_str_eq(c->peers[0].endpoint_host, "wg.example.NET.");
	ck_assert_int_eq(c->peers[0].endpoint_family, AF_UNSPEC);
	ck_assert_uint_eq(c->peers[0].endpoint_port, 65535);
	wgconf_free(c);
}
END_TEST

START_TEST(test_ignored)
{
	static const char	*want[] = {
		"w.conf:3: key 'DNS' is not supported by fzc and was ignored",
		"w.conf:4: key 'Table' is not supported by fzc and was ignored",
		"w.conf:5: key 'PreUp' is not supported by fzc and was ignored",
		"w.conf:6: key 'PostUp' is not supported by fzc and was "
		    "ignored",
		"w.conf:7: key 'PostUp' is not supported by fzc and was "
		    "ignored",
		"w.conf:8: key 'PreDown' is not supported by fzc and was "
		    "ignored",
		"w.conf:9: key 'PostDown' is not supported by fzc and was "
		    "ignored",
		"w.conf:10: key 'SaveConfig' is not supported by fzc and was "
		    "ignored",
		"w.conf:11: key 'FwMark' is not supported by fzc and was "
		    "ignored",
	};
	static const char	 text[] = IFACE
	    "DNS = 1.1.1.1, example.com\n"
	    "table = off\n"
	    "PREUP = true\n"
	    "PostUp = iptables -A FORWARD -i %i -j ACCEPT; x=1 # y\n"
	    "PostUp =\n"
	    "PreDown = true\n"
	    "postdown = true\n"
	    "SaveConfig = false\n"
	    "FwMark = 0x1234\n"
	    PEER1;
	struct wgconf		*c = NULL;
	char			 err[256];
	size_t			 i;

	ck_assert_int_eq(wgconf_parse(text, strlen(text), "w.conf", &c, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c->n_ignored, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < c->n_ignored; i++)
		ck_assert_str_eq(c->ignored[i], want[i]);
	ck_assert_uint_eq(c->n_peers, 1);
	wgconf_free(c);
}
END_TEST

struct bad {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	unsigned	 line;
	const char	*why;		/* must follow "t.conf:LINE: " */
};

static const struct bad bads[] = {
	/* Sections. */
	{ "", 0, 1, "no [Interface] section" },
	{ "# nothing\n\n", 0, 1, "no [Interface] section" },
	{ PEER1 IFACE, 0, 1, "[Peer] before [Interface]" },
	{ "PrivateKey = " PRIV "\n[Interface]\n", 0, 1,
	    "'PrivateKey' before the [Interface] section" },
	{ IFACE PEER1 "[Interface]\n", 0, 5,
	    "second [Interface] section (the first is at line 1)" },
	{ "[Interfaces]\n", 0, 1, "unknown section" },
	{ "[]\n", 0, 1, "unknown section" },
	{ "[Interface\n", 0, 1, "section header has no ']'" },
	{ IFACE "[Peer] x\n", 0, 3, "unexpected text after ']'" },
	{ IFACE "[Peer]]\n", 0, 3, "unexpected text after ']'" },
	/* Required keys. */
	{ "[Interface]\nListenPort = 1\n", 0, 1,
	    "[Interface] has no PrivateKey" },
	{ "\n[Interface]\nMTU = 1420\n" PEER1, 0, 2,
	    "[Interface] has no PrivateKey" },
	{ IFACE "[Peer]\nAllowedIPs = 10.0.0.0/8\n", 0, 3,
	    "[Peer] has no PublicKey" },
	{ IFACE PEER1 "[Peer]\nEndpoint = a.example:1\n"
	    "[Peer]\nPublicKey = " PUB2 "\n", 0, 5,
	    "[Peer] has no PublicKey" },
	{ IFACE PEER1 "\n[Peer]\npublickey = " PUB1 "\n", 0, 7,
	    "PublicKey is already used by the peer at line 3" },
	{ IFACE PEER1 "[Peer]\nPublicKey = " PUB2 "\n[Peer]\n"
	    "PublicKey = " PUB1 "\n", 0, 8,
	    "PublicKey is already used by the peer at line 3" },
	/* Lines. */
	{ IFACE "ListenPort 51820\n", 0, 3,
	    "expected 'Key = Value' or a section header" },
	{ IFACE "= 51820\n", 0, 3, "no key before '='" },
	{ IFACE "MTU = 14\0" "20\n", sizeof(IFACE "MTU = 14\0" "20\n") - 1,
	    3, "NUL byte" },
	{ IFACE "\0\n", sizeof(IFACE "\0\n") - 1, 3, "NUL byte" },
	{ IFACE "# \0\n", sizeof(IFACE "# \0\n") - 1, 3, "NUL byte" },
	{ IFACE "MTU = 14\x01" "20\n", 0, 3, "control character" },
	{ IFACE "MTU = 1420\r \n", 0, 3, "control character" },
	{ IFACE "MTU = 14\x7f\n", 0, 3, "control character" },
	/* Keys by name and section. */
	{ IFACE "Adress = 10.0.0.1\n", 0, 3, "unknown key 'Adress'" },
	{ IFACE "Private Key = x\n", 0, 3, "unknown key" },
	{ IFACE PEER1 "Keepalive = 25\n", 0, 5, "unknown key 'Keepalive'" },
	{ IFACE "PublicKey = " PUB1 "\n", 0, 3,
	    "'PublicKey' is not valid in [Interface]" },
	{ IFACE "AllowedIPs = 0.0.0.0/0\n", 0, 3,
	    "'AllowedIPs' is not valid in [Interface]" },
	{ IFACE PEER1 "MTU = 1420\n", 0, 5, "'MTU' is not valid in [Peer]" },
	{ IFACE PEER1 "PrivateKey = " PRIV "\n", 0, 5,
	    "'PrivateKey' is not valid in [Peer]" },
	{ IFACE PEER1 "DNS = 1.1.1.1\n", 0, 5, "'DNS' is not valid in [Peer]" },
	{ IFACE PEER1 "Address = 10.0.0.1\n", 0, 5,
	    "'Address' is not valid in [Peer]" },
	/* Duplicate single-valued keys. */
	{ IFACE "privatekey = " PRIV "\n", 0, 3,
	    "duplicate 'PrivateKey' (the first is at line 2)" },
	{ IFACE "ListenPort = 1\n\nListenPort = 1\n", 0, 5,
	    "duplicate 'ListenPort' (the first is at line 3)" },
	{ IFACE "MTU = 1420\nMTU = 1420\n", 0, 4,
	    "duplicate 'MTU' (the first is at line 3)" },
	{ IFACE PEER1 "PublicKey = " PUB2 "\n", 0, 5,
	    "duplicate 'PublicKey' (the first is at line 4)" },
	{ IFACE PEER1 "PresharedKey = " PSK "\nPresharedKey = " PSK "\n", 0,
	    6, "duplicate 'PresharedKey' (the first is at line 5)" },
	{ IFACE PEER1 "Endpoint = a.example:1\nEndpoint = b.example:1\n", 0,
	    6, "duplicate 'Endpoint' (the first is at line 5)" },
	{ IFACE PEER1 "PersistentKeepalive = 1\nPersistentKeepalive = 1\n", 0,
	    6, "duplicate 'PersistentKeepalive' (the first is at line 5)" },
	/* Empty values. */
	{ IFACE "ListenPort =\n", 0, 3, "'ListenPort' has no value" },
	{ IFACE "Address = # none\n", 0, 3,
	    "'Address' has no value" },
	{ IFACE PEER1 "PublicKey =\n", 0, 5,
	    "duplicate 'PublicKey' (the first is at line 4)" },
	{ IFACE "[Peer]\nPublicKey =  \n", 0, 4,
	    "'PublicKey' has no value" },
	/* Keys. */
	{ PK "sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsMls\n",
	    0, 2, "PrivateKey is not a valid base64 key" },
	{ "[Interface]\nPrivateKey = " PRIV "=\n", 0, 2,
	    "PrivateKey is not a valid base64 key" },
	{ "[Interface]\nPrivateKey = " PRIV " x\n", 0, 2,
	    "PrivateKey is not a valid base64 key" },
	{ PK "sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsMlt=\n",
	    0, 2, "PrivateKey is not a valid base64 key" },
	{ PK "sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsMlsA\n",
	    0, 2, "PrivateKey is not a valid base64 key" },
	{ PK "sHOsRzId4ZdiKVr4LCat1Gq MLcgGeQLp6Z5fzJVsMls=\n",
	    0, 2, "PrivateKey is not a valid base64 key" },
	{ PK "sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsM==\n",
	    0, 2, "PrivateKey is not a valid base64 key" },
	{ PK "b073ac47321de19762295af82c26add4"
	    "6a8c2dc8067902e9e99e5fcc956c325b\n",
	    0, 2, "PrivateKey is not a valid base64 key" },
	{ IFACE "[Peer]\nPublicKey = "
	    "oMWpZyCPd7KpUabhC6ylzRAtugZu9_okX_14jTxU5jo=\n",
	    0, 4, "PublicKey is not a valid base64 key" },
	{ IFACE "[Peer]\nPublicKey = " PUB1 "x\n", 0, 4,
	    "PublicKey is not a valid base64 key" },
	{ IFACE PEER1 "PresharedKey = "
	    "dW9ttqjLmV2RSq6Zb0wUc4MWxbI9bgw9oGbc6eFbww=\n",
	    0, 5, "PresharedKey is not a valid base64 key" },
	{ IFACE PEER1 "PresharedKey = " PSK ",\n", 0, 5,
	    "PresharedKey is not a valid base64 key" },
	/* Numbers. */
	{ IFACE "ListenPort = 0\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = 65536\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = -1\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = +1\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = 0x10\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = 51820 x\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = 051820\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "ListenPort = 000051820\n", 0, 3,
	    "ListenPort must be a number from 1 to 65535" },
	{ IFACE "MTU = 575\n", 0, 3, "MTU must be a number from 576 to 65535" },
	{ IFACE "MTU = 65536\n", 0, 3,
	    "MTU must be a number from 576 to 65535" },
	{ IFACE "MTU = 1420;\n", 0, 3,
	    "MTU must be a number from 576 to 65535" },
	{ IFACE "MTU = 1279\nAddress = 10.0.0.1, fd00::2/64\n", 0, 3,
	    "MTU must be at least 1280 with an IPv6 Address" },
	{ IFACE "Address = fd00::2/64\n\nMTU = 1000\n" PEER1, 0, 5,
	    "MTU must be at least 1280 with an IPv6 Address" },
	{ IFACE PEER1 "PersistentKeepalive = 65536\n", 0, 5,
	    "PersistentKeepalive must be \"off\" or a number from 0 to 65535" },
	{ IFACE PEER1 "PersistentKeepalive = on\n", 0, 5,
	    "PersistentKeepalive must be \"off\" or a number from 0 to 65535" },
	{ IFACE PEER1 "PersistentKeepalive = 25s\n", 0, 5,
	    "PersistentKeepalive must be \"off\" or a number from 0 to 65535" },
	/* Prefixes. */
	{ IFACE "Address = 10.0.0.256\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.0.0.1/24, 10.0.0.2/33\n", 0, 3,
	    "Address item 2 is not a valid IP address or prefix" },
	{ IFACE "Address = fd00::1/129\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.1/8\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.0.0.1/\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.0.0.1/-1\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.0.0.1/ 24\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.0.0.1/24 10.0.0.2/24\n", 0, 3,
	    "Address item 1 is not a valid IP address or prefix" },
	{ IFACE "Address = 10.0.0.1,,10.0.0.2\n", 0, 3,
	    "Address item 2 is empty" },
	{ IFACE "Address = 10.0.0.1,\n", 0, 3, "Address item 2 is empty" },
	{ IFACE "Address = 0.0.0.0/0\n", 0, 3,
	    "Address item 1 is the unspecified address" },
	{ IFACE "Address = 10.0.0.1/24\nAddress = fd00::1, 10.0.0.1/32\n", 0,
	    4, "Address item 2 is already assigned" },
	{ IFACE PEER1 "AllowedIPs = 10.0.0.0/8, 10.0.0.0/8x\n", 0, 5,
	    "AllowedIPs item 2 is not a valid IP address or prefix" },
	{ IFACE PEER1 "AllowedIPs = ::/0/0\n", 0, 5,
	    "AllowedIPs item 1 is not a valid IP address or prefix" },
	{ IFACE PEER1 "AllowedIPs = 10.0.0.0/008\n", 0, 5,
	    "AllowedIPs item 1 is not a valid IP address or prefix" },
	/* Endpoints. */
	{ IFACE PEER1 "Endpoint = 192.0.2.1\n", 0, 5,
	    "Endpoint must be host:port" },
	{ IFACE PEER1 "Endpoint = [::1]\n", 0, 5,
	    "Endpoint must be [IPv6 address]:port" },
	{ IFACE PEER1 "Endpoint = [::1]51820\n", 0, 5,
	    "Endpoint must be [IPv6 address]:port" },
	{ IFACE PEER1 "Endpoint = [::1:51820\n", 0, 5,
	    "Endpoint must be [IPv6 address]:port" },
	{ IFACE PEER1 "Endpoint = ::1:51820\n", 0, 5,
	    "Endpoint IPv6 address must be in brackets" },
	{ IFACE PEER1 "Endpoint = [192.0.2.1]:51820\n", 0, 5,
	    "Endpoint has no valid IPv6 address in brackets" },
	{ IFACE PEER1 "Endpoint = [fe80::1%eth0]:51820\n", 0, 5,
	    "Endpoint has no valid IPv6 address in brackets" },
	{ IFACE PEER1 "Endpoint = [::1]:51820x\n", 0, 5,
	    "Endpoint port must be a number from 1 to 65535" },
	{ IFACE PEER1 "Endpoint = 192.0.2.1:0\n", 0, 5,
	    "Endpoint port must be a number from 1 to 65535" },
	{ IFACE PEER1 "Endpoint = 192.0.2.1:65536\n", 0, 5,
	    "Endpoint port must be a number from 1 to 65535" },
	{ IFACE PEER1 "Endpoint = 192.0.2.1:\n", 0, 5,
	    "Endpoint port must be a number from 1 to 65535" },
	{ IFACE PEER1 "Endpoint = vpn.example.com:https\n", 0, 5,
	    "Endpoint port must be a number from 1 to 65535" },
	{ IFACE PEER1 "Endpoint = 192.0.2.1:51820 x\n", 0, 5,
	    "Endpoint port must be a number from 1 to 65535" },
	{ IFACE PEER1 "Endpoint = :51820\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = 1.2.3:51820\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = 10.0.0.256:51820\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = -a.example:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = a-.example:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = a..example:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = .:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = a_b.example:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = vpn example:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
	{ IFACE PEER1 "Endpoint = "
	    "a123456789b123456789c123456789d123456789e123456789f123456789abcd"
	    ".example:1\n", 0, 5,
	    "Endpoint host is neither an IPv4 address nor a DNS name" },
};

START_TEST(test_reject)
{
	const struct bad	*b = &bads[_i];
	struct wgconf		*c = (struct wgconf *)&bads;
	char			 err[256], want[256];
	size_t			 len;

	len = b->len != 0 ? b->len : strlen(b->text);
	errno = 0;
	ck_assert_int_eq(wgconf_parse(b->text, len, "t.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "t.conf:%u: %s", b->line, b->why);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "case %d: got \"%s\", want \"%s...\"", _i, err, want);
}
END_TEST

/* The 4096 byte limit applies to the line without its line ending. */
START_TEST(test_line_length)
{
	struct wgconf	*c = NULL;
	char		*text, err[256];
	size_t		 head = strlen(IFACE), len;

	text = malloc(head + WGCONF_MAX_LINE + 11);
	ck_assert_ptr_nonnull(text);
	memcpy(text, IFACE, head);
	memset(text + head, '#', WGCONF_MAX_LINE);
	memcpy(text + head + WGCONF_MAX_LINE, "\r\nMTU=1420\n", 11);
	len = head + WGCONF_MAX_LINE + 11;
	ck_assert_int_eq(wgconf_parse(text, len, "l.conf", &c, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c->mtu, 1420);
	wgconf_free(c);

	text[head + WGCONF_MAX_LINE] = '#';
	c = NULL;
	ck_assert_int_eq(wgconf_parse(text, len, "l.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "l.conf:3: line is longer than 4096 bytes");

	/* The same on the last line, without a line ending. */
	ck_assert_int_eq(wgconf_parse(text, head + WGCONF_MAX_LINE + 1,
	    "l.conf", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, "l.conf:3: line is longer than 4096 bytes");
	ck_assert_int_eq(wgconf_parse(text, head + WGCONF_MAX_LINE,
	    "l.conf", &c, err, sizeof(err)), 0);
	wgconf_free(c);
	free(text);
}
END_TEST

/*
 * Nothing that fails near a key may echo it: no 8-character run of the
 * private key or the PSK appears in any message.
 */
START_TEST(test_no_key_in_errors)
{
	static const char	*texts[] = {
		"[Interface]\nPrivateKey = " PRIV " x\n",
		"[Interface]\nPrivateKey = " PRIV "A\n",
		"[Interface]\nPrivateKey = x" PRIV "\n",
		"[Interface]\nPrivateKey " PRIV "\n",
		"[Interface]\nPrivateKey: " PRIV "\n",
		"[Interface]\n" PRIV "\n",
		"[Interface]\n" PRIV " = " PRIV "\n",
		"[Interface]\nsHOsRzId4Z = 1\n",
		"[" PRIV "]\n",
		"[Interface] " PRIV "\n",
		"PrivateKey = " PRIV "\n",
		IFACE "PrivateKey = " PRIV "\n",
		IFACE "Address = " PRIV "\n",
		IFACE "ListenPort = " PRIV "\n",
		IFACE PEER1 "PrivateKey = " PRIV "\n",
		IFACE PEER1 "Endpoint = " PRIV "\n",
		IFACE PEER1 "Endpoint = " PRIV ":51820\n",
		IFACE PEER1 "Endpoint = [" PRIV "]:51820\n",
		IFACE PEER1 "PresharedKey = " PSK "x\n",
		IFACE PEER1 "PresharedKey " PSK "\n",
		IFACE PEER1 "PresharedKey = " PSK "\nPresharedKey = " PSK "\n",
		IFACE PEER1 "AllowedIPs = " PSK "\n",
		IFACE PEER1 "PersistentKeepalive = " PSK "\n",
		"[Interface]\nPrivateKey = " PRIV "\x01\n",
		PK "sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsMlt=\n",
	};
	static const char	*secrets[] = { PRIV, PSK };
	struct wgconf		*c;
	char			 err[512], run[9];
	size_t			 i, j, k;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		c = NULL;
		errno = 0;
		ck_assert_int_eq(wgconf_parse(texts[i], strlen(texts[i]),
		    "k.conf", &c, err, sizeof(err)), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_msg(strncmp(err, "k.conf:", 7) == 0, "%s", err);
		for (j = 0; j < 2; j++) {
			for (k = 0; k + 8 <= strlen(secrets[j]); k++) {
				memcpy(run, secrets[j] + k, 8);
				run[8] = '\0';
				ck_assert_msg(strstr(err, run) == NULL,
				    "case %zu leaks key text: %s", i, err);
			}
		}
	}
}
END_TEST

/* Short or absent buffers and names. */
START_TEST(test_messages)
{
	struct wgconf	*c = (struct wgconf *)&bads;
	const char	*text = IFACE "MTU = x\n";
	char		 err[12];

	ck_assert_int_eq(wgconf_parse(text, strlen(text), "t.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, "t.conf:3: M");
	ck_assert_int_eq(wgconf_parse(text, strlen(text), "t.conf", &c, NULL,
	    0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(wgconf_parse(text, strlen(text), NULL, &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, "(config):3:");
	wgconf_free(NULL);
}
END_TEST

/* The file name as given, path and all. */
START_TEST(test_filename_in_message)
{
	struct wgconf	*c = NULL;
	char		 err[128];

	ck_assert_int_eq(wgconf_parse("[Peer]\n", 7, "/etc/wireguard/wg0.conf",
	    &c, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err,
	    "/etc/wireguard/wg0.conf:1: [Peer] before [Interface]");
}
END_TEST

static void
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

START_TEST(test_fd)
{
	struct wgconf	*c = NULL;
	char		 err[256];
	int		 fds[2], fd;

	ck_assert_int_eq(pipe(fds), 0);
	write_all(fds[1], full, strlen(full));
	close(fds[1]);
	ck_assert_int_eq(wgconf_parse_fd(fds[0], "pipe.conf", &c, err,
	    sizeof(err)), 0);
	close(fds[0]);
	ck_full(c);
	wgconf_free(c);

	/* A file read from its start, larger than one read chunk. */
	fd = memfd_create("wg0.conf", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	write_all(fd, full, strlen(full));
	while (lseek(fd, 0, SEEK_END) < 100000)
		write_all(fd, "# padding padding padding\n", 26);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	c = NULL;
	ck_assert_int_eq(wgconf_parse_fd(fd, "memfd.conf", &c, err,
	    sizeof(err)), 0);
	ck_full(c);
	wgconf_free(c);
	close(fd);

	/* The fd is reported as read(2) saw it. */
	ck_assert_int_eq(pipe(fds), 0);
	c = (struct wgconf *)&bads;
	ck_assert_int_eq(wgconf_parse_fd(fds[1], "w.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "w.conf: read: Bad file descriptor");
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* 1 MiB is accepted, one byte more is not, and parse says the same. */
START_TEST(test_fd_limit)
{
	struct wgconf	*c = NULL;
	char		*text, err[256];
	size_t		 head = strlen(IFACE), i;
	int		 fd;

	text = malloc(WGCONF_MAX_SIZE + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, IFACE, head);
	for (i = head; i < WGCONF_MAX_SIZE + 1; i++)
		text[i] = (i - head) % 64 == 63 ? '\n' : '#';

	fd = memfd_create("big.conf", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	write_all(fd, text, WGCONF_MAX_SIZE);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(wgconf_parse_fd(fd, "big.conf", &c, err,
	    sizeof(err)), 0);
	ck_assert(c->has_private_key);
	wgconf_free(c);

	write_all(fd, text + WGCONF_MAX_SIZE, 1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	c = (struct wgconf *)&bads;
	ck_assert_int_eq(wgconf_parse_fd(fd, "big.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "big.conf: larger than 1048576 bytes");
	close(fd);

	c = (struct wgconf *)&bads;
	ck_assert_int_eq(wgconf_parse(text, WGCONF_MAX_SIZE + 1, "big.conf",
	    &c, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(c);
	free(text);
}
END_TEST

/*
 * Failing late, once the peer and list arrays have grown, must free all
 * of it (run under valgrind or ASan).  Peer i has the key of bytes i+1;
 * the last peer repeats the first one's.
 */
START_TEST(test_late_failure)
{
	struct wgconf	*c = (struct wgconf *)&bads;
	uint8_t		 bin[32];
	char		 text[8192], err[256], b64[45];
	size_t		 len = 0, nine = 0;
	int		 i;

	len += snprintf(text + len, sizeof(text) - len,
	    IFACE "DNS = 1.1.1.1\nAddress = 10.0.0.1, fd00::1\n");
	for (i = 0; i < 10; i++) {
		if (i == 9)
			nine = len;
		memset(bin, i % 9 + 1, sizeof(bin));
		sodium_bin2base64(b64, sizeof(b64), bin, sizeof(bin),
		    sodium_base64_VARIANT_ORIGINAL);
		len += snprintf(text + len, sizeof(text) - len,
		    "[Peer]\nPublicKey = %s\nPresharedKey = " PSK "\n"
		    "Endpoint = p%d.example:1\n"
		    "AllowedIPs = 10.%d.0.0/16, 10.%d.1.0/24, fd%02d::/16\n"
		    "AllowedIPs = 10.%d.2.0/24, 10.%d.3.0/24\n",
		    b64, i, i, i, i, i, i);
	}
	ck_assert_uint_lt(len, sizeof(text) - 1);
	ck_assert_int_eq(wgconf_parse(text, len, "t.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:60: PublicKey is already used by the "
	    "peer at line 5");

	/* Without the repeat, the same file parses. */
	c = NULL;
	ck_assert_int_eq(wgconf_parse(text, nine, "t.conf", &c, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c->n_peers, 9);
	ck_assert_uint_eq(c->n_ignored, 1);
	for (i = 0; i < 9; i++) {
		memset(bin, i + 1, sizeof(bin));
		ck_assert_mem_eq(c->peers[i].public_key, bin, 32);
		ck_assert_uint_eq(c->peers[i].n_allowed_ips, 5);
		ck_assert_mem_eq(c->peers[i].psk, psk_bin, 32);
	}
	ck_prefix(&c->peers[8].allowed_ips[4], "10.8.3.0", 24);
	wgconf_free(c);
}
END_TEST

static Suite *
wgconf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wgconf");
	tc = tcase_create("accept");
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_variants);
	tcase_add_test(tc, test_minimal_and_ranges);
	tcase_add_test(tc, test_host_bits);
	tcase_add_test(tc, test_ipv6_endpoint);
	tcase_add_test(tc, test_ignored);
	suite_add_tcase(s, tc);
	tc = tcase_create("reject");
	tcase_add_loop_test(tc, test_reject, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_no_key_in_errors);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_filename_in_message);
	tcase_add_test(tc, test_late_failure);
	suite_add_tcase(s, tc);
	tc = tcase_create("fd");
	tcase_add_test(tc, test_fd);
	tcase_add_test(tc, test_fd_limit);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { wgconf_suite },
};

/* Portal URL, external_id and User-Agent. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "controld/portal_url.h"
#include "tests/unit/check_main.h"

/*
 * Expected digests computed outside this code, e.g.
 *   printf %s 0e1d2c3b-4a59-4687-9a5b-6c7d8e9f0a1b | sha256sum
 */
#define UUID_LOWER	"0e1d2c3b-4a59-4687-9a5b-6c7d8e9f0a1b"
#define SHA_LOWER	"24216dd0fc87e292589012267a34fc40" \
			"63c1b95a8bb56a0df199ade6cf1e6b9c"
#define UUID_UPPER	"0E1D2C3B-4A59-4687-9A5B-6C7D8E9F0A1B"
#define SHA_UPPER	"ef805cc76ed9999dd419d2fc34f294fb" \
			"e34253a2154628b36a0bfa4a6b0147f6"
#define UUID_SIMPLE	"0e1d2c3b4a5946879a5b6c7d8e9f0a1b"
#define SHA_SIMPLE	"bb75b7279b3551ec4ee6b8ad7a1f1a63" \
			"59d4f0bd437f4ed8468fa10f5ba4cd1d"

/* fb ff 00 01 .. 1d: its base64 has both '+' and '/' and a '='. */
static uint8_t	pubkey[32];
#define PUBKEY_Q	"%2B%2F8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0%3D"

static void
setup(void)
{
	int	 i;

	pubkey[0] = 0xfb;
	pubkey[1] = 0xff;
	for (i = 2; i < 32; i++)
		pubkey[i] = (uint8_t)(i - 2);
}

START_TEST(test_external_id)
{
	char	 out[PORTAL_EXTERNAL_ID_SIZE];
	char	 big[PORTAL_MAX_ID + 2];

	ck_assert_int_eq(portal_external_id(UUID_LOWER, out), 0);
	ck_assert_str_eq(out, SHA_LOWER);
	/* The text is hashed as stored, not normalised. */
	ck_assert_int_eq(portal_external_id(UUID_UPPER, out), 0);
	ck_assert_str_eq(out, SHA_UPPER);
	ck_assert_int_eq(portal_external_id(UUID_SIMPLE, out), 0);
	ck_assert_str_eq(out, SHA_SIMPLE);
	/* Not a UUID: sent verbatim. */
	ck_assert_int_eq(portal_external_id("my-laptop-id", out), 0);
	ck_assert_str_eq(out, "my-laptop-id");
	ck_assert_int_eq(portal_external_id("0e1d2c3b-4a59-4687-9a5b-"
	    "6c7d8e9f0a1x", out), 0);
	ck_assert_str_eq(out, "0e1d2c3b-4a59-4687-9a5b-6c7d8e9f0a1x");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(portal_external_id(big, out), -1);
	big[PORTAL_MAX_ID] = '\0';
	ck_assert_int_eq(portal_external_id(big, out), 0);
	ck_assert_uint_eq(strlen(out), PORTAL_MAX_ID);
	ck_assert_int_eq(portal_external_id("", out), -1);
	ck_assert_int_eq(portal_external_id("a\nb", out), -1);
}
END_TEST

START_TEST(test_url_full)
{
	struct portal_device	 dev;
	struct portal_url	 u;
	const char		*why;

	memset(&dev, 0, sizeof(dev));
	dev.external_id = SHA_LOWER;
	dev.name = "build box 7/\xc3\xbc";
	dev.device_serial = "PF3XYZ12";
	dev.device_uuid = "4C4C4544-0042";
	ck_assert_int_eq(portal_url_build(
	    "HTTPS://API.Example.com:8443/base/?token=old#frag", &dev, pubkey,
	    &u, &why), 0);
	ck_assert(u.tls);
	ck_assert_str_eq(u.host, "api.example.com");
	ck_assert_uint_eq(u.port, 8443);
	ck_assert_str_eq(u.target, "/base/client/v2/websocket"
	    "?external_id=" SHA_LOWER
	    "&name=build+box+7%2F%C3%BC"
	    "&device_serial=PF3XYZ12"
	    "&device_uuid=4C4C4544-0042"
	    "&public_key=" PUBKEY_Q);
	ck_assert_str_eq(u.url, "wss://api.example.com:8443/base/client/v2/"
	    "websocket?external_id=" SHA_LOWER "&name=build+box+7%2F%C3%BC"
	    "&device_serial=PF3XYZ12&device_uuid=4C4C4544-0042"
	    "&public_key=" PUBKEY_Q);
	portal_url_free(&u);
	ck_assert_ptr_null(u.url);
}
END_TEST

START_TEST(test_url_defaults)
{
	struct portal_device	 dev;
	struct portal_url	 u;
	const char		*why;

	memset(&dev, 0, sizeof(dev));
	dev.external_id = "host-1";
	ck_assert_int_eq(portal_url_build("wss://api.firezone.dev", &dev,
	    pubkey, &u, &why), 0);
	ck_assert_str_eq(u.url, "wss://api.firezone.dev/client/v2/websocket"
	    "?external_id=host-1&public_key=" PUBKEY_Q);
	ck_assert_uint_eq(u.port, 443);
	portal_url_free(&u);

	/* http becomes ws; a default port is not written. */
	dev.name = "a*b-c.d_e~";
	ck_assert_int_eq(portal_url_build("http://portal.test:80/", &dev,
	    pubkey, &u, &why), 0);
	ck_assert(!u.tls);
	ck_assert_uint_eq(u.port, 80);
	ck_assert_str_eq(u.url, "ws://portal.test/client/v2/websocket"
	    "?external_id=host-1&name=a*b-c.d_e%7E&public_key=" PUBKEY_Q);
	portal_url_free(&u);

	ck_assert_int_eq(portal_url_build("ws://[::1]:9000", &dev, pubkey,
	    &u, &why), 0);
	ck_assert_str_eq(u.host, "[::1]");
	ck_assert_uint_eq(u.port, 9000);
	ck_assert_str_eq(u.target, "/client/v2/websocket?external_id=host-1"
	    "&name=a*b-c.d_e%7E&public_key=" PUBKEY_Q);
	portal_url_free(&u);

	ck_assert_int_eq(portal_url_build("https://10.0.0.1", &dev, pubkey,
	    &u, &why), 0);
	ck_assert_str_eq(u.host, "10.0.0.1");
	ck_assert(u.tls);
	portal_url_free(&u);
}
END_TEST

/* The gateway's socket and query (PROTOCOL.md 1.2, section 3). */
START_TEST(test_url_gateway)
{
	struct portal_device	 dev;
	struct portal_url	 u;
	const char		*why;

	memset(&dev, 0, sizeof(dev));
	dev.gateway = true;
	dev.external_id = SHA_LOWER;
	dev.name = "gw 1";
	/* Client-only identifiers never reach a gateway's query. */
	dev.device_serial = "PF3XYZ12";
	dev.device_uuid = "4C4C4544-0042";
	dev.identifier_for_vendor = "ifv";
	dev.firebase_installation_id = "fid";
	ck_assert_int_eq(portal_url_build("https://portal.test:8443/base/",
	    &dev, pubkey, &u, &why), 0);
	ck_assert_str_eq(u.target, "/base/gateway/v2/websocket"
	    "?external_id=" SHA_LOWER "&name=gw+1&public_key=" PUBKEY_Q);
	ck_assert_str_eq(u.url, "wss://portal.test:8443/base/gateway/v2/"
	    "websocket?external_id=" SHA_LOWER "&name=gw+1&public_key="
	    PUBKEY_Q);
	portal_url_free(&u);

	dev.name = NULL;
	ck_assert_int_eq(portal_url_build("ws://127.0.0.1:9000", &dev, pubkey,
	    &u, &why), 0);
	ck_assert_str_eq(u.target, "/gateway/v2/websocket?external_id="
	    SHA_LOWER "&public_key=" PUBKEY_Q);
	portal_url_free(&u);
}
END_TEST

START_TEST(test_url_rejected)
{
	static const char	*bad[] = {
		"ftp://api.firezone.dev",
		"api.firezone.dev",
		"wss://",
		"wss:///path",
		"wss://user:pw@api.firezone.dev",
		"wss://api.firezone.dev:0",
		"wss://api.firezone.dev:70000",
		"wss://api.firezone.dev:",
		"wss://api.firezone.dev:44a",
		"wss://[::1",
		"wss://[zz::1]:443",
		"wss://api firezone.dev",
		"wss://api.firezone.dev/a b",
	};
	struct portal_device	 dev;
	struct portal_url	 u;
	const char		*why;
	size_t			 i;

	memset(&dev, 0, sizeof(dev));
	dev.external_id = "host-1";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(portal_url_build(bad[i], &dev, pubkey, &u,
		    &why) == -1, "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(u.url);
		ck_assert_ptr_null(u.host);
	}
	dev.external_id = NULL;
	ck_assert_int_eq(portal_url_build("wss://api.firezone.dev", &dev,
	    pubkey, &u, &why), -1);
}
END_TEST

START_TEST(test_user_agent)
{
	char	 ua[256];

	ck_assert_int_eq(portal_user_agent(ua, sizeof(ua), false, "Debian",
	    "12", "x86_64", "6.1.0-18-amd64"), 0);
	ck_assert_str_eq(ua, "Debian/12 headless-client/1.5.6 "
	    "(x86_64; 6.1.0-18-amd64)");
	/* Non-ASCII and separators inside a part are dropped. */
	ck_assert_int_eq(portal_user_agent(ua, sizeof(ua), false,
	    "D\xc3\xa9 bian", "12 (bookworm)", NULL, "6.1;x"), 0);
	ck_assert_str_eq(ua, "Dbian/12bookworm headless-client/1.5.6 (6.1x)");
	ck_assert_int_eq(portal_user_agent(ua, sizeof(ua), false, "Ubuntu",
	    "24.4.0", "aarch64", NULL), 0);
	ck_assert_str_eq(ua, "Ubuntu/24.4.0 headless-client/1.5.6 (aarch64)");
	ck_assert_int_eq(portal_user_agent(ua, sizeof(ua), false, NULL, NULL,
	    NULL, NULL), 0);
	ck_assert_str_eq(ua, "Linux/unknown headless-client/1.5.6");
	/* Too small a buffer is an error, not a truncated header. */
	ck_assert_int_eq(portal_user_agent(ua, 20, false, "Debian", "12",
	    NULL, NULL), -1);
	ck_assert_int_eq(portal_user_agent(ua, 36, false, "Linux", "unknown",
	    NULL, NULL), 0);
	ck_assert_int_eq(portal_user_agent(ua, 35, false, "Linux", "unknown",
	    NULL, NULL), -1);

	/* The gateway role names itself so (section 3). */
	ck_assert_int_eq(portal_user_agent(ua, sizeof(ua), true, "Debian",
	    "12", "x86_64", "6.1.0-18-amd64"), 0);
	ck_assert_str_eq(ua,
	    "Debian/12 gateway/1.5.6 (x86_64; 6.1.0-18-amd64)");
	ck_assert_int_eq(portal_user_agent(ua, sizeof(ua), true, NULL, NULL,
	    NULL, NULL), 0);
	ck_assert_str_eq(ua, "Linux/unknown gateway/1.5.6");
}
END_TEST

static Suite *
portal_url_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("portal_url");
	tc = tcase_create("url");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_external_id);
	tcase_add_test(tc, test_url_full);
	tcase_add_test(tc, test_url_defaults);
	tcase_add_test(tc, test_url_gateway);
	tcase_add_test(tc, test_url_rejected);
	tcase_add_test(tc, test_user_agent);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { portal_url_suite },
};

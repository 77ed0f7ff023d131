/*
 * Portal message decoders and encoders.  The golden payloads under
 * tests/unit/data/portal/ were written from the field lists of
 * PROTOCOL.md 2.2 and 3 (gw_*.json: the gateway role); the malformed
 * variants are derived from them by changing one field each.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "controld/phoenix.h"
#include "controld/portal_msg.h"
#include "tests/unit/check_main.h"


/* Secrets present in the golden files; no reason may quote them. */
static const char *secrets[] = {
	"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8",
	"gzdfmnbxgi3tqojqgeztcm",
	"n5rw6zlsmvzxizlfnvqxgz",
	"Zk1pdGVzdHBhc3N3b3Jk",
	"cGFzc3dvcmRwYXNzd29yZA",
	"eyJhbGciOiJIUzI1NiJ9",
	"SFMyNTY.g2gDaAJtAAAAJGQyYjZmMWEw",
};

typedef int decode_fn(const char *, json_t *, struct portal_msg *,
    const char **);

static json_t *
load(const char *name)
{
	char		 path[1024];
	const char	*dir;
	json_error_t	 err;
	json_t		*v;

	if ((dir = getenv("srcdir")) == NULL)
		dir = ".";
	snprintf(path, sizeof(path), "%s/tests/unit/data/portal/%s", dir,
	    name);
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(v != NULL, "%s: %s", path, err.text);
	return (v);
}

static void
ck_addr(const struct portal_addr *a, const char *want)
{
	struct portal_addr	 w;

	memset(&w, 0, sizeof(w));
	if (inet_pton(AF_INET, want, w.addr) == 1)
		w.family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, want, w.addr), 1);
		w.family = AF_INET6;
	}
	ck_assert_int_eq(a->family, w.family);
	ck_assert_mem_eq(a->addr, w.addr, sizeof(w.addr));
}

static void
ck_sockaddr(const struct portal_sockaddr *sa, const char *ip, uint16_t port)
{
	ck_addr(&sa->addr, ip);
	ck_assert_uint_eq(sa->port, port);
}

static int
decode_file_with(decode_fn *fn, const char *event, const char *file,
    struct portal_msg *m)
{
	json_t		*p;
	const char	*why;
	int		 rv;

	p = load(file);
	rv = fn(event, p, m, &why);
	ck_assert_msg(rv != -1, "%s: %s", file, why);
	json_decref(p);
	return (rv);
}

static int
decode_file(const char *event, const char *file, struct portal_msg *m)
{
	return (decode_file_with(portal_msg_decode, event, file, m));
}

static int
decode_gw_file(const char *event, const char *file, struct portal_msg *m)
{
	return (decode_file_with(portal_msg_decode_gateway, event, file, m));
}

START_TEST(test_init)
{
	struct portal_msg	 m;
	struct portal_init	*in;
	struct portal_resource	*r;
	struct portal_relay	*rl;

	ck_assert_int_eq(decode_file("init", "init.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_INIT);
	in = &m.u.init;

	ck_addr(&in->iface.ipv4, "100.71.34.9");
	ck_addr(&in->iface.ipv6, "fd00:2021:1111::a:3b21");
	ck_assert_str_eq(in->iface.search_domain, "corp.example.com");
	ck_assert_uint_eq(in->iface.ndo53, 2);
	ck_addr(&in->iface.do53[0], "10.20.0.53");
	ck_addr(&in->iface.do53[1], "2001:db8::53");
	ck_assert_uint_eq(in->iface.ndoh, 1);
	ck_assert_str_eq(in->iface.doh[0], "https://dns.example.net/dns-query");
	/* The entry with an unknown protocol is skipped. */
	ck_assert_uint_eq(in->iface.nupstream_dns, 2);
	ck_sockaddr(&in->iface.upstream_dns[0], "10.20.0.53", 53);
	ck_sockaddr(&in->iface.upstream_dns[1], "2001:db8::53", 53);

	/* The device pool is skipped, the order of the rest is kept. */
	ck_assert_uint_eq(in->nresources, 3);
	r = &in->resources[0];
	ck_assert_int_eq(r->type, PORTAL_RES_DNS);
	ck_assert_str_eq(r->id, "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6");
	ck_assert_str_eq(r->address, "*.git.corp.example.com");
	ck_assert_str_eq(r->name, "GitLab");
	ck_assert_str_eq(r->address_description,
	    "https://git.corp.example.com");
	ck_assert_uint_eq(r->nfilters, 3);
	ck_assert_int_eq(r->filters[0].proto, PORTAL_PROTO_TCP);
	ck_assert_uint_eq(r->filters[0].port_start, 443);
	ck_assert_uint_eq(r->filters[0].port_end, 443);
	ck_assert_int_eq(r->filters[1].proto, PORTAL_PROTO_UDP);
	ck_assert_uint_eq(r->filters[1].port_start, 8000);
	ck_assert_uint_eq(r->filters[1].port_end, 65535);
	ck_assert_int_eq(r->filters[2].proto, PORTAL_PROTO_ICMP);
	ck_assert_uint_eq(r->nsites, 1);
	ck_assert_str_eq(r->sites[0].id,
	    "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d");
	ck_assert_str_eq(r->sites[0].name, "HQ");
	ck_assert_int_eq(r->ip_stack, PORTAL_STACK_IPV4_ONLY);

	r = &in->resources[1];
	ck_assert_int_eq(r->type, PORTAL_RES_CIDR);
	/* Upper-case UUIDs are stored lower case. */
	ck_assert_str_eq(r->id, "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	ck_assert_str_eq(r->address, "10.20.0.0/16");
	ck_addr(&r->cidr.addr, "10.20.0.0");
	ck_assert_uint_eq(r->cidr.plen, 16);
	ck_assert_str_eq(r->name, "HQ LAN");
	ck_assert_ptr_null(r->address_description);
	ck_assert_uint_eq(r->nfilters, 0);
	ck_assert_ptr_null(r->filters);
	ck_assert_uint_eq(r->nsites, 1);

	r = &in->resources[2];
	ck_assert_int_eq(r->type, PORTAL_RES_INTERNET);
	ck_assert_str_eq(r->id, "c3b2a190-8f7e-4d6c-b5a4-93827160f5e4");
	ck_assert(r->can_be_disabled);
	ck_assert_ptr_null(r->name);
	ck_assert_ptr_null(r->address);
	ck_assert_uint_eq(r->nsites, 1);
	ck_assert_str_eq(r->sites[0].name, "Internet");

	/* The relay of unknown type is skipped. */
	ck_assert_uint_eq(in->nrelays, 2);
	rl = &in->relays[0];
	ck_assert_int_eq(rl->type, PORTAL_RELAY_TURN);
	ck_assert_str_eq(rl->id, "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50");
	ck_sockaddr(&rl->addr, "198.51.100.7", 3478);
	ck_assert_str_eq(rl->username, "1767225600:q0Yl2rQ9dGVzdHNhbHQ");
	ck_assert_str_eq(rl->password, "Zk1pdGVzdHBhc3N3b3Jk");
	ck_assert_int_eq(rl->expires_at, 1767225600);
	rl = &in->relays[1];
	ck_assert_str_eq(rl->id, "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50");
	ck_sockaddr(&rl->addr, "2001:db8:7::5", 3478);

	portal_msg_free(&m);
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	ck_assert_ptr_null(m.u.init.resources);
}
END_TEST

START_TEST(test_config_changed)
{
	struct portal_msg	 m;

	ck_assert_int_eq(decode_file("config_changed", "config_changed.json",
	    &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_CONFIG_CHANGED);
	/* Tunnel addresses with a full-length prefix are accepted. */
	ck_addr(&m.u.iface.ipv4, "100.71.34.9");
	ck_addr(&m.u.iface.ipv6, "fd00:2021:1111::a:3b21");
	ck_assert_ptr_null(m.u.iface.search_domain);
	ck_assert_uint_eq(m.u.iface.ndo53, 0);
	ck_assert_uint_eq(m.u.iface.ndoh, 0);
	ck_assert_uint_eq(m.u.iface.nupstream_dns, 0);
	portal_msg_free(&m);
}
END_TEST

START_TEST(test_resource_upserts)
{
	struct portal_msg	 m;
	struct portal_resource	*r;

	ck_assert_int_eq(decode_file("resource_created_or_updated",
	    "resource_dns.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_RESOURCE_UPSERT);
	r = &m.u.resource;
	ck_assert_int_eq(r->type, PORTAL_RES_DNS);
	ck_assert_str_eq(r->address, "**.svc.corp.example.com");
	ck_assert_str_eq(r->name, "Services");
	ck_assert_str_eq(r->address_description, "internal services");
	ck_assert_uint_eq(r->nfilters, 1);
	ck_assert_uint_eq(r->filters[0].port_start, 8000);
	ck_assert_uint_eq(r->filters[0].port_end, 8100);
	/* "gateway_groups" stands for "sites" for older versions. */
	ck_assert_uint_eq(r->nsites, 1);
	ck_assert_str_eq(r->sites[0].id,
	    "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d");
	/* No ip_stack means dual stack. */
	ck_assert_int_eq(r->ip_stack, PORTAL_STACK_DUAL);
	portal_msg_free(&m);

	ck_assert_int_eq(decode_file("resource_created_or_updated",
	    "resource_cidr.json", &m), 1);
	r = &m.u.resource;
	ck_assert_int_eq(r->type, PORTAL_RES_CIDR);
	ck_addr(&r->cidr.addr, "2001:db8:abcd:12::");
	ck_assert_uint_eq(r->cidr.plen, 64);
	ck_assert_str_eq(r->name, "Lab v6");
	portal_msg_free(&m);

	ck_assert_int_eq(decode_file("resource_created_or_updated",
	    "resource_internet.json", &m), 1);
	ck_assert_int_eq(m.u.resource.type, PORTAL_RES_INTERNET);
	ck_assert(m.u.resource.can_be_disabled);
	portal_msg_free(&m);
}
END_TEST

START_TEST(test_cidr_host_bits_cleared)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	p = load("resource_cidr.json");
	json_object_set_new(p, "address", json_string("10.1.2.3/23"));
	ck_assert_int_eq(portal_msg_decode("resource_created_or_updated", p,
	    &m, &why), 1);
	ck_addr(&m.u.resource.cidr.addr, "10.1.2.0");
	ck_assert_uint_eq(m.u.resource.cidr.plen, 23);
	portal_msg_free(&m);
	json_object_set_new(p, "address", json_string("0.0.0.0/0"));
	ck_assert_int_eq(portal_msg_decode("resource_created_or_updated", p,
	    &m, &why), 1);
	ck_assert_uint_eq(m.u.resource.cidr.plen, 0);
	portal_msg_free(&m);
	json_decref(p);
}
END_TEST

START_TEST(test_resource_deleted)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	p = json_string("A4E2C7D9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	ck_assert_int_eq(portal_msg_decode("resource_deleted", p, &m, &why),
	    1);
	ck_assert_int_eq(m.type, PORTAL_MSG_RESOURCE_DELETED);
	ck_assert_str_eq(m.u.resource_id,
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	portal_msg_free(&m);
	json_decref(p);

	p = json_pack("{s:s}", "id", "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	ck_assert_int_eq(portal_msg_decode("resource_deleted", p, &m, &why),
	    -1);
	ck_assert_ptr_nonnull(why);
	json_decref(p);
	p = json_string("a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7");
	ck_assert_int_eq(portal_msg_decode("resource_deleted", p, &m, &why),
	    -1);
	json_decref(p);
	p = json_integer(4);
	ck_assert_int_eq(portal_msg_decode("resource_deleted", p, &m, &why),
	    -1);
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	json_decref(p);
}
END_TEST

START_TEST(test_relays_presence)
{
	struct portal_msg		 m;
	struct portal_relays_presence	*rp;

	ck_assert_int_eq(decode_file("relays_presence",
	    "relays_presence.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_RELAYS_PRESENCE);
	rp = &m.u.relays;
	ck_assert_uint_eq(rp->ndisconnected, 1);
	ck_assert_str_eq(rp->disconnected[0],
	    "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50");
	ck_assert_uint_eq(rp->nconnected, 2);
	ck_assert_int_eq(rp->connected[0].type, PORTAL_RELAY_TURN);
	ck_assert_str_eq(rp->connected[0].id,
	    "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
	ck_sockaddr(&rp->connected[0].addr, "203.0.113.9", 3478);
	ck_assert_str_eq(rp->connected[0].username, "1767225600:c2FsdHNhbHQ");
	ck_assert_str_eq(rp->connected[0].password, "cGFzc3dvcmRwYXNzd29yZA");
	ck_assert_int_eq(rp->connected[0].expires_at, 1767225600);
	/* A STUN entry has no credentials. */
	ck_assert_int_eq(rp->connected[1].type, PORTAL_RELAY_STUN);
	ck_assert_ptr_null(rp->connected[1].username);
	ck_assert_ptr_null(rp->connected[1].password);
	portal_msg_free(&m);
}
END_TEST

/* The peer's key, the PSK and both ICE credentials of the golden files. */
static void
ck_peer_secrets(const uint8_t *public_key, const uint8_t *psk,
    const struct portal_ice_creds *client_ice,
    const struct portal_ice_creds *gateway_ice)
{
	uint8_t	 want[PORTAL_KEY_LEN];
	size_t	 i;

	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)i;
	ck_assert_mem_eq(public_key, want, sizeof(want));
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(0xa0 + i);
	ck_assert_mem_eq(psk, want, sizeof(want));
	ck_assert_str_eq(client_ice->username, "mfrg");
	ck_assert_str_eq(client_ice->password, "gzdfmnbxgi3tqojqgeztcm");
	ck_assert_str_eq(gateway_ice->username, "xk4q");
	ck_assert_str_eq(gateway_ice->password, "n5rw6zlsmvzxizlfnvqxgz");
}

static void
ck_authz(const struct portal_authorization *a)
{
	ck_assert_str_eq(a->resource_id,
	    "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6");
	ck_assert_str_eq(a->gateway_id, "77aa11bb-22cc-4d33-8e44-55ff66aa77bb");
	ck_assert_str_eq(a->site_id, "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d");
	ck_peer_secrets(a->gateway_public_key, a->preshared_key,
	    &a->client_ice, &a->gateway_ice);
	ck_addr(&a->gateway_ipv4, "100.82.5.17");
	ck_addr(&a->gateway_ipv6, "fd00:2021:1111::3:9c4e");
	ck_assert(!a->use_iceless);
}

START_TEST(test_authorization_created)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;
	static const uint8_t	 zero[PORTAL_KEY_LEN];

	ck_assert_int_eq(decode_file("authorization_created",
	    "authorization_created.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_AUTHZ_CREATED);
	ck_authz(&m.u.authz);
	/* Freeing wipes the key material held in the struct. */
	portal_msg_authorization_free(&m.u.authz);
	ck_assert_mem_eq(m.u.authz.preshared_key, zero, sizeof(zero));
	ck_assert_ptr_null(m.u.authz.client_ice.password);
	portal_msg_free(&m);

	/* v1 name, gateway_group_id instead of site_id, use_iceless true. */
	p = load("authorization_created.json");
	json_object_set_new(p, "gateway_group_id",
	    json_string("5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d"));
	json_object_del(p, "site_id");
	json_object_set_new(p, "use_iceless", json_true());
	ck_assert_int_eq(portal_msg_decode("flow_created", p, &m, &why), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_AUTHZ_CREATED);
	ck_assert_str_eq(m.u.authz.site_id,
	    "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d");
	ck_assert(m.u.authz.use_iceless);
	portal_msg_free(&m);
	/* use_iceless may be absent. */
	json_object_del(p, "use_iceless");
	ck_assert_int_eq(portal_msg_decode("flow_created", p, &m, &why), 1);
	ck_assert(!m.u.authz.use_iceless);
	portal_msg_free(&m);
	/* The ingest token may not, as Firezone's client requires it. */
	json_object_del(p, "flow_logs_ingest_token");
	ck_assert_int_eq(portal_msg_decode("flow_created", p, &m, &why), -1);
	json_decref(p);
}
END_TEST

START_TEST(test_authorization_failed)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	ck_assert_int_eq(decode_file("authorization_creation_failed",
	    "authorization_creation_failed.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_AUTHZ_FAILED);
	ck_assert_str_eq(m.u.authz_failed.resource_id,
	    "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6");
	ck_assert_int_eq(m.u.authz_failed.reason, PORTAL_AUTHZ_FORBIDDEN);
	ck_assert_uint_eq(m.u.authz_failed.violated, PORTAL_VIOL_REMOTE_IP |
	    PORTAL_VIOL_PROVIDER | PORTAL_VIOL_CLIENT_VERIFIED |
	    PORTAL_VIOL_UNKNOWN);
	portal_msg_free(&m);

	p = json_pack("{s:s, s:s}", "resource_id",
	    "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6", "reason", "offline");
	ck_assert_int_eq(portal_msg_decode("flow_creation_failed", p, &m,
	    &why), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_AUTHZ_FAILED);
	ck_assert_int_eq(m.u.authz_failed.reason, PORTAL_AUTHZ_OFFLINE);
	ck_assert_uint_eq(m.u.authz_failed.violated, 0);
	json_object_set_new(p, "reason", json_string("version_mismatch"));
	ck_assert_int_eq(portal_msg_decode("authorization_creation_failed", p,
	    &m, &why), 1);
	ck_assert_int_eq(m.u.authz_failed.reason,
	    PORTAL_AUTHZ_VERSION_MISMATCH);
	json_object_set_new(p, "reason", json_string("not_found"));
	ck_assert_int_eq(portal_msg_decode("authorization_creation_failed", p,
	    &m, &why), 1);
	ck_assert_int_eq(m.u.authz_failed.reason, PORTAL_AUTHZ_NOT_FOUND);
	json_object_set_new(p, "reason", json_string("cosmic_rays"));
	ck_assert_int_eq(portal_msg_decode("authorization_creation_failed", p,
	    &m, &why), 1);
	ck_assert_int_eq(m.u.authz_failed.reason, PORTAL_AUTHZ_UNKNOWN);
	json_decref(p);
}
END_TEST

START_TEST(test_candidates)
{
	static const char	*names[] = {
		"ice_candidates", "gateway_ice_candidates",
		"invalidate_ice_candidates",
		"invalidate_gateway_ice_candidates",
	};
	struct portal_msg	 m;
	size_t			 i;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(decode_file(names[i], "ice_candidates.json",
		    &m), 1);
		ck_assert_int_eq(m.type, i < 2 ? PORTAL_MSG_CANDIDATES :
		    PORTAL_MSG_INVALIDATE_CANDIDATES);
		ck_assert_str_eq(m.u.candidates.peer_id,
		    "77aa11bb-22cc-4d33-8e44-55ff66aa77bb");
		/* The number and the empty string are skipped alone. */
		ck_assert_uint_eq(m.u.candidates.ncandidates, 2);
		ck_assert_str_eq(m.u.candidates.candidates[0],
		    "candidate:4021987365 1 udp 1694498815 198.51.100.20 "
		    "41873 typ srflx raddr 0.0.0.0 rport 0");
		ck_assert_str_eq(m.u.candidates.candidates[1],
		    "candidate:1 1 udp 2130706431 192.168.1.23 52625 typ host");
		portal_msg_free(&m);
	}
}
END_TEST

START_TEST(test_disconnect)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	ck_assert_int_eq(decode_file("disconnect", "disconnect.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_DISCONNECT);
	ck_assert(m.u.disconnect.token_expired);
	ck_assert_str_eq(m.u.disconnect.reason, "token_expired");
	portal_msg_free(&m);

	p = json_pack("{s:s}", "reason", "certificate_revoked\n");
	ck_assert_int_eq(portal_msg_decode("disconnect", p, &m, &why), 1);
	ck_assert(!m.u.disconnect.token_expired);
	/* Control characters do not reach the log line. */
	ck_assert_str_eq(m.u.disconnect.reason, "certificate_revoked?");
	json_decref(p);
}
END_TEST

START_TEST(test_unknown_ignored)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	p = json_pack("{s:s}", "client_id",
	    "11111111-2222-4333-8444-555555555555");
	ck_assert_int_eq(portal_msg_decode("client_device_access_authorized",
	    p, &m, &why), 0);
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(portal_msg_decode("access_authorization_expiry_"
	    "updated", p, &m, &why), 0);
	json_decref(p);

	p = load("resource_cidr.json");
	json_object_set_new(p, "type", json_string("dynamic_device_pool"));
	ck_assert_int_eq(portal_msg_decode("resource_created_or_updated", p,
	    &m, &why), 0);
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	json_object_set_new(p, "type", json_string("quantum"));
	json_object_del(p, "address");
	ck_assert_int_eq(portal_msg_decode("resource_created_or_updated", p,
	    &m, &why), 0);
	json_decref(p);
}
END_TEST

/* Gateway role (PROTOCOL.md 3). */
START_TEST(test_gw_init)
{
	struct portal_msg	 m;
	struct portal_init	*in;
	json_t			*p;
	const char		*why;

	ck_assert_int_eq(decode_gw_file("init", "gw_init.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_INIT);
	in = &m.u.init;
	ck_addr(&in->iface.ipv4, "100.82.5.17");
	ck_addr(&in->iface.ipv6, "fd00:2021:1111::3:9c4e");
	ck_assert_uint_eq(in->nresources, 0);
	ck_assert_uint_eq(in->nrelays, 2);
	ck_assert_int_eq(in->relays[0].expires_at, 2145916800);
	ck_sockaddr(&in->relays[1].addr, "2001:db8:7::5", 3478);
	ck_assert_str_eq(in->account_slug, "acme");
	ck_assert(in->has_authorizations);
	ck_assert_uint_eq(in->nauthorizations, 2);
	ck_assert_str_eq(in->authorizations[0].client_id,
	    "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c");
	ck_assert_str_eq(in->authorizations[0].resource_id,
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	ck_assert_int_eq(in->authorizations[0].expires_at, 1767225600);
	/* Stored lower case; a null expiry is "not given". */
	ck_assert_str_eq(in->authorizations[1].client_id,
	    "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c");
	ck_assert_int_eq(in->authorizations[1].expires_at, 0);
	portal_msg_free(&m);
	ck_assert_ptr_null(m.u.init.authorizations);

	/* No list: nothing known, which is not "none left". */
	p = load("gw_init.json");
	json_object_del(p, "authorizations");
	json_object_del(p, "account_slug");
	json_object_del(p, "config");
	ck_assert_int_eq(portal_msg_decode_gateway("init", p, &m, &why), 1);
	ck_assert(!m.u.init.has_authorizations);
	ck_assert_ptr_null(m.u.init.account_slug);
	portal_msg_free(&m);
	json_object_set_new(p, "authorizations", json_array());
	ck_assert_int_eq(portal_msg_decode_gateway("init", p, &m, &why), 1);
	ck_assert(m.u.init.has_authorizations);
	ck_assert_uint_eq(m.u.init.nauthorizations, 0);
	portal_msg_free(&m);
	/* The client view's init is not a gateway's: no resources needed. */
	json_object_set_new(p, "resources", json_string("ignored"));
	ck_assert_int_eq(portal_msg_decode_gateway("init", p, &m, &why), 1);
	portal_msg_free(&m);
	json_decref(p);
}
END_TEST

START_TEST(test_gw_create_authorization)
{
	struct portal_msg		 m;
	struct portal_gw_authorization	*a;
	static const uint8_t		 zero[PORTAL_KEY_LEN];
	json_t				*p;
	const char			*why;

	ck_assert_int_eq(decode_gw_file("create_authorization",
	    "gw_create_authorization.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_CREATE_AUTHZ);
	a = &m.u.gw_authz;
	ck_assert_str_eq(a->ref, "SFMyNTY.g2gDaAJtAAAAJGQyYjZmMWEwLTNjNGUtNG"
	    "Y1YS05YjhjLTdkNmU1ZjRhM2IyYw");
	ck_assert_int_eq(a->resource.type, PORTAL_RES_CIDR);
	ck_assert_str_eq(a->resource.id,
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	ck_addr(&a->resource.cidr.addr, "10.20.0.0");
	ck_assert_uint_eq(a->resource.cidr.plen, 16);
	ck_assert_str_eq(a->resource.name, "HQ LAN");
	ck_assert_uint_eq(a->resource.nsites, 0);
	/* Sorted, and 443 + 444-500 joined. */
	ck_assert_uint_eq(a->resource.nfilters, 4);
	ck_assert_int_eq(a->resource.filters[0].proto, PORTAL_PROTO_TCP);
	ck_assert_uint_eq(a->resource.filters[0].port_start, 80);
	ck_assert_uint_eq(a->resource.filters[0].port_end, 80);
	ck_assert_int_eq(a->resource.filters[1].proto, PORTAL_PROTO_TCP);
	ck_assert_uint_eq(a->resource.filters[1].port_start, 443);
	ck_assert_uint_eq(a->resource.filters[1].port_end, 500);
	ck_assert_int_eq(a->resource.filters[2].proto, PORTAL_PROTO_UDP);
	ck_assert_uint_eq(a->resource.filters[2].port_start, 53);
	ck_assert_int_eq(a->resource.filters[3].proto, PORTAL_PROTO_ICMP);
	ck_assert_uint_eq(a->resource.filters[3].port_end, 0);
	ck_assert_str_eq(a->client_id, "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c");
	ck_peer_secrets(a->client_public_key, a->preshared_key,
	    &a->client_ice, &a->gateway_ice);
	ck_addr(&a->client_ipv4, "100.71.34.9");
	ck_addr(&a->client_ipv6, "fd00:2021:1111::a:3b21");
	ck_assert_int_eq(a->expires_at, 1767225600);
	/* Freeing wipes the key material held in the struct. */
	portal_msg_gw_authorization_free(a);
	ck_assert_mem_eq(a->preshared_key, zero, sizeof(zero));
	ck_assert_ptr_null(a->ref);
	portal_msg_free(&m);

	/* Internet: id and type only; optional parts may go. */
	p = load("gw_create_authorization.json");
	json_object_set_new(p, "resource", json_pack("{s:s, s:s}", "id",
	    "c3b2a190-8f7e-4d6c-b5a4-93827160f5e4", "type", "internet"));
	json_object_del(p, "use_iceless");
	json_object_del(p, "subject");
	json_object_set_new(json_object_get(p, "client"), "ipv4",
	    json_string("100.71.34.9/32"));
	ck_assert_int_eq(portal_msg_decode_gateway("create_authorization", p,
	    &m, &why), 1);
	ck_assert_int_eq(m.u.gw_authz.resource.type, PORTAL_RES_INTERNET);
	ck_assert_uint_eq(m.u.gw_authz.resource.nfilters, 0);
	ck_addr(&m.u.gw_authz.client_ipv4, "100.71.34.9");
	portal_msg_free(&m);

	/* A DNS resource: its pattern as the address. */
	json_object_set_new(p, "resource", json_pack("{s:s, s:s, s:s, s:s, "
	    "s:[]}", "id", "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6", "type",
	    "dns", "address", "*.git.corp.example.com", "name", "GitLab",
	    "filters"));
	ck_assert_int_eq(portal_msg_decode_gateway("create_authorization", p,
			     &m, &why),
	    1);
	ck_assert_int_eq(m.u.gw_authz.resource.type, PORTAL_RES_DNS);
	ck_assert_str_eq(m.u.gw_authz.resource.address,
	    "*.git.corp.example.com");
	portal_msg_free(&m);
	json_object_del(json_object_get(p, "resource"), "address");
	ck_assert_int_eq(portal_msg_decode_gateway("create_authorization", p,
	    &m, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "not a domain"));
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	json_object_set_new(json_object_get(p, "resource"), "type",
	    json_string("static_device_pool"));
	ck_assert_int_eq(portal_msg_decode_gateway("create_authorization", p,
	    &m, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "does not know"));
	json_decref(p);
}
END_TEST

START_TEST(test_gw_candidates)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	ck_assert_int_eq(decode_gw_file("ice_candidates",
	    "gw_ice_candidates.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_CANDIDATES);
	ck_assert_str_eq(m.u.candidates.peer_id,
	    "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c");
	/* What is no SDP candidate is skipped alone. */
	ck_assert_uint_eq(m.u.candidates.ncandidates, 2);
	ck_assert_str_eq(m.u.candidates.candidates[1], "candidate:2 1 udp "
	    "1694498815 203.0.113.44 40123 typ srflx raddr 192.168.1.23 "
	    "rport 52625");
	portal_msg_free(&m);
	ck_assert_int_eq(decode_gw_file("invalidate_ice_candidates",
	    "gw_ice_candidates.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_INVALIDATE_CANDIDATES);
	portal_msg_free(&m);
	/* The client role's names and key are not the gateway's. */
	ck_assert_int_eq(decode_gw_file("gateway_ice_candidates",
	    "gw_ice_candidates.json", &m), 0);
	p = load("ice_candidates.json");
	ck_assert_int_eq(portal_msg_decode_gateway("ice_candidates", p, &m,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "client_id"));
	json_decref(p);
}
END_TEST

START_TEST(test_gw_reject_access)
{
	struct portal_msg	 m;

	ck_assert_int_eq(decode_gw_file("reject_access",
	    "gw_reject_access.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_REJECT_ACCESS);
	ck_assert_str_eq(m.u.access.client_id,
	    "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c");
	ck_assert_str_eq(m.u.access.resource_id,
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	portal_msg_free(&m);
	/* A client only hears of it for device pools, which fzc lacks. */
	ck_assert_int_eq(decode_file("reject_access", "gw_reject_access.json",
	    &m), 0);
}
END_TEST

START_TEST(test_gw_resource_updated)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	ck_assert_int_eq(decode_gw_file("resource_updated",
	    "gw_resource_updated.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_RESOURCE_UPDATED);
	ck_addr(&m.u.resource.cidr.addr, "fd00:20::");
	ck_assert_uint_eq(m.u.resource.cidr.plen, 48);
	/* Missing ends mean 0 and 65535; the two halves join. */
	ck_assert_uint_eq(m.u.resource.nfilters, 1);
	ck_assert_int_eq(m.u.resource.filters[0].proto, PORTAL_PROTO_UDP);
	ck_assert_uint_eq(m.u.resource.filters[0].port_start, 0);
	ck_assert_uint_eq(m.u.resource.filters[0].port_end, 65535);
	portal_msg_free(&m);

	/* A DNS resource's update: its pattern and filters. */
	p = load("gw_resource_updated.json");
	json_object_set_new(p, "type", json_string("dns"));
	json_object_set_new(p, "address", json_string("*.corp.example.com"));
	ck_assert_int_eq(portal_msg_decode_gateway("resource_updated", p, &m,
			     &why),
	    1);
	ck_assert_int_eq(m.u.resource.type, PORTAL_RES_DNS);
	ck_assert_str_eq(m.u.resource.address, "*.corp.example.com");
	portal_msg_free(&m);
	/* A type the gateway does not know is ignored. */
	json_object_set_new(p, "type", json_string("static_device_pool"));
	ck_assert_int_eq(portal_msg_decode_gateway("resource_updated", p, &m,
	    &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	json_decref(p);
}
END_TEST

START_TEST(test_gw_events)
{
	static const char	*client_only[] = {
		"config_changed", "resource_created_or_updated",
		"resource_deleted", "authorization_created",
		"authorization_creation_failed", "flow_created",
	};
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;
	size_t			 i;

	p = load("init.json");
	for (i = 0; i < sizeof(client_only) / sizeof(client_only[0]); i++) {
		ck_assert_int_eq(portal_msg_decode_gateway(client_only[i], p,
		    &m, &why), 0);
		ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	}
	ck_assert_int_eq(portal_msg_decode("create_authorization", p, &m,
	    &why), 0);
	ck_assert_int_eq(portal_msg_decode("resource_updated", p, &m, &why),
	    0);
	json_decref(p);

	/* Shared with the client role. */
	ck_assert_int_eq(decode_gw_file("relays_presence",
	    "relays_presence.json", &m), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_RELAYS_PRESENCE);
	ck_assert_uint_eq(m.u.relays.nconnected, 2);
	portal_msg_free(&m);
	ck_assert_int_eq(decode_gw_file("disconnect", "disconnect.json", &m),
	    1);
	ck_assert(m.u.disconnect.token_expired);
	portal_msg_free(&m);

	/* Every gateway push must be an object. */
	p = json_string("a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	ck_assert_int_eq(portal_msg_decode_gateway("reject_access", p, &m,
	    &why), -1);
	ck_assert_int_eq(portal_msg_decode_gateway("create_authorization", p,
	    &m, &why), -1);
	ck_assert_int_eq(portal_msg_decode_gateway("init", p, &m, &why), -1);
	ck_assert_int_eq(portal_msg_decode_gateway("resource_updated", p, &m,
	    &why), -1);
	json_decref(p);
}
END_TEST

START_TEST(test_filters_merge)
{
	static const struct {
		size_t			 n, want;
		struct portal_filter	 in[4], out[4];
	} t[] = {
		{ 0, 0, { { 0 } }, { { 0 } } },
		{ 2, 1, { { PORTAL_PROTO_TCP, 10, 20 },
		    { PORTAL_PROTO_TCP, 15, 30 } },
		    { { PORTAL_PROTO_TCP, 10, 30 } } },
		/* Adjacent joins; a gap does not. */
		{ 3, 2, { { PORTAL_PROTO_UDP, 21, 30 },
		    { PORTAL_PROTO_UDP, 10, 20 },
		    { PORTAL_PROTO_UDP, 32, 40 } },
		    { { PORTAL_PROTO_UDP, 10, 30 },
		    { PORTAL_PROTO_UDP, 32, 40 } } },
		/* Another protocol never joins; contained ranges vanish. */
		{ 4, 3, { { PORTAL_PROTO_ICMP, 0, 0 },
		    { PORTAL_PROTO_TCP, 1, 65535 },
		    { PORTAL_PROTO_TCP, 80, 80 },
		    { PORTAL_PROTO_UDP, 1, 65535 } },
		    { { PORTAL_PROTO_TCP, 1, 65535 },
		    { PORTAL_PROTO_UDP, 1, 65535 },
		    { PORTAL_PROTO_ICMP, 0, 0 } } },
		{ 2, 1, { { PORTAL_PROTO_ICMP, 0, 0 },
		    { PORTAL_PROTO_ICMP, 0, 0 } },
		    { { PORTAL_PROTO_ICMP, 0, 0 } } },
		{ 2, 1, { { PORTAL_PROTO_TCP, 0, 65535 },
		    { PORTAL_PROTO_TCP, 65535, 65535 } },
		    { { PORTAL_PROTO_TCP, 0, 65535 } } },
	};
	struct portal_filter	 f[4];
	size_t			 i, j, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memcpy(f, t[i].in, sizeof(f));
		n = portal_msg_filters_merge(f, t[i].n);
		ck_assert_msg(n == t[i].want, "case %zu: %zu filters", i, n);
		for (j = 0; j < n; j++) {
			ck_assert_int_eq(f[j].proto, t[i].out[j].proto);
			ck_assert_uint_eq(f[j].port_start,
			    t[i].out[j].port_start);
			ck_assert_uint_eq(f[j].port_end, t[i].out[j].port_end);
		}
	}
}
END_TEST

/*
 * One field changed per case.  value NULL deletes the field; otherwise
 * it is JSON text.  Path components are object keys or array indexes.
 */
static const struct bad {
	const char	*event;
	const char	*file;
	const char	*path;
	const char	*value;
} bads[] = {
	{ "init", "init.json", "interface", NULL },
	{ "init", "init.json", "interface", "[]" },
	{ "init", "init.json", "interface.ipv4", NULL },
	{ "init", "init.json", "interface.ipv4", "1681007113" },
	{ "init", "init.json", "interface.ipv4", "\"100.71.34.300\"" },
	{ "init", "init.json", "interface.ipv4", "\"fd00::1\"" },
	{ "init", "init.json", "interface.ipv4", "\"100.71.34.9/24\"" },
	{ "init", "init.json", "interface.ipv6", NULL },
	{ "init", "init.json", "interface.ipv6", "\"100.71.34.9\"" },
	{ "init", "init.json", "interface.search_domain", "5" },
	{ "init", "init.json", "interface.search_domain", "\"a b\"" },
	{ "init", "init.json", "interface.upstream_do53", "{}" },
	{ "init", "init.json", "resources", "{}" },
	{ "init", "init.json", "relays", "{}" },
	{ "init", "init.json", "flow_logs", NULL },
	{ "init", "init.json", "flow_logs", "[]" },
	{ "config_changed", "config_changed.json", "interface", NULL },
	{ "config_changed", "config_changed.json", "interface.ipv6",
	    "\"100.1.1.1\"" },
	{ "config_changed", "config_changed.json", "interface.ipv4",
	    "\"100.71.34.9/31\"" },
	{ "resource_created_or_updated", "resource_dns.json", "gateway_groups",
	    NULL },
	{ "resource_created_or_updated", "resource_dns.json", "id",
	    "\"0f6a8c1e5b8e4d5f9a3c11a2b3c4d5e6\"" },
	{ "resource_created_or_updated", "resource_dns.json", "id",
	    "\"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5eg\"" },
	{ "resource_created_or_updated", "resource_dns.json", "id",
	    "\"0f6a8c1e05b8e04d5f09a3c011a2b3c4d5e6\"" },
	{ "resource_created_or_updated", "resource_cidr.json", "address",
	    "\"2001:db8:abcd:12::\"" },
	{ "resource_created_or_updated", "resource_cidr.json", "address",
	    "\"2001:db8:abcd:12::/64/1\"" },
	{ "relays_presence", "relays_presence.json", "disconnected_ids", NULL },
	{ "relays_presence", "relays_presence.json", "connected", "{}" },
	{ "relays_presence", "relays_presence.json", "connected", NULL },
	{ "authorization_created", "authorization_created.json", "resource_id",
	    "5" },
	{ "authorization_created", "authorization_created.json", "gateway_id",
	    NULL },
	{ "authorization_created", "authorization_created.json", "site_id",
	    NULL },
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key", "\"AAECAwQFBgcICQoLDA0ODxA\"" },
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key",
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=\"" },
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key",
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"" },
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key",
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA=\"" },
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key", "null" },
	/* 44 characters, but only 31 bytes. */
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key",
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"" },
	/* Non-zero bits after the last full byte: not canonical. */
	{ "authorization_created", "authorization_created.json",
	    "gateway_public_key",
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\"" },
	{ "authorization_created", "authorization_created.json",
	    "preshared_key",
	    "\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8\"" },
	{ "authorization_created", "authorization_created.json",
	    "preshared_key",
	    "\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr-=\"" },
	{ "authorization_created", "authorization_created.json",
	    "preshared_key", "12" },
	{ "authorization_created", "authorization_created.json",
	    "preshared_key", NULL },
	{ "authorization_created", "authorization_created.json", "gateway_ipv4",
	    "\"fd00::1\"" },
	{ "authorization_created", "authorization_created.json", "gateway_ipv4",
	    NULL },
	{ "authorization_created", "authorization_created.json", "gateway_ipv6",
	    "\"100.1.2.3\"" },
	{ "authorization_created", "authorization_created.json",
	    "client_ice_credentials", NULL },
	{ "authorization_created", "authorization_created.json",
	    "client_ice_credentials.password", "\"short\"" },
	{ "authorization_created", "authorization_created.json",
	    "client_ice_credentials.username", "\"ab\"" },
	{ "authorization_created", "authorization_created.json",
	    "gateway_ice_credentials.username", "\"with space\"" },
	{ "authorization_created", "authorization_created.json",
	    "gateway_ice_credentials.password", NULL },
	{ "authorization_created", "authorization_created.json",
	    "gateway_ice_credentials", "\"xk4q\"" },
	{ "authorization_created", "authorization_created.json", "use_iceless",
	    "\"false\"" },
	{ "authorization_created", "authorization_created.json",
	    "flow_logs_ingest_token", NULL },
	{ "authorization_created", "authorization_created.json",
	    "flow_logs_ingest_token", "5" },
	{ "authorization_creation_failed", "authorization_creation_failed.json",
	    "resource_id", NULL },
	{ "authorization_creation_failed", "authorization_creation_failed.json",
	    "reason", "3" },
	{ "authorization_creation_failed", "authorization_creation_failed.json",
	    "violated_properties", "\"remote_ip\"" },
	{ "ice_candidates", "ice_candidates.json", "gateway_id", NULL },
	{ "ice_candidates", "ice_candidates.json", "candidates", NULL },
	{ "ice_candidates", "ice_candidates.json", "candidates", "\"x\"" },
	{ "disconnect", "disconnect.json", "reason", NULL },
	{ "disconnect", "disconnect.json", "reason", "5" },
};

/* One broken list element: skipped, the message kept. */
static const struct bad skips[] = {
	{ "init", "init.json", "interface.upstream_do53.0.ip", "\"10.20.0\"" },
	{ "init", "init.json", "interface.upstream_do53.0", "\"10.20.0.1\"" },
	{ "init", "init.json", "interface.upstream_doh.0.url",
	    "\"http://dns.example.net/\"" },
	{ "init", "init.json", "interface.upstream_dns.0.address",
	    "\"10.20.0.53\"" },
	{ "init", "init.json", "interface.upstream_dns.1.address",
	    "\"2001:db8::53:53\"" },
	{ "init", "init.json", "interface.upstream_dns.0.protocol", NULL },
	{ "init", "init.json", "resources.0", "\"dns\"" },
	{ "init", "init.json", "resources.0.type", "5" },
	{ "init", "init.json", "resources.0.id", "\"not-a-uuid\"" },
	{ "init", "init.json", "resources.0.id", NULL },
	{ "init", "init.json", "resources.0.address", NULL },
	{ "init", "init.json", "resources.0.address", "\"bad name.com\"" },
	{ "init", "init.json", "resources.0.name", "7" },
	{ "init", "init.json", "resources.0.name", NULL },
	{ "init", "init.json", "resources.0.address_description", "[]" },
	{ "init", "init.json", "resources.0.filters", "\"tcp\"" },
	{ "init", "init.json", "resources.0.filters.0.protocol", "\"sctp\"" },
	{ "init", "init.json", "resources.0.filters.0.protocol", NULL },
	{ "init", "init.json", "resources.0.filters.0.port_range_start",
	    "70000" },
	{ "init", "init.json", "resources.0.filters.0.port_range_start",
	    "\"443\"" },
	{ "init", "init.json", "resources.0.filters.0.port_range_start", "-1" },
	{ "init", "init.json", "resources.0.filters.0.port_range_end", "1" },
	{ "init", "init.json", "resources.0.sites", NULL },
	{ "init", "init.json", "resources.0.sites", "{}" },
	{ "init", "init.json", "resources.0.sites.0.id", "12" },
	{ "init", "init.json", "resources.0.sites.0.name", "12" },
	{ "init", "init.json", "resources.0.ip_stack", "\"ipv5_only\"" },
	{ "init", "init.json", "resources.1.address", "\"10.20.0.0/33\"" },
	{ "init", "init.json", "resources.1.address", "\"10.20.0.300/16\"" },
	{ "init", "init.json", "resources.1.address", "\"10.20.0.0\"" },
	{ "init", "init.json", "resources.1.address", "\"10.20.0.0/016\"" },
	{ "init", "init.json", "resources.1.address", "\"10.20.0.0/\"" },
	{ "init", "init.json", "resources.1.address", "\"fd00::/129\"" },
	{ "init", "init.json", "resources.1.address", "\"corp.example\"" },
	{ "init", "init.json", "resources.3.can_be_disabled", "\"yes\"" },
	{ "init", "init.json", "resources.3.sites", NULL },
	{ "init", "init.json", "relays.0", "\"turn\"" },
	{ "init", "init.json", "relays.0.type", "5" },
	{ "init", "init.json", "relays.0.id", "\"relay-1\"" },
	{ "init", "init.json", "relays.0.addr", "\"198.51.100.7\"" },
	{ "init", "init.json", "relays.0.addr", "\"198.51.100.7:70000\"" },
	{ "init", "init.json", "relays.0.addr", "\"198.51.100.7:0\"" },
	{ "init", "init.json", "relays.0.addr", "\"198.51.100.7:34a\"" },
	{ "init", "init.json", "relays.1.addr", "\"[2001:db8:7::5]3478\"" },
	{ "init", "init.json", "relays.1.addr", "\"2001:db8:7::5:3478\"" },
	{ "init", "init.json", "relays.0.username", NULL },
	{ "init", "init.json", "relays.0.password", NULL },
	{ "init", "init.json", "relays.0.password", "5" },
	{ "init", "init.json", "relays.0.expires_at", "\"soon\"" },
	{ "init", "init.json", "relays.0.expires_at", NULL },
	{ "relays_presence", "relays_presence.json", "disconnected_ids.0",
	    "\"zz\"" },
	{ "relays_presence", "relays_presence.json", "disconnected_ids.0",
	    "1" },
	{ "relays_presence", "relays_presence.json", "connected.0.username",
	    NULL },
	{ "relays_presence", "relays_presence.json", "connected.1.addr", NULL },
	{ "authorization_creation_failed", "authorization_creation_failed.json",
	    "violated_properties.0", "5" },
};

static const struct bad gw_bads[] = {
	{ "init", "gw_init.json", "interface", NULL },
	{ "init", "gw_init.json", "interface.ipv4", "\"fd00::1\"" },
	{ "init", "gw_init.json", "interface.ipv6", NULL },
	{ "init", "gw_init.json", "config", "[]" },
	{ "init", "gw_init.json", "config.ipv4_masquerade_enabled", "\"yes\"" },
	{ "init", "gw_init.json", "account_slug", "5" },
	{ "init", "gw_init.json", "account_slug", "\"two words\"" },
	{ "init", "gw_init.json", "authorizations", "{}" },
	{ "create_authorization", "gw_create_authorization.json", "ref", NULL },
	{ "create_authorization", "gw_create_authorization.json", "ref", "12" },
	{ "create_authorization", "gw_create_authorization.json", "ref",
	    "\"\"" },
	{ "create_authorization", "gw_create_authorization.json", "ref",
	    "\"SFMyNTY.with space\"" },
	{ "create_authorization", "gw_create_authorization.json", "resource",
	    NULL },
	{ "create_authorization", "gw_create_authorization.json", "resource",
	    "\"cidr\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.type", NULL },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.type", "\"static_device_pool\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.type", "\"ip\"" },
	{ "create_authorization", "gw_create_authorization.json", "resource.id",
	    "\"resource-1\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.address", NULL },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.address", "\"10.20.0.0\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.address", "\"corp.example.com\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.name", "5" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.filters", "{}" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.filters.0.protocol", "\"sctp\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.filters.0.port_range_end", "70000" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.filters.0.port_range_end", "0" },
	{ "create_authorization", "gw_create_authorization.json",
	    "resource.filters.1.port_range_start", "501" },
	{ "create_authorization", "gw_create_authorization.json", "client",
	    NULL },
	{ "create_authorization", "gw_create_authorization.json", "client",
	    "[]" },
	{ "create_authorization", "gw_create_authorization.json", "client.id",
	    NULL },
	{ "create_authorization", "gw_create_authorization.json", "client.id",
	    "\"d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "client.public_key", NULL },
	{ "create_authorization", "gw_create_authorization.json",
	    "client.public_key",
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "client.preshared_key", NULL },
	{ "create_authorization", "gw_create_authorization.json",
	    "client.preshared_key",
	    "\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr-=\"" },
	{ "create_authorization", "gw_create_authorization.json", "client.ipv4",
	    "\"fd00::1\"" },
	{ "create_authorization", "gw_create_authorization.json", "client.ipv4",
	    NULL },
	{ "create_authorization", "gw_create_authorization.json", "client.ipv6",
	    "\"100.71.34.9\"" },
	{ "create_authorization", "gw_create_authorization.json", "client.ipv6",
	    "\"fd00:2021:1111::a:3b21/64\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "client_ice_credentials", NULL },
	{ "create_authorization", "gw_create_authorization.json",
	    "client_ice_credentials.password", "\"short\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "gateway_ice_credentials.username", "\"x k4q\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "gateway_ice_credentials", "\"xk4q\"" },
	{ "create_authorization", "gw_create_authorization.json", "expires_at",
	    NULL },
	{ "create_authorization", "gw_create_authorization.json", "expires_at",
	    "\"1767225600\"" },
	{ "create_authorization", "gw_create_authorization.json", "expires_at",
	    "-5" },
	{ "create_authorization", "gw_create_authorization.json", "use_iceless",
	    "\"false\"" },
	{ "create_authorization", "gw_create_authorization.json",
	    "flow_logs_ingest_token", NULL },
	{ "ice_candidates", "gw_ice_candidates.json", "client_id", NULL },
	{ "ice_candidates", "gw_ice_candidates.json", "client_id", "\"c1\"" },
	{ "ice_candidates", "gw_ice_candidates.json", "candidates", NULL },
	{ "invalidate_ice_candidates", "gw_ice_candidates.json", "candidates",
	    "{}" },
	{ "reject_access", "gw_reject_access.json", "client_id", NULL },
	{ "reject_access", "gw_reject_access.json", "resource_id",
	    "\"a4e2c7d9\"" },
	{ "resource_updated", "gw_resource_updated.json", "id", NULL },
	{ "resource_updated", "gw_resource_updated.json", "address",
	    "\"fd00:20::/129\"" },
	{ "resource_updated", "gw_resource_updated.json", "filters.0",
	    "\"udp\"" },
	{ "resource_updated", "gw_resource_updated.json", "type", "3" },
	{ "relays_presence", "relays_presence.json", "connected", NULL },
	{ "disconnect", "disconnect.json", "reason", NULL },
};

/* One broken list element: skipped, the message kept. */
static const struct bad gw_skips[] = {
	{ "init", "gw_init.json", "relays.0.addr", "\"198.51.100.7\"" },
	{ "init", "gw_init.json", "relays.0.password", "\"Zk1p\\u00e9\"" },
	{ "init", "gw_init.json", "relays.0.username", "\"a\\tb\"" },
	{ "init", "gw_init.json", "authorizations.0", "\"x\"" },
	{ "init", "gw_init.json", "authorizations.0.client_id", NULL },
	{ "init", "gw_init.json", "authorizations.0.client_id",
	    "\"d2b6f1a0\"" },
	{ "init", "gw_init.json", "authorizations.1.resource_id", "7" },
	{ "init", "gw_init.json", "authorizations.0.expires_at", "\"soon\"" },
	{ "init", "gw_init.json", "authorizations.0.expires_at", "0" },
};

/* Applies one change at a dotted path; fails the test if the path is bad. */
static void
mutate(json_t *root, const char *path, const char *value)
{
	char		 buf[256], *tok, *next;
	json_t		*cur = root, *v = NULL;
	json_error_t	 err;
	size_t		 idx;

	snprintf(buf, sizeof(buf), "%s", path);
	if (value != NULL) {
		v = json_loads(value, JSON_DECODE_ANY, &err);
		ck_assert_msg(v != NULL, "bad test value %s", value);
	}
	for (tok = buf; (next = strchr(tok, '.')) != NULL; tok = next + 1) {
		*next = '\0';
		cur = json_is_array(cur) ?
		    json_array_get(cur, strtoul(tok, NULL, 10)) :
		    json_object_get(cur, tok);
		ck_assert_msg(cur != NULL, "bad test path %s", path);
	}
	if (json_is_array(cur)) {
		idx = strtoul(tok, NULL, 10);
		ck_assert(idx < json_array_size(cur));
		if (v == NULL)
			ck_assert_int_eq(json_array_remove(cur, idx), 0);
		else
			ck_assert_int_eq(json_array_set_new(cur, idx, v), 0);
	} else if (v == NULL)
		ck_assert_int_eq(json_object_del(cur, tok), 0);
	else
		ck_assert_int_eq(json_object_set_new(cur, tok, v), 0);
}

static void
ck_malformed(decode_fn *fn, const struct bad *b)
{
	struct portal_msg	 m;
	json_t			*p, *v;
	const char		*why = NULL;
	size_t			 i;
	static const char	 zero[sizeof(m)];

	p = load(b->file);
	mutate(p, b->path, b->value);
	ck_assert_msg(fn(b->event, p, &m, &why) == -1,
	    "%s %s=%s accepted", b->event, b->path,
	    b->value ? b->value : "(deleted)");
	ck_assert_ptr_nonnull(why);
	/* Nothing half-built is handed back. */
	ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	ck_assert_mem_eq(&m, zero, sizeof(m));
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		ck_assert_ptr_null(strstr(why, secrets[i]));
	/* Nor the offending value. */
	v = json_loads(b->value != NULL ? b->value : "null", JSON_DECODE_ANY,
	    NULL);
	if (json_is_string(v) && json_string_length(v) > 3)
		ck_assert_ptr_null(strstr(why, json_string_value(v)));
	json_decref(v);
	json_decref(p);
}

/* The same change leaves the message, one list element short. */
static void
ck_skipped(decode_fn *fn, const struct bad *b)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why = NULL;
	size_t			 i;

	p = load(b->file);
	mutate(p, b->path, b->value);
	ck_assert_msg(fn(b->event, p, &m, &why) == 1,
	    "%s %s=%s dropped the message: %s", b->event, b->path,
	    b->value ? b->value : "(deleted)", why ? why : "");
	ck_assert_uint_eq(m.skips.n, 1);
	ck_assert_ptr_nonnull(m.skips.first);
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		ck_assert_ptr_null(strstr(m.skips.first, secrets[i]));
	portal_msg_free(&m);
	json_decref(p);
}

START_TEST(test_skipped)
{
	ck_skipped(portal_msg_decode, &skips[_i]);
}
END_TEST

START_TEST(test_gw_skipped)
{
	ck_skipped(portal_msg_decode_gateway, &gw_skips[_i]);
}
END_TEST

/* Firezone's decoders default absent lists to empty ones. */
START_TEST(test_absent_lists)
{
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;

	p = load("init.json");
	json_object_del(p, "resources");
	json_object_del(p, "relays");
	ck_assert_int_eq(portal_msg_decode("init", p, &m, &why), 1);
	ck_assert_uint_eq(m.u.init.nresources, 0);
	ck_assert_uint_eq(m.u.init.nrelays, 0);
	ck_assert_uint_eq(m.skips.n, 0);
	portal_msg_free(&m);
	json_decref(p);

	p = load("gw_init.json");
	json_object_set_new(p, "relays", json_null());
	ck_assert_int_eq(portal_msg_decode_gateway("init", p, &m, &why), 1);
	ck_assert_uint_eq(m.u.init.nrelays, 0);
	portal_msg_free(&m);
	json_decref(p);
}
END_TEST

START_TEST(test_malformed)
{
	ck_malformed(portal_msg_decode, &bads[_i]);
}
END_TEST

START_TEST(test_gw_malformed)
{
	ck_malformed(portal_msg_decode_gateway, &gw_bads[_i]);
}
END_TEST

START_TEST(test_payload_not_object)
{
	static const char	*events[] = {
		"init", "config_changed", "resource_created_or_updated",
		"relays_presence", "authorization_created",
		"authorization_creation_failed", "ice_candidates",
		"disconnect",
	};
	struct portal_msg	 m;
	json_t			*p;
	const char		*why;
	size_t			 i;

	p = json_string("0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6");
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		ck_assert_int_eq(portal_msg_decode(events[i], p, &m, &why),
		    -1);
		ck_assert_int_eq(m.type, PORTAL_MSG_NONE);
	}
	json_decref(p);
}
END_TEST

static void
ck_dump(json_t *v, const char *want)
{
	char	*s;

	ck_assert_ptr_nonnull(v);
	s = json_dumps(v, JSON_COMPACT);
	ck_assert_str_eq(s, want);
	free(s);
	json_decref(v);
}

START_TEST(test_encoders)
{
	const char	*gws[] = { "77AA11BB-22cc-4d33-8e44-55ff66aa77bb" };
	const char	*bad[] = { "77aa11bb" };
	const char	*cands[] = {
		"candidate:1 1 udp 2130706431 192.168.1.23 52625 typ host",
		"candidate:3 1 udp 16777215 198.51.100.7 61002 typ relay "
		    "raddr 203.0.113.44 rport 40123",
	};
	const char	*nl[] = { "candidate:1\n" };
	json_t		*p;
	char		*f;

	ck_dump(portal_msg_request_authorization(
	    "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6", gws, 1),
	    "{\"resource_id\":\"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6\","
	    "\"connected_gateway_ids\":"
	    "[\"77aa11bb-22cc-4d33-8e44-55ff66aa77bb\"]}");
	ck_dump(portal_msg_request_authorization(
	    "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6", NULL, 0),
	    "{\"resource_id\":\"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6\","
	    "\"connected_gateway_ids\":[]}");
	ck_assert_ptr_null(portal_msg_request_authorization("x", NULL, 0));
	ck_assert_ptr_null(portal_msg_request_authorization(
	    "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6", bad, 1));

	ck_dump(portal_msg_gateway_candidates(
	    "77aa11bb-22cc-4d33-8e44-55ff66aa77bb", cands, 2),
	    "{\"gateway_id\":\"77aa11bb-22cc-4d33-8e44-55ff66aa77bb\","
	    "\"candidates\":[\"candidate:1 1 udp 2130706431 192.168.1.23 "
	    "52625 typ host\",\"candidate:3 1 udp 16777215 198.51.100.7 "
	    "61002 typ relay raddr 203.0.113.44 rport 40123\"]}");
	ck_assert_ptr_null(portal_msg_gateway_candidates(
	    "77aa11bb-22cc-4d33-8e44-55ff66aa77bb", nl, 1));
	ck_assert_ptr_null(portal_msg_gateway_candidates("gw", cands, 2));

	/* Gateway role. */
	ck_dump(portal_msg_client_candidates(gws, 1, cands, 1),
	    "{\"client_ids\":[\"77aa11bb-22cc-4d33-8e44-55ff66aa77bb\"],"
	    "\"candidates\":[\"candidate:1 1 udp 2130706431 192.168.1.23 "
	    "52625 typ host\"]}");
	ck_assert_ptr_null(portal_msg_client_candidates(bad, 1, cands, 1));
	ck_assert_ptr_null(portal_msg_client_candidates(gws, 0, cands, 1));
	ck_assert_ptr_null(portal_msg_client_candidates(gws, 1, nl, 1));
	ck_dump(portal_msg_authorization_created("SFMyNTY.g2gD-_x"),
	    "{\"ref\":\"SFMyNTY.g2gD-_x\"}");
	ck_assert_ptr_null(portal_msg_authorization_created(""));
	ck_assert_ptr_null(portal_msg_authorization_created(NULL));
	ck_assert_ptr_null(portal_msg_authorization_created("a\nb"));

	ck_dump(portal_msg_no_relays(), "{}");
	ck_dump(portal_msg_snownet_capabilities(), "{\"iceless\":false}");

	/* As a whole frame, the way the Phoenix layer sends it. */
	p = portal_msg_no_relays();
	f = phoenix_frame("client", PORTAL_EV_NO_RELAYS, p, 14);
	ck_assert_str_eq(f, "{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":14}");
	free(f);
	json_decref(p);
}
END_TEST

/* A frame as it arrives, through the channel and then the decoder. */
START_TEST(test_frame_to_message)
{
	struct phoenix_chan	*ch;
	struct phoenix_event	 ev;
	struct portal_msg	 m;
	json_t			*p;
	const char		*why, *join;
	char			*f;

	ck_assert_ptr_nonnull(ch = phoenix_new("client"));
	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	free(phoenix_next_frame(ch));
	join = "{\"topic\":\"client\",\"event\":\"phx_reply\",\"ref\":0,"
	    "\"payload\":{\"status\":\"ok\",\"response\":{}}}";
	ck_assert_int_eq(phoenix_recv(ch, 1, join, strlen(join), &why), 0);
	ck_assert(phoenix_next_event(ch, &ev));
	ck_assert_int_eq(ev.type, PHOENIX_EV_JOINED);
	phoenix_event_clear(&ev);

	p = json_pack("{s:s, s:s, s:o, s:n}", "topic", "client", "event",
	    "init", "payload", load("init.json"), "ref");
	f = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	ck_assert_int_eq(phoenix_recv(ch, 2, f, strlen(f), &why), 0);
	free(f);
	ck_assert(phoenix_next_event(ch, &ev));
	ck_assert_int_eq(ev.type, PHOENIX_EV_MESSAGE);
	ck_assert_int_eq(portal_msg_decode(ev.name, ev.payload, &m, &why), 1);
	ck_assert_int_eq(m.type, PORTAL_MSG_INIT);
	ck_assert_uint_eq(m.u.init.nresources, 3);
	ck_assert_uint_eq(m.u.init.nrelays, 2);
	portal_msg_free(&m);
	phoenix_event_clear(&ev);
	phoenix_free(ch);
}
END_TEST

START_TEST(test_json_wipe_installed)
{
	json_malloc_t	 m;
	json_free_t	 f;

	json_get_alloc_funcs(&m, &f);
	ck_assert_ptr_eq((void *)m, (void *)malloc);
	ck_assert_ptr_ne((void *)f, (void *)free);
}
END_TEST

static Suite *
portal_msg_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("portal_msg");
	tc = tcase_create("decode");
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_config_changed);
	tcase_add_test(tc, test_resource_upserts);
	tcase_add_test(tc, test_cidr_host_bits_cleared);
	tcase_add_test(tc, test_resource_deleted);
	tcase_add_test(tc, test_relays_presence);
	tcase_add_test(tc, test_authorization_created);
	tcase_add_test(tc, test_authorization_failed);
	tcase_add_test(tc, test_candidates);
	tcase_add_test(tc, test_disconnect);
	tcase_add_test(tc, test_unknown_ignored);
	tcase_add_test(tc, test_payload_not_object);
	tcase_add_test(tc, test_frame_to_message);
	tcase_add_test(tc, test_json_wipe_installed);
	suite_add_tcase(s, tc);
	tc = tcase_create("gateway");
	tcase_add_test(tc, test_gw_init);
	tcase_add_test(tc, test_gw_create_authorization);
	tcase_add_test(tc, test_gw_candidates);
	tcase_add_test(tc, test_gw_reject_access);
	tcase_add_test(tc, test_gw_resource_updated);
	tcase_add_test(tc, test_gw_events);
	tcase_add_test(tc, test_filters_merge);
	suite_add_tcase(s, tc);
	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_loop_test(tc, test_gw_malformed, 0,
	    (int)(sizeof(gw_bads) / sizeof(gw_bads[0])));
	tcase_add_loop_test(tc, test_skipped, 0,
	    (int)(sizeof(skips) / sizeof(skips[0])));
	tcase_add_loop_test(tc, test_gw_skipped, 0,
	    (int)(sizeof(gw_skips) / sizeof(gw_skips[0])));
	tcase_add_test(tc, test_absent_lists);
	suite_add_tcase(s, tc);
	tc = tcase_create("encode");
	tcase_add_test(tc, test_encoders);
	suite_add_tcase(s, tc);
	return (s);
}

/* Everything runs with the wiping allocator, as controld does. */
static int
setup(void)
{
	portal_msg_json_wipe();
	return (0);
}

const struct check_main check_main = {
	.suites = { portal_msg_suite },
	.setup = setup,
};

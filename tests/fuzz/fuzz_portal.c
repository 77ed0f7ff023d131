/*
 * fuzz_portal: the portal's JSON.  A Phoenix channel is opened and joined
 * on a fake clock, then fed records (see fuzz.h), by op & 3:
 *
 *   0  a text frame to phoenix_recv().
 *   1  time passes: two data bytes in ms (bit 2 clear) or s, then
 *      phoenix_tick().
 *   2  phoenix_close() and phoenix_open() (bit 2: open only), as a
 *      reconnect does.
 *   3  a payload alone: parsed as JSON and decoded under every event
 *      name, as if pushed.
 *
 * Every event the channel raises is drained, and the payload of every
 * pushed message goes to portal_msg_decode() and to
 * portal_msg_decode_gateway() under its own name and under every name the
 * two decoders know, so that each decoder sees every shape.
 * Everything is freed; LeakSanitizer checks that nothing is left.
 */
#include "controld/phoenix.c"
#include "controld/portal_msg.c"

#include "tests/fuzz/fuzz.h"

#define TOPIC	"client"
#define SEC	NSEC_PER_SEC

static const char *const events[] = {
	"init", "config_changed", "resource_created_or_updated",
	"resource_deleted", "relays_presence", "authorization_created",
	"flow_created", "authorization_creation_failed",
	"flow_creation_failed", "ice_candidates", "gateway_ice_candidates",
	"invalidate_ice_candidates", "invalidate_gateway_ice_candidates",
	"disconnect", "no_such_event",
};

/* The gateway role's (PROTOCOL.md 3). */
static const char *const gw_events[] = {
	"init", "relays_presence", "create_authorization", "ice_candidates",
	"invalidate_ice_candidates", "reject_access", "resource_updated",
	"disconnect",
};

/*
 * A gateway's resource (CIDR, Internet or, since the gateway serves them,
 * DNS) and its filters: sorted, joined, never a port range ending at 0.
 */
static void
check_gw_filters(const struct portal_resource *r)
{
	size_t	 i;

	FUZZ_ASSERT(r->type == PORTAL_RES_CIDR ||
	    r->type == PORTAL_RES_INTERNET || r->type == PORTAL_RES_DNS);
	FUZZ_ASSERT(strlen(r->id) == 36);
	for (i = 0; i < r->nfilters; i++) {
		FUZZ_ASSERT(r->filters[i].port_start <= r->filters[i].port_end);
		FUZZ_ASSERT(r->filters[i].proto == PORTAL_PROTO_ICMP ||
		    r->filters[i].port_end > 0);
		if (i == 0 || r->filters[i].proto != r->filters[i - 1].proto)
			continue;
		FUZZ_ASSERT((uint32_t)r->filters[i].port_start >
		    (uint32_t)r->filters[i - 1].port_end + 1);
	}
}

static void
check_msg(const struct portal_msg *m)
{
	size_t	 i;

	switch (m->type) {
	case PORTAL_MSG_INIT:
		for (i = 0; i < m->u.init.nresources; i++)
			FUZZ_ASSERT(strlen(m->u.init.resources[i].id) == 36);
		FUZZ_ASSERT(m->u.init.has_authorizations ||
		    m->u.init.nauthorizations == 0);
		for (i = 0; i < m->u.init.nrelays; i++)
			FUZZ_ASSERT(m->u.init.relays[i].type ==
			    PORTAL_RELAY_TURN || m->u.init.relays[i].type ==
			    PORTAL_RELAY_STUN);
		break;
	case PORTAL_MSG_RESOURCE_UPSERT:
		FUZZ_ASSERT(strlen(m->u.resource.id) == 36);
		if (m->u.resource.type == PORTAL_RES_CIDR)
			FUZZ_ASSERT(m->u.resource.cidr.plen <=
			    (m->u.resource.cidr.addr.family == AF_INET ? 32 :
			    128));
		break;
	case PORTAL_MSG_RESOURCE_DELETED:
		FUZZ_ASSERT(strlen(m->u.resource_id) == 36);
		break;
	case PORTAL_MSG_CANDIDATES:
	case PORTAL_MSG_INVALIDATE_CANDIDATES:
		FUZZ_ASSERT(strlen(m->u.candidates.peer_id) == 36);
		for (i = 0; i < m->u.candidates.ncandidates; i++)
			FUZZ_ASSERT(strncmp(m->u.candidates.candidates[i],
			    "candidate:", 10) == 0);
		break;
	case PORTAL_MSG_DISCONNECT:
		FUZZ_ASSERT(memchr(m->u.disconnect.reason, '\0',
		    sizeof(m->u.disconnect.reason)) != NULL);
		break;
	case PORTAL_MSG_CREATE_AUTHZ:
		FUZZ_ASSERT(m->u.gw_authz.ref != NULL &&
		    m->u.gw_authz.ref[0] != '\0');
		FUZZ_ASSERT(m->u.gw_authz.expires_at > 0);
		FUZZ_ASSERT(m->u.gw_authz.client_ipv4.family == AF_INET);
		FUZZ_ASSERT(m->u.gw_authz.client_ipv6.family == AF_INET6);
		check_gw_filters(&m->u.gw_authz.resource);
		break;
	case PORTAL_MSG_RESOURCE_UPDATED:
		check_gw_filters(&m->u.resource);
		break;
	case PORTAL_MSG_REJECT_ACCESS:
		FUZZ_ASSERT(strlen(m->u.access.client_id) == 36 &&
		    strlen(m->u.access.resource_id) == 36);
		break;
	default:
		break;
	}
}

static void
decode(bool gw, const char *event, json_t *payload)
{
	struct portal_msg	 m;
	const char		*why = NULL;
	int			 rv;

	rv = gw ? portal_msg_decode_gateway(event, payload, &m, &why) :
	    portal_msg_decode(event, payload, &m, &why);
	if (rv == 1) {
		FUZZ_ASSERT(m.type != PORTAL_MSG_NONE);
		check_msg(&m);
	} else {
		FUZZ_ASSERT(m.type == PORTAL_MSG_NONE);
		FUZZ_ASSERT(rv == 0 || why != NULL);
	}
	portal_msg_free(&m);
}

static void
decode_all(const char *own, json_t *payload)
{
	size_t	 i;

	if (own != NULL) {
		decode(false, own, payload);
		decode(true, own, payload);
	}
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		decode(false, events[i], payload);
	for (i = 0; i < sizeof(gw_events) / sizeof(gw_events[0]); i++)
		decode(true, gw_events[i], payload);
}

static void
drain(struct phoenix_chan *c)
{
	struct phoenix_event	 ev;
	char			*f;
	json_t			*j;

	while ((f = phoenix_next_frame(c)) != NULL) {
		/* What we send is JSON the portal can read. */
		FUZZ_ASSERT((j = json_loads(f, 0, NULL)) != NULL);
		json_decref(j);
		free(f);
	}
	while (phoenix_next_event(c, &ev)) {
		FUZZ_ASSERT(ev.type > PHOENIX_EV_NONE &&
		    ev.type <= PHOENIX_EV_TOKEN_EXPIRED);
		if (ev.type == PHOENIX_EV_MESSAGE) {
			FUZZ_ASSERT(ev.name != NULL && ev.payload != NULL);
			decode_all(ev.name, ev.payload);
		}
		phoenix_event_clear(&ev);
	}
}

static void
join(struct phoenix_chan *c, uint64_t now)
{
	static const char	 reply[] = "{\"topic\":\"" TOPIC "\","
	    "\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\","
	    "\"response\":{}},\"ref\":0}";
	const char		*why;

	FUZZ_ASSERT(phoenix_open(c, now) == 0);
	FUZZ_ASSERT(phoenix_recv(c, now, reply, sizeof(reply) - 1, &why) ==
	    0);
	FUZZ_ASSERT(phoenix_state(c) == PHOENIX_JOINED);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() == -1)
		abort();
	/* As controld runs: every jansson free wipes first. */
	portal_msg_json_wipe();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phoenix_chan	*c;
	struct fuzz_in		 in = { data, size };
	struct fuzz_rec		 r;
	json_t			*j;
	const char		*why;
	char			*buf;
	uint64_t		 now = 1000 * SEC;
	int			 rv;

	if ((c = phoenix_new(TOPIC)) == NULL)
		abort();
	join(c, now);
	drain(c);
	while (fuzz_next(&in, &r)) {
		switch (r.op & 3) {
		case 0:
			/* An exact-size copy: ASan sees any overread. */
			if ((buf = malloc(r.len > 0 ? r.len : 1)) == NULL)
				abort();
			memcpy(buf, r.data, r.len);
			why = NULL;
			rv = phoenix_recv(c, now, buf, r.len, &why);
			FUZZ_ASSERT(rv == 0 || (rv == 1 && why != NULL));
			free(buf);
			break;
		case 1:
			now += (uint64_t)(fuzz_byte(&r, 0) << 8 |
			    fuzz_byte(&r, 1)) *
			    (r.op & 4 ? SEC : NSEC_PER_MSEC);
			FUZZ_ASSERT(phoenix_tick(c, now) == 0);
			break;
		case 2:
			if (!(r.op & 4))
				phoenix_close(c);
			FUZZ_ASSERT(phoenix_open(c, now) == 0);
			break;
		case 3:
			j = json_loadb((const char *)r.data, r.len,
			    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
			if (j != NULL) {
				decode_all(NULL, j);
				json_decref(j);
			}
			break;
		}
		drain(c);
	}
	phoenix_free(c);
	return (0);
}

/*
 * Error strings and the outer framing check used to route a datagram to
 * the right state machine before anything is authenticated.
 */

#include "tunneld/wg/wg.h"

const char *
wg_strerror(int error)
{
	switch (error) {
	case WG_OK:
		return ("success");
	case WG_ERR_LENGTH:
		return ("wrong message length");
	case WG_ERR_TYPE:
		return ("wrong message type");
	case WG_ERR_MAC1:
		return ("bad mac1");
	case WG_ERR_COOKIE_REQUIRED:
		return ("under load and no valid mac2");
	case WG_ERR_DECRYPT:
		return ("authentication tag mismatch");
	case WG_ERR_UNKNOWN_PEER:
		return ("unknown peer static key");
	case WG_ERR_UNKNOWN_INDEX:
		return ("unknown receiver index");
	case WG_ERR_TIMESTAMP:
		return ("replayed handshake timestamp");
	case WG_ERR_FLOOD:
		return ("handshake initiations too frequent");
	case WG_ERR_REPLAY:
		return ("replayed or too old counter");
	case WG_ERR_STATE:
		return ("message unexpected in this handshake state");
	case WG_ERR_KEY:
		return ("invalid public key");
	case WG_ERR_EXPIRED:
		return ("session expired");
	case WG_ERR_EXHAUSTED:
		return ("message counter exhausted");
	case WG_ERR_NOSPACE:
		return ("output buffer too small");
	case WG_ERR_NO_SESSION:
		return ("no usable session");
	case WG_ERR_CRYPTO:
		return ("cipher unavailable");
	}
	return ("unknown error");
}

/*
 * Returns the message type when the first four bytes are a known type with
 * zero reserved bytes and the length fits that type, else an error.  For
 * types that carry one, the receiver index is stored in *receiver.
 */
int
wg_message_classify(const uint8_t *msg, size_t len, uint32_t *receiver)
{
	uint32_t	 type;

	if (len < 4)
		return (WG_ERR_LENGTH);
	type = wg_get_le32(msg);
	switch (type) {
	case WG_MSG_INITIATION:
		if (len != WG_INITIATION_LEN)
			return (WG_ERR_LENGTH);
		*receiver = 0;
		break;
	case WG_MSG_RESPONSE:
		if (len != WG_RESPONSE_LEN)
			return (WG_ERR_LENGTH);
		*receiver = wg_get_le32(msg + 8);
		break;
	case WG_MSG_COOKIE_REPLY:
		if (len != WG_COOKIE_REPLY_LEN)
			return (WG_ERR_LENGTH);
		*receiver = wg_get_le32(msg + 4);
		break;
	case WG_MSG_TRANSPORT:
		if (len < WG_TRANSPORT_MIN_LEN)
			return (WG_ERR_LENGTH);
		*receiver = wg_get_le32(msg + 4);
		break;
	default:
		return (WG_ERR_TYPE);
	}
	return ((int)type);
}

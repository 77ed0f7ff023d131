#!/usr/bin/python3
# WebSocket server for tests/unit/check_ws.c, on Debian's python3-websockets.
#
#   ws_server.py SCENARIO CERTDIR|--plain
#
# Listens on 127.0.0.1 on a free port, with TLS from CERTDIR/cert.pem and
# CERTDIR/key.pem unless --plain, prints "PORT <n>", then one line per
# event the test checks ("CLOSE_RCVD <code>").  Exits when its parent does.

import asyncio
import base64
import hashlib
import http
import logging
import os
import ssl
import sys

# controld/ws.h WS_MAX_MESSAGE: the largest message the client takes.
MAX_MESSAGE = 32 << 20

import websockets

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def say(line):
    print(line, flush=True)


def report_close(ws):
    code = ws.close_rcvd.code if ws.close_rcvd is not None else "none"
    say("CLOSE_RCVD %s" % code)


async def echo(ws, path):
    try:
        async for msg in ws:
            if not isinstance(msg, str):
                await ws.send(msg)
            elif msg == "frag":
                await ws.send(["fr", "ag", "ment"])
            elif msg == "ping":
                pong = await ws.ping(b"are you there")
                await asyncio.wait_for(pong, 5)
                await ws.send("pong received")
            elif msg == "binary":
                await ws.send(b"\x00\x01\x02")
                await ws.send("after binary")
            elif msg == "max":
                await ws.send("m" * MAX_MESSAGE)
            elif msg == "toobig":
                await ws.send("t" * (MAX_MESSAGE + 1))
            elif msg == "toobig-frag":
                await ws.send(["a" * (MAX_MESSAGE // 2 + 1),
                               "b" * (MAX_MESSAGE // 2 + 1)])
            elif msg == "badutf8":
                await ws.write_frame(True, 0x1, b"ok\xff\xfe")
            elif msg == "drop":
                ws.transport.abort()
                return
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    report_close(ws)


async def close4000(ws, path):
    await ws.send("hello")
    await ws.close(4000, "bye now")
    report_close(ws)


async def headers(ws, path):
    h = ws.request_headers
    await ws.send("path=" + path)
    await ws.send("host=" + "|".join(h.get_all("Host")))
    await ws.send("ua=" + "|".join(h.get_all("User-Agent")))
    await ws.send("xauth=" + "|".join(h.get_all("X-Authorization")))
    await ws.wait_closed()


async def refuse401(path, request_headers):
    return (http.HTTPStatus.UNAUTHORIZED,
            [("Content-Type", "application/json")],
            b'{"error":{"reason":"invalid_token"}}')


async def refuse503(path, request_headers):
    return (http.HTTPStatus.SERVICE_UNAVAILABLE, [("Retry-After", "2")],
            b"try again later\n")


async def stall(path, request_headers):
    await asyncio.sleep(60)


def frame(text):
    data = text.encode()
    assert len(data) < 126
    return bytes([0x81, len(data)]) + data


async def raw(reader, writer, scenario):
    """A hand-made upgrade answer, for what websockets will not send."""
    head = await reader.readuntil(b"\r\n\r\n")
    key = b""
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    if scenario == "badaccept":
        accept = base64.b64encode(hashlib.sha1(key).digest())
    resp = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
            b"\r\n\r\n")
    if scenario == "eager":
        # Frames in the same write as the 101: they arrive together.
        resp += frame("early") + frame("second")
    elif scenario == "http204":
        # No body, no length, and the connection stays open.
        resp = b"HTTP/1.1 204 No Content\r\n\r\n"
    elif scenario == "chunked401":
        # A proxy's way of saying 401; the connection stays open.
        resp = (b"HTTP/1.1 401 Unauthorized\r\nContent-Type: "
                b"application/problem+json\r\nTransfer-Encoding: chunked"
                b"\r\n\r\n11\r\n{\"code\":\"invalid_\r\n"
                b"8;ext=1\r\ntoken\"}\n\r\n0\r\n\r\n")
    writer.write(resp)
    await writer.drain()
    await reader.read()
    writer.close()


async def main():
    scenario, certs = sys.argv[1], sys.argv[2]
    ctx = None
    if certs != "--plain":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs, "cert.pem"),
                            os.path.join(certs, "key.pem"))
    # The client's ws_close() does not wait for the server's close frame.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    if scenario in ("badaccept", "eager", "chunked401", "http204"):
        server = await asyncio.start_server(
            lambda r, w: raw(r, w, scenario), "127.0.0.1", 0, ssl=ctx)
    else:
        handler = {"close": close4000, "headers": headers}.get(scenario,
                                                               echo)
        process = {"http401": refuse401, "http503": refuse503,
                   "slow": stall}.get(scenario)
        server = await websockets.serve(handler, "127.0.0.1", 0, ssl=ctx,
                                        process_request=process,
                                        max_size=None, compression=None)
    say("PORT %d" % server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


asyncio.run(main())

#!/usr/bin/env python3
"""Reference "classic" chat client for interoperability tests.

Follows the classic Python `select` chat tutorial wire format: every frame is a
10-byte ASCII header (payload length in decimal, left-justified, space-padded)
followed by the UTF-8 payload. Sends the username frame, then one frame per
stdin line; prints each relayed [username][message] pair as "USERNAME > MESSAGE".

Usage: python3 classic_client.py --host 127.0.0.1 --port PORT --user NAME [--raw]
"""
import argparse
import codecs
import os
import socket
import sys
import threading

HEADER_LENGTH = 10
stopping = threading.Event()  # set once stdin hit EOF, so our own shutdown is not an error


def encode_frame(payload: bytes) -> bytes:
    return f"{len(payload):<{HEADER_LENGTH}}".encode("ascii") + payload


def iter_frames(buf: bytearray):
    """Yield complete frames, consuming them from buf; ValueError on a bad header."""
    while len(buf) >= HEADER_LENGTH:
        length = int(bytes(buf[:HEADER_LENGTH]).decode("ascii").strip())
        if length < 0:
            raise ValueError(f"negative length {length}")
        if len(buf) < HEADER_LENGTH + length:
            return
        frame = bytes(buf[HEADER_LENGTH:HEADER_LENGTH + length])
        del buf[:HEADER_LENGTH + length]
        yield frame


def finish(code):
    # os._exit, because a daemon thread blocked reading stdin can make normal
    # interpreter shutdown abort; flush by hand since _exit skips it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fail(reason):
    print(f"Connection error: {reason}", file=sys.stderr, flush=True)
    finish(1)


def stdin_loop(sock, raw):
    # Read bytes, not text: the payload goes out exactly as given, whatever the locale.
    for line in iter(sys.stdin.buffer.readline, b""):
        if line.endswith(b"\n"):
            line = line[:-1]
        if not line:
            continue
        data = codecs.escape_decode(line)[0] if raw else encode_frame(line)
        try:
            sock.sendall(data)
        except OSError as e:
            fail(e)
    stopping.set()
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the server may already be gone; we are leaving anyway
    finish(0)


def main():
    ap = argparse.ArgumentParser(description="Classic 10-byte-header chat client")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--raw", action="store_true",
                    help="send each stdin line as escaped raw bytes, with no header")
    args = ap.parse_args()
    # Test harnesses may run under a non-UTF-8 locale; never die printing a message.
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")

    try:
        sock = socket.create_connection((args.host, args.port))
        sock.sendall(encode_frame(args.user.encode("utf-8")))
    except OSError as e:
        fail(e)

    threading.Thread(target=stdin_loop, args=(sock, args.raw), daemon=True).start()

    buf = bytearray()
    sender = None  # username frame waiting for its message frame
    try:
        while True:
            try:
                data = sock.recv(4096)
            except OSError as e:
                if stopping.is_set():
                    finish(0)
                fail(e)
            if not data:
                if stopping.is_set():
                    finish(0)
                print("Connection closed by the server", flush=True)
                finish(0)
            buf += data
            try:
                for frame in iter_frames(buf):
                    if sender is None:
                        sender = frame
                        continue
                    print(f"{sender.decode('utf-8', 'replace')} > "
                          f"{frame.decode('utf-8', 'replace')}", flush=True)
                    sender = None
            except ValueError as e:
                fail(f"invalid header from server ({e})")
    except KeyboardInterrupt:
        finish(0)


if __name__ == "__main__":
    main()

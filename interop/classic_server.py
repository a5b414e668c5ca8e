#!/usr/bin/env python3
"""Reference "classic" chat server for interoperability tests.

Follows the classic Python `select` chat tutorial wire format: every frame is a
10-byte ASCII header (payload length in decimal, left-justified, space-padded)
followed by the UTF-8 payload. A client's first frame is its username; each later
frame is a message, relayed to every other named client as [username][message].

Usage: python3 classic_server.py [--host 127.0.0.1] [--port 0]
"""
import argparse
import select
import signal
import socket
import sys

HEADER_LENGTH = 10


class Shutdown(Exception):
    """Raised from the signal handler so select() is interrupted, not retried."""


class Client:
    def __init__(self, addr):
        self.addr = f"{addr[0]}:{addr[1]}"
        self.name = None          # bytes once the first frame has arrived
        self.inbuf = bytearray()  # bytes received but not yet forming a whole frame
        self.outbuf = bytearray() # bytes queued so a slow reader never blocks the loop

    def label(self):
        # A client may vanish before naming itself; fall back to its address.
        return self.addr if self.name is None else self.name.decode("utf-8", "replace")


def encode_frame(payload: bytes) -> bytes:
    return f"{len(payload):<{HEADER_LENGTH}}".encode("ascii") + payload


def iter_frames(buf: bytearray):
    """Yield complete frames, consuming them from buf; ValueError on a bad header.

    A generator, so frames before a bad header are still delivered."""
    while len(buf) >= HEADER_LENGTH:
        # Same parsing as the tutorial; UnicodeDecodeError is a ValueError too.
        length = int(bytes(buf[:HEADER_LENGTH]).decode("ascii").strip())
        if length < 0:
            raise ValueError(f"negative length {length}")
        if len(buf) < HEADER_LENGTH + length:
            return
        frame = bytes(buf[HEADER_LENGTH:HEADER_LENGTH + length])
        del buf[:HEADER_LENGTH + length]
        yield frame


def main():
    ap = argparse.ArgumentParser(description="Classic 10-byte-header chat server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    # Test harnesses may run under a non-UTF-8 locale; never die printing a name.
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")

    def on_signal(signum, frame):
        raise Shutdown()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    server.listen()
    host, port = server.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)

    clients = {}  # socket -> Client

    def drop(sock, reason=None):
        client = clients.pop(sock, None)
        if client is None:
            return
        if reason:
            print(f"dropping {client.label()}: {reason}", file=sys.stderr, flush=True)
        print(f"closed connection from {client.label()}", flush=True)
        sock.close()

    def handle_read(sock):
        client = clients[sock]
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return
        except OSError as e:
            return drop(sock, str(e))
        if not data:
            return drop(sock)
        client.inbuf += data
        try:
            for frame in iter_frames(client.inbuf):
                if client.name is None:
                    client.name = frame
                    print(f"accepted connection from {client.addr}, "
                          f"username: {client.label()}", flush=True)
                    continue
                packet = encode_frame(client.name) + encode_frame(frame)
                for other_sock, other in clients.items():
                    if other_sock is not sock and other.name is not None:
                        other.outbuf += packet
        except ValueError as e:
            drop(sock, f"invalid header ({e})")

    def handle_write(sock):
        client = clients[sock]
        try:
            sent = sock.send(client.outbuf)
            del client.outbuf[:sent]
        except BlockingIOError:
            pass
        except OSError as e:
            drop(sock, str(e))

    try:
        while True:
            writers = [s for s, c in clients.items() if c.outbuf]
            readable, writable, errored = select.select(
                [server, *clients], writers, list(clients))
            for sock in readable:
                if sock is server:
                    try:
                        conn, addr = server.accept()
                    except OSError:
                        continue  # e.g. peer reset before accept; not fatal
                    conn.setblocking(False)
                    clients[conn] = Client(addr)
                elif sock in clients:  # may have been dropped earlier this round
                    handle_read(sock)
            for sock in writable:
                if sock in clients:
                    handle_write(sock)
            for sock in errored:
                drop(sock, "socket error")
    except Shutdown:
        pass
    finally:
        for sock in list(clients):
            sock.close()
        server.close()
    sys.exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PollChat rich-mode client, written from PROTOCOL.md alone (standard library only).

An independent check that the specification is complete. It speaks the classic
frame format, asks for rich mode only when the server's first pair offers it,
and keeps its own user list from the events.

Usage: python3 -u rich_client.py --host HOST --port PORT --user NAME

Output, one line each, flushed:
  MSG <sender> > <text>      every ordinary pair (notices, chat, classic pairs)
  CLASSIC                    the first pair carried no rich-mode offer
  EVENT <type> <json>        every *event* pair once rich mode was asked for
  RICH ON                    the hello event arrived
  LIST room=.. members=.. online=.. tracked=..   after each event touching the user list
  BADEVENT                   an *event* text that is not a JSON object with a type
  CLOSED                     the server closed the connection (exit 0)
  ERROR <why>                a bad frame header from the server (exit 3)
"""
import argparse
import json
import os
import re
import socket
import sys
import threading
import unicodedata

HEADER_LEN = 10
MAX_PAYLOAD = 1024 * 1024  # PROTOCOL.md: never longer than 1 MiB plus its header
HEADER_RE = re.compile(rb"(0|[1-9][0-9]{0,9}) *")
SERVER = "*server*"
EVENT = "*event*"
OFFER = "[rich mode 1: /rich 1]"
RICH_REQUEST = "/rich 1"
LIST_EVENTS = {"users", "online", "offline", "entered", "left", "renamed", "room", "tracking"}

out_lock = threading.RLock()  # one line at a time; exiting holds it so nothing follows
send_lock = threading.Lock()  # stdin thread and reader thread both send


class BadHeader(Exception):
    pass


def frame(text: str) -> bytes:
    payload = text.encode("utf-8")
    return str(len(payload)).ljust(HEADER_LEN).encode("ascii") + payload


def clean(text: str) -> str:
    """Neutralise control characters (all of Unicode category Cc except tab)."""
    return "".join("?" if ch != "\t" and unicodedata.category(ch) == "Cc" else ch
                   for ch in text)


def emit(line: str) -> None:
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def leave(code: int, line: str = None) -> None:
    """Print an optional last line and exit at once; holds the output lock for good."""
    out_lock.acquire()
    if line is not None:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # a daemon thread may be blocked reading stdin


class FrameReader:
    """Accumulates bytes and yields complete payloads; checks each header on arrival."""

    def __init__(self):
        self.buf = bytearray()
        self.need = None  # payload length of the frame being read, once its header is in

    def feed(self, data: bytes):
        self.buf += data
        while True:
            if self.need is None:
                if len(self.buf) < HEADER_LEN:
                    return
                header = bytes(self.buf[:HEADER_LEN])
                if not HEADER_RE.fullmatch(header):
                    raise BadHeader(f"header not in the classic form: {header!r}")
                length = int(header)
                if length > MAX_PAYLOAD:
                    raise BadHeader(f"frame declares {length} bytes, more than 1 MiB")
                del self.buf[:HEADER_LEN]
                self.need = length
            if len(self.buf) < self.need:
                return
            payload = bytes(self.buf[:self.need])
            del self.buf[:self.need]
            self.need = None
            yield payload


class UserList:
    def __init__(self):
        self.room = ""
        self.members = []
        self.online = []
        self.tracked = False

    @staticmethod
    def _names(value):
        if not isinstance(value, list):
            return None
        return [n for n in value if isinstance(n, str)]

    @staticmethod
    def _add(names, name):
        if isinstance(name, str) and name not in names:
            names.append(name)

    @staticmethod
    def _remove(names, name):
        while name in names:
            names.remove(name)

    def _in_my_room(self, ev):
        room = ev.get("room")
        return not isinstance(room, str) or room == self.room

    def apply(self, kind, ev):
        if kind == "users":
            if isinstance(ev.get("room"), str):
                self.room = ev["room"]
            members = self._names(ev.get("members"))
            if members is not None:
                self.members = members
            online = self._names(ev.get("online"))
            if online is not None:
                self.online = online
            if isinstance(ev.get("tracked"), bool):
                self.tracked = ev["tracked"]
        elif kind == "online":
            self._add(self.online, ev.get("name"))
        elif kind == "offline":
            self._remove(self.online, ev.get("name"))
            self._remove(self.members, ev.get("name"))
        elif kind == "entered":
            if self._in_my_room(ev):
                self._add(self.members, ev.get("name"))
        elif kind == "left":
            if self._in_my_room(ev):
                self._remove(self.members, ev.get("name"))
        elif kind == "renamed":
            old, new = ev.get("old"), ev.get("name")
            if isinstance(old, str) and isinstance(new, str):
                for names in (self.members, self.online):
                    if old in names:
                        self._remove(names, old)
                        self._add(names, new)
        elif kind == "room":
            if isinstance(ev.get("room"), str):
                self.room = ev["room"]
            members = self._names(ev.get("members"))
            if members is not None:
                self.members = members
        elif kind == "tracking":
            if isinstance(ev.get("tracked"), bool):
                self.tracked = ev["tracked"]

    def line(self):
        def joined(names):
            return ",".join(clean(n) for n in sorted(names, key=lambda n: (n.casefold(), n)))
        return (f"LIST room={clean(self.room)} members={joined(self.members)} "
                f"online={joined(self.online)} tracked={'true' if self.tracked else 'false'}")


class Session:
    def __init__(self, sock):
        self.sock = sock
        self.first_pair = True
        self.rich_asked = False
        self.users = UserList()

    def send(self, text: str) -> None:
        with send_lock:
            self.sock.sendall(frame(text))

    def on_pair(self, sender: str, text: str) -> None:
        if self.first_pair:
            self.first_pair = False
            emit(f"MSG {clean(sender)} > {clean(text)}")
            if sender == SERVER and text.endswith(OFFER):
                self.rich_asked = True  # from now on *event* pairs are events
                self.send(RICH_REQUEST)
            else:
                emit("CLASSIC")
            return
        if self.rich_asked and sender == EVENT:
            self.on_event(text)
        else:
            emit(f"MSG {clean(sender)} > {clean(text)}")

    def on_event(self, text: str) -> None:
        try:
            ev = json.loads(text)
        except ValueError:
            emit("BADEVENT")
            return
        if not isinstance(ev, dict) or not isinstance(ev.get("type"), str):
            emit("BADEVENT")
            return
        kind = ev["type"]
        emit(f"EVENT {clean(kind)} {clean(text)}")
        if kind == "hello":
            emit("RICH ON")
        elif kind in LIST_EVENTS:
            self.users.apply(kind, ev)
            emit(self.users.line())


def stdin_loop(session: Session) -> None:
    try:
        for raw in iter(sys.stdin.buffer.readline, b""):
            if raw.endswith(b"\n"):
                raw = raw[:-1]
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
            try:
                session.send(raw.decode("utf-8", "replace"))
            except OSError:
                break  # the reader will report the closed connection
        else:
            # End of input: close the connection and leave. Holding the output lock
            # keeps the reader from printing CLOSED for the close we caused.
            out_lock.acquire()
            try:
                session.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            try:
                session.sock.close()
            except OSError:
                pass
            leave(0)
    except Exception as e:  # never leave the process hanging on a broken stdin
        leave(1, f"ERROR stdin: {e}")


def main() -> None:
    ap = argparse.ArgumentParser(description="PollChat rich-mode client (from PROTOCOL.md)")
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    args = ap.parse_args()
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")

    try:
        sock = socket.create_connection((args.host, args.port))
        sock.sendall(frame(args.user))
    except OSError as e:
        print(f"Connection error: {e}", file=sys.stderr, flush=True)
        leave(1)

    session = Session(sock)
    threading.Thread(target=stdin_loop, args=(session,), daemon=True).start()

    reader = FrameReader()
    sender = None
    try:
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""  # reset or closed under us: the connection is gone
            if not data:
                leave(0, "CLOSED")
            try:
                for payload in reader.feed(data):
                    text = payload.decode("utf-8", "replace")
                    if sender is None:
                        sender = text
                    else:
                        pair_sender, sender = sender, None
                        try:
                            session.on_pair(pair_sender, text)
                        except OSError:
                            leave(0, "CLOSED")  # sending /rich 1 failed: server gone
            except BadHeader as e:
                try:
                    sock.close()
                except OSError:
                    pass
                leave(3, f"ERROR {e}")
    except KeyboardInterrupt:
        leave(0)


if __name__ == "__main__":
    main()

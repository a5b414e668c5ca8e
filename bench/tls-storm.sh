#!/usr/bin/env bash
# A TLS handshake storm from outside the server's process, with and without the handshake bound,
# while a plain-socket prober times chat round trips. Prints one line per run; bounded in time.
# Usage: bash bench/tls-storm.sh [--rounds N] [--storms S] [--seconds T]
# The server logs at Info (a line per closed connection) so that its counters line can be read.
# Needs openssl (s_time makes the handshakes) and python3 (the prober). Targets 127.0.0.1 only.
set -euo pipefail
rounds=2; storms=6; seconds=10
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --storms) storms=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
dotnet build "$root/PollServer" -c Release -v q -nologo >/dev/null
bin="$root/PollServer/bin/Release/net10.0/PollServer"
work=$(mktemp -d)
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The prober: alice sends a numbered line every 50 ms, bob's socket is read until that line comes
# back; each round trip is timed. It stops by itself after the given seconds.
cat > "$work/probe.py" <<'PY'
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
def frame(b): return f"{len(b):<10}".encode() + b
class Reader:
    def __init__(self, s): self.s, self.buf = s, bytearray()
    def next(self, deadline):
        while True:
            if len(self.buf) >= 10:
                n = int(self.buf[:10].decode().strip())
                if len(self.buf) >= 10 + n:
                    payload = bytes(self.buf[10:10 + n]); del self.buf[:10 + n]; return payload
            left = deadline - time.monotonic()
            if left <= 0: raise TimeoutError
            self.s.settimeout(left)
            chunk = self.s.recv(65536)
            if not chunk: raise EOFError
            self.buf += chunk
def join(name):
    s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(frame(name.encode())); return s
a, b = join("prober_a"), join("prober_b")
rb = Reader(b)
# Let the welcome and join notices pass.
end = time.monotonic() + 1.0
try:
    while True: rb.next(end)
except TimeoutError: pass
rtts, lost, i = [], 0, 0
stop = time.monotonic() + seconds
while time.monotonic() < stop:
    tag = f"probe {i}".encode(); i += 1
    t = time.perf_counter(); a.sendall(frame(tag))
    try:
        while rb.next(time.monotonic() + 5) != tag: pass
        rtts.append((time.perf_counter() - t) * 1000)
    except TimeoutError:
        lost += 1
    time.sleep(0.05)
rtts.sort()
q = lambda p: rtts[min(len(rtts) - 1, int(len(rtts) * p))]
print(f"round trips {len(rtts)} (lost {lost}) p50 {q(0.5):.2f} ms p90 {q(0.9):.2f} ms p99 {q(0.99):.2f} ms max {rtts[-1]:.2f} ms")
PY

run() {
  local bound=$1 storm=$2
  local port tls
  port=$(free_port); tls=$(free_port)
  "$bin" --host 127.0.0.1 --port "$port" --tls-port "$tls" --data-dir "$work/data" --log-level Info \
    --max-per-address 0 --connects-per-minute 0 --message-rate 0 --tls-handshakes-per-iteration "$bound" \
    > "$work/server.log" 2>&1 < /dev/null &
  spid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$tls") 2>/dev/null && break; sleep 0.1
  done
  python3 "$work/probe.py" "$port" $((seconds + 2)) > "$work/probe.out" &
  local ppid=$! pids=()
  sleep 1.5
  if [ "$storm" -gt 0 ]; then
    for k in $(seq "$storm"); do
      openssl s_time -connect "127.0.0.1:$tls" -new -time "$seconds" > "$work/st$k" 2>&1 & pids+=($!)
    done
    wait "${pids[@]}" || true
  fi
  wait "$ppid"
  local made=0
  [ "$storm" -gt 0 ] && made=$(grep -hoE "^[0-9]+ connections in" "$work"/st* | awk '{c += $1} END {print c + 0}')
  kill -USR1 "$spid"; sleep 0.5
  local stats
  stats=$(grep -oE "tls_handshakes=[0-9]+ tls_handshake_ms=[0-9.]+ tls_handshakes_deferred=[0-9]+" "$work/server.log" | tail -1 || true)
  kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""
  rm -f "$work"/st*
  printf 'bound %-2s storm %s x s_time: %5s handshakes/s; chat %s; %s\n' "$bound" "$storm" \
    "$(( made / seconds ))" "$(cat "$work/probe.out")" "$stats"
}

for r in $(seq "$rounds"); do
  echo "round $r"
  run 2 0
  run 0 "$storms"
  run 2 "$storms"
done

#!/usr/bin/env bash
# Compares PollServer with redis-server (pub/sub) and ngIRCd (one channel) under the same
# PollBench shapes, each run against a fresh server on a free loopback port, and prints one
# table (also written, with the raw RESULT lines, to bench/results/latest.txt).
#
#   bash bench/compare.sh [--quick] [--only classic|redis|irc] [--irc-nodelay]
#
#   --quick        smoke test: C=10 and C=100 for 2 s, fixed rate for 2 s, 1000 idle clients
#   --only         run one server only (classic is PollServer)
#   --irc-nodelay  give ngIRCd's client sockets TCP_NODELAY, as PollServer and redis-server set
#                  on theirs (ngIRCd does not, so by default its small writes wait on Nagle)
#
# Installs redis-server and ngircd with apt-get when missing (nothing is auto-started), builds
# Release, and stops every process it started, by PID, when it exits.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

quick=0
only=""
irc_nodelay=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only)
      [ $# -ge 2 ] || { echo "compare.sh: --only needs classic, redis or irc" >&2; exit 2; }
      only=$2
      shift
      ;;
    --only=*) only=${1#--only=} ;;
    --irc-nodelay) irc_nodelay=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (--quick, --only classic|redis|irc, --irc-nodelay)" >&2; exit 2 ;;
  esac
  shift
done
case "$only" in
  ""|classic|redis|irc) ;;
  *) echo "compare.sh: --only takes classic, redis or irc, not '$only'" >&2; exit 2 ;;
esac

servers=()
for s in classic redis irc; do
  if [ -z "$only" ] || [ "$only" = "$s" ]; then servers+=("$s"); fi
done

# Shapes: id|clients|senders|seconds|extra PollBench options|label. Payload is 64 B throughout.
if [ "$quick" -eq 1 ]; then
  shapes=(
    "a|10|10|2||C=10 max 2s"
    "b|100|10|2||C=100 max 2s"
    "d|100|10|2|--rate 2000|C=100 2000/s 2s"
    "e|1000|1|0|--idle|C=1000 idle"
  )
  idle_deadline=120
else
  shapes=(
    "a|10|10|5||C=10 max 5s"
    "b|100|10|5||C=100 max 5s"
    "c|1000|10|5||C=1000 max 5s"
    "d|100|10|10|--rate 2000|C=100 2000/s 10s"
    "e|10000|1|0|--idle|C=10000 idle"
  )
  idle_deadline=240
fi
# Beyond the sending time: connecting, the 15 s drain PollBench allows, and starting up.
run_slack=90

work=$(mktemp -d /tmp/pollbench-compare.XXXXXX)
# Processes started here and not yet reaped: only these are ever signalled (a reaped PID may be reused).
declare -A started
policy_backup=""
policy_written=0

log() { printf '%s\n' "$*" >&2; }

# Direct children of a process, from /proc (every thread's list: .NET starts children from any thread).
children_of() {
  cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true
}

alive() { kill -0 "$1" 2>/dev/null; }

# Stops one process and its direct children (PollServer under PollBench), TERM first, then KILL.
stop_pid() {
  local pid=$1 kids k
  alive "$pid" || return 0
  mapfile -t kids < <(children_of "$pid")
  kill -TERM "$pid" "${kids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.1
  done
  for k in "$pid" "${kids[@]}"; do
    if alive "$k"; then kill -KILL "$k" 2>/dev/null || true; fi
  done
  wait "$pid" 2>/dev/null || true
  unset "started[$pid]"
}

restore_policy() {
  if [ "$policy_written" -eq 1 ]; then
    if [ -n "$policy_backup" ]; then
      mv -f "$policy_backup" /usr/sbin/policy-rc.d
    else
      rm -f /usr/sbin/policy-rc.d
    fi
    policy_written=0
  fi
}

cleanup() {
  local pid
  for pid in "${!started[@]}"; do stop_pid "$pid"; done
  restore_policy
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PIDs of running processes whose command name is $1, from /proc.
pids_named() {
  local f name
  for f in /proc/[0-9]*/comm; do
    name=$(cat "$f" 2>/dev/null) || continue
    if [ "$name" = "$1" ]; then f=${f#/proc/}; echo "${f%/comm}"; fi
  done
}

# --- 1. Install what is missing, with nothing auto-started --------------------------------
need=()
for s in "${servers[@]}"; do
  case "$s" in
    redis) command -v redis-server >/dev/null 2>&1 || need+=(redis-server) ;;
    irc)
      command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || need+=(ngircd)
      command -v python3 >/dev/null 2>&1 || need+=(python3) # hands ngIRCd its listening socket, below
      ;;
  esac
done
if [ "${#need[@]}" -gt 0 ]; then
  log "Installing ${need[*]} ..."
  before_redis=$(pids_named redis-server | tr '\n' ' ')
  before_irc=$(pids_named ngircd | tr '\n' ' ')
  # policy-rc.d answering 101 tells the packages' maintainer scripts not to start services.
  if [ -e /usr/sbin/policy-rc.d ]; then
    policy_backup="$work/policy-rc.d.saved"
    cp -p /usr/sbin/policy-rc.d "$policy_backup"
  fi
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  policy_written=1
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" > "$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; exit 1; }
  restore_policy
  # Should anything have started all the same, stop only what was not running before.
  for pid in $(pids_named redis-server) $(pids_named ngircd); do
    case " $before_redis $before_irc " in
      *" $pid "*) ;;
      *) log "Stopping service process $pid started by the install"; kill -TERM "$pid" 2>/dev/null || true ;;
    esac
  done
  for unit in redis-server ngircd; do
    systemctl disable --quiet "$unit" >/dev/null 2>&1 || true
  done
fi
ngircd_bin=$(command -v ngircd 2>/dev/null || echo /usr/sbin/ngircd)

# --- 2. Build -----------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log "Building Release ..."
dotnet build -c Release PollServer/PollServer.csproj -nologo -v quiet > "$work/build-server.log" 2>&1 \
  || { cat "$work/build-server.log" >&2; exit 1; }
dotnet build -c Release PollBench/PollBench.csproj -nologo -v quiet > "$work/build-bench.log" 2>&1 \
  || { cat "$work/build-bench.log" >&2; exit 1; }
bench="$root/PollBench/bin/Release/net10.0/PollBench"
pollserver="$root/PollServer/bin/Release/net10.0/PollServer"
if [ ! -x "$bench" ] || [ ! -x "$pollserver" ]; then
  log "compare.sh: build outputs missing ($bench, $pollserver)"
  exit 1
fi

# --- 3. Runs ------------------------------------------------------------------------------
# ngIRCd listens with a backlog of 10, compiled in: with PollBench opening 64 connections at
# a time, SYNs are dropped and retried after 1, 3, 7... s, and some connections are reset.
# So ngIRCd gets its listening socket the systemd way (LISTEN_FDS, fd 3, which it supports),
# made here with a backlog of 512 like PollServer's (redis: 511); exec keeps the PID.
# Accepted sockets inherit TCP_NODELAY from it, which is how --irc-nodelay reaches them.
activate_py='
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sys.argv[2] == "1":
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(512)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
else:
    os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execvp(sys.argv[3], sys.argv[3:])
'

# Below Linux's ephemeral range (32768 up), where nothing listens (a refused connect); a race
# with another program is caught when the server fails to start, and another port is tried.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

# Waits until the server $1 listens on port $2 (10 s at most); false if it exited or never listened.
wait_listening() {
  local pid=$1 port=$2
  for _ in $(seq 1 100); do
    alive "$pid" || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Starts a fresh server for one run; sets server_pid and server_port. $1: redis or irc, $2: run name.
start_server() {
  local kind=$1 name=$2 port pid
  for _ in 1 2 3; do
    port=$(free_port) || return 1
    case "$kind" in
      redis)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
          --maxclients 20000 --protected-mode yes --client-output-buffer-limit "pubsub 0 0 0" \
          --dir "$work" > "$work/$name.server.log" 2>&1 &
        pid=$!
        ;;
      irc)
        mkdir -p "$work/ngircd.d"
        sed -e "s/@PORT@/$port/" -e "s#@INCLUDEDIR@#$work/ngircd.d#" "$root/bench/ngircd.conf.template" > "$work/$name.ngircd.conf"
        python3 -c "$activate_py" "$port" "$irc_nodelay" "$ngircd_bin" -n -f "$work/$name.ngircd.conf" > "$work/$name.server.log" 2>&1 &
        pid=$!
        ;;
    esac
    started[$pid]=1
    if wait_listening "$pid" "$port"; then
      server_pid=$pid
      server_port=$port
      return 0
    fi
    stop_pid "$pid"
  done
  return 1
}

# Runs a command in the background, stopping it (and its children) after $1 seconds; sets run_rc (124: timed out).
run_with_deadline() {
  local limit=$1 out=$2 pid deadline
  shift 2
  "$@" > "$out" 2>&1 &
  pid=$!
  started[$pid]=1
  deadline=$((SECONDS + limit))
  while alive "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "compare.sh: stopped after ${limit} s" >> "$out"
      stop_pid "$pid"
      run_rc=124
      return 0
    fi
    sleep 0.2
  done
  run_rc=0
  wait "$pid" || run_rc=$?
  unset "started[$pid]"
}

declare -A result status reason
total=$(( ${#servers[@]} * ${#shapes[@]} ))
n=0
for shape in "${shapes[@]}"; do
  IFS='|' read -r id clients senders seconds extra label <<< "$shape"
  for s in "${servers[@]}"; do
    n=$((n + 1))
    name="$s-$id"
    args=(--clients "$clients" --senders "$senders" --payload 64)
    if [ "$seconds" -gt 0 ]; then args+=(--duration "$seconds"); fi
    if [ -n "$extra" ]; then read -r -a more <<< "$extra"; args+=("${more[@]}"); fi
    if [ "$extra" = "--idle" ]; then limit=$idle_deadline; else limit=$((seconds + run_slack)); fi
    start=$SECONDS
    run_rc=0
    server_pid=""
    case "$s" in
      classic)
        run_with_deadline "$limit" "$work/$name.out" "$bench" --server classic --spawn-server "$pollserver" "${args[@]}"
        ;;
      redis|irc)
        if start_server "$s" "$name"; then
          run_with_deadline "$limit" "$work/$name.out" "$bench" --server "$s" --port "$server_port" --server-pid "$server_pid" "${args[@]}"
        else
          echo "compare.sh: the $s server did not start (see its log below)" > "$work/$name.out"
          tail -5 "$work/$name.server.log" >> "$work/$name.out" 2>/dev/null || true
          run_rc=125
        fi
        ;;
    esac
    if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi

    line=$(grep -m1 '^RESULT ' "$work/$name.out" || true)
    result[$name]=$line
    if [ -n "$line" ] && [ "$run_rc" -eq 0 ] && [[ " $line " == *" ok=1 "* ]]; then
      status[$name]=ok
      reason[$name]=""
    else
      status[$name]=FAILED
      if [ "$run_rc" -eq 124 ]; then
        reason[$name]="timed out after ${limit} s"
        if [ "$s" = irc ]; then
          reason[$name]+=", $(grep -c 'User ".*" registered' "$work/$name.server.log" || true) of $clients clients registered"
        fi
      elif [ -n "$line" ]; then
        reason[$name]=$(grep -m1 'check:' "$work/$name.out" | sed 's/^ *check: *//' || true)
      else
        reason[$name]="exit $run_rc: $(grep -m1 -E 'Exception|compare.sh:' "$work/$name.out" | sed 's/^ *//' | cut -c1-160 || true)"
      fi
    fi
    log "[$n/$total] $s $label: ${status[$name]} in $((SECONDS - start)) s${reason[$name]:+ (${reason[$name]})}"
  done
done

# --- 4. Table -----------------------------------------------------------------------------
field() { # field KEY LINE
  local v
  v=$(sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2 ")
  echo "${v:-}"
}

# The figure the table shows for a shape, and the one its ratios divide.
cell() { # cell SHAPE_ID RUN_NAME
  local line=${result[$2]:-}
  if [ -z "$line" ]; then
    if [[ "${reason[$2]:-}" == "timed out"* ]]; then echo "timeout FAILED"; else echo "no result FAILED"; fi
    return
  fi
  local st=${status[$2]}
  case "$1" in
    d) echo "$(field p50_us "$line")/$(field p99_us "$line") $st" ;;
    e) echo "$(field rss_per_conn_bytes "$line") $st" ;;
    *) echo "$(field deliveries_per_s "$line") $st" ;;
  esac
}
ratio_value() { # ratio_value SHAPE_ID RUN_NAME
  local line=${result[$2]:-}
  [ -n "$line" ] && [ "${status[$2]}" = ok ] || return 0
  case "$1" in
    d) field p99_us "$line" ;;
    e) field rss_per_conn_bytes "$line" ;;
    *) field deliveries_per_s "$line" ;;
  esac
}
ratio() { # ratio SHAPE_ID NUMERATOR_RUN DENOMINATOR_RUN
  local a b
  a=$(ratio_value "$1" "$2")
  b=$(ratio_value "$1" "$3")
  if [ -z "$a" ] || [ -z "$b" ]; then echo "n/a"; return; fi
  awk -v a="$a" -v b="$b" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'
}

declare -A title=([classic]=PollServer [redis]=redis-server [irc]=ngIRCd)
table=$(
  printf '%-20s %-14s' "shape" "figure"
  for s in "${servers[@]}"; do printf ' | %-20s' "${title[$s]}"; done
  [[ " ${servers[*]} " == *" classic "* && " ${servers[*]} " == *" redis "* ]] && printf ' | %-9s' "PS/Redis"
  [[ " ${servers[*]} " == *" classic "* && " ${servers[*]} " == *" irc "* ]] && printf ' | %-9s' "PS/IRC"
  printf '\n'
  for shape in "${shapes[@]}"; do
    IFS='|' read -r id clients senders seconds extra label <<< "$shape"
    case "$id" in
      d) figure="p50/p99 us" ;;
      e) figure="RSS B/conn" ;;
      *) figure="deliveries/s" ;;
    esac
    printf '%-20s %-14s' "$id: $label" "$figure"
    for s in "${servers[@]}"; do printf ' | %-20s' "$(cell "$id" "$s-$id")"; done
    [[ " ${servers[*]} " == *" classic "* && " ${servers[*]} " == *" redis "* ]] && printf ' | %-9s' "$(ratio "$id" "classic-$id" "redis-$id")"
    [[ " ${servers[*]} " == *" classic "* && " ${servers[*]} " == *" irc "* ]] && printf ' | %-9s' "$(ratio "$id" "classic-$id" "irc-$id")"
    printf '\n'
  done
  printf '\n64 B payloads, 10 senders (1 when idle), a fresh server for every run.\n'
  if [ "${#servers[@]}" -gt 1 ] && [[ " ${servers[*]} " == *" classic "* ]]; then
    printf 'Ratios are PollServer / other of deliveries/s (above 1: PollServer faster), of p99 latency and of RSS per\n'
    printf 'connection (below 1: PollServer lower); n/a when either run failed.\n'
  fi
  if [[ " ${servers[*]} " == *" redis "* ]]; then
    printf 'redis-server: --client-output-buffer-limit "pubsub 0 0 0" (no pub/sub output limit), --maxclients 20000.\n'
  fi
  if [[ " ${servers[*]} " == *" irc "* ]]; then
    printf 'ngIRCd: bench/ngircd.conf.template (MaxPenaltyTime 0, no connection limits), listening socket passed in with\n'
    printf 'backlog 512; still compiled in: 3 commands per client per main-loop pass, 2 KiB read buffer, 32 KiB sendq.\n'
    if [ "$irc_nodelay" -eq 1 ]; then
      printf 'ngIRCd ran with TCP_NODELAY (--irc-nodelay), which it does not set itself.\n'
    else
      printf 'ngIRCd ran as shipped, without TCP_NODELAY: Nagle holds its small writes (about 40 ms at p99); see --irc-nodelay.\n'
    fi
  fi
  failed=""
  for shape in "${shapes[@]}"; do
    IFS='|' read -r id _ <<< "$shape"
    for s in "${servers[@]}"; do
      if [ "${status[$s-$id]}" = FAILED ]; then failed+="  ${title[$s]} $id: ${reason[$s-$id]}"$'\n'; fi
    done
  done
  if [ -n "$failed" ]; then printf '\nFailed runs:\n%s' "$failed"; fi
)

mkdir -p "$root/bench/results"
{
  echo "PollBench comparison, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cores, mode: $([ "$quick" -eq 1 ] && echo quick || echo full)$([ "$irc_nodelay" -eq 1 ] && echo ', --irc-nodelay')"
  echo "dotnet $(dotnet --version)"
  if [[ " ${servers[*]} " == *" redis "* ]]; then redis-server --version; fi
  if [[ " ${servers[*]} " == *" irc "* ]]; then "$ngircd_bin" --version 2>/dev/null | head -1 || true; fi
  echo
  echo "$table"
  echo
  echo "Raw results:"
  for shape in "${shapes[@]}"; do
    IFS='|' read -r id _ <<< "$shape"
    for s in "${servers[@]}"; do
      echo "# $s $id: ${status[$s-$id]}${reason[$s-$id]:+ (${reason[$s-$id]})}"
      if [ -n "${result[$s-$id]:-}" ]; then echo "${result[$s-$id]}"; else sed 's/^/#   /' "$work/$s-$id.out" | tail -5; fi
    done
  done
} > "$root/bench/results/latest.txt"

echo
echo "$table"
echo
echo "Written to bench/results/latest.txt"

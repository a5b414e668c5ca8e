#!/usr/bin/env bash
# A/B of PollServer against an earlier commit, in one run on one machine: the check to make when a
# change touches the loop's hot path (BENCHMARKS.md quotes these ratios).
#
#   bash bench/ab.sh BASE_REV [--rounds N] [--quick]
#
# Builds Release of BASE_REV (in a temporary git worktree) and of the working tree, then runs the
# same PollBench shapes against each, alternating A and B within every round, so a machine that
# slows down mid-run slows both. Each side uses its own PollBench, which starts its own server on
# a free 127.0.0.1 port and stops it. Prints every RESULT line, then per shape the median of each
# side's rounds and the ratio B/A. Writes nothing to the repository; the worktree is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

base=${1:?usage: bash bench/ab.sh BASE_REV [--rounds N] [--quick]}
shift
rounds=2
seconds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --quick) seconds=2; shift ;;
    *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/pollbench-ab.XXXXXX)
cleanup() {
  git worktree remove --force "$work/a" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach -q "$work/a" "$base"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for side in "$work/a" .; do
  (cd "$side" && dotnet build -c Release PollServer -v q -nologo >/dev/null && dotnet build -c Release PollBench -v q -nologo >/dev/null)
done

# id|clients|senders|extra options|label: the shapes BENCHMARKS.md's A/B tables use.
shapes=(
  "b|100|10||C=100 max"
  "c|1000|10||C=1000 max"
  "d|100|10|--rate 2000|C=100 2000/s"
)

results="$work/results.txt"
for ((round = 1; round <= rounds; round++)); do
  for shape in "${shapes[@]}"; do
    IFS='|' read -r id clients senders extra label <<<"$shape"
    for side in a b; do
      root=$([ "$side" = a ] && echo "$work/a" || echo .)
      # shellcheck disable=SC2086 # $extra is a list of options
      line=$("$root/PollBench/bin/Release/net10.0/PollBench" --spawn-server "$root/PollServer/bin/Release/net10.0/PollServer" \
        -c "$clients" -s "$senders" -P 64 -d "$seconds" $extra 2>/dev/null | grep '^RESULT' || echo "RESULT failed=1")
      echo "$side $id round=$round $line" | tee -a "$results"
    done
  done
done

echo
echo "Medians over $rounds rounds (A = $base, B = working tree):"
for shape in "${shapes[@]}"; do
  IFS='|' read -r id _ _ _ label <<<"$shape"
  for key in deliveries_per_s p50_us p99_us server_cpu_s own_alloc_per_delivery; do
    a=$(grep "^a $id " "$results" | grep -oE " $key=[-0-9.]+" | cut -d= -f2 | sort -g | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
    b=$(grep "^b $id " "$results" | grep -oE " $key=[-0-9.]+" | cut -d= -f2 | sort -g | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
    ratio=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
    printf '%-14s %-24s A %-10s B %-10s B/A %s\n' "$label" "$key" "${a:--}" "${b:--}" "$ratio"
  done
done

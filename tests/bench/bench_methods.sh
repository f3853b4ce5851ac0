#!/usr/bin/env bash
# bench_methods.sh: `ilgraft methods` versus `monodis --method` on the same assembly
# (both list every method with its signature), in one run. Prints each tool's mean
# wall-clock time per run over ROUNDS interleaved runs, their peak memory, and the ratio.
# Usage: tests/bench/bench_methods.sh [ILGRAFT] [ASSEMBLY] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ilgraft=${1:-$here/build/cli/ilgraft}
asm=${2:-/usr/lib/mono/4.5/mscorlib.dll}
rounds=${3:-30}
for tool in "$ilgraft" monodis; do
  command -v "$tool" >/dev/null || { echo "bench_methods: $tool not found" >&2; exit 1; }
done

now() { date +%s%N; }
total_i=0 total_m=0
for ((r = 0; r < rounds; r++)); do
  # Interleaved, so both see the same machine state.
  t0=$(now); "$ilgraft" methods "$asm" >/dev/null; t1=$(now)
  monodis --method "$asm" >/dev/null; t2=$(now)
  total_i=$((total_i + t1 - t0)); total_m=$((total_m + t2 - t1))
done
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
n_i=$("$ilgraft" methods --json "$asm" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
n_m=$(monodis --method "$asm" | sed -n 's/^Method Table (1\.\.\([0-9]*\))/\1/p')
awk -v ti="$total_i" -v tm="$total_m" -v r="$rounds" -v ni="$n_i" -v nm="$n_m" \
    -v mi="$(rss "$ilgraft" methods "$asm")" -v mm="$(rss monodis --method "$asm")" -v a="$asm" 'BEGIN {
  printf "assembly: %s (%d rounds)\n", a, r
  printf "methods listed: ilgraft %d, monodis %d\n", ni, nm
  printf "ilgraft methods:  %8.2f ms/run  peak %6d KB\n", ti / r / 1e6, mi
  printf "monodis --method: %8.2f ms/run  peak %6d KB\n", tm / r / 1e6, mm
  printf "speed ratio (monodis / ilgraft): %.2fx\n", tm / ti
}'

#!/usr/bin/env bash
# bench_roundtrip.sh: Mono.Cecil (from Mono's GAC, run with mono) reading every method
# body of an assembly into instruction lists, versus `ilgraft roundtrip` on the same
# assembly, which decodes every body, verifies it, and re-encodes it in preserve and in
# optimize mode (more work than Cecil does). Both run ROUNDS times, interleaved, in one
# run; prints each tool's mean whole-process wall time and peak RSS, and the ratios.
# Goal: ilgraft at least 20x faster and at most a fifth of Cecil's memory.
# Usage: tests/bench/bench_roundtrip.sh [ILGRAFT] [ASSEMBLY] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ilgraft=${1:-$here/build/cli/ilgraft}
asm=${2:-/usr/lib/mono/4.5/mscorlib.dll}
rounds=${3:-10}
for tool in "$ilgraft" mono mcs; do
  command -v "$tool" >/dev/null || { echo "bench_roundtrip: $tool not found" >&2; exit 1; }
done
cecil=$(ls -d /usr/lib/mono/gac/Mono.Cecil/*/Mono.Cecil.dll 2>/dev/null | sort -V | tail -1)
[ -n "$cecil" ] || { echo "bench_roundtrip: Mono.Cecil not found in Mono's GAC" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The peer: every type (nested too), every method with a body, its instruction list
# materialised, as a profiler-side rewriter built on Cecil would start.
cat > "$tmp/cecilread.cs" <<'CS'
using System;
using Mono.Cecil;
using Mono.Cecil.Cil;
static class CecilRead {
    static long bodies, instructions;
    static void Visit(TypeDefinition t) {
        foreach (var m in t.Methods) {
            if (!m.HasBody) continue;
            bodies++;
            instructions += m.Body.Instructions.Count;
        }
        foreach (var n in t.NestedTypes) Visit(n);
    }
    static void Main(string[] args) {
        var module = ModuleDefinition.ReadModule(args[0]);
        foreach (var t in module.Types) Visit(t);
        Console.WriteLine("bodies {0} instructions {1}", bodies, instructions);
    }
}
CS
mcs -nologo -r:"$cecil" -out:"$tmp/cecilread.exe" "$tmp/cecilread.cs" >/dev/null
cp "$cecil" "$tmp/"

now() { date +%s%N; }
total_i=0 total_c=0
for ((r = 0; r < rounds; r++)); do
  t0=$(now); "$ilgraft" roundtrip --quiet --no-progress "$asm" >/dev/null; t1=$(now)
  mono "$tmp/cecilread.exe" "$asm" >/dev/null; t2=$(now)
  total_i=$((total_i + t1 - t0)); total_c=$((total_c + t2 - t1))
done
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
mem_i=$(rss "$ilgraft" roundtrip --quiet --no-progress "$asm")
mem_c=$(rss mono "$tmp/cecilread.exe" "$asm")
summary_i=$("$ilgraft" roundtrip --quiet --no-progress "$asm" | tail -1)
summary_c=$(mono "$tmp/cecilread.exe" "$asm")
awk -v ti="$total_i" -v tc="$total_c" -v r="$rounds" -v mi="$mem_i" -v mc="$mem_c" \
    -v a="$asm" -v cecil="$cecil" -v si="$summary_i" -v sc="$summary_c" 'BEGIN {
  printf "assembly: %s (%d rounds, interleaved)\n", a, r
  printf "peer: %s\n", cecil
  printf "ilgraft roundtrip: %s\n", si
  printf "cecil:             %s\n", sc
  printf "ilgraft roundtrip: %9.2f ms/run  peak %7d KB\n", ti / r / 1e6, mi
  printf "cecil read:        %9.2f ms/run  peak %7d KB\n", tc / r / 1e6, mc
  printf "time ratio (cecil / ilgraft):   %.1fx faster (goal >= 20x)\n", tc / ti
  printf "memory ratio (ilgraft / cecil): %.3f (goal <= 0.200)\n", mi / mc
}'

#!/usr/bin/env bash
# bench_roundtrip.sh: Mono.Cecil (from Mono's GAC, run with mono) reading every method
# body of an assembly into instruction lists, versus `ilgraft roundtrip` on the same
# assembly, which decodes every body, verifies it, and re-encodes it in preserve and in
# optimize mode (more work than Cecil does). Both run ROUNDS times, interleaved, in one
# run; prints each tool's mean whole-process wall and CPU time, peak RSS, and the ratios.
# On a machine busy with other work the wall ratio suffers most; the load is printed.
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

# Interleaved runs, each measured with wait4(): wall time, CPU time (user + sys) and peak
# RSS of the whole process, children included (mono's JIT threads count too).
python3 - "$rounds" "$asm" "$cecil" "$ilgraft" "$tmp/cecilread.exe" <<'PY'
import os, subprocess, sys, time
rounds, asm, cecil, ilgraft, reader = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
tools = {
    "ilgraft": [ilgraft, "roundtrip", "--quiet", "--no-progress", asm],
    "cecil": ["mono", reader, asm],
}
def run(argv):
    devnull = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    os.close(devnull)
    if status != 0:
        sys.exit("bench_roundtrip: %s exited with status %d" % (argv[0], status))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss
tot = {k: [0.0, 0.0, 0] for k in tools}
for r in range(rounds):
    for k, argv in tools.items():
        w, c, m = run(argv)
        tot[k][0] += w; tot[k][1] += c; tot[k][2] = max(tot[k][2], m)
summary_i = subprocess.run(tools["ilgraft"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
summary_c = subprocess.run(tools["cecil"], capture_output=True, text=True).stdout.strip()
wi, ci, mi = tot["ilgraft"][0] / rounds, tot["ilgraft"][1] / rounds, tot["ilgraft"][2]
wc, cc, mc = tot["cecil"][0] / rounds, tot["cecil"][1] / rounds, tot["cecil"][2]
print("assembly: %s (%d rounds, interleaved)" % (asm, rounds))
print("peer: %s" % cecil)
print("ilgraft roundtrip: %s" % summary_i)
print("cecil:             %s" % summary_c)
print("ilgraft roundtrip: %8.2f ms/run wall  %8.2f ms/run CPU  peak %7d KB" % (wi * 1e3, ci * 1e3, mi))
print("cecil read:        %8.2f ms/run wall  %8.2f ms/run CPU  peak %7d KB" % (wc * 1e3, cc * 1e3, mc))
print("time ratio (cecil / ilgraft):   %.1fx faster wall, %.1fx CPU (goal >= 20x)" % (wc / wi, cc / ci))
print("memory ratio (ilgraft / cecil): %.3f (goal <= 0.200)" % (mi / mc))
print("load average at the end: %s" % open("/proc/loadavg").read().split()[0])
PY

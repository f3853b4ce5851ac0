#!/usr/bin/env bash
# bench_plugin.sh: the rewriting plugin (libilgraft_profiler.so), in one run:
#  1. the host: `ilgraft run` + plugin applying probe-entry to every method of Mono's
#     mscorlib.dll (the probe is System.GC::Collect(), a static void() of that module),
#     against the same session whose rules match nothing (the host's own cost), and
#     with the probe in another assembly receiving the method's name
#     ([ProbeLib]Ns.Probes::Enter(string): an AssemblyRef, TypeRef and MemberRef, and a
#     user string per method, through IMetaDataEmit): µs per rewritten method,
#     whole-process time and peak memory of each;
#  2. a real CoreCLR: a C# fixture run with identity on every method (ReadyToRun code
#     refused, so the framework's methods are JIT-compiled and rewritten too), with
#     identity where ReadyToRun code is kept, the plugin with the same flags but no
#     matching rule (JIT cost alone), and without a profiler, interleaved: start-up time
#     of each and the ratios.
# Usage: tests/bench/bench_plugin.sh BUILD_DIR [ASSEMBLY] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: bench_plugin.sh BUILD_DIR [ASSEMBLY] [ROUNDS]}
asm=${2:-/usr/lib/mono/4.5/mscorlib.dll}
rounds=${3:-10}
ilgraft=$build/cli/ilgraft
plugin=$build/profiler/libilgraft_profiler.so
clsid='{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}'
for f in "$ilgraft" "$plugin" "$asm"; do
  [ -e "$f" ] || { echo "bench_plugin: $f not found" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/probe.json" <<'JSON'
{"rules": [{"match": "*", "action": "probe-entry", "probe": "System.GC::Collect"}]}
JSON
cat >"$work/xasm.json" <<'JSON'
{"rules": [{"match": "*", "action": "probe-entry", "probe": "[ProbeLib]Ns.Probes::Enter(string)"}]}
JSON
cat >"$work/none.json" <<'JSON'
{"rules": [{"match": "No.Such::Method", "action": "identity"}]}
JSON

now() { date +%s%N; }
# host RULES: one session over the assembly, the plugin's log to $work/log (a new one:
# the plugin appends).
host() {
  rm -f "$work/log"
  ILGRAFT_RULES=$1 ILGRAFT_LOG=$work/log "$ilgraft" run --profiler "$plugin" --clsid "$clsid" \
    "$asm" >/dev/null
}
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

t_probe=0 t_none=0 t_xasm=0
for ((r = 0; r < rounds; r++)); do
  t0=$(now); host "$work/probe.json"; t1=$(now); host "$work/none.json"; t2=$(now)
  host "$work/xasm.json"; t3=$(now)
  t_probe=$((t_probe + t1 - t0)); t_none=$((t_none + t2 - t1)); t_xasm=$((t_xasm + t3 - t2))
done
host "$work/xasm.json"
x_rewritten=$(sed -n 's/.*summary.* rewritten=\([0-9]*\).*/\1/p' "$work/log")
x_failed=$(sed -n 's/.*summary.* failed=\([0-9]*\).*/\1/p' "$work/log")
host "$work/probe.json"
summary=$(grep 'summary' "$work/log")
rewritten=$(sed -n 's/.* rewritten=\([0-9]*\).*/\1/p' <<<"$summary")
failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$summary")
rm -f "$work/log"
m_probe=$(ILGRAFT_RULES=$work/probe.json ILGRAFT_LOG=$work/log \
  rss "$ilgraft" run --profiler "$plugin" --clsid "$clsid" "$asm")
m_none=$(ILGRAFT_RULES=$work/none.json ILGRAFT_LOG=$work/log \
  rss "$ilgraft" run --profiler "$plugin" --clsid "$clsid" "$asm")
m_xasm=$(ILGRAFT_RULES=$work/xasm.json ILGRAFT_LOG=$work/log \
  rss "$ilgraft" run --profiler "$plugin" --clsid "$clsid" "$asm")
awk -v tp="$t_probe" -v tn="$t_none" -v r="$rounds" -v n="$rewritten" -v f="$failed" \
    -v mp="$m_probe" -v mn="$m_none" -v a="$asm" -v tx="$t_xasm" -v mx="$m_xasm" \
    -v xn="$x_rewritten" -v xf="$x_failed" 'BEGIN {
  printf "host: %s, %d rounds\n", a, r
  printf "  probe-entry on every method: %d rewritten, %d failed\n", n, f
  printf "  host + plugin, probe-entry:  %8.1f ms/run  peak %6d KB\n", tp / r / 1e6, mp
  printf "  host + plugin, no match:     %8.1f ms/run  peak %6d KB\n", tn / r / 1e6, mn
  printf "  plugin cost: %.2f us per rewritten method (whole run: %.2f us/method)\n",
         (tp - tn) / r / 1e3 / n, tp / r / 1e3 / n
  printf "  time ratio (probe / no match): %.2fx\n", tp / tn
  printf "  probe in another assembly, Enter(string): %d rewritten, %d failed\n", xn, xf
  printf "  host + plugin, Enter(string):%8.1f ms/run  peak %6d KB\n", tx / r / 1e6, mx
  printf "  plugin cost: %.2f us per rewritten method; ratio to the in-module probe %.2fx\n",
         (tx - tn) / r / 1e3 / xn, tx / tp
}'

dotnet=$(command -v dotnet || true)
prog=$build/fixtures/cs/Hello/Hello.dll
if [ -z "$dotnet" ] || [ ! -e "$prog" ]; then
  echo "coreclr: SKIP (dotnet or $prog missing)"
  exit 0
fi
rules=$here/tests/integration/rules
coreclr() { # coreclr RULES|none
  if [ "$1" = none ]; then
    "$dotnet" "$prog" >/dev/null
  else
    rm -f "$work/clr.log"
    CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER=$clsid CORECLR_PROFILER_PATH=$plugin \
      ILGRAFT_RULES=$1 ILGRAFT_LOG=$work/clr.log "$dotnet" "$prog" >/dev/null
  fi
}
# The same flags with rules that match nothing: what JIT-compiling the framework costs
# by itself, so the rewriting's own share shows.
cat >"$work/jit_only.json" <<'JSON'
{"disable_ngen": true, "rules": [{"match": "No.Such::Method", "action": "identity"}]}
JSON
t_off=0 t_all=0 t_r2r=0 t_jit=0
for ((r = 0; r < rounds; r++)); do
  t0=$(now); coreclr none; t1=$(now)
  coreclr "$rules/identity_all.json"; t2=$(now)
  coreclr "$rules/identity_all_r2r.json"; t3=$(now)
  coreclr "$work/jit_only.json"; t4=$(now)
  t_off=$((t_off + t1 - t0)); t_all=$((t_all + t2 - t1)); t_r2r=$((t_r2r + t3 - t2))
  t_jit=$((t_jit + t4 - t3))
done
coreclr "$rules/identity_all.json"
n_all=$(sed -n 's/.* rewritten=\([0-9]*\).*/\1/p' "$work/clr.log")
coreclr "$rules/identity_all_r2r.json"
n_r2r=$(sed -n 's/.* rewritten=\([0-9]*\).*/\1/p' "$work/clr.log")
awk -v a="$t_all" -v b="$t_r2r" -v o="$t_off" -v j="$t_jit" -v r="$rounds" -v na="$n_all" -v nb="$n_r2r" \
    -v p="$prog" 'BEGIN {
  printf "coreclr: %s, %d rounds\n", p, r
  printf "  no profiler:                       %8.1f ms/run\n", o / r / 1e6
  printf "  identity, ReadyToRun kept (%5d): %8.1f ms/run  %.2fx\n", nb, b / r / 1e6, b / o
  printf "  no match, everything JIT:          %8.1f ms/run  %.2fx\n", j / r / 1e6, j / o
  printf "  identity, everything JIT  (%5d): %8.1f ms/run  %.2fx\n", na, a / r / 1e6, a / o
  printf "  rewriting alone: %.1f ms/run, %.1f us per method\n", (a - j) / r / 1e6,
         (a - j) / r / 1e3 / na
}'

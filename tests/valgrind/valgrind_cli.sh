#!/usr/bin/env bash
# valgrind_cli.sh BUILD: every `ilgraft` command over the fixtures under valgrind's
# memcheck: no invalid read or write, no use of uninitialised memory, no definite or
# indirect leak, no file descriptor left open. The PE/ELF fixtures, a sample of the
# malformed catalogue (the error paths), IL and native disassembly (precompiled methods
# of a ReadyToRun image included), verify, roundtrip,
# and `run` with the rewriting plugin (with --save, and on three JIT threads). Needs
# valgrind, and the .NET SDK for its C# case: without either "SKIP: <reason>" and pass,
# except under CI=true, where it fails.
set -uo pipefail
build=${1:?usage: valgrind_cli.sh BUILD}
cli=$build/cli/ilgraft
fx=$build/fixtures
plugin=$build/profiler/libilgraft_profiler.so
here=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v valgrind >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "valgrind not found and CI=true" >&2; exit 1; fi
  echo "SKIP: valgrind not found (scripts/setup.sh installs it)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=0 failures=0
# vg EXPECTED_EXITS ARGS...: the CLI under memcheck (EXPECTED_EXITS like "0" or "0|1");
# 99 means memcheck found something.
vg() {
  local want=$1; shift
  runs=$((runs + 1))
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --track-fds=yes --log-file="$tmp/vg.log" \
    "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  # Descriptors opened by ilgraft and still open at exit; the ones the harness passed
  # in are marked "<inherited from parent>" on the next line.
  local fds
  fds=$(awk '/Open (file descriptor|AF_UNIX socket)/ { if (p) n++; p = 1; next }
             /inherited from parent/ { p = 0 } END { if (p) n++; print n + 0 }' "$tmp/vg.log")
  if [ "$rc" = 99 ] || ! [[ "$rc" =~ ^($want)$ ]] || [ "$fds" != 0 ]; then
    failures=$((failures + 1))
    echo "FAIL: ilgraft $* exited $rc (want $want), memcheck:" >&2
    head -60 "$tmp/vg.log" >&2
    tail -5 "$tmp/err" >&2
  fi
}
for img in "$fx"/*.exe "$fx"/libilgfix.so "$fx"/ilgfix_exe; do
  vg 0 info "$img"
  vg 0 info --json "$img"
  vg 0 map --alloc 100x24 "$img"
done
for img in "$fx"/*.exe; do
  vg 0 methods "$img"
  vg 0 dis "$img"
  vg 0 verify "$img"
  vg 0 roundtrip --json "$img"
done
vg 0 dis "$fx"/calc.exe 0x06000001
vg 0 dis --native ilgfix_add --count 8 "$fx"/libilgfix.so
# The C# fixtures need the .NET SDK at build time (fixtures/cs): without it, SKIP these
# runs (and fail under CI=true); the rest does not need it.
need_cs() {
  if [ -f "$1" ]; then
    return 0
  elif [ "${CI:-}" = true ]; then
    echo "FAIL: $1 was not built (the .NET SDK is required under CI=true)" >&2
    failures=$((failures + 1))
  else
    echo "SKIP: $2: $1 was not built (no .NET SDK)"
  fi
  return 1
}
if need_cs "$fx"/cs/Calc/Calc.dll "methods on the C# fixture"; then
  vg 0 methods --json "$fx"/cs/Calc/Calc.dll
fi
# ReadyToRun: the precompiled code of the crossgen2-built fixture and of the catalogue's
# hand-built image, listed and disassembled.
if need_cs "$fx"/cs/ReadyToRun/ReadyToRun.dll "the ReadyToRun fixture"; then
  vg 0 methods "$fx"/cs/ReadyToRun/ReadyToRun.dll
  vg 0 methods --json "$fx"/cs/ReadyToRun/ReadyToRun.dll
  vg 0 dis --native Calc::Guarded "$fx"/cs/ReadyToRun/ReadyToRun.dll
  vg 0 dis --native 0x06000005 "$fx"/cs/ReadyToRun/ReadyToRun.dll
  vg 1 dis --native NoSuchMethod "$fx"/cs/ReadyToRun/ReadyToRun.dll
fi
vg 0 methods "$fx"/malformed/valid_r2r.exe
vg 0 methods --json "$fx"/malformed/valid_r2r.exe
# The error paths: every fifth image of the malformed catalogue through `info` and
# `methods` (which stage refuses it decides which of the two fails: exit 0 or 1, never
# a signal or a memcheck finding).
n=0
while read -r name _; do
  n=$((n + 1))
  [ $((n % 5)) = 1 ] && [ -f "$fx/malformed/$name" ] || continue
  vg "0|1" info "$fx/malformed/$name"
  vg "0|1" methods "$fx/malformed/$name"
done <"$fx/malformed/manifest.txt"
vg 2 info --no-such-option
vg 1 info /nonexistent.exe
# A bad body on its row, the listing going on; JSON errors; an unreadable image among
# good ones.
vg 0 dis --json "$fx"/eh.exe
vg 1 dis --json "$fx"/malformed/body_eh_bad_kind.exe
vg 1 methods --json "$fx"/malformed/body_rva_outside.exe
vg 1 methods "$fx"/malformed/r2r_body_rva_outside.exe
vg 1 methods --json "$fx"/malformed/r2r_body_rva_outside.exe
vg 1 verify --json "$fx"/calc.exe /nonexistent.exe "$fx"/malformed/md_bad_signature.exe
# `run --rules` with the bundled plugin, and its checks before loading it.
mkdir -p "$tmp/demo"
ILGRAFT_LOG=$tmp/plugin.log vg 0 run --rules "$here/fixtures/rules/demo.json" --save "$tmp/demo" \
  "$fx"/calc.exe
vg 1 run --rules "$here/fixtures/rules/demo.json" --save "$tmp/no-such-dir" "$fx"/calc.exe
vg 1 run --json --rules "$here/fixtures/rules/demo.json" "$fx"/calc.exe /nonexistent.exe
vg 1 run --rules "$here/fixtures/rules/demo.json" --save "$tmp/demo" "$fx"/calc.exe \
  "$fx"/malformed/r2r_machine.exe
# The host and the plugin: load, JIT every method, rewrite, save.
mkdir -p "$tmp/saved"
ILGRAFT_RULES=$here/tests/integration/rules/host_calc.json ILGRAFT_LOG=$tmp/plugin.log \
  vg 0 run --profiler "$plugin" --clsid '{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}' \
  --save "$tmp/saved" "$fx"/calc.exe
# The C# fixture with --keep-mvid: its runtimeconfig and deps files are copied too.
if [ -f "$fx"/cs/Calc/Calc.dll ]; then
  mkdir -p "$tmp/kept"
  ILGRAFT_RULES=$here/tests/integration/rules/host_calc.json ILGRAFT_LOG=$tmp/plugin.log \
    vg 0 run --keep-mvid --profiler "$plugin" --clsid '{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}' \
    --save "$tmp/kept" "$fx"/cs/Calc/Calc.dll
fi
ILGRAFT_RULES=$here/tests/integration/rules/host_eh.json ILGRAFT_LOG=$tmp/plugin.log \
  vg 0 run --json --profiler "$plugin" --clsid '{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}' \
  "$fx"/eh.exe
# Three JIT threads: the workers' state, their threads and the plugin's per-thread
# workers are all released.
ILGRAFT_RULES=$here/tests/integration/rules/identity_all.json ILGRAFT_LOG=$tmp/plugin.log \
  vg 0 run --jit-threads 3 --profiler "$plugin" --clsid '{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}' \
  "$fx"/bodies.exe "$fx"/types.exe
vg 0 verify "$tmp/saved/calc.exe"
# A ReadyToRun image saved both ways: the filtered tables, and the disabled header.
if [ -f "$fx"/cs/ReadyToRun/ReadyToRun.dll ]; then
  for off in "" --save-r2r-off; do
    ILGRAFT_RULES=$here/tests/integration/rules/r2r_mutate_add.json ILGRAFT_LOG=$tmp/plugin.log \
      vg 0 run $off --profiler "$plugin" --clsid '{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}' \
      --save "$tmp/saved" "$fx"/cs/ReadyToRun/ReadyToRun.dll
    vg 0 methods "$tmp/saved/ReadyToRun.dll"
  done
fi
echo "valgrind: $runs ilgraft runs under memcheck, $failures with findings"
[ "$failures" = 0 ]

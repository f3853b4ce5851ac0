#!/usr/bin/env bash
# abi_alone.sh CC INCLUDE_DIR SOURCE_DIR: the ABI headers (unknwn.h, cor_md.h,
# mscoree.h, corprof_types.h, corprof_callbacks.h, corprof.h) each preprocessed alone, as a third-party
# profiler includes them, hold no ilg_ or ILG_ name (include guards, ILGRAFT_*_H, are not
# names a profiler can use); tests/unit/abi_alone.c, which includes corprof.h alone and
# redeclares ilgraft's names, compiles with -Werror; and, so that the check is known to
# bite, an ilgraft API header (arena.h) preprocessed the same way does show such names.
set -euo pipefail
cc=$1 inc=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names() { # header: its preprocessed text's ilg_/ILG_ identifiers, one per line
  printf '#include "ilgraft/%s"\n' "$1" >"$work/tu.c"
  "$cc" -std=c11 -E -dD -P -I"$inc" "$work/tu.c" >"$work/out.i"
  grep -c . "$work/out.i" >/dev/null || { echo "abi_alone: $1 preprocesses to nothing" >&2; exit 1; }
  grep -owE '(ilg|ILG)_[A-Za-z0-9_]*' "$work/out.i" | sort -u || true
}
fail=0
for h in unknwn.h cor_md.h mscoree.h corprof_types.h corprof_callbacks.h corprof.h; do
  found=$(names "$h")
  if [ -n "$found" ]; then
    echo "abi_alone: $h alone declares ilgraft names:" $found >&2
    fail=1
  else
    echo "abi_alone: $h: no ilg_/ILG_ name in $(wc -l <"$work/out.i") preprocessed lines"
  fi
done
grep -q 'ICorProfilerInfo3Vtbl' <("$cc" -std=c11 -E -P -I"$inc" "$src/tests/unit/abi_alone.c") ||
  { echo "abi_alone: corprof.h does not declare ICorProfilerInfo3Vtbl" >&2; fail=1; }
"$cc" -std=c11 -Wall -Wextra -Werror -c -I"$inc" "$src/tests/unit/abi_alone.c" -o "$work/abi_alone.o" ||
  { echo "abi_alone: abi_alone.c does not compile against corprof.h alone" >&2; fail=1; }
control=$(names arena.h)
if ! grep -qx 'ilg_arena_method_malloc' <<<"$control"; then
  echo "abi_alone: the control (arena.h) shows no ilg_ names; the check cannot bite" >&2
  fail=1
fi
exit $fail

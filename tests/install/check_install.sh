#!/usr/bin/env bash
# check_install.sh BUILD_DIR FIXTURE: `cmake --install` into a temporary prefix, then
# builds a consumer of the installed headers and library through the installed
# ilgraft.pc, runs it on FIXTURE, and runs the installed CLI (`run --rules` with the
# installed plugin).
set -euo pipefail
build=$1 fixture=$2
prefix=$(mktemp -d) work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cat >"$work/consumer.c" <<'C'
#include <stdio.h>
#include <ilgraft/metadata.h>
int main(int argc, char **argv)
{
    ilg_image *img;
    const ilg_metadata *md;
    if (argc != 2 || ilg_image_open(argv[1], NULL, &img) != ILG_OK)
        return 1;
    if (ilg_image_metadata(img, &md) != ILG_OK)
        return 1;
    printf("%u methods\n", ilg_md_row_count(md, ILG_TBL_MethodDef));
    ilg_image_close(img);
    return 0;
}
C
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc -std=c11 "$work/consumer.c" $(pkg-config --cflags --libs ilgraft) -o "$work/consumer"
out=$(LD_LIBRARY_PATH=$prefix/lib "$work/consumer" "$fixture")
echo "installed library: $out"
[ "$out" = "5 methods" ]
"$prefix/bin/ilgraft" --version
# `run --rules` without --profiler finds the plugin in the installed library directory
# (the build tree is not beside the installed binary), and without it names where it
# looked.
rules=$(cd "$(dirname "$0")/../.." && pwd)/fixtures/rules/demo.json
report=$("$prefix/bin/ilgraft" run --rules "$rules" --json "$fixture" 2>"$work/run.err")
echo "$report" | python3 -c 'import json, sys
m = json.load(sys.stdin)["modules"][0]["methods"]
add = [x for x in m if x["name"] == "int32 Calc::Add(int32, int32)"][0]
assert add["status"] == "rewritten", add
print("installed run: Calc::Add rewritten at RVA 0x%x" % add["new_rva"])'
plugin=$(find "$prefix" -name libilgraft_profiler.so)
rm "$plugin"
if "$prefix/bin/ilgraft" run --rules "$rules" "$fixture" 2>"$work/run.err"; then
  echo "run without the installed plugin succeeded"; exit 1
fi
grep -qF "ilgraft: $plugin: ilgraft's plugin is not beside ilgraft" "$work/run.err" ||
  { cat "$work/run.err"; exit 1; }
# Only ilg_-prefixed symbols leave the shared library.
extra=$(nm -D --defined-only "$prefix"/lib/libilgraft.so | awk '{print $3}' | grep -v '^ilg_' || true)
[ -z "$extra" ] || { echo "unexpected exports: $extra"; exit 1; }
echo "install check passed"

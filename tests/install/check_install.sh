#!/usr/bin/env bash
# check_install.sh BUILD_DIR FIXTURE: `cmake --install` into a temporary prefix, then
# builds a consumer of the installed headers and library through the installed
# ilgraft.pc, runs it on FIXTURE, and runs the installed CLI.
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
# Only ilg_-prefixed symbols leave the shared library.
extra=$(nm -D --defined-only "$prefix"/lib/libilgraft.so | awk '{print $3}' | grep -v '^ilg_' || true)
[ -z "$extra" ] || { echo "unexpected exports: $extra"; exit 1; }
echo "install check passed"

#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS: builds the libFuzzer targets with clang (build-fuzz/) and runs
# fuzz_TARGET for SECONDS, seeded with the built fixtures and the committed regression
# inputs. A crash leaves its input in build-fuzz/findings/TARGET and fails the script.
# Targets: image (PE/ELF open + full metadata walk).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: fuzz.sh TARGET SECONDS}
seconds=${2:?usage: fuzz.sh TARGET SECONDS}
build=$root/build-fuzz
command -v clang >/dev/null || { echo "fuzz: clang not found; run scripts/setup.sh" >&2; exit 1; }
CC=clang cmake -S "$root" -B "$build" -DILG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target "fuzz_$target" ilg_fixtures >/dev/null

seeds=$build/seeds/$target findings=$build/findings/$target work=$build/corpus/$target
mkdir -p "$seeds" "$findings" "$work"
case $target in
  image) cp "$build"/fixtures/*.exe "$build"/fixtures/*.so "$seeds"/ 2>/dev/null || true
         cp "$root"/tests/fuzz/regress/image-* "$seeds"/ 2>/dev/null || true ;;
esac
echo "fuzz: $target for ${seconds}s, $(ls "$seeds" | wc -l) seeds"
"$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=3072 -max_len=262144 \
  -artifact_prefix="$findings/" -print_final_stats=1 "$work" "$seeds" 2>"$build/fuzz-$target.log" || {
  tail -40 "$build/fuzz-$target.log" >&2
  echo "fuzz: $target found a failure; inputs in $findings" >&2
  exit 1
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz-$target.log" | sed "s/^/fuzz: $target: /"

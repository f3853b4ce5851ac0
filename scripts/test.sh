#!/usr/bin/env bash
# test.sh: sets up, builds and runs every test through CTest: once in the normal
# build (-Werror), once built with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

echo "== build (warnings are errors)"
"$root/scripts/build.sh"
echo "== tests"
(cd "$root/build" && ctest --output-on-failure -j"$(nproc)")

echo "== build with AddressSanitizer + UBSan"
BUILD_DIR="$root/build-asan" "$root/scripts/build.sh" -DILG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== tests under AddressSanitizer + UBSan"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
(cd "$root/build-asan" && ctest --output-on-failure -j"$(nproc)")

echo "== fuzzing, 60 s per target"
for target in image body asm rules host; do
  "$root/scripts/fuzz.sh" "$target" 60
done

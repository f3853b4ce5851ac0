#!/usr/bin/env bash
# test.sh: sets up, builds and runs every test through CTest: once in the normal
# build (-Werror), once built with AddressSanitizer + UndefinedBehaviorSanitizer; then
# the suites' "threads" cases (the host's JIT threads with a thread-safe test profiler
# and with the plugin) built with ThreadSanitizer, and each fuzz target for a minute.
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

echo "== build with ThreadSanitizer (the threads cases only)"
cmake -S "$root" -B "$root/build-tsan" -DILG_WERROR=ON -DILG_TSAN=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$root/build-tsan" -j"$(nproc)" --target test_host test_plugin_host test_emit test_rejit test_inline
echo "== JIT threads under ThreadSanitizer"
for suite in test_host test_plugin_host test_emit test_rejit test_inline; do
  CK_RUN_CASE=threads TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    "$root/build-tsan/tests/integration/$suite"
done

echo "== fuzzing, 60 s per target"
for target in image body asm rules host mdemit; do
  "$root/scripts/fuzz.sh" "$target" 60
done

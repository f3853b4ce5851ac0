#!/usr/bin/env bash
# build.sh: configures and builds ilgraft into BUILD_DIR (default build/). Extra
# arguments go to cmake's configure step (say -DILG_SANITIZE=ON); BUILD_TARGETS (say
# "ilgraft_cli ilgraft_profiler") builds only those targets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DILG_WERROR=ON "$@" >/dev/null
# shellcheck disable=SC2086 # BUILD_TARGETS is a list of names
cmake --build "$build" -j"$(nproc)" ${BUILD_TARGETS:+--target $BUILD_TARGETS}

#!/usr/bin/env bash
# build.sh: configures and builds ilgraft into BUILD_DIR (default build/). Extra
# arguments go to cmake's configure step (say -DILG_SANITIZE=ON).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DILG_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"

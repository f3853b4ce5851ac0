#!/usr/bin/env bash
# demo.sh: sets up, builds, and runs ilgraft's main job on a bundled fixture: the
# address-space map (image, sections, graft arena) and every method with its offsets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" >/dev/null
ilgraft="$root/build/cli/ilgraft"
fixture="$root/build/fixtures/calc.exe"
echo "== ilgraft map $fixture"
"$ilgraft" map "$fixture"
echo
echo "== ilgraft methods $fixture"
"$ilgraft" methods "$fixture"
echo
eh="$root/build/fixtures/eh.exe"
echo "== ilgraft methods $eh   (fat headers, every EH clause kind)"
"$ilgraft" methods "$eh"

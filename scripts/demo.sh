#!/usr/bin/env bash
# demo.sh: sets up, builds, and runs ilgraft's main job on a bundled fixture
# (fixtures/il/calc.il, assembled by ilasm): the address-space map with the graft
# arena; `ilgraft run` with ilgraft's own plugin and fixtures/rules/demo.json (Calc::Add
# mutated from add to mul, an entry probe in the other methods), whose report gives
# every method's old and new RVA; --save; and the saved image under mono next to the
# original. The saved files stay in build/demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
# Only what the demo runs: the CLI, the plugin and calc.exe (scripts/test.sh builds
# everything else).
BUILD_TARGETS="ilgraft_cli ilgraft_profiler ilg_fixture_demo" "$root/scripts/build.sh" >/dev/null
cd "$root"
export PATH=$root/build/cli:$PATH
fixture=build/fixtures/calc.exe
rules=fixtures/rules/demo.json
out=build/demo
rm -rf "$out"
mkdir -p "$out"
# Each step as the command a user would type, then its output.
show() { printf '\n$ %s\n' "$*"; "$@"; }

echo "== 1. The image mapped as an OS loader maps it; new bodies go into the graft arena"
show ilgraft map "$fixture"

echo
echo "== 2. The rules for ilgraft's plugin (docs/profiler.md, Rules)"
show cat "$rules"

echo
echo "== 3. ilgraft plays the CLR for the plugin: load and JIT callbacks; every body the"
echo "   plugin sets with SetILFunctionBody is checked and verified; then --save"
# The plugin's log (one line per rewrite) goes to a file; the report is what matters.
export ILGRAFT_LOG=$out/plugin.log
show ilgraft run --rules "$rules" --save "$out" "$fixture"
# Checked, not just said: every body the run moved lies at or above the image span.
ilgraft run --rules "$rules" --json "$fixture" | python3 -c '
import json, sys
m = json.load(sys.stdin)["modules"][0]
moved = [x for x in m["methods"] if x["status"] == "rewritten"]
assert moved and all(x["new_rva"] >= m["image_size"] for x in moved), m
print("all %d new bodies lie at or above the image span, 0x%x" % (len(moved), m["image_size"]))'

echo
echo "== 4. The saved image: the new bodies in a .graft section, MethodDef RVAs patched"
show ilgraft methods "$out/calc.exe"

echo
echo "== 5. Mono runs the original and the rewritten image"
show mono "$fixture"
saved=$(mono "$out/calc.exe")
printf '\n$ mono %s\n%s\n' "$out/calc.exe" "$saved"
echo
if [ "$saved" != "$(printf 'probe\nprobe\n6')" ]; then
  echo "demo: the saved image printed something else than the probes and 2 * 3" >&2
  exit 1
fi
echo "Calc::Add(2, 3) now multiplies (6, not 5), and the probes ran at the entry of Main and Add."

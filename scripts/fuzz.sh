#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS: builds the libFuzzer targets with clang (build-fuzz/) and runs
# fuzz_TARGET for SECONDS, seeded with the built fixtures and the committed regression
# inputs. A crash leaves its input in build-fuzz/findings/TARGET and fails the script.
# Targets: image (PE/ELF open + full metadata and ReadyToRun walk), body (method body decode, verify,
# preserve and optimize encode, text round trip), asm (the IL text assembler), rules (the
# plugin's rules file, each accepted rule applied to a body), host (SetILFunctionBody
# through the harness host with any bytes as the new body), mdemit (metadata-writer call
# sequences on types.exe or wide.exe, then serialize, save and reopen).
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
  image) cp "$build"/fixtures/*.exe "$build"/fixtures/*.so "$build"/fixtures/malformed/valid_r2r.exe \
          "$build"/fixtures/cs/ReadyToRun/ReadyToRun.dll "$seeds"/ 2>/dev/null || true ;;
  rules) cp "$root"/tests/integration/rules/*.json "$seeds"/ ;;
  mdemit) ;; # tests/fuzz/seeds/mdemit below
  body|asm|host)
    # Every method of the IL fixtures: its ilasm text (asm) or its bytes (body), cut
    # from `ilgraft dis` and the image by the CLI's own JSON.
    cmake --build "$build" --target ilgraft_cli >/dev/null
    for fx in "$build"/fixtures/*.exe; do
      "$build/cli/ilgraft" dis --raw "$fx" | awk -v dir="$seeds" -v base="$(basename "$fx")" '
        /^\/\/ 0x06/ { n++; f = sprintf("%s/%s-%d.il", dir, base, n) } f { print > f }'
    done
    if [ "$target" != asm ]; then
      python3 - "$build" "$seeds" <<'PY'
import json, os, subprocess, sys
build, seeds = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(os.path.join(build, "fixtures"))):
    if not name.endswith(".exe"):
        continue
    path = os.path.join(build, "fixtures", name)
    info = json.loads(subprocess.check_output([build + "/cli/ilgraft", "info", "--json", path]))
    data = open(path, "rb").read()
    for m in json.loads(subprocess.check_output([build + "/cli/ilgraft", "methods", "--json", path]))["methods"]:
        for s in info["sections"]:
            if m["body_size"] and s["rva"] <= m["rva"] < s["rva"] + s["virtual_size"]:
                off = s["file_offset"] + m["rva"] - s["rva"]
                open(os.path.join(seeds, "%s-%x.bin" % (name, m["token"])), "wb").write(data[off:off + m["body_size"]])
PY
      rm -f "$seeds"/*.il
    fi ;;
  *) echo "fuzz: unknown target $target (image, body, asm, rules, host, mdemit)" >&2; exit 2 ;;
esac
cp "$root"/tests/fuzz/regress/"$target"-* "$seeds"/ 2>/dev/null || true
# Hand-written seeds for what the fixtures do not show the fuzzer (asm: EH in ilasm's
# block form).
cp "$root"/tests/fuzz/seeds/"$target"/* "$seeds"/ 2>/dev/null || true
echo "fuzz: $target for ${seconds}s, $(ls "$seeds" | wc -l) seeds"
"$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=3072 -max_len=262144 \
  -artifact_prefix="$findings/" -print_final_stats=1 "$work" "$seeds" 2>"$build/fuzz-$target.log" || {
  tail -40 "$build/fuzz-$target.log" >&2
  echo "fuzz: $target found a failure; inputs in $findings" >&2
  exit 1
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz-$target.log" | sed "s/^/fuzz: $target: /"

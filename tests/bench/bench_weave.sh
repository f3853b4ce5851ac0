#!/usr/bin/env bash
# bench_weave.sh: issue 16's weave benchmark, three tools in one run. Each one reads an
# assembly, adds an AssemblyRef [ProbeLib]1.0.0.0, a TypeRef Ns.Probes and a MemberRef
# `void Enter(string)`, inserts `ldstr "<Type>::<Method>"; call Enter` at the entry of
# every method with a body (a user string per method name), and writes the assembly:
#   ilgraft  tests/bench/bench_weave.c: the library (mdemit, ilbody, arena, save);
#   cecil    Mono.Cecil 0.11.6 from NuGet, on dotnet (tests/bench/weave_peer);
#   dnlib    dnlib 4.5.0 from NuGet, on dotnet (the same program).
# Each runs ROUNDS times, interleaved, as a child process; prints the median wall time,
# CPU time (user + system of the child) and peak RSS (the child's ru_maxrss), the output
# sizes and the ratios ilgraft/cecil and ilgraft/dnlib (goal: wall at most 1/20 of the
# faster peer's, memory at most 1/5).
# Then checks what each wrote (nothing here times a test):
#   - `ilgraft verify` accepts each output; monodis disassembles each whole;
#   - in each, every method with a body starts with IL_0000 ldstr and IL_0005 call
#     [ProbeLib]Ns.Probes::Enter(string), and the ldstr strings are the same multiset in
#     all three (the peers name the methods with their own libraries);
#   - the size: what ilgraft's file grew by, split into the new bodies, the new
#     metadata root (grown by the new rows and strings) and the old root it leaves behind;
#   - a runnable fixture (build/fixtures/calc.exe under mono, build/fixtures/cs/Calc/Calc.dll
#     under dotnet) woven by all three with ProbeLib.dll beside it: each woven program
#     prints the same "enter <method>" lines and the fixture's own output.
# ROUNDS 0 is the check alone (one untimed run of each tool, every check above): the
# CTest entry bench_weave_check (label integration). There a missing tool (dotnet, mono,
# mcs, monodis, the assembly) or a peer that cannot be built (no NuGet) is a SKIP with
# its reason (exit 77), and a failure under CI=true.
# Usage: tests/bench/bench_weave.sh [BUILD_DIR] [ROUNDS] [ASSEMBLY]
# or:    cmake --build BUILD --target bench_weave_run
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
rounds=${2:-5}
asm=${3:-/usr/lib/mono/4.5/mscorlib.dll}
weave=$build/tests/bench/bench_weave
ilgraft=$build/cli/ilgraft
dotnet=$(command -v dotnet || echo /usr/share/dotnet/dotnet)
missing() {
  if [ "$rounds" = 0 ] && [ "${CI:-}" != true ]; then
    echo "SKIP: bench_weave: $*"; exit 77
  fi
  echo "bench_weave: $*" >&2; exit 1
}
for tool in "$weave" "$ilgraft"; do
  [ -x "$tool" ] || { echo "bench_weave: $tool not built" >&2; exit 1; }
done
for tool in "$dotnet" mono mcs monodis; do
  command -v "$tool" >/dev/null || missing "$tool not found"
done
[ -r "$asm" ] || missing "$asm not found"

# The peers, built in the build tree (the sources copied first so obj/ and bin/ never land
# in the source tree); dotnet build is incremental. No build servers linger.
peer_src=$build/tests/bench/weave_peer.src
peer=$build/tests/bench/weave_peer
mkdir -p "$peer_src"
cp -u "$here/tests/bench/weave_peer/WeavePeer.csproj" "$here/tests/bench/weave_peer/Program.cs" "$peer_src/"
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
  "$dotnet" build "$peer_src/WeavePeer.csproj" -c Release -o "$peer" --nologo -v quiet \
  --disable-build-servers -p:UseSharedCompilation=false >"$build/tests/bench/weave_peer.log" 2>&1 ||
  { cat "$build/tests/bench/weave_peer.log" >&2; missing "the peer did not build (log above)"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mcs -nologo -target:library -out:"$tmp/ProbeLib.dll" "$here/tests/bench/weave_peer/ProbeLib.cs"

python3 - "$rounds" "$asm" "$weave" "$ilgraft" "$dotnet" "$peer/WeavePeer.dll" "$tmp" "$build" <<'PY'
import collections, os, re, shutil, statistics, subprocess, sys, time
rounds, asm, weave, ilgraft, dotnet, peer, tmp, build = sys.argv[1:9]
rounds = int(rounds)
env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
TOOLS = ("ilgraft", "cecil", "dnlib")
def argv(tool, src, dst):
    return [weave, src, dst] if tool == "ilgraft" else [dotnet, peer, tool, src, dst]
def run(cmd, what):
    with open(tmp + "/out.txt", "w+") as out, open(tmp + "/err.txt", "w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0); err.seek(0)
        text = out.read() + err.read()[-4000:]
    if status != 0:
        sys.exit("bench_weave: %s failed (status %d): %s" % (what, status, text[-2000:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, text

# ---- the timed runs -------------------------------------------------------------------
name = os.path.basename(asm)
per = {t: [] for t in TOOLS}
last = {}
for r in range(max(rounds, 1)):
    for t in TOOLS:
        os.makedirs("%s/%s" % (tmp, t), exist_ok=True)
        # Each writes a new file: replacing the last round's would add freeing its pages.
        dst = "%s/%s/%s" % (tmp, t, name)
        if os.path.exists(dst):
            os.unlink(dst)
        w, c, m, text = run(argv(t, asm, dst), t)
        per[t].append((w, c, m))
        last[t] = text.strip().splitlines()
med = {t: [statistics.median(x[i] for x in per[t]) for i in range(3)] for t in TOOLS}
out = {t: "%s/%s/%s" % (tmp, t, name) for t in TOOLS}
size = {t: os.path.getsize(out[t]) for t in TOOLS}

# ---- what each wrote ------------------------------------------------------------------
CALL = "call void [ProbeLib]Ns.Probes::Enter(string)"
def woven_strings(path, what):
    v = subprocess.run([ilgraft, "verify", path], capture_output=True, text=True)
    if v.returncode != 0:
        sys.exit("bench_weave: ilgraft verify rejects the %s output: %s" % (what, (v.stdout + v.stderr)[-800:]))
    with open(tmp + "/dis.il", "w") as f:
        d = subprocess.run(["monodis", path], stdout=f, stderr=subprocess.PIPE, text=True)
    if d.returncode != 0 or d.stderr.strip():
        sys.exit("bench_weave: monodis fails on the %s output: %s" % (what, d.stderr[-800:]))
    names, bodies, bad = [], 0, []
    lines = open(tmp + "/dis.il").read().splitlines()
    for i, l in enumerate(lines):
        s = l.strip()
        if s.startswith(".maxstack"):
            bodies += 1
        m = re.match(r'IL_0000:\s+ldstr "(.*)"$', s)
        if m:
            nxt = next((x.strip() for x in lines[i + 1:i + 4] if x.strip().startswith("IL_")), "")
            if not re.match(r"IL_0005:\s+" + re.escape(CALL) + "$", nxt):
                bad.append(nxt)
            names.append(m.group(1))
    if bad or len(names) != bodies:
        sys.exit("bench_weave: %s: %d bodies, %d start with ldstr; not followed by the call: %s"
                 % (what, bodies, len(names), bad[:3]))
    return collections.Counter(names), bodies
woven = {t: woven_strings(out[t], t) for t in TOOLS}
for t in ("cecil", "dnlib"):
    if woven[t][0] != woven["ilgraft"][0]:
        a, b = woven["ilgraft"][0], woven[t][0]
        sys.exit("bench_weave: the names ilgraft and %s wove differ: only ilgraft %s, only %s %s"
                 % (t, list((a - b).items())[:5], t, list((b - a).items())[:5]))

def md_size(path):
    info = subprocess.run([ilgraft, "info", path], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^metadata:.*, (0x[0-9a-f]+) bytes", info, re.M).group(1), 16)
stats = re.search(r"woven (\d+) methods, (\d+) body bytes", " ".join(last["ilgraft"]))
body_bytes = int(stats.group(2))
in_size, in_md, out_md = os.path.getsize(asm), md_size(asm), md_size(out["ilgraft"])

# ---- a runnable fixture, woven by all three -------------------------------------------
def fixture(src, runner, what):
    outs = {}
    for t in TOOLS:
        d = "%s/fix_%s_%s" % (tmp, what, t)
        os.makedirs(d, exist_ok=True)
        # Beside the woven program: ProbeLib.dll, and its runtimeconfig (no deps.json, so
        # the app directory's assemblies are found).
        shutil.copy(tmp + "/ProbeLib.dll", d)
        cfg = src[:-4] + ".runtimeconfig.json"
        if os.path.exists(cfg):
            shutil.copy(cfg, d)
        dst = d + "/" + os.path.basename(src)
        run(argv(t, src, dst), "%s on %s" % (t, what))
        r = subprocess.run(runner + [dst], capture_output=True, text=True, env=env, timeout=120)
        if r.returncode != 0:
            sys.exit("bench_weave: %s woven by %s exits %d: %s" % (what, t, r.returncode, r.stderr[-800:]))
        outs[t] = r.stdout
    plain = subprocess.run(runner + [src], capture_output=True, text=True, env=env, timeout=120).stdout
    for t in TOOLS:
        if outs[t] != outs["ilgraft"]:
            sys.exit("bench_weave: %s woven by ilgraft and by %s prints differently:\n%s\n---\n%s"
                     % (what, t, outs["ilgraft"][-1500:], outs[t][-1500:]))
    entered = [l for l in outs["ilgraft"].splitlines() if l.startswith("enter ")]
    rest = [l for l in outs["ilgraft"].splitlines() if not l.startswith("enter ")]
    if not entered or rest != plain.splitlines():
        sys.exit("bench_weave: %s woven: %d probe lines, its own output %s"
                 % (what, len(entered), "kept" if rest == plain.splitlines() else "changed"))
    return len(entered), len(set(entered))
fixtures = []
calc_exe = build + "/fixtures/calc.exe"
calc_dll = build + "/fixtures/cs/Calc/Calc.dll"
for src, runner, what in ((calc_exe, ["mono"], "calc.exe under mono"),
                          (calc_dll, [dotnet], "Calc.dll under dotnet")):
    if not os.path.exists(src):
        sys.exit("bench_weave: fixture %s missing (build the ilg_fixtures target)" % src)
    fixtures.append((what,) + fixture(src, runner, what))

# ---- the figures ------------------------------------------------------------------------
if rounds == 0:
    print("bench_weave check: %s woven by ilgraft, cecil and dnlib: verified, whole in monodis, "
          "%d bodies each starting ldstr + call Enter, %d distinct names, the same in all three"
          % (asm, woven["ilgraft"][1], len(woven["ilgraft"][0])))
    for what, n, distinct in fixtures:
        print("fixture %s: the same output from all three woven programs, %d probe lines "
              "(%d methods), then the program's own output unchanged" % (what, n, distinct))
    print("%d passed, 0 failed" % (2 + len(fixtures)))
    sys.exit(0)
print("assembly: %s, %d bytes (%d rounds, interleaved; medians)" % (asm, in_size, rounds))
print("peer: %s (Mono.Cecil 0.11.6, dnlib 4.5.0 from NuGet) on %s" % (peer, dotnet))
for t in TOOLS:
    print(last[t][-1])
print("%-8s %10s %10s %10s %12s" % ("", "wall ms", "cpu ms", "peak KB", "output bytes"))
for t in TOOLS:
    w, c, m = med[t]
    print("%-8s %10.1f %10.1f %10d %12d" % (t, w * 1e3, c * 1e3, m, size[t]))
for t in TOOLS:
    print("  %-7s wall of each round (ms): %s" % (t, " ".join("%.1f" % (x[0] * 1e3) for x in per[t])))
for t in ("cecil", "dnlib"):
    wi, ci, mi = med["ilgraft"]
    w, c, m = med[t]
    print("ilgraft/%s: wall %.4f (%.0fx faster), cpu %.4f (%.0fx), memory %.3f (%.1fx less), "
          "size %.2f" % (t, wi / w, w / wi, ci / c, c / ci, mi / m, m / mi, size["ilgraft"] / size[t]))
# Steadier on a shared machine whose load drifts: each round's own ratio (the three ran
# one after the other), then the median.
for t in ("cecil", "dnlib"):
    rr = [(per[t][r][0] / per["ilgraft"][r][0], per[t][r][2] / per["ilgraft"][r][2])
          for r in range(rounds)]
    print("%s/ilgraft, median of the rounds' own ratios: wall %.0fx, memory %.1fx"
          % (t, statistics.median(x[0] for x in rr), statistics.median(x[1] for x in rr)))
fast = min(("cecil", "dnlib"), key=lambda t: med[t][0])
wi, mi = med["ilgraft"][0], med["ilgraft"][2]
print("goal against the faster peer (%s): wall %.0fx faster (goal 20x): %s; memory %.1fx less "
      "(goal 5x): %s" % (fast, med[fast][0] / wi, "met" if med[fast][0] >= 20 * wi else "MISSED",
                         med[fast][2] / mi, "met" if med[fast][2] >= 5 * mi else "MISSED"))
print("woven: %d bodies in each output, every one starting ldstr + call Enter; %d distinct names, "
      "the same in all three" % (woven["ilgraft"][1], len(woven["ilgraft"][0])))
grow = size["ilgraft"] - in_size
print("ilgraft's file grew by %d bytes: new bodies %d, new metadata root %d (the old one, %d, "
      "grown by %d of new rows and strings), alignment %d; the old root stays in .text, unused"
      % (grow, body_bytes, out_md, in_md, out_md - in_md, grow - body_bytes - out_md))
for t in ("cecil", "dnlib"):
    print("%s's file grew by %d bytes (it rewrites the whole file: bodies in place)" % (t, size[t] - in_size))
for what, n, distinct in fixtures:
    print("fixture %s: the same output from all three woven programs, %d probe lines "
          "(%d methods), then the program's own output unchanged" % (what, n, distinct))
print("load average: %s" % open("/proc/loadavg").read().split()[0])
PY

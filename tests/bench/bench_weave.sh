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
#     metadata root (grown by the new rows and strings), alignment, less the old root's
#     whole pages, which the save leaves out of the file (docs/save.md, "The old root");
#     the same weave saved with --keep-old-root (the old layout) must be larger by
#     exactly those pages;
#   - runnable fixtures woven by all three with ProbeLib.dll beside them (ilgraft's
#     copy also verified, whole in monodis, every body starting with the probe call):
#     each woven program prints the same "enter <method>" lines and its own output:
#     build/fixtures/calc.exe under mono, build/fixtures/cs/Calc/Calc.dll under dotnet,
#     and build/fixtures/wide.exe, an ilasm program with a metadata root of several pages
#     (fixtures/il/gen_wide_il.c; SectionAlignment 0x2000, and the same file declaring
#     SectionAlignment 0x1000, whose sections all start on 0x1000 pages already) under
#     mono and under dotnet, whose old root ilgraft must have cut;
#   - a Roslyn-built library with its old root cut: the peer's own Mono.Cecil.dll woven
#     by ilgraft (its debug entries' data read at their moved file offsets is their data
#     at their RVAs), then loaded by the peer under dotnet (no deps.json, ProbeLib.dll
#     beside it) weaving calc.exe: the same output file as with the original library,
#     and probe lines;
#   - an Authenticode-signed library with its old root cut (the SDK's System.CommandLine
#     .dll, dotnet-format's copy, when present): verified, and its certificate table,
#     past the cut, found whole at its lowered offset.
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
for tool in "$dotnet" mono mcs monodis ilasm; do
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
import collections, glob, os, re, shutil, statistics, subprocess, sys, time
rounds, asm, weave, ilgraft, dotnet, peer, tmp, build = sys.argv[1:9]
dotnet_real = os.path.realpath(dotnet)
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

# The pages of the old metadata root an ilgraft save left out, from bench_weave's line.
def cut_of(text):
    return int(re.search(r"old root left out (\d+) bytes", text).group(1))

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
# (monodis writes "class " before the TypeRef in some assemblies: Mono.Cecil.dll)
CALL_RE = r"IL_0005:\s+call void (class )?\[ProbeLib\]Ns\.Probes::Enter\(string\)$"
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
            if not re.match(CALL_RE, nxt):
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
# The old layout, for comparison: the same weave keeping the whole old root.
cut = cut_of(" ".join(last["ilgraft"]))
kept = run([weave, "--keep-old-root", asm, tmp + "/kept.dll"], "ilgraft --keep-old-root")
kept_size = os.path.getsize(tmp + "/kept.dll")
if kept_size - size["ilgraft"] != cut or cut_of(kept[3]) != 0:
    sys.exit("bench_weave: saved %d bytes, %d with --keep-old-root, but %d bytes of old root "
             "reported left out" % (size["ilgraft"], kept_size, cut))

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
        text = run(argv(t, src, dst), "%s on %s" % (t, what))[3]
        if t == "ilgraft":
            cut = cut_of(text)
            woven_strings(dst, "ilgraft's " + what)  # verify, monodis, every body probed
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
    return len(entered), len(set(entered)), cut


# build/fixtures/wide.exe (fixtures/il/gen_wide_il.c: 1,000 methods in 200 types, a
# metadata root of several pages, SectionAlignment 0x2000 from ilasm), copied and, for
# sa 0x1000, declaring that SectionAlignment (its sections all start on 0x1000 pages).
def wide_program(sa):
    d = "%s/wide%x" % (tmp, sa)
    os.makedirs(d, exist_ok=True)
    src = build + "/fixtures/wide.exe"
    if not os.path.exists(src):
        sys.exit("bench_weave: fixture %s missing (build the ilg_fixtures target)" % src)
    exe = bytearray(open(src, "rb").read())
    opt = int.from_bytes(exe[0x3C:0x40], "little") + 24
    if sa != int.from_bytes(exe[opt + 32:opt + 36], "little"):
        exe[opt + 32:opt + 36] = sa.to_bytes(4, "little")
    open(d + "/wide.exe", "wb").write(exe)
    with open(d + "/wide.runtimeconfig.json", "w") as f:
        f.write('{ "runtimeOptions": { "tfm": "net10.0", "framework": '
                '{ "name": "Microsoft.NETCore.App", "version": "10.0.0" } } }\n')
    return d + "/wide.exe"

fixtures = []
calc_exe = build + "/fixtures/calc.exe"
calc_dll = build + "/fixtures/cs/Calc/Calc.dll"
for src, runner, what in ((calc_exe, ["mono"], "calc.exe under mono"),
                          (calc_dll, [dotnet], "Calc.dll under dotnet")):
    if not os.path.exists(src):
        sys.exit("bench_weave: fixture %s missing (build the ilg_fixtures target)" % src)
    fixtures.append((what,) + fixture(src, runner, what))
for sa in (0x2000, 0x1000):
    wide = wide_program(sa)
    for runner, rname in ((["mono"], "mono"), ([dotnet], "dotnet")):
        what = "wide.exe (ilasm, SectionAlignment 0x%x) under %s" % (sa, rname)
        fixtures.append((what,) + fixture(wide, runner, what))
        if fixtures[-1][3] == 0:
            sys.exit("bench_weave: %s: ilgraft left its old metadata root whole" % what)

# The debug directory's entries of a PE file: each one's data read through its file
# offset (PointerToRawData, which a cut moves) must be its data read through its RVA.
def debug_entries(path):
    d = open(path, "rb").read()
    u32 = lambda at: int.from_bytes(d[at:at + 4], "little")
    pe = u32(0x3C)
    nsec, opt_size, opt = int.from_bytes(d[pe + 6:pe + 8], "little"), \
        int.from_bytes(d[pe + 20:pe + 22], "little"), pe + 24
    secs = [(u32(opt + opt_size + 40 * i + 8), u32(opt + opt_size + 40 * i + 12),
             u32(opt + opt_size + 40 * i + 16), u32(opt + opt_size + 40 * i + 20))
            for i in range(nsec)]
    def offset(rva):
        return next(rp + rva - va for vs, va, rs, rp in secs if va <= rva < va + min(vs, rs))
    dirs = opt + (96 if int.from_bytes(d[opt:opt + 2], "little") == 0x10B else 112)
    at, size = offset(u32(dirs + 48)), u32(dirs + 52)
    n = 0
    for e in range(size // 28):
        length, rva, ptr = u32(at + 28 * e + 16), u32(at + 28 * e + 20), u32(at + 28 * e + 24)
        if rva and length:
            if d[ptr:ptr + length] != d[offset(rva):offset(rva) + length]:
                sys.exit("bench_weave: %s: debug entry %d's data at file offset 0x%x is not its "
                         "data at RVA 0x%x" % (path, e, ptr, rva))
            n += 1
    return n

# The peer's Mono.Cecil.dll (Roslyn) woven by ilgraft, in a copy of the peer.
roslyn = tmp + "/peer_woven"
shutil.copytree(os.path.dirname(peer), roslyn)
os.unlink(roslyn + "/WeavePeer.deps.json")
shutil.copy(tmp + "/ProbeLib.dll", roslyn)
cecil_cut = cut_of(run([weave, os.path.dirname(peer) + "/Mono.Cecil.dll",
                        roslyn + "/Mono.Cecil.dll"], "ilgraft on Mono.Cecil.dll")[3])
woven_strings(roslyn + "/Mono.Cecil.dll", "Mono.Cecil.dll")
cecil_debug = debug_entries(roslyn + "/Mono.Cecil.dll")
if not cecil_debug:
    sys.exit("bench_weave: woven Mono.Cecil.dll: no debug entry with data")
plain_out = run([dotnet, peer, "cecil", calc_exe, tmp + "/calc_plain.exe"], "the peer")[3]
woven_out = run([dotnet, roslyn + "/WeavePeer.dll", "cecil", calc_exe, tmp + "/calc_woven.exe"],
                "the peer with its woven Mono.Cecil.dll")[3]
cecil_probes = sum(1 for l in woven_out.splitlines() if l.startswith("enter "))
if (cecil_cut == 0 or not cecil_probes or
        open(tmp + "/calc_plain.exe", "rb").read() != open(tmp + "/calc_woven.exe", "rb").read()):
    sys.exit("bench_weave: woven Mono.Cecil.dll: old root cut %d bytes, %d probe lines, %s output"
             % (cecil_cut, cecil_probes, "the same" if open(tmp + "/calc_plain.exe", "rb").read()
                == open(tmp + "/calc_woven.exe", "rb").read() else "another"))
# An Authenticode-signed IL library (the SDK's System.CommandLine.dll, when there is
# one): its certificate table, past the cut, must be found whole at its lowered offset.
def cert_table(path):
    d = open(path, "rb").read()
    pe = int.from_bytes(d[0x3C:0x40], "little")
    opt = pe + 24
    dirs = opt + (96 if int.from_bytes(d[opt:opt + 2], "little") == 0x10B else 112)
    at, size = (int.from_bytes(d[dirs + 32 + 4 * k:dirs + 36 + 4 * k], "little") for k in (0, 1))
    return d[at:at + size]
signed = sorted(glob.glob(os.path.dirname(dotnet_real) +
                          "/sdk/*/DotnetTools/dotnet-format/System.CommandLine.dll"))
signed_line = "no Authenticode-signed System.CommandLine.dll in the SDK: not checked"
if signed:
    scl = tmp + "/System.CommandLine.dll"
    scl_cut = cut_of(run([weave, signed[-1], scl], "ilgraft on System.CommandLine.dll")[3])
    v = subprocess.run([ilgraft, "verify", scl], capture_output=True, text=True)
    if scl_cut == 0 or v.returncode != 0 or not cert_table(signed[-1]) or \
            cert_table(scl) != cert_table(signed[-1]):
        sys.exit("bench_weave: %s woven: old root cut %d bytes, verify %d, certificate table %s"
                 % (signed[-1], scl_cut, v.returncode,
                    "the same" if cert_table(scl) == cert_table(signed[-1]) else "lost"))
    signed_line = ("%s (Authenticode-signed) woven by ilgraft, old root cut by %d bytes: "
                   "verified, its %d-byte certificate table whole at its moved offset, its %d "
                   "debug entries' data too" % (signed[-1], scl_cut, len(cert_table(scl)),
                                                debug_entries(scl)))
roslyn_line = ("Mono.Cecil.dll (Roslyn) woven by ilgraft, old root cut by %d bytes: verified, whole "
               "in monodis, its %d debug entries' data at their moved file offsets; the peer "
               "under dotnet with it writes the same file, %d probe lines"
               % (cecil_cut, cecil_debug, cecil_probes))

# ---- the figures ------------------------------------------------------------------------
if rounds == 0:
    print("bench_weave check: %s woven by ilgraft, cecil and dnlib: verified, whole in monodis, "
          "%d bodies each starting ldstr + call Enter, %d distinct names, the same in all three"
          % (asm, woven["ilgraft"][1], len(woven["ilgraft"][0])))
    for what, n, distinct, fcut in fixtures:
        print("fixture %s: the same output from all three woven programs, %d probe lines "
              "(%d methods), then the program's own output unchanged; ilgraft's old root cut "
              "by %d bytes" % (what, n, distinct, fcut))
    print(roslyn_line)
    print(signed_line)
    print("old root left out of ilgraft's %s: %d bytes (--keep-old-root: %d bytes larger)"
          % (name, cut, kept_size - size["ilgraft"]))
    print("%d passed, 0 failed" % (4 + len(fixtures)))
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
      "grown by %d of new rows and strings), alignment %d, less the old root's whole pages "
      "left out of the file %d (%d of it stays in .text, unused)"
      % (grow, body_bytes, out_md, in_md, out_md - in_md, grow - body_bytes - out_md + cut, cut,
         in_md - cut))
print("with --keep-old-root (the old layout) it grows by %d bytes" % (kept_size - in_size))
for t in ("cecil", "dnlib"):
    print("%s's file grew by %d bytes (it rewrites the whole file: bodies in place)" % (t, size[t] - in_size))
for what, n, distinct, fcut in fixtures:
    print("fixture %s: the same output from all three woven programs, %d probe lines "
          "(%d methods), then the program's own output unchanged; ilgraft's old root cut "
          "by %d bytes" % (what, n, distinct, fcut))
print(roslyn_line)
print(signed_line)
print("load average: %s" % open("/proc/loadavg").read().split()[0])
PY

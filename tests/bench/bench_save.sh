#!/usr/bin/env bash
# bench_save.sh: weaving the same entry probe into every method of an assembly and
# writing the result, two ways, in one run:
#   cecil    Mono.Cecil (from Mono's GAC, run with mono): read the module, insert
#            `call PROBE` before the first instruction of every method with a body, write;
#   ilgraft  `ilgraft run --summary --save` with the rules-driven plugin
#            (libilgraft_profiler.so, rule {"match": "*", "action": "probe-entry"},
#            ILGRAFT_LOG_LEVEL=failures) through the harness host: every method
#            JIT-compiled, rewritten through the arena, saved as a new section. Like the
#            peer it reports counts, not every method.
#   ilgraft-threads  the same with --jit-threads T (T = the machine's CPUs): the JIT
#            callbacks from T threads at once, as CoreCLR compiles; the peer (Mono's JIT
#            and GC threads) uses more than one CPU too. Same bodies, other places in
#            the arena: its output is checked like the others.
#   ilgraft-report  the same with the full per-method report on stdout and a plugin log
#            line per rewrite, the interactive default; printed for comparison, with what
#            it adds to the ilgraft run (goal: at most 25%), and what each half adds
#            alone (the host's report with ILGRAFT_LOG_LEVEL=failures; the plugin's
#            log with --summary): from the means, and as the median of the rounds'
#            own ratios (each variant against the ilgraft run of the same round).
# PROBE is a static void() method of the assembly itself (default for Mono's mscorlib:
# System.Threading.Thread::MemoryBarrier), so neither side has to add metadata. Both run
# ROUNDS times, interleaved; prints each one's mean whole-process wall and CPU time,
# peak RSS, and the ratios, after checking both outputs: `ilgraft verify` accepts them
# and monodis finds the probe call as often in each. Goal: ilgraft at least 20x faster.
# The peer's source is tests/bench/bench_save_cecil.cs.
# Usage: tests/bench/bench_save.sh [ILGRAFT] [PLUGIN] [ASSEMBLY] [ROUNDS] [PROBE] [PEER_EXE]
# or:    cmake --build BUILD --target bench_save
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ilgraft=${1:-$here/build/cli/ilgraft}
plugin=${2:-$here/build/profiler/libilgraft_profiler.so}
asm=${3:-/usr/lib/mono/4.5/mscorlib.dll}
rounds=${4:-5}
probe=${5:-System.Threading.Thread::MemoryBarrier}
prebuilt=${6:-}
for tool in "$ilgraft" mono mcs monodis; do
  command -v "$tool" >/dev/null || { echo "bench_save: $tool not found" >&2; exit 1; }
done
[ -r "$plugin" ] || { echo "bench_save: plugin $plugin not found" >&2; exit 1; }
cecil=$(ls -d /usr/lib/mono/gac/Mono.Cecil/*/Mono.Cecil.dll 2>/dev/null | sort -V | tail -1)
[ -n "$cecil" ] || { echo "bench_save: Mono.Cecil not found in Mono's GAC" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cecil_out" "$tmp/ilgraft_out" "$tmp/threads_out" "$tmp/report_out" \
  "$tmp/host_out" "$tmp/log_out"
# The peer is built by the build (target bench_save_cecil) or, without one, here.
if [ -n "$prebuilt" ] && [ -r "$prebuilt" ]; then
  cp "$prebuilt" "$tmp/cecilweave.exe"
else
  mcs -nologo -r:"$cecil" -out:"$tmp/cecilweave.exe" "$here/tests/bench/bench_save_cecil.cs" >/dev/null
fi
cp "$cecil" "$tmp/"
name=$(basename "$asm")
printf '{"rules": [{"match": "*", "action": "probe-entry", "probe": "%s"}]}\n' "$probe" \
  > "$tmp/rules.json"

python3 - "$rounds" "$asm" "$cecil" "$ilgraft" "$plugin" "$tmp" "$probe" "$name" <<'PY'
import os, re, statistics, subprocess, sys, time
rounds, asm, cecil, ilgraft, plugin, tmp, probe, name = sys.argv[1:9]
rounds = int(rounds)
env = dict(os.environ, ILGRAFT_RULES=tmp + "/rules.json", ILGRAFT_LOG=tmp + "/plugin.log")
host = [ilgraft, "run", "--profiler", plugin, "--clsid", "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"]
threads = os.cpu_count() or 1
tools = {
    "ilgraft": host + ["--summary", "--save", tmp + "/ilgraft_out", asm],
    "ilgraft-threads": host + ["--summary", "--jit-threads", str(threads), "--save",
                               tmp + "/threads_out", asm],
    "ilgraft-report": host + ["--save", tmp + "/report_out", asm],
    "host-report": host + ["--save", tmp + "/host_out", asm],
    "plugin-log": host + ["--summary", "--save", tmp + "/log_out", asm],
    "cecil": ["mono", tmp + "/cecilweave.exe", asm, tmp + "/cecil_out/" + name, probe],
}
quiet = dict(env, ILGRAFT_LOG_LEVEL="failures")
envs = {"ilgraft": quiet, "ilgraft-threads": quiet, "ilgraft-report": env, "host-report": quiet,
        "plugin-log": env, "cecil": env}
def run(argv, env, capture=False):
    # Output goes to files, not pipes: the host's report for every method of mscorlib
    # would fill a pipe that nobody reads while we wait.
    # ILGRAFT_LOG is appended to: each run starts a new one, as a user's would.
    if os.path.exists(tmp + "/plugin.log"):
        os.unlink(tmp + "/plugin.log")
    with open(tmp + "/out.txt", "w+") as out, open(tmp + "/err.txt", "w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0); err.seek(0)
        text = (out.read() if capture else "") + err.read()[-4000:]
    if status != 0:
        sys.exit("bench_save: %s exited with status %d: %s" % (argv[0], status, text[-2000:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, text
tot = {k: [0.0, 0.0, 0] for k in tools}
per = {k: [] for k in tools}
last = {}
for r in range(rounds):
    for k, argv in tools.items():
        w, c, m, text = run(argv, envs[k], capture=(r == rounds - 1))
        tot[k][0] += w; tot[k][1] += c; tot[k][2] = max(tot[k][2], m)
        per[k].append((w, c))
        last[k] = text
# Both outputs must be real: verified, and the probe call in as many methods.
probe_call = "call void class %s()" % probe
counts = {}
# The report changes nothing in what is saved.
for k in ("report", "host", "log"):
    if open("%s/%s_out/%s" % (tmp, k, name), "rb").read() != open("%s/ilgraft_out/%s" % (tmp, name), "rb").read():
        sys.exit("bench_save: the saved image differs between the summary and the %s run" % k)
for k in ("ilgraft", "threads", "cecil"):
    out = "%s/%s_out/%s" % (tmp, k, name)
    v = subprocess.run([ilgraft, "verify", out], capture_output=True, text=True)
    if v.returncode != 0:
        sys.exit("bench_save: ilgraft verify rejects the %s output: %s" % (k, v.stdout[-500:] + v.stderr[-500:]))
    dis = subprocess.run(["monodis", out], capture_output=True, text=True)
    if dis.returncode != 0:
        sys.exit("bench_save: monodis fails on the %s output" % k)
    counts[k] = sum(1 for line in dis.stdout.splitlines() if line.strip().endswith(probe_call)
                    and "IL_0000:" in line)
    counts[k + "_size"] = os.path.getsize(out)
summary = [l for l in last["ilgraft"].splitlines() if re.search(r"methods, .* rewritten", l)]
summary_t = [l for l in last["ilgraft-threads"].splitlines() if re.search(r"methods, .* rewritten", l)]
if [s.strip() for s in summary] != [s.strip() for s in summary_t]:
    sys.exit("bench_save: --jit-threads %d reports other counts: %s / %s" % (threads, summary, summary_t))
wi, ci, mi = tot["ilgraft"][0] / rounds, tot["ilgraft"][1] / rounds, tot["ilgraft"][2]
wt, ct, mt = tot["ilgraft-threads"][0] / rounds, tot["ilgraft-threads"][1] / rounds, tot["ilgraft-threads"][2]
wr, cr, mr = tot["ilgraft-report"][0] / rounds, tot["ilgraft-report"][1] / rounds, tot["ilgraft-report"][2]
wc, cc, mc = tot["cecil"][0] / rounds, tot["cecil"][1] / rounds, tot["cecil"][2]
print("assembly: %s (%d rounds, interleaved); probe %s" % (asm, rounds, probe))
print("peer: %s" % cecil)
print("ilgraft: %s" % (summary[-1].strip() if summary else "?"))
print("cecil:   %s" % last["cecil"].strip().splitlines()[-1])
print("probe call at IL_0000 (monodis): ilgraft %d, with %d JIT threads %d, cecil %d"
      % (counts["ilgraft"], threads, counts["threads"], counts["cecil"]))
print("output bytes: ilgraft %d, with %d JIT threads %d, cecil %d"
      % (counts["ilgraft_size"], threads, counts["threads_size"], counts["cecil_size"]))
print("ilgraft run --save: %8.1f ms wall  %8.1f ms cpu  peak %7d KB" % (wi * 1e3, ci * 1e3, mi))
print("  --jit-threads %-3d  %8.1f ms wall  %8.1f ms cpu  peak %7d KB" % (threads, wt * 1e3, ct * 1e3, mt))
print("  with full report:  %8.1f ms wall  %8.1f ms cpu  peak %7d KB" % (wr * 1e3, cr * 1e3, mr))
print("cecil weave+write:  %8.1f ms wall  %8.1f ms cpu  peak %7d KB" % (wc * 1e3, cc * 1e3, mc))
print("ratios (cecil / ilgraft): wall %.1fx, cpu %.1fx, memory %.1fx" % (wc / wi, cc / ci, mc / mi))
print("  --jit-threads %-3d        wall %.1fx, cpu %.1fx, memory %.1fx" % (threads, wc / wt, cc / ct, mc / mt))
print("  with full report:        wall %.1fx, cpu %.1fx, memory %.1fx" % (wc / wr, cc / cr, mc / mr))
# What a report adds, from the means and, steadier on a shared machine (one stalled
# round moves a mean), as the median of each round's ratio to that round's ilgraft run.
def adds(k):
    w, c = tot[k][0] / rounds, tot[k][1] / rounds
    mw = statistics.median(per[k][r][0] / per["ilgraft"][r][0] for r in range(rounds))
    mc = statistics.median(per[k][r][1] / per["ilgraft"][r][1] for r in range(rounds))
    return "wall %+.0f%%, cpu %+.0f%% (per-round median: wall %+.0f%%, cpu %+.0f%%)" % (
        100 * (w / wi - 1), 100 * (c / ci - 1), 100 * (mw - 1), 100 * (mc - 1))
print("the full report adds (goal: 25%%): %s" % adds("ilgraft-report"))
for k, what in (("host-report", "the host's report alone"), ("plugin-log", "the plugin's log alone")):
    print("  %-24s %s" % (what + ":", adds(k)))
print("load average: %s" % open("/proc/loadavg").read().split()[0])
PY

#!/usr/bin/env bash
# bench_verify.sh: `ilgraft verify` at level jit (what CoreCLR's JIT refuses: the type
# pass over every path, token and member resolution, references followed into the
# assemblies beside the image) against level structural (stack depths and EH
# structure) on the same assembly, ROUNDS times each, interleaved, one worker thread
# (so that CPU time is the work done) and then the default threads. Prints each
# level's mean whole-process wall and CPU time, per body and in total, and the ratio
# jit / structural. Goal: jit at most 3x structural.
# Usage: tests/bench/bench_verify.sh [ILGRAFT] [ROUNDS] [ASSEMBLY...]
#   (default: Mono's mscorlib and .NET's System.Private.CoreLib)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ilgraft=${1:-$here/build/cli/ilgraft}
rounds=${2:-20}
shift $(( $# > 2 ? 2 : $# ))
if [ $# -eq 0 ]; then
  set -- /usr/lib/mono/4.5/mscorlib.dll \
    "$(ls -d /usr/share/dotnet/shared/Microsoft.NETCore.App/*/System.Private.CoreLib.dll | sort -V | tail -1)"
fi
[ -x "$ilgraft" ] || { echo "bench_verify: $ilgraft not found" >&2; exit 1; }

# Each run measured with wait4(): wall time and CPU time (user + sys) of the process.
python3 - "$ilgraft" "$rounds" "$@" <<'PY'
import json, os, subprocess, sys, time
ilgraft, rounds, images = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def run(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status), out

print("load average: %.2f %.2f %.2f" % os.getloadavg())
for image in images:
    for threads in ("1", None):
        res = {}
        for level in ("structural", "jit"):
            res[level] = [0.0, 0.0, 0]
        bodies = None
        for r in range(rounds + 1):
            for level in ("structural", "jit"):
                argv = [ilgraft, "verify", "--json", "--no-progress", "--level", level]
                if threads:
                    argv += ["--threads", threads]
                wall, cpu, rc, out = run(argv + [image])
                doc = json.loads(out)
                if rc not in (0, 1):
                    sys.exit("bench_verify: %s failed (%d)" % (" ".join(argv), rc))
                bodies = doc["bodies"]
                if r == 0:
                    continue  # warm-up: page cache, first faults
                res[level][0] += wall
                res[level][1] += cpu
                res[level][2] += 1
        name = os.path.basename(image)
        print("%s, %s thread%s, %d bodies, %d rounds:" % (name, threads or "default", "" if threads == "1" else "s",
                                                           bodies, rounds))
        for level in ("structural", "jit"):
            w, c, n = res[level]
            print("  %-10s wall %7.2f ms (%6.0f ns/body)   CPU %7.2f ms (%6.0f ns/body)" %
                  (level, 1e3 * w / n, 1e9 * w / n / bodies, 1e3 * c / n, 1e9 * c / n / bodies))
        s, j = res["structural"], res["jit"]
        print("  jit / structural: wall %.2fx, CPU %.2fx" % ((j[0] / j[2]) / (s[0] / s[2]), (j[1] / j[2]) / (s[1] / s[2])))
PY

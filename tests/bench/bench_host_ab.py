#!/usr/bin/env python3
"""bench_host_ab.py: two builds of the host compared on bench_plugin.sh's host session.

    tests/bench/bench_host_ab.py BASE_BUILD NEW_BUILD [ROUNDS] [ASSEMBLY]

`ilgraft run` + the plugin over Mono's mscorlib with rules that match nothing (the host's
own cost per JIT event, bench_plugin.sh's "no match" session), the two builds
interleaved; prints the medians of CPU time (user + sys of the child, from getrusage:
steadier than wall time on a shared machine) and of wall time, and NEW/BASE. AB_RULES in
the environment: other rules (e.g. probe-entry on every method). Run it twice with the
builds swapped: going first or second moves the figures by a percent or two."""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CLSID = "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
NO_MATCH = '{"rules": [{"match": "No.Such::Method", "action": "identity"}]}'


def run(build, asm, env):
    """(CPU ms, wall ms) of one session."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([build + "/cli/ilgraft", "run", "--profiler",
                    build + "/profiler/libilgraft_profiler.so", "--clsid", CLSID, asm],
                   env=env, stdout=subprocess.DEVNULL, check=True)
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return cpu * 1e3, (t1 - t0) * 1e3


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    base, new = argv[0], argv[1]
    rounds = int(argv[2]) if len(argv) > 2 else 21
    asm = argv[3] if len(argv) > 3 else "/usr/lib/mono/4.5/mscorlib.dll"
    with tempfile.TemporaryDirectory() as work:
        rules = os.path.join(work, "rules.json")
        with open(rules, "w") as f:
            f.write(os.environ.get("AB_RULES", NO_MATCH))
        env = dict(os.environ, ILGRAFT_RULES=rules, ILGRAFT_LOG=os.path.join(work, "log"))
        a, b = [], []
        for _ in range(rounds):
            a.append(run(base, asm, env))
            b.append(run(new, asm, env))
    ca, cb = (statistics.median(x[0] for x in s) for s in (a, b))
    wa, wb = (statistics.median(x[1] for x in s) for s in (a, b))
    print("%s, median of %d: CPU base %.1f ms, new %.1f ms, new/base %.3f; "
          "wall base %.1f ms, new %.1f ms, new/base %.3f"
          % (os.path.basename(asm), rounds, ca, cb, cb / ca, wa, wb, wb / wa))


if __name__ == "__main__":
    main(sys.argv[1:])

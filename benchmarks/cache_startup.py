#!/usr/bin/python3
"""Process start-up with a cold and a warm disk kernel cache.

Runs trueno-cache-probe (tests/cache), which realizes N distinct programs,
three times each way: with an empty cache directory (every program compiled)
and with the directory the previous run filled (every program loaded). Prints
the process wall time and the median time of one program's first realize
(compile, or load from disk). Usage:

    /usr/bin/python3 benchmarks/cache_startup.py build/tests/trueno-cache-probe [N]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(probe, cache, n):
    env = dict(os.environ, TRUENO_CACHE_DIR=cache)
    env.pop("TRUENO_CACHE", None)
    start = time.perf_counter()
    out = subprocess.run([probe, "run", str(n)], env=env, check=True,
                         capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    fields = dict(kv.split("=") for kv in out.split())
    # Programs missed and hit on disk (a program may compile several
    # kernels: "compiled" counts those).
    return (wall, float(fields["median_realize_ms"]),
            int(fields["disk_misses"]), int(fields["disk_hits"]),
            int(fields["compiled"]))


def main():
    probe = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    cold, warm = [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            cache = os.path.join(tmp, "cache")
            cold.append(run(probe, cache, n))
            warm.append(run(probe, cache, n))
    assert all(c[2] == n and c[3] == 0 for c in cold), cold
    assert all(w[2] == 0 and w[3] == n and w[4] == 0 for w in warm), warm
    for name, runs in (("cold cache", cold), ("warm cache", warm)):
        print(f"{name}: process {statistics.median(r[0] for r in runs) * 1e3:8.1f} ms"
              f" for {n} programs; median first realize "
              f"{statistics.median(r[1] for r in runs):6.2f} ms per program")


if __name__ == "__main__":
    main()

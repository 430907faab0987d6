#!/usr/bin/python3
"""Trueno next to NumPy and PyTorch, in one run on one machine.

Runs trueno-bench-eager (Google Benchmark, medians of repetitions), then the
same cases in NumPy and in PyTorch (torch.set_num_threads equal to Trueno's
thread count), both allocating their results and writing into preallocated
outputs (out=), since fresh pages are expensive here. Inputs are checked
against NumPy before timing. Prints medians, ratios and the fraction of the
memory-bandwidth floor (bytes moved / STREAM triad bandwidth measured in the
same run); --json writes them.

Usage: compare.py PATH/TO/trueno-bench-eager [--quick] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import torch

SIZES = [1 << 20, 10 << 20]


def median_time(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def numpy_cases(n):
    a = np.full(n, 0.5, np.float32)
    b = np.full(n, 1.5, np.float32)
    c = np.full(n, -0.25, np.float32)
    t = np.empty(n, np.float32)
    y = np.empty(n, np.float32)

    def exp_fma():
        return np.exp(a * b + c)

    def exp_fma_out():
        np.multiply(a, b, out=t)
        np.add(t, c, out=t)
        np.exp(t, out=y)

    def chain():
        v = np.exp(a * b + c)
        v = np.sqrt(np.abs(np.tanh(-v) - a))
        return 1 / (1 + np.exp(-np.maximum(v, c)))

    def chain_out():
        np.multiply(a, b, out=t)
        np.add(t, c, out=t)
        np.exp(t, out=t)
        np.negative(t, out=t)
        np.tanh(t, out=t)
        np.subtract(t, a, out=t)
        np.abs(t, out=t)
        np.sqrt(t, out=t)
        np.maximum(t, c, out=t)
        np.negative(t, out=t)  # sigmoid as 1 / (1 + exp(-x)), in place
        np.exp(t, out=t)
        np.add(t, 1, out=t)
        np.reciprocal(t, out=y)

    def arith():
        v = np.abs(a * b + c - a)
        v = -np.minimum(np.maximum(v, b), c)
        return np.maximum(v * 0.5 + 1.0, 0)

    def arith_out():
        np.multiply(a, b, out=t)
        np.add(t, c, out=t)
        np.subtract(t, a, out=t)
        np.abs(t, out=t)
        np.maximum(t, b, out=t)
        np.minimum(t, c, out=t)
        np.negative(t, out=t)
        np.multiply(t, 0.5, out=t)
        np.add(t, 1.0, out=t)
        np.maximum(t, 0, out=y)

    return {"expFma": exp_fma, "expFma out=": exp_fma_out, "chain": chain,
            "chain out=": chain_out, "chainArith": arith,
            "chainArith out=": arith_out}


def torch_cases(n):
    a = torch.full((n,), 0.5)
    b = torch.full((n,), 1.5)
    c = torch.full((n,), -0.25)
    t = torch.empty(n)
    y = torch.empty(n)

    def exp_fma():
        return torch.exp(a * b + c)

    def exp_fma_out():
        torch.mul(a, b, out=t)
        t.add_(c)
        torch.exp(t, out=y)

    def chain():
        v = torch.exp(a * b + c)
        v = torch.sqrt(torch.abs(torch.tanh(-v) - a))
        return torch.sigmoid(torch.maximum(v, c))

    def chain_out():
        torch.mul(a, b, out=t)
        t.add_(c).exp_().neg_().tanh_().sub_(a).abs_().sqrt_()
        torch.maximum(t, c, out=t)
        torch.sigmoid(t, out=y)

    def arith():
        v = torch.abs(a * b + c - a)
        v = -torch.minimum(torch.maximum(v, b), c)
        return torch.relu(v * 0.5 + 1.0)

    def arith_out():
        torch.mul(a, b, out=t)
        t.add_(c).sub_(a).abs_()
        torch.maximum(t, b, out=t)
        torch.minimum(t, c, out=t)
        t.neg_().mul_(0.5).add_(1.0)
        torch.clamp(t, min=0, out=y)

    return {"expFma": exp_fma, "expFma out=": exp_fma_out, "chain": chain,
            "chain out=": chain_out, "chainArith": arith,
            "chainArith out=": arith_out}


def check_references(n=4096):
    """The Python cases compute what Trueno computes (checked on data)."""
    np_cases, t_cases = numpy_cases(n), torch_cases(n)
    e_np, e_t = np_cases["expFma"](), t_cases["expFma"]().numpy()
    c_np, c_t = np_cases["chain"](), t_cases["chain"]().numpy()
    r_np, r_t = np_cases["chainArith"](), t_cases["chainArith"]().numpy()
    assert np.allclose(e_np, e_t, rtol=1e-5) and np.allclose(c_np, c_t, rtol=1e-5)
    assert np.allclose(r_np, r_t, rtol=1e-6)


def run_trueno(binary, repetitions, threads):
    env = dict(os.environ)
    out = subprocess.run(
        [binary, "--benchmark_format=json",
         f"--benchmark_repetitions={repetitions}",
         "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True, env=env).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median" and b["run_type"] == "aggregate":
            continue
        name = b["run_name"]
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        results[name] = {"seconds": b["real_time"] * unit,
                         "counters": {k: v for k, v in b.items()
                                      if k in ("bytes_per_second", "us_per_op",
                                               "compile_ms", "threads")}}
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--quick", action="store_true",
                        help="one repetition at small sizes (CI smoke run)")
    parser.add_argument("--json")
    args = parser.parse_args()
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    check_references()
    repetitions = 1 if args.quick else 7
    trueno = run_trueno(args.binary, repetitions, threads)
    triad = trueno["streamTriad/10485760/real_time"]
    bandwidth = triad["counters"]["bytes_per_second"]

    rows = []
    print(f"machine: {threads} threads; torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"STREAM triad bandwidth: {bandwidth / 1e9:.2f} GB/s\n")
    header = (f"{'case':<18}{'trueno ms':>10}{'numpy':>9}{'np out=':>9}"
              f"{'torch':>9}{'th out=':>9}{'x numpy':>9}{'x torch':>9}"
              f"{'x th out=':>10}{'of floor':>9}")
    print(header)
    sizes = SIZES[:1] if args.quick else SIZES
    for n in sizes:
        np_cases, t_cases = numpy_cases(n), torch_cases(n)
        for case in ("expFma", "chain", "chainArith"):
            key = f"{case}/{n}/real_time"
            if key not in trueno:
                continue
            ours = trueno[key]["seconds"]
            reps = 3 if args.quick else 30
            timings = {
                "numpy": median_time(np_cases[case], reps)[0],
                "numpy out=": median_time(np_cases[case + " out="], reps)[0],
                "torch": median_time(t_cases[case], reps)[0],
                "torch out=": median_time(t_cases[case + " out="], reps)[0],
            }
            floor = n * 16 / bandwidth
            row = {"case": f"{case} {n >> 20}M", "trueno_ms": ours * 1e3,
                   **{k + "_ms": v * 1e3 for k, v in timings.items()},
                   "speedup_vs_numpy": timings["numpy"] / ours,
                   "speedup_vs_torch": timings["torch"] / ours,
                   "speedup_vs_torch_out": timings["torch out="] / ours,
                   "fraction_of_floor": floor / ours}
            rows.append(row)
            print(f"{row['case']:<18}{ours * 1e3:>10.3f}"
                  f"{timings['numpy'] * 1e3:>9.3f}{timings['numpy out='] * 1e3:>9.3f}"
                  f"{timings['torch'] * 1e3:>9.3f}{timings['torch out='] * 1e3:>9.3f}"
                  f"{row['speedup_vs_numpy']:>9.2f}{row['speedup_vs_torch']:>9.2f}"
                  f"{row['speedup_vs_torch_out']:>10.2f}{row['fraction_of_floor']:>9.2f}")

    x1 = torch.full((1,), 1.0)
    torch_op = median_time(lambda: torch.add(x1, 0.5), 2000 if not args.quick else 50)[0]
    per_op = trueno["perOpOverhead"]["counters"]["us_per_op"]
    compile_ms = trueno["compileFresh/iterations:15"]["counters"]["compile_ms"]
    print(f"\nper-op overhead on 1-element tensors (record + realize, cache hit): "
          f"trueno {per_op:.3f} us, torch {torch_op * 1e6:.3f} us per op")
    print(f"compile time of a fresh fused kernel (median): {compile_ms:.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bandwidth_gbs": bandwidth / 1e9, "rows": rows,
                       "per_op_us": per_op, "torch_per_op_us": torch_op * 1e6,
                       "compile_ms": compile_ms}, f, indent=2)


if __name__ == "__main__":
    main()

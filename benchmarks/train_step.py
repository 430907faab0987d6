#!/usr/bin/env python3
"""One SGD step of an MLP (784-256-128-10) and a small CNN (conv 1->32 3x3,
relu, max pool, conv 32->64 3x3, relu, max pool, linear), batch 64, float32,
in Trueno, PyTorch (Python) and libtorch (C++), in one run, 2 threads each.

usage: train_step.py TRUENO_BENCH [TORCH_BENCH] [--steps N] [--only mlp|cnn]

TRUENO_BENCH is build/benchmarks/trueno-bench-train, TORCH_BENCH
build/benchmarks/torch-bench-train (built when Debian's libtorch-dev is
installed). PyTorch is timed at its best: with its default kernels and with
ATEN_CPU_CAPABILITY=avx512, oneDNN on and off, and the fastest is kept.
Prints medians (min-max) per step, forward alone, the first step (compile
included), backward/forward ratios, and Trueno's speedup over each.
"""
import argparse
import os
import subprocess
import sys

PYTORCH = r'''
import sys, time, torch, torch.nn.functional as F
torch.set_num_threads(2)
torch.backends.mkldnn.enabled = sys.argv[3] == "1"
torch.manual_seed(0)
steps, only = int(sys.argv[1]), sys.argv[2]
def uniform(shape, bound):
    return (torch.rand(shape) * (2 * bound) - bound).requires_grad_()
def run(name, p, forward, shape):
    x = torch.randn(shape); y = torch.randint(0, 10, (shape[0],))
    def step():
        loss = F.cross_entropy(forward(x), y)
        for t in p: t.grad = None
        loss.backward()
        with torch.no_grad():
            for t in p: t.sub_(t.grad * 0.01)
        return loss.item()
    def report(measure, t):
        t = sorted(t); print(name, measure, t[len(t)//2], t[0], t[-1], flush=True)
    a = time.perf_counter(); step(); report("first", [1e3 * (time.perf_counter() - a)])
    times = []
    for _ in range(steps):
        a = time.perf_counter(); step(); times.append(1e3 * (time.perf_counter() - a))
    report("step", times)
    times = []
    for _ in range(steps):
        a = time.perf_counter(); F.cross_entropy(forward(x), y).item()
        times.append(1e3 * (time.perf_counter() - a))
    report("forward", times)
if only in ("", "mlp"):
    s = [784, 256, 128, 10]; p = []
    for i in range(3):
        b = 1 / s[i] ** 0.5; p += [uniform((s[i+1], s[i]), b), uniform((s[i+1],), b)]
    def mlp(x):
        h = torch.relu(F.linear(x, p[0], p[1])); h = torch.relu(F.linear(h, p[2], p[3]))
        return F.linear(h, p[4], p[5])
    run("mlp", p, mlp, (64, 784))
if only in ("", "cnn"):
    q = [uniform((32, 1, 3, 3), 1/3), uniform((32,), 1/3),
         uniform((64, 32, 3, 3), 1/288**0.5), uniform((64,), 1/288**0.5),
         uniform((10, 1600), 1/40), uniform((10,), 1/40)]
    def cnn(x):
        h = F.max_pool2d(torch.relu(F.conv2d(x, q[0], q[1])), 2)
        h = F.max_pool2d(torch.relu(F.conv2d(h, q[2], q[3])), 2)
        return F.linear(h.flatten(1), q[4], q[5])
    run("cnn", q, cnn, (64, 1, 28, 28))
'''


def parse(text):
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 5:
            out[(f[0], f[1])] = tuple(map(float, f[2:]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trueno")
    ap.add_argument("torch_bench", nargs="?")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="2")
    results = {}
    results["trueno"] = parse(subprocess.run(
        [a.trueno, str(a.steps), a.only], capture_output=True, text=True, env=env,
        check=True).stdout)
    if a.torch_bench:
        results["libtorch"] = parse(subprocess.run(
            [a.torch_bench, str(a.steps), a.only, "2"], capture_output=True,
            text=True, env=env, check=True).stdout)
    best = {}
    for capability in ("", "avx512"):
        for mkldnn in ("1", "0"):
            e = dict(env)
            if capability:
                e["ATEN_CPU_CAPABILITY"] = capability
            r = parse(subprocess.run(
                ["/usr/bin/python3", "-c", PYTORCH, str(a.steps), a.only, mkldnn],
                capture_output=True, text=True, env=e, check=True).stdout)
            for key, value in r.items():
                if key not in best or value[0] < best[key][0]:
                    best[key] = value
    results["pytorch"] = best
    print(f"{'model':5} {'measure':8} " + " ".join(f"{k:>24}" for k in results))
    for model in ("mlp", "cnn"):
        for measure in ("step", "forward", "first"):
            cells = []
            for k in results:
                v = results[k].get((model, measure))
                cells.append(f"{v[0]:9.3f} ({v[1]:.3f}-{v[2]:.3f})" if v else "-")
            if any(c != "-" for c in cells):
                print(f"{model:5} {measure:8} " + " ".join(f"{c:>24}" for c in cells))
        t = results["trueno"].get((model, "step"))
        if not t:
            continue
        for k in results:
            if k == "trueno" or (model, "step") not in results[k]:
                continue
            print(f"{model}: Trueno's step is {results[k][(model, 'step')][0] / t[0]:.2f}x "
                  f"faster than {k}'s (medians)")
        for k in results:
            s, f = results[k].get((model, "step")), results[k].get((model, "forward"))
            if s and f:
                print(f"{model}: {k} backward+update / forward = {(s[0] - f[0]) / f[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

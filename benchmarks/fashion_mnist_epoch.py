#!/usr/bin/env python3
"""One training epoch of the main job's CNN on Fashion-MNIST (batch 64,
Adam 1e-3, shuffled, the loss and accuracy read every step) in Trueno
(tools/trueno-fashion-mnist itself), PyTorch (Python) and libtorch (C++),
side by side in one run, 2 threads each; and each process's peak memory.

usage: fashion_mnist_epoch.py TRUENO_MAIN [TORCH_MAIN] [--images N] [--runs R]

TRUENO_MAIN is build/tools/trueno-fashion-mnist/trueno-fashion-mnist,
TORCH_MAIN build/benchmarks/torch-fashion-mnist (built when Debian's
libtorch-dev is installed). PyTorch is timed four ways (its default
kernels and ATEN_CPU_CAPABILITY=avx512, oneDNN on and off) and its fastest
kept. --images limits the epoch to the first N training images (a quick
check); the default is all 60000. Each figure is the median of R runs.
"""
import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"

PYTORCH = r'''
import sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
torch.backends.mkldnn.enabled = sys.argv[3] == "1"
torch.manual_seed(0)
n = int(sys.argv[4])
x = torch.from_numpy(np.fromfile(sys.argv[1], np.float32)[:n * 784].reshape(n, 1, 28, 28).copy())
y = torch.from_numpy(np.fromfile(sys.argv[2], np.int64)[:n].copy())
model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                      nn.Dropout(0.25), nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
order = torch.randperm(n)
correct = seen = 0
start = time.perf_counter()
for b in range(0, n - 63, 64):
    t0 = time.perf_counter()
    idx = order[b:b + 64]
    xb, yb = x[idx], y[idx]
    logits = model(xb)
    loss = F.cross_entropy(logits, yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    loss.item()
    correct += (logits.argmax(1) == yb).sum().item()
    seen += 64
    if b == 0:
        first = 1e3 * (time.perf_counter() - t0)
print(f"epoch_seconds {time.perf_counter() - start:.3f} first_step_ms {first:.1f} "
      f"train_accuracy {correct / seen:.4f}")
'''


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def run(command, env=None):
    """Runs a process; returns its output and peak resident size in MiB."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{out}")
    return out, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trueno")
    ap.add_argument("torch_main", nargs="?")
    ap.add_argument("--images", type=int, default=60000)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    n = args.images - args.images % 64
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        images = (idx(f"{DATA}/train-images-idx3-ubyte.gz")[:n].astype(np.float32) / 255
                  - 0.2860) / 0.3530
        labels = idx(f"{DATA}/train-labels-idx1-ubyte.gz")[:n].astype(np.int64)
        xs, ys = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.i64")
        images.tofile(xs)
        labels.tofile(ys)
        script = os.path.join(tmp, "epoch.py")
        with open(script, "w") as f:
            f.write(PYTORCH)
        env2 = dict(os.environ, OMP_NUM_THREADS="2")
        for r in range(args.runs):
            out, rss = run([args.trueno, "--epochs", "1", "--train-subset", str(n),
                            "--test-subset", "1000", "--out", os.path.join(tmp, "run")],
                           env2)
            m = re.search(r"epoch 1: .*\| ([0-9.]+) s,", out)
            first = re.search(r"first step ([0-9.]+) ms", out)
            results.setdefault("Trueno", []).append(
                (float(m.group(1)), float(first.group(1)), rss))
            best = None
            for capability in ("", "avx512"):
                for onednn in ("1", "0"):
                    env = dict(env2)
                    if capability:
                        env["ATEN_CPU_CAPABILITY"] = capability
                    out, rss = run(["/usr/bin/python3", script, xs, ys, onednn, str(n)], env)
                    f = out.split()
                    t = (float(f[1]), float(f[3]), rss)
                    label = f"PyTorch ({capability or 'default'}, oneDNN {'on' if onednn == '1' else 'off'})"
                    results.setdefault(label, []).append(t)
                    if best is None or t[0] < best[0]:
                        best = t
            results.setdefault("PyTorch, fastest", []).append(best)
            if args.torch_main:
                out, rss = run([args.torch_main, xs, ys, str(n), "2"], env2)
                f = out.split()
                results.setdefault("libtorch", []).append((float(f[1]), float(f[3]), rss))
    print(f"one epoch of {n} images, batch 64, Adam, 2 threads "
          f"(median of {args.runs} run(s)):")
    print(f"{'':34} {'epoch s':>9} {'first step ms':>14} {'peak MiB':>9} {'Trueno / it':>12}")
    trueno = statistics.median(t[0] for t in results["Trueno"])
    for label, runs in results.items():
        epoch = statistics.median(t[0] for t in runs)
        first = statistics.median(t[1] for t in runs)
        rss = statistics.median(t[2] for t in runs)
        print(f"{label:34} {epoch:9.2f} {first:14.1f} {rss:9.0f} {trueno / epoch:12.2f}")


if __name__ == "__main__":
    main()

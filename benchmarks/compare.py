#!/usr/bin/python3
"""Trueno next to NumPy and PyTorch, in one run on one machine.

1. Checks that Trueno computes what NumPy computes: trueno-bench-eager
   --check writes every timed expression on seeded random inputs, and each
   must match NumPy within float32 tolerances.
2. Runs trueno-bench-eager (Google Benchmark; medians, min and max of the
   repetitions) and the same cases in NumPy and PyTorch (torch threads set to
   Trueno's core count), both allocating results and writing into
   preallocated outputs (out=), since fresh pages are expensive here. Small
   inputs are rotated through 64 MiB on every side, so no case is timed from
   the cache alone.
3. Prints medians, ratios (how many times faster Trueno is) and the fraction
   of the memory-bandwidth floor (bytes moved / STREAM triad bandwidth of the
   same run); --json saves everything, --chart draws the ratios as SVG.

PyTorch is timed at its best: Debian's build runs its AVX2 kernels unless
ATEN_CPU_CAPABILITY=avx512 is set before it loads, so a second process with
that setting times every PyTorch case too (case by case, next to the
first), and the ratios are against the faster of the two. Trueno is also
timed with its code generated for AVX2 (TRUENO_CPU=x86-64-v3) and SSE2
(TRUENO_CPU=x86-64) unless --native-only, and --before PATH times an
earlier build's trueno-bench-eager in the same run.

Usage: compare.py PATH/TO/trueno-bench-eager [--quick] [--json F] [--chart F]
                  [--probe PATH/TO/trueno-cache-probe] [--only TEXT]
                  [--before PATH/TO/OLD/trueno-bench-eager] [--native-only]
(--quick: one repetition at small sizes, the CI smoke run; --probe adds the
first-realize time of programs compiled cold and loaded from a warm disk
kernel cache; --only TEXT times just the cases whose name contains TEXT).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# The worker that times PyTorch with its AVX-512 kernels: this same script,
# started with ATEN_CPU_CAPABILITY set (read when torch loads).
WORKER = "--torch-worker" in sys.argv

# OpenBLAS picks its AVX-512 kernel only when these are unset (this machine
# sets them for other tools); NumPy, PyTorch and Trueno all load it after
# this point, in this process or its children.
for _variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_variable, None)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROTATE_BYTES = 64 << 20


def timed(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


# ---- The expressions, written once per library -----------------------------

def np_expfma(a, b, c):
    return np.exp(a * b + c)


def np_chain(a, b, c):
    v = np.exp(a * b + c)
    v = np.sqrt(np.abs(np.tanh(-v) - a))
    return 1 / (1 + np.exp(-np.maximum(v, c)))


def np_arith(a, b, c):
    v = np.abs(a * b + c - a)
    v = -np.minimum(np.maximum(v, b), c)
    return np.maximum(v * 0.5 + 1.0, 0)


REFERENCE = {"expFma": np_expfma, "chain": np_chain, "chainArith": np_arith,
             "add": lambda a, b, c: a + b,
             "sum": lambda a, b, c: np.sum(a.astype(np.float64)),
             "mean": lambda a, b, c: np.mean(a.astype(np.float64)),
             "broadcastAdd": lambda a, b, c: a[:64].reshape(64, 1) + b[:64].reshape(1, 64),
             "matmul": lambda a, b, c: a.reshape(64, 64).astype(np.float64) @ b.reshape(64, 64),
             "conv2d": lambda a, b, c: np_conv2d(
                 a.reshape(4, 4, 16, 16).astype(np.float64),
                 b[:288].reshape(8, 4, 3, 3).astype(np.float64), c[:8]),
             "depthwise": lambda a, b, c: np_depthwise(
                 a.reshape(4, 16, 8, 8).astype(np.float64),
                 b[:144].reshape(16, 1, 3, 3).astype(np.float64), c[:16]),
             "softmax": lambda a, b, c: np_softmax(a.reshape(64, 64).astype(np.float64)),
             "linearRelu": lambda a, b, c: np.maximum(
                 a.reshape(64, 64).astype(np.float64) @ b.reshape(64, 64).T + c[:64], 0)}


def np_softmax(x, out=None, scratch=None):
    """softmax over the last axis; with out= and scratch= it allocates
    nothing (max and sum rows go to scratch)."""
    if out is None:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    np.max(x, axis=-1, keepdims=True, out=scratch)
    np.subtract(x, scratch, out=out)
    np.exp(out, out=out)
    np.sum(out, axis=-1, keepdims=True, out=scratch)
    np.divide(out, scratch, out=out)
    return out


def np_conv2d(x, w, b, out=None):
    """NCHW convolution, stride 1, no padding: windows as a strided view and
    one BLAS contraction (einsum with optimize=True, which writes into out)."""
    windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))
    if out is None:
        y = np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True)
        return y + b[None, :, None, None]
    np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True, out=out)
    out += b[None, :, None, None]
    return out


def np_depthwise(x, w, b, out=None):
    """Depthwise 3x3 convolution, padding 1: windows of the padded input as a
    strided view, one einsum per channel set (writes into out)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    if out is None:
        return np.einsum("nchwij,cij->nchw", windows, w[:, 0]) + b[None, :, None, None]
    np.einsum("nchwij,cij->nchw", windows, w[:, 0], out=out)
    out += b[None, :, None, None]
    return out


def depthwise_cases(lib, n, c, h):
    """Depthwise conv2d with bias (groups = channels, 3x3, padding 1);
    PyTorch in its faster configuration here, as conv2d_cases."""
    pick = rotated(lib, [(n, c, h, h), (c, 1, 3, 3), (c,)])
    if lib == "numpy":
        out = np.empty((n, c, h, h), np.float32)
        return {"depthwise": lambda: np_depthwise(*pick()),
                "depthwise out=": lambda: np_depthwise(*pick(), out)}
    conv = lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=c)  # noqa: E731
    best = None
    for enabled in (True, False):
        with torch.backends.mkldnn.flags(enabled=enabled):
            t = timed(lambda: conv(*pick()), 10)[0]
        if best is None or t < best[0]:
            best = (t, enabled)

    def run():
        with torch.backends.mkldnn.flags(enabled=best[1]):
            return conv(*pick())
    return {"depthwise": run, "depthwise out=": run}


def conv2d_cases(lib, n, c, h, f):
    """conv2d with bias, 3x3; PyTorch in its faster configuration here (oneDNN
    or its own im2col path, chosen by timing both) and with no out= form, so
    its out= column repeats the allocating time."""
    pick = rotated(lib, [(n, c, h, h), (f, c, 3, 3), (f,)])
    if lib == "numpy":
        out = np.empty((n, f, h - 2, h - 2), np.float32)
        return {"conv2d": lambda: np_conv2d(*pick()),
                "conv2d out=": lambda: np_conv2d(*pick(), out)}
    best = None
    for enabled in (True, False):
        with torch.backends.mkldnn.flags(enabled=enabled):
            t = timed(lambda: F.conv2d(*pick()), 10)[0]
        if best is None or t < best[0]:
            best = (t, enabled)

    def run():
        with torch.backends.mkldnn.flags(enabled=best[1]):
            return F.conv2d(*pick())
    return {"conv2d": run, "conv2d out=": run}


def softmax_cases(lib, rows, cols):
    pick = rotated(lib, [(rows, cols)])
    if lib == "numpy":
        out, scratch = np.empty((rows, cols), np.float32), np.empty((rows, 1), np.float32)
        return {"softmax": lambda: np_softmax(pick()[0]),
                "softmax out=": lambda: np_softmax(pick()[0], out, scratch)}
    out = torch.empty(rows, cols)
    return {"softmax": lambda: torch.softmax(pick()[0], 1),
            "softmax out=": lambda: torch.ops.aten._softmax.out(pick()[0], 1, False,
                                                                out=out)}


def blas_in_use():
    """Which BLAS NumPy and PyTorch run on (threadpoolctl), one line each."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl missing (Debian's python3-threadpoolctl)"]
    return [f"{i['internal_api']} {i.get('version') or ''} "
            f"{i.get('architecture') or ''} {i['num_threads']} threads "
            f"({os.path.basename(i['filepath'])})"
            for i in threadpool_info() if i["user_api"] == "blas"]


def rotated(lib, shapes):
    """A function returning the next of enough sets of random float32 inputs
    of `shapes` to span 64 MiB (as trueno-bench-eager's inputSets), so that
    small cases are not timed from the cache."""
    nbytes = sum(4 * int(np.prod(s)) for s in shapes)
    count = max(1, ROTATE_BYTES // nbytes)
    rng = np.random.default_rng(0)
    sets = [[rng.standard_normal(s, np.float32) for s in shapes] for _ in range(count)]
    if lib == "torch":
        sets = [[torch.from_numpy(a) for a in group] for group in sets]
    state = {"i": 0}

    def pick():
        state["i"] += 1
        return sets[state["i"] % count]
    return pick


def matmul_cases(lib, n):
    """n x n float32 product, allocating and into a preallocated output."""
    pick = rotated(lib, [(n, n), (n, n)])
    if lib == "numpy":
        out = np.empty((n, n), np.float32)
        return {"matmul": lambda: np.matmul(*pick()),
                "matmul out=": lambda: np.matmul(*pick(), out=out)}
    out = torch.empty(n, n)
    return {"matmul": lambda: torch.matmul(*pick()),
            "matmul out=": lambda: torch.matmul(*pick(), out=out)}


def linear_cases(lib, batch, inp, outp):
    """relu(x @ w.T + b); the out= forms reuse one output buffer."""
    pick = rotated(lib, [(batch, inp), (outp, inp), (outp,)])
    if lib == "numpy":
        out = np.empty((batch, outp), np.float32)

        def plain():
            x, w, b = pick()
            return np.maximum(x @ w.T + b, 0)

        def into():
            x, w, b = pick()
            np.matmul(x, w.T, out=out)
            np.add(out, b, out=out)
            np.maximum(out, 0, out=out)
        return {"linearRelu": plain, "linearRelu out=": into}
    out = torch.empty(batch, outp)

    def plain():
        x, w, b = pick()
        return torch.relu(F.linear(x, w, b))

    def into():
        x, w, b = pick()
        torch.addmm(b, x, w.t(), out=out)
        torch.relu_(out)
    return {"linearRelu": plain, "linearRelu out=": into}


def transposed_linear_cases(lib, batch, inp, outp):
    """relu(x @ w.mT + b) as written (the transpose a view). NumPy's side is
    linear_cases' (its x @ w.T already reads a view)."""
    if lib == "numpy":
        cases = linear_cases(lib, batch, inp, outp)
        return {"matmulT": cases["linearRelu"],
                "matmulT out=": cases["linearRelu out="]}
    pick = rotated(lib, [(batch, inp), (outp, inp), (outp,)])
    out = torch.empty(batch, outp)

    def plain():
        x, w, b = pick()
        return torch.relu(x @ w.mT + b)

    def into():
        x, w, b = pick()
        torch.matmul(x, w.mT, out=out)
        out.add_(b).relu_()
    return {"matmulT": plain, "matmulT out=": into}


def cat_cases(lib, rows, cols):
    """cat({a + 1, b * 2}) along the rows."""
    pick = rotated(lib, [(rows, cols), (rows, cols)])
    if lib == "numpy":
        out = np.empty((2 * rows, cols), np.float32)

        def into():
            a, b = pick()
            np.add(a, 1, out=out[:rows])
            np.multiply(b, 2, out=out[rows:])
        return {"cat": lambda: (lambda a, b: np.concatenate([a + 1, b * 2]))(*pick()),
                "cat out=": into}
    out = torch.empty(2 * rows, cols)

    def into():
        a, b = pick()
        torch.add(a, 1, out=out[:rows])
        torch.mul(b, 2, out=out[rows:])
    return {"cat": lambda: (lambda a, b: torch.cat([a + 1, b * 2]))(*pick()),
            "cat out=": into}


def elementwise_cases(lib, n):
    return numpy_cases(n) if lib == "numpy" else torch_cases(n)


def numpy_cases(n):
    a, b, c = (np.full(n, v, np.float32) for v in (0.5, 1.5, -0.25))
    t, y = np.empty(n, np.float32), np.empty(n, np.float32)

    def exp_fma_out():
        np.multiply(a, b, out=t)
        np.add(t, c, out=t)
        np.exp(t, out=y)

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

    return {"expFma": lambda: np_expfma(a, b, c), "expFma out=": exp_fma_out,
            "chain": lambda: np_chain(a, b, c), "chain out=": chain_out,
            "chainArith": lambda: np_arith(a, b, c), "chainArith out=": arith_out}


def torch_cases(n):
    a, b, c = (torch.full((n,), v) for v in (0.5, 1.5, -0.25))
    t, y = torch.empty(n), torch.empty(n)

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

    def exp_fma_out():
        torch.mul(a, b, out=t)
        t.add_(c)
        torch.exp(t, out=y)

    return {"expFma": lambda: torch.exp(a * b + c), "expFma out=": exp_fma_out,
            "chain": chain, "chain out=": chain_out,
            "chainArith": arith, "chainArith out=": arith_out}


def rotating_add(lib, n):
    """a + b over slices of 64 MiB buffers, a new slice every call."""
    slots = max(1, (ROTATE_BYTES // 4) // n)
    if lib == "numpy":
        a, b = np.full(n * slots, 0.5, np.float32), np.full(n * slots, 1.5, np.float32)
        out = np.empty(n, np.float32)
    else:
        a, b = torch.full((n * slots,), 0.5), torch.full((n * slots,), 1.5)
        out = torch.empty(n)
    state = {"i": 0}

    def pick():
        at = (state["i"] % slots) * n
        state["i"] += 1
        return a[at:at + n], b[at:at + n]

    def plain():
        x, y = pick()
        return x + y

    def into():
        x, y = pick()
        (np.add if lib == "numpy" else torch.add)(x, y, out=out)

    return {"add": plain, "add out=": into}


def reductions(lib, n):
    """sum and mean of n float32 (no out= form: the result is one number)."""
    if lib == "numpy":
        a = np.full(n, 0.5, np.float32)
        cases = {"sum": lambda: np.sum(a), "mean": lambda: np.mean(a)}
    else:
        a = torch.full((n,), 0.5)
        cases = {"sum": lambda: torch.sum(a), "mean": lambda: torch.mean(a)}
    cases["sum out="], cases["mean out="] = cases["sum"], cases["mean"]
    return cases


def row_variance(lib, rows, cols):
    """((x - x.mean(1, keepdims)) ** 2).mean(1), as a user writes it."""
    if lib == "numpy":
        x = np.random.default_rng(0).standard_normal((rows, cols), np.float32)
        out = np.empty(rows, np.float32)
        f = lambda: ((x - x.mean(1, keepdims=True)) ** 2).mean(1)
        return {"variance": f,
                "variance out=": lambda: np.mean((x - x.mean(1, keepdims=True)) ** 2, 1,
                                                 out=out)}
    x = torch.randn(rows, cols)
    out = torch.empty(rows)
    return {"variance": lambda: ((x - x.mean(1, keepdim=True)) ** 2).mean(1),
            "variance out=": lambda: torch.mean((x - x.mean(1, keepdim=True)) ** 2, 1,
                                                out=out)}


def layer_norm(lib, rows, cols):
    """layerNorm over the rows with a weight and a bias: NumPy written out
    (it has none), PyTorch's F.layer_norm (no out= form: timed alike)."""
    if lib == "numpy":
        rng = np.random.default_rng(0)
        x = rng.standard_normal((rows, cols), np.float32)
        w, b = (rng.standard_normal(cols, np.float32) for _ in range(2))
        out = np.empty((rows, cols), np.float32)

        def f(out=None):
            c = x - x.mean(1, keepdims=True)
            scale = 1 / np.sqrt((c * c).mean(1, keepdims=True) + np.float32(1e-5))
            return np.add(c * scale * w, b, out=out)
        return {"layerNorm": f, "layerNorm out=": lambda: f(out)}
    x, w, b = torch.randn(rows, cols), torch.randn(cols), torch.randn(cols)
    f = lambda: torch.nn.functional.layer_norm(x, (cols,), w, b)
    return {"layerNorm": f, "layerNorm out=": f}


def broadcast_add(lib):
    if lib == "numpy":
        col, row = np.full((4096, 1), 0.5, np.float32), np.full((1, 4096), 1.5, np.float32)
        out = np.empty((4096, 4096), np.float32)
        return {"broadcastAdd": lambda: col + row,
                "broadcastAdd out=": lambda: np.add(col, row, out=out)}
    col, row = torch.full((4096, 1), 0.5), torch.full((1, 4096), 1.5)
    out = torch.empty(4096, 4096)
    return {"broadcastAdd": lambda: col + row,
            "broadcastAdd out=": lambda: torch.add(col, row, out=out)}


# ---- Trueno ------------------------------------------------------------------

def check_trueno(binary):
    """Trueno's results on seeded inputs equal NumPy's (float32 tolerances)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([binary, "--check", tmp], check=True)
        a, b, c = (np.load(os.path.join(tmp, f"{x}.npy")) for x in "abc")
        with np.errstate(all="ignore"):
            for name, ref in REFERENCE.items():
                got = np.load(os.path.join(tmp, f"{name}.npy"))
                want = ref(a, b, c)
                # Sums of 4096 float32 values: the order of additions differs.
                rtol, atol = (1e-5, 1e-3) if name in ("sum", "mean", "matmul",
                                                      "linearRelu") else (
                    (1e-5, 1e-7) if name == "softmax" else
                    (1e-4, 1e-3) if name in ("conv2d", "depthwise") else (2e-6, 1e-6))
                if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
                    raise SystemExit(f"{name}: Trueno's result differs from NumPy's")
    print("checked: Trueno's results match NumPy's on seeded inputs")


def run_trueno(binary, repetitions, pattern, cpu=None):
    """Google Benchmark results for the cases matching `pattern`: median of
    the repetitions, and their min and max; `cpu` sets TRUENO_CPU."""
    # A warm-up first: the first iteration compiles the case's kernels
    # (40-100 ms), and when the process also faults in the LLVM libraries
    # from a cold page cache it can take 0.5 s, past Google Benchmark's
    # min_time; it then times every repetition at one iteration, cold
    # (softmax [1000, 1000] read 1.6 ms instead of 0.23 ms).
    args = [binary, "--benchmark_format=json",
            f"--benchmark_repetitions={repetitions}",
            "--benchmark_min_warmup_time=0.2",
            f"--benchmark_filter={pattern}"]
    env = dict(os.environ)
    if cpu:
        env["TRUENO_CPU"] = cpu
    out = subprocess.run(args, check=True, capture_output=True, text=True,
                         env=env).stdout
    runs, results = {}, {}
    for b in json.loads(out)["benchmarks"]:
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        name = b["run_name"]
        if b["run_type"] == "iteration":
            runs.setdefault(name, []).append(b["real_time"] * unit)
            counters = {k: v for k, v in b.items() if k in (
                "bytes_per_second", "us_per_op", "compile_ms", "threads", "flops",
                "kernels")}
            results.setdefault(name, {"counters": counters})
    for name, times in runs.items():
        results[name].update(median=statistics.median(times), min=min(times),
                             max=max(times))
        if len(times) > 1:  # counters from the median repetition
            results[name]["counters"]["bytes_per_second"] = results[name][
                "counters"].get("bytes_per_second", 0)
    return results


def chart(rows, path):
    """A horizontal bar chart (SVG) of how many times faster Trueno is."""
    series = [("x NumPy", "speedup_vs_numpy", "#4c72b0"),
              ("x PyTorch", "speedup_vs_torch", "#dd8452"),
              ("x PyTorch out=", "speedup_vs_torch_out", "#55a868")]
    bar, gap, left, width = 10, 14, 210, 420
    height = 40 + len(rows) * (len(series) * bar + gap) + 30
    biggest = max(max(r[key] for _, key, _ in series) for r in rows)
    scale = lambda v: width * (max(0.0, np.log10(max(v, 1e-3)) + 1) /
                               (np.log10(biggest) + 1))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13">How many times faster Trueno is '
           f'(log scale; the line is 1x)</text>']
    y = 40
    for r in rows:
        svg.append(f'<text x="10" y="{y + 16}">{r["case"]}</text>')
        for i, (label, key, color) in enumerate(series):
            w = scale(r[key])
            svg.append(f'<rect x="{left}" y="{y + i * bar}" width="{w:.1f}" '
                       f'height="{bar - 1}" fill="{color}"/>')
            svg.append(f'<text x="{left + w + 4:.1f}" y="{y + i * bar + 8}">'
                       f'{r[key]:.1f}</text>')
        y += len(series) * bar + gap
    one = left + scale(1.0)
    svg.append(f'<line x1="{one:.1f}" y1="34" x2="{one:.1f}" y2="{y}" stroke="#333"/>')
    for i, (label, _, color) in enumerate(series):
        svg.append(f'<rect x="{left + i * 130}" y="{y + 8}" width="10" height="10" '
                   f'fill="{color}"/><text x="{left + i * 130 + 14}" y="{y + 17}">'
                   f'{label}</text>')
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


FACTORIES = {f.__name__: f for f in (
    rotating_add, elementwise_cases, reductions, broadcast_add, softmax_cases,
    row_variance, matmul_cases, conv2d_cases, depthwise_cases, linear_cases,
    transposed_linear_cases, cat_cases, layer_norm)}


def torch_worker():
    """Times PyTorch cases on request (one JSON line in, one out), in a
    process where ATEN_CPU_CAPABILITY chose PyTorch's kernels."""
    torch.set_num_threads(int(sys.argv[sys.argv.index("--torch-worker") + 1]))
    made = {}
    for line in sys.stdin:
        ask = json.loads(line)
        key = (ask["factory"], tuple(ask["args"]))
        if key not in made:
            made[key] = FACTORIES[ask["factory"]]("torch", *ask["args"])
        cases = made[key]
        reply = {"plain": timed(cases[ask["case"]], ask["reps"]),
                 "out": timed(cases[ask["case"] + " out="], ask["reps"]),
                 "capability": torch.backends.cpu.get_cpu_capability()
                 if hasattr(torch.backends, "cpu") else os.environ.get(
                     "ATEN_CPU_CAPABILITY", "")}
        print(json.dumps(reply), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--chart")
    parser.add_argument("--probe", help="trueno-cache-probe (tests/cache): also "
                        "time kernel loads from a warm disk cache")
    parser.add_argument("--only", help="run only the cases whose name contains "
                        "this text (e.g. softmax), with no summary")
    parser.add_argument("--before", help="an earlier build's trueno-bench-eager, "
                        "timed in the same run")
    parser.add_argument("--native-only", action="store_true",
                        help="skip Trueno's AVX2 and SSE2 timings")
    args = parser.parse_args()
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    check_trueno(args.binary)
    repetitions = 1 if args.quick else 7
    # PyTorch with its AVX-512 kernels, in a second process.
    worker = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--torch-worker", str(threads)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, ATEN_CPU_CAPABILITY="avx512"))

    def time_torch512(factory, fargs, case, reps):
        worker.stdin.write(json.dumps({"factory": factory, "args": list(fargs),
                                       "case": case, "reps": reps}) + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())

    # The machine's bandwidth drifts: Trueno is timed right before NumPy and
    # PyTorch case by case, and the triad at the start and the end.
    trueno = run_trueno(args.binary, repetitions, "stream|perOp|compile|fmaPeak")
    bandwidth = trueno["streamTriad/10485760/real_time"]["counters"]["bytes_per_second"]
    peak = trueno["fmaPeak/real_time"]["counters"].get("flops", 0)
    print(f"machine: {threads} threads; torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; numpy {np.__version__}")
    blas = blas_in_use()
    print("BLAS: " + "; ".join(blas))
    print(f"STREAM triad bandwidth: {bandwidth / 1e9:.2f} GB/s; float32 FMA peak: "
          f"{peak / 1e9:.0f} GFLOP/s (the compute limit: matrix cases show their "
          f"fraction of it, marked *)")
    print("columns: Trueno (native code, min-max), Trueno with AVX2 and SSE2 "
          "code, an earlier build, kernels per call; NumPy; PyTorch with its "
          "default (AVX2) and AVX-512 kernels; ratios against NumPy and the "
          "faster PyTorch\n")
    print(f"{'case':<28}{'trueno ms':>10}{'(min-max)':>16}{'avx2':>8}{'sse2':>8}"
          f"{'before':>8}{'kern':>5}{'numpy':>9}{'torch':>9}{'th512':>9}"
          f"{'x numpy':>8}{'x torch':>8}{'x th out=':>10}{'of floor':>9}")
    reps = 3 if args.quick else 30
    plan = []  # (row, trueno key, bytes, factory, factory args, case[, flops])
    for n in ([1000, 1 << 20] if args.quick else [1000, 100000, 1 << 20, 10 << 20]):
        plan.append((f"add {n}", f"add/{n}/real_time", n * 12, "rotating_add", [n],
                     "add"))
    for n in ([1 << 20] if args.quick else [1 << 20, 10 << 20]):
        for case in ("expFma", "chain", "chainArith"):
            plan.append((f"{case} {n >> 20}M", f"{case}/{n}/real_time", n * 16,
                         "elementwise_cases", [n], case))
    for n in ([1 << 20] if args.quick else [1 << 20, 10 << 20]):
        for case, bench in (("sum", "sumAll"), ("mean", "meanAll")):
            plan.append((f"{case} {n >> 20}M", f"{bench}/{n}/real_time", n * 4,
                         "reductions", [n], case))
    plan.append(("broadcastAdd 4096^2", "broadcastAdd/real_time", 4096 * 4096 * 4,
                 "broadcast_add", [], "broadcastAdd"))
    for rows, cols in ([(1, 10000)] if args.quick else
                       [(1, 10000), (1000, 1000), (1, 1 << 20)]):
        plan.append((f"softmax {rows}x{cols}", f"softmaxRows/{rows}/{cols}/real_time",
                     rows * cols * 8, "softmax_cases", [rows, cols], "softmax"))
    if not args.quick:
        plan.append(("variance 1000x10000", "rowVariance/1000/10000/real_time",
                     1000 * 10000 * 8, "row_variance", [1000, 10000], "variance"))
    if not args.quick:
        plan.append(("layerNorm 4096x1024", "layerNormRows/4096/1024/real_time",
                     4096 * 1024 * 8, "layer_norm", [4096, 1024], "layerNorm"))
    for rows in ([1024] if args.quick else [1024, 4096]):
        plan.append((f"cat(a+1,b*2) {rows}x1024", f"catElementwise/{rows}/1024/real_time",
                     rows * 1024 * 16, "cat_cases", [rows, 1024], "cat"))
    # Compute-bound cases: the last field is their FLOP count, shown as a
    # fraction of the FMA peak instead of the bandwidth floor.
    for n in ([128] if args.quick else [128, 1024, 4096]):
        plan.append((f"matmul {n}", f"matmulSquare/{n}/real_time", 0,
                     "matmul_cases", [n], "matmul", 2.0 * n ** 3))
    for shape in ([(8, 1, 28, 32)] if args.quick else [(64, 1, 28, 32), (64, 32, 13, 64)]):
        n, c, h, f = shape
        plan.append((f"conv2d {n}x{c}x{h}x{h} * {f}x3x3",
                     f"conv2dBias/{n}/{c}/{h}/{f}/real_time", 0, "conv2d_cases",
                     list(shape), "conv2d", 2.0 * n * f * (h - 2) ** 2 * c * 9))
    if not args.quick:
        plan.append(("depthwise 64x32x28x28 * 3x3", "conv2dDepthwise/64/32/28/real_time",
                     0, "depthwise_cases", [64, 32, 28], "depthwise",
                     2.0 * 64 * 32 * 28 * 28 * 9))
    for shape in ([(64, 784, 128)] if args.quick else [(64, 784, 128), (256, 1024, 1024)]):
        dims = "x".join(map(str, shape))
        plan.append((f"linear+relu {dims}",
                     f"linearRelu/{'/'.join(map(str, shape))}/real_time", 0,
                     "linear_cases", list(shape), "linearRelu",
                     2.0 * shape[0] * shape[1] * shape[2]))
        plan.append((f"relu(x@w.mT+b) {dims}",
                     f"matmulTransposedRelu/{'/'.join(map(str, shape))}/real_time", 0,
                     "transposed_linear_cases", list(shape), "matmulT",
                     2.0 * shape[0] * shape[1] * shape[2]))
    if args.only:
        plan = [p for p in plan if args.only in p[0]]
    rows = []
    for name, key, nbytes, factory, fargs, case, *flops in plan:
        pattern = "^" + key.replace("/real_time", "").replace("^", "") + "(/|$)"
        measured = run_trueno(args.binary, repetitions, pattern)
        if key not in measured:
            continue
        ours = measured[key]
        extra = {}
        if not args.native_only:
            for label, cpu in (("avx2", "x86-64-v3"), ("sse2", "x86-64")):
                other = run_trueno(args.binary, repetitions, pattern, cpu)
                extra[label] = other[key]["median"] if key in other else float("nan")
        if args.before:
            old = run_trueno(args.before, repetitions, pattern)
            extra["before"] = old[key]["median"] if key in old else float("nan")
        np_cases = FACTORIES[factory]("numpy", *fargs)
        t_cases = FACTORIES[factory]("torch", *fargs)
        timings = {"numpy": timed(np_cases[case], reps), "numpy out=": timed(np_cases[case + " out="], reps),
                   "torch": timed(t_cases[case], reps), "torch out=": timed(t_cases[case + " out="], reps)}
        wide = time_torch512(factory, fargs, case, reps)
        timings["torch512"], timings["torch512 out="] = wide["plain"], wide["out"]
        med = {k: v[0] for k, v in timings.items()}
        best_torch = min(med["torch"], med["torch512"])
        best_torch_out = min(med["torch out="], med["torch512 out="])
        row = {"case": name, "trueno_ms": ours["median"] * 1e3,
               "trueno_min_ms": ours["min"] * 1e3, "trueno_max_ms": ours["max"] * 1e3,
               **{f"trueno_{k}_ms": v * 1e3 for k, v in extra.items()},
               "kernels": ours["counters"].get("kernels"),
               **{k.replace(" out=", "_out") + "_ms": v * 1e3 for k, v in med.items()},
               **{k.replace(" out=", "_out") + "_spread_ms": [v[1] * 1e3, v[2] * 1e3]
                  for k, v in timings.items()},
               "speedup_vs_numpy": med["numpy"] / ours["median"],
               "speedup_vs_torch": best_torch / ours["median"],
               "speedup_vs_torch_out": best_torch_out / ours["median"],
               "fraction_of_floor": nbytes / bandwidth / ours["median"]}
        if flops:
            del row["fraction_of_floor"]
            row["gflops"] = flops[0] / ours["median"] / 1e9
            row["fraction_of_peak"] = flops[0] / peak / ours["median"] if peak else 0
        rows.append(row)
        spread = f"({ours['min'] * 1e3:.3f}-{ours['max'] * 1e3:.3f})"
        cell = lambda label: (f"{extra[label] * 1e3:>8.3f}" if label in extra
                              else f"{'-':>8}")
        kernels = row["kernels"]
        print(f"{name:<28}{ours['median'] * 1e3:>10.3f}{spread:>16}"
              f"{cell('avx2')}{cell('sse2')}{cell('before')}"
              f"{(f'{kernels:.0f}' if kernels is not None else '-'):>5}"
              f"{med['numpy'] * 1e3:>9.3f}{med['torch'] * 1e3:>9.3f}"
              f"{med['torch512'] * 1e3:>9.3f}"
              f"{row['speedup_vs_numpy']:>8.2f}{row['speedup_vs_torch']:>8.2f}"
              f"{row['speedup_vs_torch_out']:>10.2f}"
              + (f"{row['fraction_of_peak']:>8.2f}*" if flops
                 else f"{row['fraction_of_floor']:>9.2f}"), flush=True)

    worker.stdin.close()
    worker.wait()
    if args.only:
        return
    after = run_trueno(args.binary, repetitions, "stream")
    end_bandwidth = after["streamTriad/10485760/real_time"]["counters"]["bytes_per_second"]
    print(f"\nSTREAM triad at the end: {end_bandwidth / 1e9:.2f} GB/s "
          f"(the floor above used {bandwidth / 1e9:.2f})")
    x1 = torch.full((1,), 1.0)
    torch_op = timed(lambda: torch.add(x1, 0.5), 50 if args.quick else 2000)[0]
    per_op = trueno["perOpOverhead"]["counters"]["us_per_op"]
    compile_ms = trueno["compileFresh/iterations:15"]["counters"]["compile_ms"]
    print(f"per-op overhead on 1-element tensors (record + realize, cache hit): "
          f"trueno {per_op:.3f} us, torch {torch_op * 1e6:.3f} us per op")
    print(f"compile time of a fresh fused kernel (median): {compile_ms:.1f} ms")
    disk = None
    if args.probe:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from cache_startup import run as run_probe
        n = 10 if args.quick else 30
        with tempfile.TemporaryDirectory() as tmp:
            cold = run_probe(args.probe, os.path.join(tmp, "cache"), n)
            warm = run_probe(args.probe, os.path.join(tmp, "cache"), n)
        disk = {"cold_ms": cold[1], "warm_ms": warm[1]}
        print(f"first realize of a program, median of {n}: cold (compiled) "
              f"{cold[1]:.2f} ms, warm disk cache (loaded) {warm[1]:.2f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": threads, "torch": torch.__version__,
                       "numpy": np.__version__, "bandwidth_gbs": bandwidth / 1e9,
                       "bandwidth_end_gbs": end_bandwidth / 1e9,
                       "fma_peak_gflops": peak / 1e9,
                       "blas": blas, "rows": rows, "per_op_us": per_op,
                       "torch_per_op_us": torch_op * 1e6, "compile_ms": compile_ms,
                       "disk_cache_first_realize_ms": disk},
                      f, indent=2)
    if args.chart:
        chart(rows, args.chart)


if __name__ == "__main__":
    torch_worker() if WORKER else main()

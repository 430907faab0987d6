#!/usr/bin/python3
"""The GPU cases side by side: Trueno on Vulkan and PyTorch on CUDA.

Runs trueno-vulkan-bench (one JSON line per case) and times the same cases
in PyTorch on the same GPU, eager and (for the elementwise chain)
torch.compile, with CUDA events; prints one table with the ratios and writes
it as JSON. Where PyTorch has no CUDA device its CPU columns are left out.

Usage: gpu_compare.py PATH/TO/trueno-vulkan-bench [OUT.json] [SCALE]
"""
import json
import os
import subprocess
import sys
import time

import torch


def cuda_ms(fn, warmup=3, min_ms=500, max_iters=50, warm_ms=300):
    # Warm-up calls for at least warm_ms after the first (which may compile:
    # torch.compile's does) as well, as trueno-vulkan-bench's: a GPU left
    # idle runs the first timed calls slow.
    fn()
    torch.cuda.synchronize()
    begin = time.perf_counter()
    calls = 1
    while calls < warmup or (time.perf_counter() - begin) * 1e3 < warm_ms:
        fn()
        torch.cuda.synchronize()
        calls += 1
    times = []
    begin = time.perf_counter()
    while len(times) < 5 or ((time.perf_counter() - begin) * 1e3 < min_ms
                             and len(times) < max_iters):
        start, end = torch.cuda.Event(True), torch.cuda.Event(True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


# Calls a pipelined case makes before one synchronize (trueno-vulkan-bench's
# kPipelined).
PIPELINED = 20


def pipelined_ms(fn, count, repeats=21):
    """Wall-clock time per call of `count` calls then one synchronize
    (median over `repeats`): launches overlapping the GPU's work."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3 / count)
    times.sort()
    return times[len(times) // 2]


def print_f16_products(sizes=(1024, 4096, 8192), dtype="f16"):
    """cuBLAS's float16 (or, dtype "bf16", bfloat16) n x n products: one
    line each, ms and TFLOP/s (tools/gpu-run.sh's coopmat and coopshape
    runs)."""
    torch_dtype = {"f16": torch.float16, "bf16": torch.bfloat16}[dtype]
    for n in sizes:
        p = torch.randn(n, n, device="cuda", dtype=torch_dtype)
        q = torch.randn(n, n, device="cuda", dtype=torch_dtype)
        ms = cuda_ms(lambda: p @ q)
        print(f"torch matmul_{dtype}_{n}: {ms:.4f} ms, "
              f"{2 * n**3 / ms / 1e9:.1f} TFLOP/s")


def fmnist_step_ms(batch, steps=50):
    """Wall-clock median of one training step of the main job's
    Fashion-MNIST model (forward, cross entropy, backward, Adam), the loss
    read each step, as trueno-vulkan-bench's fmnist_train_step."""
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(128, 10)).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(batch, 1, 28, 28, device="cuda")
    labels = torch.randint(0, 10, (batch,), device="cuda")

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def torch_cases(scale):
    dev = "cuda"
    out = {}
    n = (16 << 20) // scale
    a, b, c = (torch.randn(n, device=dev) for _ in range(3))
    out["exp_fma_16M"] = cuda_ms(lambda: torch.exp(a * b + c))
    out["exp_fma_16M_pipelined"] = pipelined_ms(lambda: torch.exp(a * b + c),
                                                PIPELINED)
    try:
        compiled = torch.compile(lambda a, b, c: torch.exp(a * b + c))
        out["exp_fma_16M compiled"] = cuda_ms(lambda: compiled(a, b, c))
    except Exception as e:  # no Triton or no compiler: said, not hidden
        print(f"torch.compile unavailable: {e}", file=sys.stderr)
    gen = torch.Generator(device=dev).manual_seed(1)
    out["rand_16M"] = cuda_ms(lambda: torch.rand(n, device=dev, generator=gen))
    x = torch.randn(4096 // scale, 4096, device=dev)
    out["softmax_4096x4096"] = cuda_ms(lambda: torch.softmax(x, 1))
    out["softmax_4096x4096_pipelined"] = pipelined_ms(
        lambda: torch.softmax(x, 1), PIPELINED)
    ln = torch.randn(8192 // scale, 4096, device=dev)
    lw, lb = torch.randn(4096, device=dev), torch.randn(4096, device=dev)
    layer_norm = lambda: torch.nn.functional.layer_norm(ln, (4096,), lw, lb)
    out["layernorm_8192x4096"] = cuda_ms(layer_norm)
    out["layernorm_8192x4096_pipelined"] = pipelined_ms(layer_norm, PIPELINED)
    del ln
    s = torch.rand((256 << 20) // scale, device=dev)
    out["sum_256M"] = cuda_ms(lambda: s.sum())
    out["sum_256M_pipelined"] = pipelined_ms(lambda: s.sum(), PIPELINED)
    torch.backends.cuda.matmul.allow_tf32 = False
    for size, dtype, name in ((1024, torch.float32, "f32"),
                              (4096, torch.float32, "f32"),
                              (8192, torch.float32, "f32"),
                              (1024, torch.float16, "f16"),
                              (4096, torch.float16, "f16"),
                              (8192, torch.float16, "f16"),
                              (4096, torch.bfloat16, "bf16"),
                              (8192, torch.bfloat16, "bf16"),
                              (1024, torch.float64, "f64")):
        m = max(64, size // scale)
        p = torch.randn(m, m, device=dev, dtype=dtype)
        q = torch.randn(m, m, device=dev, dtype=dtype)
        out[f"matmul_{name}_{size}"] = cuda_ms(lambda: p @ q)
    small = torch.randn(1024, device=dev)
    out["small_program"] = cuda_ms(lambda: small + 1.0)
    out["small_program_pipelined"] = pipelined_ms(lambda: small + 1.0, 100)
    batch = max(1, 64 // scale)
    xc = torch.randn(batch, 32, 14, 14, device=dev)
    wc = torch.randn(64, 32, 3, 3, device=dev)
    bc = torch.randn(64, device=dev)
    out["conv2d_fmnist"] = cuda_ms(
        lambda: torch.nn.functional.conv2d(xc, wc, bc, padding=1))
    out["fmnist_train_step"] = fmnist_step_ms(batch)
    host = torch.randn((64 << 20) // scale).pin_memory()
    out["upload_256MiB"] = cuda_ms(lambda: host.to(dev, non_blocking=False))
    on_dev = host.to(dev)
    out["download_256MiB"] = cuda_ms(lambda: on_dev.cpu())
    return out


def main():
    bench = sys.argv[1]
    out_path = sys.argv[2] if len(sys.argv) > 2 else None
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    run = subprocess.run([bench, str(scale)], capture_output=True, text=True)
    sys.stderr.write(run.stderr)
    trueno, device_ms = {}, {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            case = json.loads(line)
            trueno[case["case"]] = case["ms"]
            device_ms[case["case"]] = case.get("device_ms")
    if run.returncode != 0:
        print(f"trueno-vulkan-bench failed: exit {run.returncode}")
    ref = torch_cases(scale) if torch.cuda.is_available() else {}
    device = torch.cuda.get_device_name() if ref else "no CUDA device"
    print(f"PyTorch {torch.__version__} on {device}; sizes / {scale}")
    print(f"{'case':28} {'trueno ms':>10} {'on GPU ms':>10} {'torch ms':>10} "
          f"{'trueno/torch':>13}")
    rows = []
    for name in trueno:
        t = trueno[name]
        r = ref.get(name)
        d = device_ms.get(name)
        rows.append({"case": name, "trueno_ms": t, "trueno_device_ms": d,
                     "torch_ms": r})
        ratio = f"{t / r:13.2f}" if r else f"{'':>13}"
        rs = f"{r:10.4f}" if r else f"{'':>10}"
        ds = f"{d:10.4f}" if d is not None else f"{'':>10}"
        print(f"{name:28} {t:10.4f} {ds} {rs} {ratio}")
        extra = ref.get(name + " compiled")
        if extra:
            rows.append({"case": name + " vs torch.compile", "trueno_ms": t,
                         "torch_ms": extra})
            print(f"{name + ' (torch.compile)':28} {t:10.4f} {'':>10} "
                  f"{extra:10.4f} {t / extra:13.2f}")
    if out_path:
        with open(out_path, "w") as f:
            json.dump({"device": device, "torch": torch.__version__,
                       "scale": scale, "rows": rows}, f, indent=1)
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

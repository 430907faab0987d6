#!/usr/bin/env python3
"""The training library against PyTorch (Debian's python3-torch).

- Every layer: output, input gradient, parameter gradients and updated
  buffers of a Trueno layer holding the same weights as torch.nn's, on
  random float64 inputs (weights and inputs travel through safetensors
  files written and read by the independent reader below).
- Every optimizer and option: 20 steps of a small non-convex problem, the
  whole trajectory against torch.optim's.
- Every scheduler: 30 learning rates (and OneCycleLR's momenta) against
  torch.optim.lr_scheduler's.

Usage: test_train_vs_torch.py path/to/trueno-train-cases
The seed is printed; TRUENO_TEST_SEED=<seed> replays a run.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch as T

T.set_default_dtype(T.float64)

# --- An independent safetensors reader and writer ------------------------------

CODES = {"F64": np.float64, "F32": np.float32, "I64": np.int64,
         "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
         "BOOL": np.bool_, "F16": np.float16}


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.asarray(tensors[name])  # (ascontiguousarray makes 0-d 1-d)
        code = {v: k for k, v in CODES.items()}[a.dtype.type]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes(order="C")
        header[name] = {"dtype": code, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buffer = data[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(buffer[b:end], CODES[e["dtype"]]).reshape(e["shape"])
    return out, header.get("__metadata__", {})


# --- Cases ---------------------------------------------------------------------


def layer_cases(rng):
    """(name, options, torch module, input) for every layer."""
    r = lambda *s: T.from_numpy(rng.standard_normal(s))
    n = int(rng.integers(1, 4))
    cases = [
        ("Linear", {"in": 5, "out": 3}, T.nn.Linear(5, 3), r(n, 5)),
        ("Linear", {"in": 4, "out": 2, "bias": 0}, T.nn.Linear(4, 2, bias=False), r(2, n, 4)),
        ("Conv2d", {"in": 2, "out": 4, "kernel": "3", "padding": "1"},
         T.nn.Conv2d(2, 4, 3, padding=1), r(n, 2, 6, 5)),
        ("Conv2d", {"in": 4, "out": 2, "kernel": "2,3", "stride": "2", "dilation": "1,2",
                    "groups": 2, "bias": 0},
         T.nn.Conv2d(4, 2, (2, 3), stride=2, dilation=(1, 2), groups=2, bias=False),
         r(n, 4, 7, 8)),
        ("Conv1d", {"in": 3, "out": 2, "kernel": 3, "stride": "2", "padding": "1"},
         T.nn.Conv1d(3, 2, 3, stride=2, padding=1), r(n, 3, 9)),
        ("ConvTranspose2d", {"in": 2, "out": 3, "kernel": "3", "stride": "2",
                             "padding": "1", "output_padding": "1"},
         T.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
         r(n, 2, 4, 3)),
        ("MaxPool2d", {"kernel": "2"}, T.nn.MaxPool2d(2), r(n, 3, 6, 6)),
        ("MaxPool2d", {"kernel": "3", "stride": "2", "padding": "1", "ceil": 1},
         T.nn.MaxPool2d(3, 2, 1, ceil_mode=True), r(n, 2, 7, 6)),
        ("AvgPool2d", {"kernel": "2", "stride": "1"}, T.nn.AvgPool2d(2, 1), r(n, 2, 5, 4)),
        ("AdaptiveAvgPool2d", {"size": "3,2"}, T.nn.AdaptiveAvgPool2d((3, 2)), r(n, 2, 7, 5)),
        ("BatchNorm1d", {"features": 4}, T.nn.BatchNorm1d(4), r(5, 4)),
        ("BatchNorm1d", {"features": 3, "momentum": 0.3}, T.nn.BatchNorm1d(3, momentum=0.3),
         r(4, 3, 6)),
        ("BatchNorm2d", {"features": 3}, T.nn.BatchNorm2d(3), r(n + 1, 3, 4, 5)),
        ("BatchNorm2d", {"features": 3, "eval": 1}, T.nn.BatchNorm2d(3), r(n, 3, 4, 5)),
        ("BatchNorm2d", {"features": 2, "affine": 0, "track": 0},
         T.nn.BatchNorm2d(2, affine=False, track_running_stats=False), r(n + 1, 2, 3, 3)),
        ("LayerNorm", {"features": 6}, T.nn.LayerNorm(6), r(n, 4, 6)),
        ("GroupNorm", {"groups": 2, "features": 6}, T.nn.GroupNorm(2, 6), r(n, 6, 3, 4)),
        ("GroupNorm", {"groups": 3, "features": 3, "affine": 0},
         T.nn.GroupNorm(3, 3, affine=False), r(n, 3, 5)),
        ("Flatten", {}, T.nn.Flatten(), r(n, 2, 3, 4)),
        ("Flatten", {"start": 0, "end": 1}, T.nn.Flatten(0, 1), r(n, 2, 3)),
    ]
    for name, module in [("ReLU", T.nn.ReLU()), ("Sigmoid", T.nn.Sigmoid()),
                         ("Tanh", T.nn.Tanh()), ("SiLU", T.nn.SiLU()),
                         ("Softplus", T.nn.Softplus()), ("SELU", T.nn.SELU()),
                         ("Mish", T.nn.Mish()), ("Hardsigmoid", T.nn.Hardsigmoid()),
                         ("Hardswish", T.nn.Hardswish()), ("Softsign", T.nn.Softsign())]:
        cases.append((name, {}, module, r(n, 7)))
    cases += [
        ("GELU", {}, T.nn.GELU(), r(n, 5)),
        ("GELU", {"tanh": 1}, T.nn.GELU(approximate="tanh"), r(n, 5)),
        ("LeakyReLU", {"slope": 0.2}, T.nn.LeakyReLU(0.2), r(n, 5)),
        ("ELU", {"alpha": 0.7}, T.nn.ELU(0.7), r(n, 5)),
        ("Hardtanh", {"low": -0.5, "high": 0.8}, T.nn.Hardtanh(-0.5, 0.8), r(n, 5)),
        ("Softmax", {"dim": 1}, T.nn.Softmax(1), r(n, 5, 2)),
        ("LogSoftmax", {"dim": -1}, T.nn.LogSoftmax(-1), r(n, 5)),
    ]
    idx = T.from_numpy(rng.integers(0, 6, size=(n, 4)))
    cases.append(("Embedding", {"num": 6, "dim": 3}, T.nn.Embedding(6, 3), idx))
    cases.append(("Embedding", {"num": 6, "dim": 3, "padding_idx": 2},
                  T.nn.Embedding(6, 3, padding_idx=2),
                  T.from_numpy(np.concatenate([rng.integers(0, 6, size=(n, 3)),
                                               np.full((n, 1), 2)], axis=1))))
    return cases


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": 1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": 1}),
    ("SGD", {"lr": 0.1, "clip_norm": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "groups": 1}),
    ("Adam", {"lr": 0.05, "groups": 1}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": 1}),
    ("Adam", {"lr": 0.05, "maximize": 1}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": 1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": 1,
                 "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.3}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.02,
                 "initial_accumulator_value": 0.1, "eps": 1e-8}),
]


def torch_optimizer(name, o, params):
    if o.get("groups"):  # parameter 1 in a second group at half the rate
        params = [{"params": [params[0]]}, {"params": [params[1]], "lr": o["lr"] / 2}]
    if name == "SGD":
        return T.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0),
                           dampening=o.get("dampening", 0),
                           weight_decay=o.get("weight_decay", 0),
                           nesterov=bool(o.get("nesterov", 0)),
                           maximize=bool(o.get("maximize", 0)))
    if name in ("Adam", "AdamW"):
        cls = T.optim.Adam if name == "Adam" else T.optim.AdamW
        return cls(params, lr=o["lr"], betas=(o.get("beta1", 0.9), o.get("beta2", 0.999)),
                   eps=o.get("eps", 1e-8),
                   weight_decay=o.get("weight_decay", 0 if name == "Adam" else 1e-2),
                   amsgrad=bool(o.get("amsgrad", 0)), maximize=bool(o.get("maximize", 0)))
    if name == "RMSprop":
        return T.optim.RMSprop(params, lr=o["lr"], alpha=o.get("alpha", 0.99),
                               eps=o.get("eps", 1e-8),
                               weight_decay=o.get("weight_decay", 0),
                               momentum=o.get("momentum", 0),
                               centered=bool(o.get("centered", 0)))
    return T.optim.Adagrad(params, lr=o["lr"], lr_decay=o.get("lr_decay", 0),
                           weight_decay=o.get("weight_decay", 0),
                           initial_accumulator_value=o.get("initial_accumulator_value", 0),
                           eps=o.get("eps", 1e-10))


SCHEDULERS = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}, lambda s: T.optim.lr_scheduler.StepLR(s, 4, 0.5)),
    ("MultiStepLR", {"gamma": 0.3},
     lambda s: T.optim.lr_scheduler.MultiStepLR(s, [3, 7, 20], 0.3)),
    ("ExponentialLR", {"gamma": 0.85}, lambda s: T.optim.lr_scheduler.ExponentialLR(s, 0.85)),
    ("CosineAnnealingLR", {"t_max": 12, "eta_min": 0.01},
     lambda s: T.optim.lr_scheduler.CosineAnnealingLR(s, 12, 0.01)),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8},
     lambda s: T.optim.lr_scheduler.LinearLR(s, 0.25, 1.0, 8)),
    ("OneCycleLR", {"max_lr": 1.0}, lambda s: T.optim.lr_scheduler.OneCycleLR(s, 1.0, 30)),
    ("OneCycleLR", {"max_lr": 0.5, "pct_start": 0.4, "linear": 1, "three_phase": 1},
     lambda s: T.optim.lr_scheduler.OneCycleLR(s, 0.5, 30, pct_start=0.4,
                                               anneal_strategy="linear", three_phase=True)),
    ("ReduceLROnPlateau", {"patience": 2},
     lambda s: T.optim.lr_scheduler.ReduceLROnPlateau(s, patience=2)),
    ("ReduceLROnPlateau", {"patience": 1, "cooldown": 2},
     lambda s: T.optim.lr_scheduler.ReduceLROnPlateau(s, patience=1, cooldown=2)),
]


def run(runner, args):
    done = subprocess.run([runner] + args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")


def close(name, got, want, tol=1e-9):
    want = np.asarray(want)
    got = np.asarray(got)
    if got.shape != want.shape:
        return f"{name}: shape {got.shape}, expected {want.shape}"
    if not np.allclose(got, want, rtol=tol, atol=tol, equal_nan=True):
        worst = np.max(np.abs(got - want))
        return f"{name}: differs by up to {worst:.3g}"
    return None


def main():
    runner = sys.argv[1]
    seed = int(os.environ.get("TRUENO_TEST_SEED", random.randrange(2**31)))
    print(f"seed {seed} (replay with TRUENO_TEST_SEED={seed}); torch {T.__version__}")
    rng = np.random.default_rng(seed)
    T.manual_seed(seed)
    failures, count = [], 0
    opts = lambda o: [f"{k}={v}" for k, v in o.items()]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
        for name, o, module, x in layer_cases(rng):
            count += 1
            label = f"layer {name} {o}"
            module = module.double()
            if o.get("eval"):
                module.eval()
                # Running statistics that are not the defaults.
                with T.no_grad():
                    module.running_mean.copy_(T.from_numpy(rng.standard_normal(module.num_features)))
                    module.running_var.copy_(T.from_numpy(rng.random(module.num_features) + 0.5))
            with T.no_grad():  # weights that are not the initial ones
                for p in module.parameters():
                    p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape))))
            state = {f"param.{k}": v.detach().numpy().copy() for k, v in module.state_dict().items()}
            floating = x.is_floating_point()
            x = x.clone().requires_grad_(floating)
            y = module(x)
            gy = T.from_numpy(rng.standard_normal(tuple(y.shape)))
            write_safetensors(src, dict(state, input=x.detach().numpy(), grad_output=gy.numpy()))
            try:
                run(runner, ["layer", name] + opts(o) + [src, dst])
            except RuntimeError as e:
                failures.append(f"{label}: {e}")
                continue
            got, _ = read_safetensors(dst)
            y.backward(gy)
            checks = [close("output", got["output"], y.detach().numpy())]
            # torch's hardsigmoid and hardswish backward multiply by the
            # float32 constant 1.0f / 6.0f, even in float64.
            gtol = 1e-7 if name in ("Hardsigmoid", "Hardswish") else 1e-9
            if floating:
                checks.append(close("grad_input", got.get("grad_input"), x.grad.numpy(), gtol))
            for k, p in module.named_parameters():
                want = p.grad if p.grad is not None else T.zeros_like(p)
                checks.append(close(f"grad.{k}", got.get(f"grad.{k}", np.zeros(tuple(p.shape))),
                                    want.numpy()))
            for k, b in module.named_buffers():
                checks.append(close(f"buffer.{k}", got[f"buffer.{k}"], b.numpy()))
            for c in checks:
                if c:
                    failures.append(f"{label}: {c}")
        for name, o in OPTIMIZERS:
            count += 1
            label = f"optim {name} {o}"
            shapes = [(3, 2), (4,)]
            start = [rng.standard_normal(s) for s in shapes]
            a = [rng.standard_normal(s) for s in shapes]
            b = [rng.random(s) for s in shapes]
            tensors = {}
            for i in range(len(shapes)):
                tensors.update({f"p.{i}": start[i], f"a.{i}": a[i], f"b.{i}": b[i]})
            write_safetensors(src, tensors)
            try:
                run(runner, ["optim", name] + opts(o) + [src, dst])
            except RuntimeError as e:
                failures.append(f"{label}: {e}")
                continue
            got, _ = read_safetensors(dst)
            params = [T.tensor(s, requires_grad=True) for s in start]
            opt = torch_optimizer(name, o, params)
            for step in range(20):
                loss = sum((T.from_numpy(a[i]) * p.sin() + T.from_numpy(b[i]) * p * p).sum()
                           for i, p in enumerate(params))
                opt.zero_grad()
                loss.backward()
                if o.get("clip_norm"):
                    T.nn.utils.clip_grad_norm_(params, o["clip_norm"])
                opt.step()
                for i, p in enumerate(params):
                    c = close(f"p.{i} after step {step + 1}", got[f"p.{i}.{step}"],
                              p.detach().numpy(), 1e-7)
                    if c:
                        failures.append(f"{label}: {c}")
        for name, o, make in SCHEDULERS:
            count += 1
            label = f"sched {name} {o}"
            try:
                run(runner, ["sched", name] + opts(o) + [dst])
            except RuntimeError as e:
                failures.append(f"{label}: {e}")
                continue
            got, _ = read_safetensors(dst)
            p = T.zeros(1, requires_grad=True)
            sgd = T.optim.SGD([p], lr=0.1, momentum=0.9)
            sched = make(sgd)
            lrs, momenta = [], []
            for step in range(30):
                lrs.append(sgd.param_groups[0]["lr"])
                momenta.append(sgd.param_groups[0]["momentum"])
                sgd.step()
                if name == "ReduceLROnPlateau":
                    sched.step(10.0 - step if step < 5 else 5.0 if step < 18 else 20.0 - step)
                else:
                    sched.step()
            for c in (close("lr", got["lr"], lrs, 1e-12), close("momentum", got["momentum"], momenta, 1e-12)):
                if c:
                    failures.append(f"{label}: {c}")
        # A gradient-penalty step (WGAN-GP): the penalty on |dD/dx| makes
        # the weights' gradient a second derivative.
        count += 1
        weights = {"w1": rng.standard_normal((6, 4)) * 0.5, "b1": rng.standard_normal(6) * 0.1,
                   "w2": rng.standard_normal((1, 6)) * 0.5, "b2": rng.standard_normal(1) * 0.1}
        xs = {f"x.{i}": rng.standard_normal((5, 4)) for i in range(3)}
        write_safetensors(src, dict(weights, **xs))
        try:
            run(runner, ["gp", "-", src, dst])
            got, _ = read_safetensors(dst)
            params = [T.tensor(weights[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
            sgd = T.optim.SGD(params, lr=0.05)
            for step in range(3):
                x = T.tensor(xs[f"x.{step}"], requires_grad=True)
                d = T.nn.functional.linear(T.tanh(T.nn.functional.linear(x, params[0], params[1])),
                                           params[2], params[3])
                dx = T.autograd.grad(d.sum(), x, create_graph=True)[0]
                penalty = ((dx.pow(2).sum(1).sqrt() - 1) ** 2).mean()
                loss = d.mean() + 10 * penalty
                sgd.zero_grad()
                loss.backward()
                sgd.step()
                checks = [close(f"loss {step}", got[f"loss.{step}"], loss.item(), 1e-9)]
                checks += [close(f"p.{i} after step {step + 1}", got[f"p.{i}.{step}"],
                                 p.detach().numpy(), 1e-9) for i, p in enumerate(params)]
                failures += [f"gradient penalty: {c}" for c in checks if c]
        except RuntimeError as e:
            failures.append(f"gradient penalty: {e}")
        # .npz: numpy.savez and savez_compressed archives load in Trueno,
        # and what Trueno writes loads in numpy.
        for compressed in (False, True):
            count += 1
            arrays = {"x": rng.standard_normal((3, 4)).astype(np.float32),
                      "labels": rng.integers(0, 9, size=7), "flag": np.array(True)}
            npz_in, npz_out = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
            (np.savez_compressed if compressed else np.savez)(npz_in, **arrays)
            try:
                run(runner, ["npz", "-", npz_in, npz_out])
                back = np.load(npz_out)
                for k, v in arrays.items():
                    if back[k].dtype != v.dtype or not np.array_equal(back[k], v):
                        failures.append(f"npz {k} (compressed={compressed}) differs")
            except RuntimeError as e:
                failures.append(f"npz: {e}")
    for f in failures:
        print("FAIL", f)
    print(f"{count} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

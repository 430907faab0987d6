#!/usr/bin/env python3
"""Gradients of Trueno's ops against torch.autograd and finite differences.

Each case is an op on random float64 operands (views of larger bases, as
in test_ops_vs_torch.py: transposed, stepped and reversed slices, expanded,
views of pending values, rank 0 and size-1 dimensions), a random seed
gradient for its result, and the gradient of sum(op(...) * seed) with respect
to every operand's base:
- against torch.autograd.grad on the same bases and views (Debian's
  PyTorch), within 1e-6 relative (plus a small absolute term scaled by the
  gradient's magnitude);
- against a central finite difference of Trueno's own forward op along a
  random direction (computed by the runner, `trueno-op-cases`).

usage: test_grads_vs_torch.py RUNNER [CASES_PER_OP]
The seed is printed; TRUENO_TEST_SEED=<seed> replays a run.
TRUENO_TEST_OPS=qr,eig runs only the ops whose name starts with one of
those (replay such a run with the same TRUENO_TEST_OPS).

TRUENO_GRAD_DTYPE=float32 runs the same cases in float32 (Trueno's operands
and seed gradient float32; torch's reference in float64 on the same rounded
values), within FLOAT32_TOLERANCE. The finite difference is not checked
there: in float32 it is mostly rounding, or crosses a kink (clamp, sort)
within its step, and the float64 run checks it for every op. With TRUENO_DEVICE=vulkan
(ctest's grads-vs-torch-vulkan) the cases run on the Vulkan device; a
float64 case whose op the device refuses in float64 (transcendental
functions: docs/ARCHITECTURE.md) counts as that stated difference when the
error says so, and the float32 run covers those ops.
"""
import math
import os
import random
import sys
import tempfile

import numpy as np
import torch as T
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_ops_vs_torch as ops  # noqa: E402  (Operand, views, shapes)

T.set_num_threads(1)


def torch_view(t, view):
    """The runner's applyView, in torch (negative steps through indices)."""
    if view.startswith("P"):
        view = view[1:]
    if view == "-":
        return t
    if view == "T":
        return t.permute(*reversed(range(t.dim())))
    if view.startswith("s"):
        d, start, stop, step = view[1:].split(",")
        d, step = int(d), int(step)
        bound = lambda b: None if b == "_" else int(b)
        idx = list(range(*slice(bound(start), bound(stop), step).indices(t.shape[d])))
        return t.index_select(d, T.tensor(idx, dtype=T.long))
    if view.startswith("e"):
        shape = [int(s) for s in view[1:].split("x")] if len(view) > 1 else []
        return t.expand(*shape)
    raise ValueError(view)


# Domains: a transform of standard normal values into where the op is
# smooth and well conditioned.
POSITIVE = lambda a: np.abs(a) + 0.5
SMALL = lambda a: np.clip(a, -1.0, 1.0) * 0.7
AWAY_FROM_ZERO = lambda a: np.sign(a) * (np.abs(a) + 0.5)
# About a quarter zeros (cumprod's gradient with zeros), the rest away from 0.
WITH_ZEROS = lambda a: np.where(np.abs(a) < 0.3, 0.0, AWAY_FROM_ZERO(a))

UNARY = {
    "exp": (T.exp, None), "exp2": (T.exp2, None), "expm1": (T.expm1, None),
    "log": (T.log, POSITIVE), "log2": (T.log2, POSITIVE),
    "log1p": (T.log1p, POSITIVE), "sqrt": (T.sqrt, POSITIVE),
    "rsqrt": (T.rsqrt, POSITIVE), "sin": (T.sin, None), "cos": (T.cos, None),
    "tan": (T.tan, SMALL), "tanh": (T.tanh, None), "sigmoid": (T.sigmoid, None),
    "silu": (F.silu, None), "softplus": (F.softplus, None), "erf": (T.erf, None),
    "neg": (T.neg, None), "abs": (T.abs, AWAY_FROM_ZERO),
    "relu": (T.relu, AWAY_FROM_ZERO), "floor": (T.floor, None),
    "gelu": (F.gelu, None), "geluTanh": (lambda x: F.gelu(x, approximate="tanh"), None),
    "selu": (F.selu, AWAY_FROM_ZERO), "mish": (F.mish, None),
    "hardsigmoid": (F.hardsigmoid, None), "hardswish": (F.hardswish, None),
    "softsign": (F.softsign, None),
    "leakyRelu": (lambda x: F.leaky_relu(x, 0.2), AWAY_FROM_ZERO),
    "elu": (lambda x: F.elu(x, 1.5), AWAY_FROM_ZERO),
    "hardtanh": (lambda x: F.hardtanh(x, -2.0, 0.5), None),
}
BINARY = {
    "add": (T.add, None, None), "sub": (T.sub, None, None),
    "mul": (T.mul, None, None), "div": (T.div, None, AWAY_FROM_ZERO),
    "pow": (T.pow, POSITIVE, None), "maximum": (T.maximum, None, None),
    "minimum": (T.minimum, None, None), "atan2": (T.atan2, None, AWAY_FROM_ZERO),
}


class Case:
    def __init__(self, op, operands, fn, domains=None):
        self.op, self.operands, self.fn = op, operands, fn
        self.domains = domains or [None] * len(operands)


def operand(rng, shape, dtype="float64"):
    return ops.random_tensor(rng, dtype, shape)


def build_unary(rng, name):
    fn, domain = UNARY[name]
    shape = ops.random_shapes(rng, 1)[0]
    return Case(name, [operand(rng, shape)], lambda a: fn(a[0]), [domain])


def build_binary(rng, name):
    fn, da, db = BINARY[name]
    sa, sb = ops.random_shapes(rng, 2)
    if rng.random() < 0.5:
        sa, sb = sb, sa
    return Case(name, [operand(rng, sa), operand(rng, sb)],
                lambda a: fn(a[0], a[1]), [da, db])


def build_where(rng, _):
    s = ops.random_shapes(rng, 3)
    cond = ops.Operand(np.asarray(rng.random() < 0.5), "bool", None, "-")
    c = ops.random_tensor(rng, "bool", s[0])
    return Case("where", [c, operand(rng, s[1]), operand(rng, s[2])],
                lambda a: T.where(a[0], a[1], a[2]))


def build_clamp(rng, _):
    s = ops.random_shapes(rng, 3)
    return Case("clamp", [operand(rng, s[0]), operand(rng, s[1]), operand(rng, s[2])],
                lambda a: T.clamp(a[0], a[1], a[2]))


REDUCE = {"sum": T.sum, "mean": T.mean, "prod": T.prod, "amax": T.amax,
          "amin": T.amin, "logsumexp": T.logsumexp}


def reduce_dims(rng, rank, allow_all=True):
    if rank == 0 or (allow_all and rng.random() < 0.25):
        return []
    k = rng.randint(1, rank)
    return sorted(rng.sample(range(rank), k))


def build_reduce(rng, name):
    shape = tuple(max(1, s) for s in ops.random_shapes(rng, 1)[0])
    dims = reduce_dims(rng, len(shape), name != "logsumexp")
    if name == "logsumexp" and not dims:
        dims = list(range(len(shape)))
    keep = rng.random() < 0.5
    fn = REDUCE[name]

    def torch_fn(a):
        x = a[0]
        d = dims if dims else list(range(x.dim()))
        if name in ("sum", "mean", "amax", "amin", "logsumexp"):
            return fn(x, dim=d, keepdim=keep) if d else x.clone()
        out = x  # prod over several dims, one at a time
        for k in sorted(d, reverse=True):
            out = T.prod(out, dim=k, keepdim=keep)
        return out
    op = f"{name}:{','.join(map(str, dims))}:{int(keep)}"
    return Case(op, [operand(rng, shape)], torch_fn)


def build_var(rng, name):
    shape = tuple(max(2, s) for s in ops.random_shapes(rng, 1)[0])
    if not shape:
        shape = (3,)
    dims = reduce_dims(rng, len(shape))
    keep = rng.random() < 0.5
    correction = rng.choice([0, 1])
    fn = T.var if name == "var" else T.std
    d = dims if dims else list(range(len(shape)))
    x = operand(rng, shape)
    # std has no derivative where it is 0: an expanded (broadcast) operand
    # can make every reduced element equal.
    while name == "std" and x.view.lstrip("P").startswith("e"):
        x = operand(rng, shape)
    return Case(f"{name}:{','.join(map(str, dims))}:{int(keep)}:{correction}",
                [x],
                lambda a: fn(a[0], dim=d, unbiased=bool(correction), keepdim=keep))


def build_norm(rng, _):
    shape = tuple(max(1, s) for s in ops.random_shapes(rng, 1)[0]) or (3,)
    dims = reduce_dims(rng, len(shape))
    keep = rng.random() < 0.5
    p = rng.choice([1.0, 2.0, 3.0])
    d = dims if dims else list(range(len(shape)))
    return Case(f"norm:{','.join(map(str, dims))}:{int(keep)}:{p}",
                [operand(rng, shape)],
                lambda a: T.linalg.vector_norm(a[0], ord=p, dim=d, keepdim=keep),
                [AWAY_FROM_ZERO])


def build_softmax(rng, name):
    shape = tuple(max(1, s) for s in ops.random_shapes(rng, 1)[0]) or (4,)
    dim = rng.randrange(-len(shape), len(shape))
    fn = F.softmax if name == "softmax" else F.log_softmax
    return Case(f"{name}:{dim}", [operand(rng, shape)], lambda a: fn(a[0], dim=dim))


def build_matmul(rng, name):
    m, k, n = rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 6)
    if name == "matmul":
        kind = rng.choice(["mm", "mv", "vm", "bmm", "broadcast"])
        shapes = {"mm": ((m, k), (k, n)), "mv": ((m, k), (k,)), "vm": ((k,), (k, n)),
                  "bmm": ((2, m, k), (2, k, n)), "broadcast": ((3, 1, m, k), (2, k, n))}[kind]
        return Case("matmul", [operand(rng, s) for s in shapes],
                    lambda a: T.matmul(a[0], a[1]))
    if name == "linear":
        shapes = ((m, k), (n, k), (n,))
        return Case("linear", [operand(rng, s) for s in shapes],
                    lambda a: F.linear(a[0], a[1], a[2]))
    if name == "addmm":
        shapes = ((m, n), (m, k), (k, n))
        return Case("addmm", [operand(rng, s) for s in shapes],
                    lambda a: T.addmm(a[0], a[1], a[2]))
    if name == "dot":
        return Case("dot", [operand(rng, (k,)), operand(rng, (k,))],
                    lambda a: T.dot(a[0], a[1]))
    return Case("outer", [operand(rng, (m,)), operand(rng, (n,))],
                lambda a: T.outer(a[0], a[1]))


def build_conv2d(rng, _):
    groups = rng.choice([1, 1, 2])
    c, f = 2 * groups, 2 * groups
    k = (rng.randint(1, 3), rng.randint(1, 3))
    stride = (rng.randint(1, 3), rng.randint(1, 2))
    padding = (rng.randint(0, 2), rng.randint(0, 1))
    dilation = (rng.randint(1, 2), rng.randint(1, 2))
    # Big enough for the dilated filter: torch refuses an empty output.
    h = max(rng.randint(4, 8), dilation[0] * (k[0] - 1) + 1 - 2 * padding[0])
    w = max(rng.randint(4, 8), dilation[1] * (k[1] - 1) + 1 - 2 * padding[1])
    n = rng.randint(1, 2)
    bias = rng.random() < 0.5
    shapes = [(n, c, h, w), (f, c // groups) + k] + ([(f,)] if bias else [])
    op = "conv2d:{}:{}:{}:{}".format(*[",".join(map(str, v)) for v in
                                       (stride, padding, dilation)], groups)
    return Case(op, [operand(rng, s) for s in shapes],
                lambda a: F.conv2d(a[0], a[1], a[2] if bias else None, stride,
                                   padding, dilation, groups))


def build_loss(rng, name):
    reduction = rng.choice(["none", "mean", "sum"])
    n, c = rng.randint(1, 6), rng.randint(2, 5)
    if name in ("nllLoss", "crossEntropyLoss"):
        x = operand(rng, (n, c))
        target = ops.Operand(np.asarray([rng.randrange(c) for _ in range(n)], np.int64),
                             "int64", None, "-")
        target.base = target.array
        fn = F.nll_loss if name == "nllLoss" else F.cross_entropy
        return Case(f"{name}:{reduction}", [x, target],
                    lambda a: fn(a[0], a[1], reduction=reduction))
    shape = (n, c)
    fn = {"mseLoss": F.mse_loss, "bceLoss": F.binary_cross_entropy,
          "bceLogitsLoss": F.binary_cross_entropy_with_logits}[name]
    probability = lambda a: 0.1 + 0.8 / (1 + np.exp(-a))
    domains = [probability, probability] if name == "bceLoss" else None
    return Case(f"{name}:{reduction}", [operand(rng, shape), operand(rng, shape)],
                lambda a: fn(a[0], a[1], reduction=reduction), domains)


def build_movement(rng, name):
    shape = tuple(max(1, s) for s in ops.random_shapes(rng, 1)[0]) or (3,)
    rank = len(shape)
    if name == "cat":
        d = rng.randrange(rank)
        other = list(shape)
        other[d] = rng.randint(1, 3)
        return Case(f"cat:{d}", [operand(rng, shape), operand(rng, tuple(other))],
                    lambda a: T.cat([a[0], a[1]], d))
    if name == "flip":
        dims = reduce_dims(rng, rank, False) or [0]
        return Case(f"flip:{','.join(map(str, dims))}", [operand(rng, shape)],
                    lambda a: T.flip(a[0], dims))
    if name == "pad":
        pads = [rng.randint(0, 2) for _ in range(2 * min(rank, 2))]
        return Case(f"pad:constant:{','.join(map(str, pads))}",
                    [operand(rng, shape), ops.Operand(scalar=0.5)],
                    lambda a: F.pad(a[0], pads, value=0.5))
    if name == "gather":
        d = rng.randrange(rank)
        ishape = list(shape)
        ishape[d] = rng.randint(1, 4)
        idx = np.asarray(np.random.default_rng(rng.randrange(2**32)).integers(
            0, shape[d], ishape), np.int64)
        index = ops.Operand(idx, "int64", idx, "-")
        return Case(f"gather:{d}", [operand(rng, shape), index],
                    lambda a: T.gather(a[0], d, a[1]))
    if name == "indexSelect":
        d = rng.randrange(rank)
        idx = np.asarray([rng.randrange(shape[d]) for _ in range(rng.randint(1, 4))], np.int64)
        index = ops.Operand(idx, "int64", idx, "-")
        return Case(f"indexSelect:{d}", [operand(rng, shape), index],
                    lambda a: T.index_select(a[0], d, a[1]))
    if name == "stack":
        d = rng.randint(0, rank)
        return Case(f"stack:{d}", [operand(rng, shape), operand(rng, shape)],
                    lambda a: T.stack([a[0], a[1]], d))
    if name == "roll":
        d = rng.randrange(rank)
        k = rng.randint(-3, 3)
        return Case(f"roll:{k}:{d}", [operand(rng, shape)],
                    lambda a: T.roll(a[0], k, d))
    if name == "tile":
        reps = [rng.randint(1, 2) for _ in range(rng.randint(1, rank + 1))]
        return Case(f"tile:{','.join(map(str, reps))}", [operand(rng, shape)],
                    lambda a: T.tile(a[0], reps))
    if name == "chunk":
        d = rng.randrange(rank)
        chunks = rng.randint(1, 3)
        n = len(T.chunk(T.empty(shape), chunks, d))
        piece = rng.randrange(n)
        return Case(f"chunk:{chunks}:{d}:{piece}", [operand(rng, shape)],
                    lambda a: T.chunk(a[0], chunks, d)[piece])
    if name == "repeatInterleave":
        d = rng.randrange(rank)
        r = rng.randint(1, 3)
        return Case(f"repeatInterleave:{d}", [operand(rng, shape), ops.Operand(scalar=r)],
                    lambda a: T.repeat_interleave(a[0], r, d))
    if name == "padReflect":
        shape = (rng.randint(1, 2), rng.randint(3, 5), rng.randint(3, 5))
        mode = rng.choice(["reflect", "replicate", "circular"])
        pads = [rng.randint(0, 2) for _ in range(2)]
        return Case(f"pad:{mode}:{','.join(map(str, pads))}",
                    [operand(rng, shape), ops.Operand(scalar=0.0)],
                    lambda a: F.pad(a[0], pads, mode=mode))
    if name == "diagonal":
        shape = (rng.randint(1, 4), rng.randint(1, 4))
        k = rng.randint(-1, 1)
        return Case(f"diagonal:{k}:0:1", [operand(rng, shape)],
                    lambda a: T.diagonal(a[0], k, 0, 1))
    if name == "scatterAdd":
        d = rng.randrange(rank)
        ishape = [rng.randint(1, s) for s in shape]
        idx = np.asarray(np.random.default_rng(rng.randrange(2**32)).integers(
            0, shape[d], ishape), np.int64)
        index = ops.Operand(idx, "int64", idx, "-")
        return Case(f"scatterAdd:{d}", [operand(rng, shape), index, operand(rng, tuple(ishape))],
                    lambda a: T.scatter_add(a[0], d, a[1], a[2]))
    if name == "index":
        rows = np.asarray([rng.randrange(shape[0]) for _ in range(rng.randint(1, 4))], np.int64)
        index = ops.Operand(rows, "int64", rows, "-")
        return Case("index:T", [operand(rng, shape), index], lambda a: a[0][a[1]])
    if name == "tril":
        shape = (rng.randint(1, 5), rng.randint(1, 5))
        k = rng.randint(-1, 1)
        return Case(f"tril:{k}", [operand(rng, shape)], lambda a: T.tril(a[0], k))
    raise ValueError(name)


# Ops whose first case also checks second derivatives: a Hessian-vector
# product through createGraph, against torch's double backward.
SECOND_ORDER = {"exp", "log", "tanh", "sigmoid", "gelu", "mul", "div", "pow",
                "maximum", "where", "sum", "mean", "prod", "amax", "logsumexp",
                "var", "softmax", "logSoftmax", "matmul", "linear",
                "crossEntropyLoss", "mseLoss", "bceLogitsLoss", "conv2d",
                "layerNorm", "gather", "pad", "maxPool2d",
                # ops outside the IR: their factors are differentiable too
                "cumprod", "solve", "inv", "det", "slogdet", "cholesky", "qr",
                "eigh", "eigvalsh", "eig", "svd", "svdvals", "pinv", "lstsq"}

BUILDERS = {}
for _n in UNARY:
    BUILDERS[_n] = build_unary
for _n in BINARY:
    BUILDERS[_n] = build_binary
BUILDERS.update({"where": build_where, "clamp": build_clamp})
for _n in REDUCE:
    BUILDERS[_n] = build_reduce
BUILDERS.update({"var": build_var, "std": build_var, "norm": build_norm,
                 "softmax": build_softmax, "logSoftmax": build_softmax,
                 "conv2d": build_conv2d})
for _n in ("matmul", "linear", "addmm", "dot", "outer"):
    BUILDERS[_n] = build_matmul
for _n in ("mseLoss", "bceLoss", "bceLogitsLoss", "nllLoss", "crossEntropyLoss"):
    BUILDERS[_n] = build_loss
for _n in ("cat", "flip", "pad", "gather", "indexSelect", "tril", "stack",
           "roll", "tile", "chunk", "repeatInterleave", "padReflect",
           "diagonal", "scatterAdd", "index"):
    BUILDERS[_n] = build_movement


def build_network(rng, name):
    n, c = rng.randint(1, 3), rng.randint(1, 3)
    h, w = rng.randint(3, 7), rng.randint(3, 7)
    if name == "maxPool2d":
        k, st, pd = rng.randint(1, 3), rng.randint(1, 2), 0
        return Case(f"maxPool2d:{k},{k}:{st},{st}:{pd},{pd}:1,1:0:values",
                    [operand(rng, (n, c, h, w))],
                    lambda a: F.max_pool2d(a[0], k, st, pd))
    if name == "avgPool2d":
        k, st = rng.randint(1, 3), rng.randint(1, 2)
        pd = rng.randint(0, k // 2)
        return Case(f"avgPool2d:{k},{k}:{st},{st}:{pd},{pd}:0:1:-",
                    [operand(rng, (n, c, h, w))],
                    lambda a: F.avg_pool2d(a[0], k, st, pd))
    if name == "adaptiveAvgPool2d":
        oh, ow = rng.randint(1, h), rng.randint(1, w)
        return Case(f"adaptiveAvgPool2d:{oh},{ow}", [operand(rng, (n, c, h, w))],
                    lambda a: F.adaptive_avg_pool2d(a[0], (oh, ow)))
    if name == "layerNorm":
        shape = (n, c, w)
        k = rng.randint(1, 2)
        normalized = shape[-k:]
        return Case(f"layerNorm:{k}:1e-05",
                    [operand(rng, shape), operand(rng, normalized), operand(rng, normalized)],
                    lambda a: F.layer_norm(a[0], normalized, a[1], a[2], 1e-5))
    if name == "batchNorm":
        shape = (n + 1, c, w)
        stats = [ops.Operand(np.zeros(c), "float64", None, "-"),
                 ops.Operand(np.ones(c), "float64", None, "-")]
        for o in stats:
            o.base = o.array
        # The running statistics are not differentiated (the runner clones
        # them); marked int-like by a non-float dtype would change the op,
        # so they are float64 leaves whose gradient is zero in both.
        return Case("batchNorm:1:0.1:1e-05:out",
                    [operand(rng, shape)] + stats + [operand(rng, (c,)), operand(rng, (c,))],
                    lambda a: F.batch_norm(a[0], a[1].detach().clone(), a[2].detach().clone(),
                                           a[3], a[4], True, 0.1, 1e-5),
                    [None, None, POSITIVE, None, None])
    if name == "conv1d":
        groups = rng.choice([1, 2])
        cin, cout = 2 * groups, 2 * groups
        k, st, pd, dl = rng.randint(1, 3), rng.randint(1, 2), rng.randint(0, 1), rng.randint(1, 2)
        length = max(w + 3, dl * (k - 1) + 1)
        return Case(f"conv1d:{st}:{pd}:{dl}:{groups}",
                    [operand(rng, (n, cin, length)), operand(rng, (cout, cin // groups, k))],
                    lambda a: F.conv1d(a[0], a[1], None, st, pd, dl, groups))
    if name == "convT2d":
        groups = rng.choice([1, 2])
        cin, cout = 2 * groups, 2
        k, st, pd = rng.randint(1, 3), rng.randint(1, 2), 0
        return Case(f"convT2d:{st},{st}:{pd},{pd}:0,0:{groups}:1,1",
                    [operand(rng, (n, cin, h, w)), operand(rng, (cin, cout // groups if cout % groups == 0 else 1, k, k))],
                    lambda a: F.conv_transpose2d(a[0], a[1], None, st, pd, 0, groups, 1))
    if name == "classLoss":
        c = rng.randint(2, 5)
        x = operand(rng, (n + 1, c))
        target = np.asarray([rng.randrange(c) for _ in range(n + 1)], np.int64)
        t = ops.Operand(target, "int64", target, "-")
        smoothing = rng.choice([0.0, 0.1])
        return Case(f"classLoss:ce:mean:-100:{smoothing}", [x, t],
                    lambda a: F.cross_entropy(a[0], a[1], label_smoothing=smoothing))
    raise ValueError(name)


def well_conditioned(a):
    """A matrix (or batch) made diagonally dominant: a square one invertible
    and its inverse's entries moderate, a rectangular one of full rank with
    its smallest singular value away from 0 (a random 4 x 2 lstsq in
    float32 had second derivatives 3e8 off torch's, seed 294797621)."""
    rows, cols = a.shape[-2], a.shape[-1]
    return a + np.eye(rows, cols) * (max(rows, cols) + 2.0)


def build_order(rng, name):
    shape = tuple(max(1, s) for s in ops.random_shapes(rng, 1)[0]) or (4,)
    rank = len(shape)
    d = rng.randrange(-rank, rank)
    if name == "sort":
        desc = rng.random() < 0.5
        return Case(f"sort:{d}:{int(desc)}:values", [operand(rng, shape)],
                    lambda a: T.sort(a[0], dim=d, descending=desc).values)
    k = rng.randint(0, shape[d])
    largest = rng.random() < 0.5
    return Case(f"topk:{k}:{d}:{int(largest)}:values", [operand(rng, shape)],
                lambda a: T.topk(a[0], k, dim=d, largest=largest).values)


def plain(rng, shape):
    """A contiguous operand (or a view of a pending copy of one): for
    domains that hold for the operand, not for a larger base."""
    array = np.zeros(shape)
    return ops.Operand(array, "float64", array, rng.choice(["-", "P-"]))


def build_linalg(rng, name):
    n = rng.randint(2, 4)  # (torch's solve backward mis-shapes n = 1 vectors)
    batch = rng.choice([(), (2,)])
    shape = batch + (n, n)
    a = plain(rng, shape)
    if name == "solve":
        vector = rng.random() < 0.4
        b = operand(rng, batch + ((n,) if vector else (n, rng.randint(1, 3))))
        return Case("linalg:solve:-", [a, b],
                    lambda t: T.linalg.solve(t[0], t[1]), [well_conditioned, None])
    if name == "cholesky":
        # Of the symmetric part, so that finite differences (which move one
        # entry at a time) see the symmetric gradient torch returns.
        upper = rng.random() < 0.5
        return Case(f"linalg:cholesky:sym{'upper' if upper else 'lower'}", [a],
                    lambda t: T.linalg.cholesky((t[0] + t[0].mT) / 2, upper=upper),
                    [well_conditioned])
    if name in ("inv", "det", "slogdet"):
        fn = {"inv": T.linalg.inv, "det": T.linalg.det,
              "slogdet": lambda x: T.linalg.slogdet(x).logabsdet}[name]
        return Case(f"linalg:{name}:logabsdet", [a], lambda t: fn(t[0]),
                    [well_conditioned])
    sym = lambda x: (x + x.mT) / 2
    if name == "eigh":  # of the symmetric part, as cholesky
        part = rng.choice(["values", "vsq"])
        return Case(f"linalg:eigh:sym{part}", [a], lambda t: (
            T.linalg.eigh(sym(t[0])).eigenvalues if part == "values" else
            T.linalg.eigh(sym(t[0])).eigenvectors ** 2))
    if name == "eigvalsh":
        return Case("linalg:eigvalsh:sym", [a], lambda t: T.linalg.eigvalsh(sym(t[0])))
    if name == "eig":
        # Functions that do not depend on the eigenvalues' order or the
        # vectors' phases (the runner's runLinalg).
        part = rng.choice(["gvals", "gvecs"])

        def eig_fn(t):
            w, v = T.linalg.eig(t[0])
            if part == "gvals":
                return T.stack([(w.real ** 2).sum(-1), (w.imag ** 2).sum(-1)], -1)
            return ((v.real ** 2 + v.imag ** 2) * w.real.unsqueeze(-2)).sum(-1)
        return Case(f"linalg:eig:{part}", [a], eig_fn)
    # Rectangular: m x k with m, k in 2..4 (full rank: random).
    rows, cols = n, rng.randint(2, 4)
    g = plain(rng, batch + (rows, cols))  # (an expanded view has rank 1)
    if name == "qr":
        mode = rng.choice(["reduced", "r"] + (["complete"] if rows <= cols else []))
        part = rng.choice(["recon", "qsq", "rsq"]) if mode != "r" else "rsq"

        def qr_fn(t):
            q, r = T.linalg.qr(t[0], mode="complete" if mode == "complete" else "reduced")
            return {"recon": lambda: q @ r, "qsq": lambda: q * q, "rsq": lambda: r * r}[part]()
        # (Full rank with R's diagonal away from 0: QR's derivatives divide
        # by it; a random 4 x 4 complete q * q in float32 had second
        # derivatives 0.3 off torch's, seed 1442155038.)
        return Case(f"linalg:qr:{mode}{part}", [g], qr_fn, [well_conditioned])
    if name == "svd":
        part = rng.choice(["gvalues", "gusq", "gvhsq", "gweighted"])

        def svd_fn(t):
            u, s, vh = T.linalg.svd(t[0], full_matrices=False)
            return {"gvalues": lambda: s, "gusq": lambda: u * u, "gvhsq": lambda: vh * vh,
                    "gweighted": lambda: (u * (s * s).unsqueeze(-2)) @ vh}[part]()
        return Case(f"linalg:svd:{part}", [g], svd_fn)
    if name == "svdvals":
        return Case("linalg:svdvals:-", [g], lambda t: T.linalg.svdvals(t[0]))
    if name == "pinv":
        # (Full rank, the smallest singular value away from 0: pinv's
        # second derivatives grow as its inverse cubed; a random 2 x 2 in
        # float32 had a Hessian-vector product 1.3e5 off torch's, seed
        # 1207346120.)
        return Case("linalg:pinv:-", [g], lambda t: T.linalg.pinv(t[0]),
                    [well_conditioned])
    if name == "lstsq":  # tall, square or wide (minimum norm); b a vector or not
        vector = rng.random() < 0.4
        b = operand(rng, batch + ((rows,) if vector else (rows, rng.randint(1, 3))))
        part = rng.choice(["solution", "residuals", "singular"] if rows > cols
                          else ["solution", "singular"])

        def lstsq_fn(t):
            rhs = t[1].unsqueeze(-1) if vector else t[1]
            x = T.linalg.lstsq(t[0], rhs, driver="gelsd").solution
            if part == "singular":
                return T.linalg.svdvals(t[0])
            if part == "solution":
                return x.squeeze(-1) if vector else x
            # torch's residuals have no gradient: |A x - B|^2 through x.
            r = ((t[0] @ x - rhs) ** 2).sum(-2)
            return r.squeeze(-1) if vector else r
        return Case(f"linalg:lstsq:{part}", [g, b], lstsq_fn,
                    [well_conditioned, None])
    raise ValueError(name)


def build_scan(rng, name):
    shape = tuple(max(1, s) for s in ops.random_shapes(rng, 1)[0]) or (4,)
    d = rng.randrange(-len(shape), len(shape))
    fn = T.cumsum if name == "cumsum" else T.cumprod
    return Case(f"{name}:{d}", [operand(rng, shape)], lambda a: fn(a[0], d),
                [WITH_ZEROS if name == "cumprod" else None])


for _n in ("sort", "topk"):
    BUILDERS[_n] = build_order
for _n in ("cumsum", "cumprod"):
    BUILDERS[_n] = build_scan
for _n in ("solve", "inv", "det", "slogdet", "cholesky", "qr", "eigh",
           "eigvalsh", "eig", "svd", "svdvals", "pinv", "lstsq"):
    BUILDERS[_n] = build_linalg

for _n in ("maxPool2d", "avgPool2d", "adaptiveAvgPool2d", "layerNorm",
           "batchNorm", "conv1d", "convT2d", "classLoss"):
    BUILDERS[_n] = build_network


# float32 runs: gradients within this relative tolerance of torch's float64
# ones (plus the same share of the gradient's largest magnitude).
FLOAT32_TOLERANCE = 2e-3


def on_vulkan():
    return os.environ.get("TRUENO_DEVICE", "").startswith("vulkan")


def main():
    runner = sys.argv[1]
    float32 = os.environ.get("TRUENO_GRAD_DTYPE", "float64") == "float32"
    rtol = FLOAT32_TOLERANCE if float32 else 1e-6
    atol_share = FLOAT32_TOLERANCE if float32 else 1e-9
    per_op = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    seed = int(os.environ.get("TRUENO_TEST_SEED", random.randrange(2**31)))
    print(f"seed {seed} (replay with TRUENO_TEST_SEED={seed}); torch {T.__version__}"
          + ("; float32" if float32 else ""))
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    prefixes = tuple(filter(None, os.environ.get("TRUENO_TEST_OPS", "").split(",")))
    cases = []
    keep = os.environ.get("TRUENO_GRAD_CASES_DIR")  # keep the files to debug
    with tempfile.TemporaryDirectory() as scratch:
        tmp = keep or scratch
        os.makedirs(tmp, exist_ok=True)
        lines = []
        for name, builder in BUILDERS.items():
            if prefixes and not name.startswith(prefixes):
                continue
            for repeat in range(per_op):
                second = repeat == 0 and name in SECOND_ORDER
                # Empty operands have no gradient to check (and a result of
                # empty tensors only does not require grad: docs/OPS.md).
                case = builder(rng, name)
                while any(o.array is not None and o.array.size == 0
                          for o in case.operands):
                    case = builder(rng, name)
                # Smooth values in each operand's domain, on the base.
                for o, domain in zip(case.operands, case.domains):
                    if o.array is None or o.dtype != "float64":
                        continue
                    values = nrng.standard_normal(o.base.shape)
                    o.base[...] = domain(values) if domain else values
                    if float32:  # torch's reference on the same values
                        o.base[...] = o.base.astype(np.float32)
                leaves = []
                args = []
                for o in case.operands:
                    if o.array is None:
                        args.append(o.scalar)
                    elif o.dtype == "float64":
                        leaf = T.from_numpy(np.array(o.base, copy=True)).requires_grad_()
                        leaves.append(leaf)
                        args.append(torch_view(leaf, o.view))
                    else:
                        args.append(torch_view(T.from_numpy(np.array(o.base, copy=True)), o.view))
                out = case.fn(args)
                if out.numel() == 0:  # an empty result: nothing to check
                    continue
                seed_grad = T.from_numpy(nrng.standard_normal(tuple(out.shape)))
                if float32:
                    seed_grad = seed_grad.float().double()
                grads = T.autograd.grad((out * seed_grad).sum(), leaves,
                                        allow_unused=True, create_graph=second
                                        ) if leaves else []
                cid = f"g{len(cases)}"
                specs = []
                for k, o in enumerate(case.operands):
                    path = os.path.join(tmp, f"{cid}_{k}.npy")
                    if o.array is not None:
                        base = o.base
                        np.save(path, np.array(base, order="C"))
                    spec = o.spec(path)
                    if float32 and spec.startswith("t:float64:"):
                        spec = "t:float32:" + spec[len("t:float64:"):]
                    specs.append(spec)
                seed_path = os.path.join(tmp, f"{cid}_seed.npy")
                np.save(seed_path, seed_grad.numpy())
                specs.append(f"t:{'float32' if float32 else 'float64'}:{seed_path}:-")
                mode = "grad2" if second else "grad"
                lines.append(f"{cid} {mode}@{case.op} " + " ".join(specs))
                positions = [k for k, o in enumerate(case.operands)
                             if o.array is not None and o.dtype == "float64"]
                cases.append((cid, case, positions, grads, leaves))
        with open(os.path.join(tmp, "cases.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        out_dir = os.path.join(tmp, "out")
        os.makedirs(out_dir, exist_ok=True)
        import subprocess
        run = subprocess.run([runner, os.path.join(tmp, "cases.txt"), out_dir],
                             capture_output=True, text=True)
        print(run.stdout.strip())
        if run.returncode != 0:
            print(f"the runner failed with status {run.returncode}:\n{run.stderr}")
            return 1
        failures = refused = 0
        # With TRUENO_VULKAN_VALIDATION=1, a message of the validation layer
        # fails the run.
        validation = ops.validation_failures(run.stderr)
        for cid, case, positions, grads, leaves in cases:
            err = os.path.join(out_dir, cid + ".err")
            if os.path.exists(err):
                message = open(err).read().strip()
                if on_vulkan() and not float32 and ops.VULKAN_REFUSED in message:
                    refused += 1
                    continue
                failures += 1
                print(f"FAIL {cid} {case.op}: {message}")
                continue
            problems = []
            def compare(kind, what, k, want):
                """Trueno's <cid>.<kind><k>.npy (absent: zeros) against
                torch's `want` (None: zeros)."""
                path = os.path.join(out_dir, f"{cid}.{kind}{k}.npy")
                base_shape = case.operands[k].base.shape
                got = np.load(path) if os.path.exists(path) else np.zeros(base_shape)
                want = np.zeros(base_shape) if want is None else want.detach().numpy()
                scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
                if got.shape != want.shape or not np.allclose(
                        got, want, rtol=rtol, atol=atol_share * scale):
                    worst = float(np.max(np.abs(got - want))) if got.shape == want.shape else math.nan
                    problems.append(f"operand {k}: {what} differs from torch by {worst:.3g}"
                                    f" (shape {got.shape} vs {want.shape})")

            for k, want in zip(positions, grads):
                compare("g", "the gradient", k, want)
            # Second derivatives: torch's Hessian-vector product along the
            # runner's directions.
            v_paths = [os.path.join(out_dir, f"{cid}.v{k}.npy") for k in positions]
            if v_paths and all(os.path.exists(p) for p in v_paths):
                vs = [T.from_numpy(np.load(p)) for p in v_paths]
                product = sum((g * v).sum() for g, v in zip(grads, vs)
                              if g is not None and g.requires_grad)
                want_h = (T.autograd.grad(product, leaves, allow_unused=True)
                          if isinstance(product, T.Tensor) else [None] * len(leaves))
                for k, w in zip(positions, want_h):
                    compare("h", "the Hessian-vector product", k, w)
            difference, inner = map(float, open(os.path.join(out_dir, cid + ".fd")).read().split())
            if not float32 and abs(difference - inner) > 1e-5 * (abs(inner) + 1):
                problems.append(f"finite difference {difference!r} vs gradient {inner!r}")
            if problems:
                failures += 1
                views = " ".join(o.view if o.array is not None else "s" for o in case.operands)
                print(f"FAIL {cid} {case.op} [{views}]: " + "; ".join(problems))
        if refused:
            print(f"{refused} cases refused by the Vulkan device in float64, "
                  f"as stated (their ops run in the float32 run)")
        print(f"{len(cases) - failures - refused} passed, "
              f"{failures + validation} failed")
        return 1 if failures or validation else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Differential test of the compiler path against PyTorch and NumPy.

For every op of the trueno dialect and every dtype it accepts, writes a
one-op kernel in the trueno dialect, random inputs (seeded: the seed is
printed, TRUENO_TEST_SEED replays it) with NaN, infinities and signed zeros
mixed in, and computes the reference with PyTorch (NumPy where PyTorch
differs from NumPy's semantics or lacks the op). trueno-kernel-cases compiles
each kernel through the CPU pipeline and the JIT and runs it; the results
must match within the stated per-op tolerance (exactly for integer, bool and
IEEE-exact operations).

Usage: test_kernels_vs_torch.py PATH/TO/trueno-kernel-cases
"""
import os
import random
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

MLIR = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8",
        "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "ui8",
        "bool": "i1"}
FLOATS = ["float16", "float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8"]
SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0]

# Tolerances (rtol, atol) for float results by op family and dtype. float32
# transcendental functions are polynomial approximations (a few ulp);
# float64 ones are libm's; float16 computes in float32 and rounds once.
EXACT = {"float16": (0, 0), "float32": (0, 0), "float64": (0, 0)}
TRANSCENDENTAL = {"float16": (1e-3, 1e-3), "float32": (5e-6, 1e-6),
                  "float64": (1e-13, 1e-15)}

T = torch
UNARY_FLOAT = {  # op: (reference, tolerance)
    "exp": (T.exp, TRANSCENDENTAL), "exp2": (T.exp2, TRANSCENDENTAL),
    "expm1": (T.expm1, TRANSCENDENTAL), "log": (T.log, TRANSCENDENTAL),
    "log2": (T.log2, TRANSCENDENTAL), "log1p": (T.log1p, TRANSCENDENTAL),
    "sqrt": (T.sqrt, EXACT), "rsqrt": (T.rsqrt, TRANSCENDENTAL),
    "sin": (T.sin, TRANSCENDENTAL), "cos": (T.cos, TRANSCENDENTAL),
    "tan": (T.tan, TRANSCENDENTAL), "tanh": (T.tanh, TRANSCENDENTAL),
    "sigmoid": (T.sigmoid, TRANSCENDENTAL),
    "silu": (T.nn.functional.silu, TRANSCENDENTAL),
    "softplus": (T.nn.functional.softplus, TRANSCENDENTAL),
    "erf": (T.erf, TRANSCENDENTAL), "floor": (T.floor, EXACT),
    "ceil": (T.ceil, EXACT), "round": (T.round, EXACT),
    "gelu": (T.nn.functional.gelu, TRANSCENDENTAL),
}
# sign follows NumPy: sign(NaN) is NaN (PyTorch 1.13 gives 0).
UNARY_NUMERIC = {"neg": T.neg, "abs": T.abs, "sign": np.sign, "relu": T.relu}
BINARY_NUMERIC = {"add": T.add, "sub": T.sub, "mul": T.mul,
                  "maximum": T.maximum, "minimum": T.minimum,
                  "floordiv": np.floor_divide, "remainder": np.remainder}
BINARY_FLOAT = {"div": (T.div, EXACT), "atan2": (T.atan2, TRANSCENDENTAL),
                "pow": (T.pow, TRANSCENDENTAL)}
BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
           "bitwise_xor": np.bitwise_xor}
LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or,
           "logical_xor": np.logical_xor}
COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less,
           "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}


def random_shape(rng):
    return tuple(rng.randint(1, 5) for _ in range(rng.randint(0, 3)))


def random_input(rng, dtype, shape, domain=None):
    nrng = np.random.default_rng(rng.getrandbits(32))
    if dtype == "bool":
        return np.asarray(nrng.random(shape) < 0.5)
    if dtype in INTS:
        info = np.iinfo(dtype)
        lo, hi = (max(info.min, -100), min(info.max, 100)) if rng.random() < 0.7 \
            else (info.min, info.max)
        return np.asarray(nrng.integers(lo, hi, size=shape, endpoint=True,
                                        dtype=dtype))
    x = nrng.standard_normal(shape) * 4
    if domain == "positive":
        x = np.abs(x) + 1e-3
    flat = x.reshape(-1)
    for i in range(flat.size):
        if nrng.random() < 0.1:
            flat[i] = SPECIAL[nrng.integers(len(SPECIAL))]
    return np.asarray(x.astype(dtype))


def tensor_type(dtype, shape):
    dims = "x".join(str(s) for s in shape)
    return f"tensor<{dims + 'x' if dims else ''}{MLIR[dtype]}>"


def kernel(op, in_types, out_type, text):
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(in_types))
    return (f"func.func @k({args}) -> {out_type} {{\n"
            f"  %r = {text}\n  return %r : {out_type}\n}}\n")


def torch_ref(fn, *xs):
    with torch.no_grad():
        return fn(*[torch.from_numpy(np.array(x, order="C")) for x in xs]).numpy()


def numpy_ref(fn, *xs):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(fn(*xs))


class Case:
    def __init__(self, name, kernel_text, inputs, expected, tol=None):
        self.name, self.kernel, self.inputs = name, kernel_text, inputs
        self.expected, self.tol = np.asarray(expected), tol


def build_cases(rng):
    cases = []
    for op, (ref, tol) in UNARY_FLOAT.items():
        for dtype in FLOATS:
            shape = random_shape(rng)
            domain = "positive" if op in ("log", "log2", "sqrt", "rsqrt") and \
                rng.random() < 0.5 else None
            x = random_input(rng, dtype, shape, domain)
            t = tensor_type(dtype, shape)
            text = f"trueno.{op} %a0 : {t}"
            if dtype == "float16":  # PyTorch's CPU float16 kernels are partial
                expected = torch_ref(ref, x.astype(np.float32)).astype(np.float16)
            else:
                expected = torch_ref(ref, x)
            cases.append(Case(f"{op}/{dtype}", kernel(op, [t], t, text), [x],
                              expected, tol[dtype]))
    for op, ref in UNARY_NUMERIC.items():
        for dtype in FLOATS[1:] + ["int8", "int32", "int64"]:
            shape = random_shape(rng)
            x = random_input(rng, dtype, shape)
            t = tensor_type(dtype, shape)
            expected = numpy_ref(ref, x) if ref is np.sign else torch_ref(ref, x)
            cases.append(Case(f"{op}/{dtype}", kernel(op, [t], t, f"trueno.{op} %a0 : {t}"),
                              [x], expected, EXACT.get(dtype)))
    for op, ref in BINARY_NUMERIC.items():
        for dtype in FLOATS[1:] + INTS:
            shape = random_shape(rng)
            a, b = random_input(rng, dtype, shape), random_input(rng, dtype, shape)
            t = tensor_type(dtype, shape)
            if op in ("floordiv", "remainder"):
                expected = numpy_ref(ref, a, b)
            elif dtype == "uint8" and op in ("add", "sub", "mul"):
                expected = numpy_ref({"add": np.add, "sub": np.subtract,
                                      "mul": np.multiply}[op], a, b)
            else:
                expected = torch_ref(ref, a, b)
            cases.append(Case(f"{op}/{dtype}",
                              kernel(op, [t, t], t, f"trueno.{op} %a0, %a1 : {t}"),
                              [a, b], expected, EXACT.get(dtype)))
    for op, (ref, tol) in BINARY_FLOAT.items():
        for dtype in FLOATS[1:]:
            shape = random_shape(rng)
            a, b = random_input(rng, dtype, shape), random_input(rng, dtype, shape)
            t = tensor_type(dtype, shape)
            cases.append(Case(f"{op}/{dtype}",
                              kernel(op, [t, t], t, f"trueno.{op} %a0, %a1 : {t}"),
                              [a, b], torch_ref(ref, a, b), tol[dtype]))
    for table, dtypes in ((BITWISE, INTS + ["bool"]), (LOGICAL, ["bool"])):
        for op, ref in table.items():
            for dtype in dtypes:
                shape = random_shape(rng)
                a, b = random_input(rng, dtype, shape), random_input(rng, dtype, shape)
                t = tensor_type(dtype, shape)
                cases.append(Case(f"{op}/{dtype}",
                                  kernel(op, [t, t], t, f"trueno.{op} %a0, %a1 : {t}"),
                                  [a, b], numpy_ref(ref, a, b)))
    for op, ref in COMPARE.items():
        for dtype in FLOATS + INTS + ["bool"]:
            shape = random_shape(rng)
            a, b = random_input(rng, dtype, shape), random_input(rng, dtype, shape)
            if dtype not in FLOATS:
                b = np.where(np.random.default_rng(1).random(shape) < 0.3, a, b)
            t, bt = tensor_type(dtype, shape), tensor_type("bool", shape)
            cases.append(Case(f"{op}/{dtype}",
                              kernel(op, [t, t], bt, f"trueno.{op} %a0, %a1 : {t} -> {bt}"),
                              [a, b], numpy_ref(ref, a, b)))
    for op, ref in (("isnan", np.isnan), ("isinf", np.isinf),
                    ("logical_not", np.logical_not)):
        for dtype in FLOATS + (INTS if op == "logical_not" else []):
            shape = random_shape(rng)
            x = random_input(rng, dtype, shape)
            t, bt = tensor_type(dtype, shape), tensor_type("bool", shape)
            cases.append(Case(f"{op}/{dtype}",
                              kernel(op, [t], bt, f"trueno.{op} %a0 : {t} -> {bt}"),
                              [x], numpy_ref(ref, x)))
    for dtype in FLOATS[1:] + INTS:
        shape = random_shape(rng)
        m = random_input(rng, "bool", shape)
        a, b = random_input(rng, dtype, shape), random_input(rng, dtype, shape)
        t, bt = tensor_type(dtype, shape), tensor_type("bool", shape)
        cases.append(Case(f"where/{dtype}",
                          kernel("where", [bt, t, t], t,
                                 f"trueno.where %a0, %a1, %a2 : {bt}, {t}"),
                          [m, a, b], np.where(m, a, b)))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        x = random_input(rng, dtype, shape)
        cases.append(Case(f"clamp/{dtype}",
                          kernel("clamp", [t, t, t], t,
                                 f"trueno.clamp %a0, %a1, %a2 : {t}"),
                          [x, lo, hi], torch_ref(lambda p, q, r: torch.clamp(p, q, r)
                                                 if dtype != "uint8" else
                                                 torch.minimum(torch.maximum(p, q), r),
                                                 x, lo, hi), EXACT.get(dtype)))
    for src in FLOATS + INTS + ["bool"]:
        for dst in FLOATS + INTS + ["bool"]:
            shape = random_shape(rng)
            x = random_input(rng, src, shape)
            t, ot = tensor_type(src, shape), tensor_type(dst, shape)
            cases.append(Case(f"cast/{src}->{dst}",
                              kernel("cast", [t], ot, f"trueno.cast %a0 : {t} to {ot}"),
                              [x], numpy_ref(lambda v: v.astype(dst), x), EXACT.get(dst)))
    return cases


def same(expected, got, tol):
    if got.dtype != expected.dtype or got.shape != expected.shape:
        return f"dtype/shape {got.dtype}{got.shape} != {expected.dtype}{expected.shape}"
    if expected.dtype.kind != "f":
        return None if np.array_equal(expected, got) else "values differ"
    rtol, atol = tol or (0, 0)
    e, g = expected.astype(np.float64), got.astype(np.float64)
    if not np.array_equal(np.isnan(e), np.isnan(g)):
        return "NaN positions differ"
    finite = ~np.isnan(e)
    if rtol == 0 and atol == 0:
        return None if np.array_equal(e[finite], g[finite]) else "values differ"
    inf = np.isinf(e) | np.isinf(g)
    if not np.array_equal(e[inf & finite], g[inf & finite]):
        return "infinities differ"
    if isinstance(atol, np.ndarray):  # an absolute tolerance per element
        atol = np.broadcast_to(atol, e.shape)[finite & ~inf]
    ok = np.isclose(g[finite & ~inf], e[finite & ~inf], rtol=rtol, atol=atol)
    if ok.all():
        return None
    shown = f"{atol.max():.3g} (largest)" if isinstance(atol, np.ndarray) else atol
    return f"{(~ok).sum()} values beyond rtol={rtol}, atol={shown}"


def main():
    runner = sys.argv[1]
    seed = int(os.environ.get("TRUENO_TEST_SEED", random.randrange(2**32)))
    print(f"seed {seed} (replay with TRUENO_TEST_SEED={seed}); torch "
          f"{torch.__version__}, numpy {np.__version__}")
    rng = random.Random(seed)
    cases = build_cases(rng)
    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for n, case in enumerate(cases):
            path = os.path.join(tmp, f"k{n}.mlir")
            with open(path, "w") as f:
                f.write(case.kernel)
            inputs = []
            for i, x in enumerate(case.inputs):
                p = os.path.join(tmp, f"k{n}_{i}.npy")
                np.save(p, x)
                inputs.append(p)
            lines.append(f"k{n} {path} " + " ".join(inputs))
        with open(os.path.join(tmp, "cases.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        subprocess.run([runner, os.path.join(tmp, "cases.txt"), out], check=True)
        failed = 0
        for n, case in enumerate(cases):
            err = os.path.join(out, f"k{n}.err")
            if os.path.exists(err):
                problem = open(err).read()
            else:
                problem = same(case.expected, np.load(os.path.join(out, f"k{n}.0.npy")),
                               case.tol)
            if problem:
                failed += 1
                if failed <= 25:
                    got = None if os.path.exists(err) else np.load(os.path.join(out, f"k{n}.0.npy"))
                    print(f"FAIL {case.name}: {problem}\n  inputs: "
                          f"{[x.tolist() for x in case.inputs]}\n  expected: "
                          f"{case.expected.tolist()}\n  got: "
                          f"{None if got is None else got.tolist()}")
        print(f"{len(cases) - failed} passed, {failed} failed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

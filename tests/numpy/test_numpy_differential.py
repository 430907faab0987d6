#!/usr/bin/python3
"""Differential test of Trueno's tensor core against NumPy.

Generates random cases from a seed (printed; set TRUENO_TEST_SEED to replay),
runs each in NumPy here and in Trueno through the trueno-numpy-cases
executable, and compares the results exactly: same dtype, same shape, same
bits (NaN compared as NaN). Cases cover .npy round trips (both byte orders,
Fortran order, format 2.0), chains of views, writes through views, dtype
conversions, creation functions, and calls that must fail.

Usage: test_numpy_differential.py PATH/TO/trueno-numpy-cases [NUM_CASES]
"""
import os
import platform
import random
import subprocess
import sys
import tempfile
import warnings

import numpy as np

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8",
          "float16", "float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8"]
FLOATS = ["float16", "float32", "float64"]
SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 300.0, -129.5, 1e10, -1e10,
            65520.0, 65519.0, 2.5, -2.5, 3e9, 1e-8, 6e-8, 2**63, -2**63]


def random_shape(rng, max_rank=5, max_size=5):
    rank = rng.randint(0, max_rank)
    return tuple(rng.randint(0 if rng.random() < 0.1 else 1, max_size)
                 for _ in range(rank))


def random_array(rng, dtype, shape):
    """Random values of `dtype`, floats sprinkled with NaN, inf, -0.0 and
    values that overflow narrower types. Always an ndarray, even at rank 0."""
    return np.asarray(random_values(rng, dtype, shape))


def random_values(rng, dtype, shape):
    nrng = np.random.default_rng(rng.getrandbits(32))
    if dtype == "bool":
        return nrng.random(shape) < 0.5
    if dtype in INTS:
        info = np.iinfo(dtype)
        return nrng.integers(info.min, info.max, size=shape, endpoint=True,
                             dtype=dtype)
    values = nrng.standard_normal(shape) * 10.0 ** nrng.integers(-3, 6, shape)
    flat = values.reshape(-1)
    for i in range(flat.size):
        if nrng.random() < 0.2:
            flat[i] = SPECIALS[nrng.integers(len(SPECIALS))]
    with np.errstate(all="ignore"):
        return values.astype(dtype)


def fmt_shape(shape):
    return ",".join(str(s) for s in shape) if len(shape) else "-"


class Case:
    def __init__(self, line, expected=None, error=None):
        self.line = line          # the case text, after the id
        self.expected = expected  # a NumPy array, or None when an error is due
        self.error = error        # the Trueno error type that must be raised


# --- view chains -----------------------------------------------------------

def random_view_op(rng, a, writable_only):
    """One valid op for array `a`: (trueno op text, numpy result)."""
    rank = a.ndim
    choices = ["slice", "transpose", "permute", "select", "narrow", "squeeze",
               "unsqueeze", "T"]
    if not writable_only:
        choices += ["reshape", "expand", "flatten", "contiguous", "mT",
                    "broadcastTo"]
    while True:
        op = rng.choice(choices)
        if op in ("slice", "transpose", "select", "narrow", "permute",
                  "flatten") and rank == 0:
            continue
        if op == "mT" and rank < 2:
            continue
        break
    d = rng.randrange(-rank, rank) if rank else 0
    ix = (slice(None),) * (d % rank if rank else 0)
    if op == "slice":
        size = a.shape[d]
        step = rng.choice([1, 1, 2, 3, -1, -2])
        def bound():
            return None if rng.random() < 0.3 else rng.randint(-size - 2, size + 2)
        start, stop = bound(), bound()
        text = lambda v: "_" if v is None else str(v)
        return (f"slice {d} {text(start)} {text(stop)} {step}",
                a[ix + (slice(start, stop, step),)])
    if op == "transpose":
        e = rng.randrange(-rank, rank)
        return f"transpose {d} {e}", np.swapaxes(a, d, e)
    if op == "permute":
        perm = list(range(rank))
        rng.shuffle(perm)
        perm = [p - rank if rng.random() < 0.3 else p for p in perm]
        return f"permute {fmt_shape(perm)}", a.transpose(perm)
    if op == "select":
        size = a.shape[d]
        if size == 0:  # nothing to select: an identity view instead
            return f"slice {d} _ _ 1", a
        i = rng.randrange(-size, size)
        return f"select {d} {i}", a[ix + (i, Ellipsis)]
    if op == "narrow":
        size = a.shape[d]
        start = rng.randint(0, size)
        length = rng.randint(0, size - start)
        return f"narrow {d} {start} {length}", a[ix + (slice(start, start + length),)]
    if op == "squeeze":
        if rank and rng.random() < 0.5:
            return f"squeeze {d}", (np.squeeze(a, d) if a.shape[d] == 1 else a)
        return "squeeze", np.squeeze(a)
    if op == "unsqueeze":
        e = rng.randint(-rank - 1, rank)
        return f"unsqueeze {e}", np.expand_dims(a, e)
    if op == "T":
        return "T", a.T
    if op == "mT":
        return "mT", np.swapaxes(a, -2, -1)
    if op == "contiguous":
        return "contiguous", a
    if op == "reshape":
        n = a.size
        dims = []
        rest = n
        for _ in range(rng.randint(0, 3)):
            divisors = [k for k in range(1, 7) if rest % k == 0] if rest else [0, 1, 3]
            k = rng.choice(divisors)
            dims.append(k)
            rest = rest // k if k else rest
        if n and rest or not dims:
            dims.append(rest if n else 0)
        if n == 0 and 0 not in dims:
            dims.append(0)
        shape = tuple(dims)
        if int(np.prod(shape)) != n:
            return "contiguous", a
        text = list(shape)
        if n and rng.random() < 0.3:
            text[rng.randrange(len(text))] = -1
        return f"reshape {fmt_shape(text)}", a.reshape(shape)
    if op in ("expand", "broadcastTo"):
        lead = [rng.randint(1, 3) for _ in range(rng.randint(0, 2))]
        target = [rng.randint(1, 3) if s == 1 else s for s in a.shape]
        if len(lead) + rank > 6:
            return "contiguous", a
        text = lead + [(-1 if op == "expand" and s == t and rng.random() < 0.3
                        else t) for s, t in zip(a.shape, target)]
        return f"{op} {fmt_shape(text)}", np.broadcast_to(a, tuple(lead + target))
    if op == "flatten":
        s = rng.randrange(0, rank)
        e = rng.randrange(s, rank)
        shape = a.shape[:s] + (int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:]
        return f"flatten {s} {e}", a.reshape(shape)
    raise AssertionError(op)


def fill_value(rng, dtype):
    if dtype == "bool":
        return rng.choice(["True", "False"])
    if dtype in INTS:
        return str(rng.randint(0, 100))
    return rng.choice(["1.5", "-2.25", "0.0", "7.0"])


# --- case generators ---------------------------------------------------------

def case_roundtrip(rng, tmp, n):
    dtype = rng.choice(DTYPES)
    a = random_array(rng, dtype, random_shape(rng))
    path = os.path.join(tmp, f"in{n}.npy")
    variant = rng.choice(["plain", "big", "fortran", "v2"])
    stored = a
    if variant == "big":
        stored = a.astype(a.dtype.newbyteorder(">"))
    elif variant == "fortran" and a.ndim >= 2:  # 0-d would become 1-d
        stored = np.asfortranarray(a)
    if variant == "v2":
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=(2, 0))
    else:
        np.save(path, stored)
    return Case(f"load {path}", a)


def case_bfloat16_roundtrip(rng, tmp, n):
    bits = np.random.default_rng(rng.getrandbits(32)).integers(
        0, 2**16, size=random_shape(rng), dtype=np.uint16)
    a = bits.view("V2")
    path = os.path.join(tmp, f"in{n}.npy")
    np.save(path, a)
    return Case(f"load {path}", a)


def case_views(rng, tmp, n):
    dtype = rng.choice(DTYPES)
    a = random_array(rng, dtype, random_shape(rng))
    path = os.path.join(tmp, f"in{n}.npy")
    np.save(path, a)
    writes = rng.random() < 0.3
    base = a.copy()
    cur = base
    ops = []
    for _ in range(rng.randint(1, 4)):
        text, cur = random_view_op(rng, cur, writable_only=writes)
        ops.append(text)
    if writes:
        value = fill_value(rng, dtype)
        if dtype == "bool":
            cur[...] = value == "True"
        else:
            cur[...] = float(value) if dtype in FLOATS else int(value)
        ops.append(f"fillbase {value}")
        cur = base
    return Case(f"load {path} | " + " | ".join(ops), np.array(cur, order="C"))


def case_cast(rng, tmp, n):
    src, dst = rng.choice(DTYPES), rng.choice(DTYPES)
    a = random_array(rng, src, random_shape(rng))
    path = os.path.join(tmp, f"in{n}.npy")
    np.save(path, a)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = a.astype(dst)
    return Case(f"load {path} | to {dst}", expected)


def case_create(rng, tmp, n):
    kind = rng.choice(["zeros", "ones", "full", "arange", "arange", "linspace",
                       "eye"])
    dtype = rng.choice(DTYPES)
    shape = random_shape(rng)
    if kind == "zeros":
        return Case(f"zeros {dtype} {fmt_shape(shape)}", np.zeros(shape, dtype))
    if kind == "ones":
        return Case(f"ones {dtype} {fmt_shape(shape)}", np.ones(shape, dtype))
    if kind == "full":
        value = rng.choice([str(rng.randint(-300, 300)), "2.75", "-0.5",
                            "True", "1e3"])
        py = {"True": True}.get(value, None)
        if py is None:
            py = float(value) if any(c in value for c in ".e") else int(value)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.full(shape, np.array(py), dtype)
        return Case(f"full {dtype} {fmt_shape(shape)} {value}", expected)
    if kind == "arange":
        if dtype == "bool":
            dtype = "int64"
        if dtype in FLOATS and rng.random() < 0.6:
            start = round(rng.uniform(-10, 10), rng.randint(0, 3))
            step = rng.choice([0.1, 0.25, -0.3, 1.5, 0.7, -1.0, 0.01])
            stop = start + step * rng.randint(-2, 60) + rng.uniform(-0.05, 0.05)
            text = [repr(float(start)), repr(float(stop)), repr(float(step))]
            expected = np.arange(start, stop, step, dtype=dtype)
        else:
            start = rng.randint(-20, 20)
            step = rng.choice([1, 2, 3, -1, -4])
            stop = start + rng.randint(-30, 60)
            if dtype in ("int8", "uint8"):
                start, stop = abs(start), abs(stop)
            text = [str(start), str(stop), str(step)]
            expected = np.arange(start, stop, step, dtype=dtype)
        return Case(f"arange {dtype} " + " ".join(text), expected)
    if kind == "linspace":
        start = round(rng.uniform(-100, 100), rng.randint(0, 4))
        stop = round(rng.uniform(-100, 100), rng.randint(0, 4))
        steps = rng.randint(0, 40)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.linspace(start, stop, steps, dtype=dtype)
        return Case(f"linspace {dtype} {start!r} {stop!r} {steps}", expected)
    rows, cols = rng.randint(0, 6), rng.randint(0, 6)
    return Case(f"eye {dtype} {rows} {cols}", np.eye(rows, cols, dtype=dtype))


def case_error(rng, tmp, n):
    a = random_array(rng, "float32", (2, 3, 4))
    path = os.path.join(tmp, f"in{n}.npy")
    np.save(path, a)
    op, error = rng.choice([
        ("reshape 5,5", "ShapeError"), ("reshape -1,-1", "ShapeError"),
        ("reshape 7,-1", "ShapeError"), ("transpose 0 3", "IndexError"),
        ("select 1 3", "IndexError"), ("select -4 0", "IndexError"),
        ("narrow 2 3 2", "IndexError"), ("permute 0,0,1", "ValueError"),
        ("permute 0,1", "ShapeError"), ("expand 3,3,4", "ShapeError"),
        ("slice 0 _ _ 0", "ValueError"), ("mT | mT | squeeze 5", "IndexError"),
        ("broadcastTo 2,-1,4", "ShapeError"), ("unsqueeze 4", "IndexError"),
        ("flatten 2 1", "ValueError")])
    return Case(f"load {path} | {op}", error=error)


GENERATORS = [(case_roundtrip, 3), (case_bfloat16_roundtrip, 1),
              (case_views, 6), (case_cast, 4), (case_create, 4),
              (case_error, 1)]


def same(expected, got):
    if expected.dtype.kind == "V":
        return got.dtype.kind == "V" and got.shape == expected.shape and \
            got.tobytes() == expected.tobytes()
    expected = expected.astype(expected.dtype.newbyteorder("="))
    if got.dtype != expected.dtype or got.shape != expected.shape:
        return False
    if expected.dtype.kind == "f":
        nan_e, nan_g = np.isnan(expected), np.isnan(got)
        bits = f"u{expected.dtype.itemsize}"
        return bool(np.array_equal(nan_e, nan_g) and np.array_equal(
            expected[~nan_e].view(bits), got[~nan_g].view(bits)))
    return bool(np.array_equal(expected, got))


def main():
    runner = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    seed = int(os.environ.get("TRUENO_TEST_SEED", random.randrange(2**32)))
    print(f"seed {seed} (replay with TRUENO_TEST_SEED={seed}); numpy "
          f"{np.__version__}; {count} cases")
    if platform.machine() not in ("x86_64", "AMD64"):
        print("note: float->int conversion of out-of-range values follows "
              "x86-64; other machines may differ")
    rng = random.Random(seed)
    weights = [w for _, w in GENERATORS]
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for n in range(count):
            gen = rng.choices([g for g, _ in GENERATORS], weights)[0]
            cases.append((gen.__name__, gen(rng, tmp, n)))
        case_file = os.path.join(tmp, "cases.txt")
        with open(case_file, "w") as f:
            for n, (_, case) in enumerate(cases):
                f.write(f"c{n} {case.line}\n")
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        subprocess.run([runner, case_file, out], check=True)
        failed = 0
        for n, (name, case) in enumerate(cases):
            npy, err = os.path.join(out, f"c{n}.npy"), os.path.join(out, f"c{n}.err")
            problem = None
            if case.error:
                if not os.path.exists(err):
                    problem = f"expected {case.error}, got a result"
                elif open(err).readline().strip() != case.error:
                    problem = f"expected {case.error}, got:\n{open(err).read()}"
            elif os.path.exists(err):
                problem = f"unexpected error:\n{open(err).read()}"
            else:
                got = np.load(npy)
                if not same(case.expected, got):
                    problem = (f"mismatch\n  numpy  ({case.expected.dtype}, "
                               f"{case.expected.shape}): {case.expected!r}\n"
                               f"  trueno ({got.dtype}, {got.shape}): {got!r}")
            if problem:
                failed += 1
                if failed <= 20:
                    print(f"FAIL {name} c{n}: {case.line}\n  {problem}")
        print(f"{count - failed} passed, {failed} failed")
        if failed:
            print(f"replay with TRUENO_TEST_SEED={seed}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The trueno-cache tool on bad command lines and odd cache states.

Each case runs the tool on its own temporary cache directory (the
environment's TRUENO_CACHE_DIR and HOME point into it too, so the user's
cache is never read or changed) and checks the exit status and the message:

- usage errors: no command, an unknown command or option, a missing or extra
  operand, --dir or --max-size without a value (`clear --dir` must not clear
  the default cache), sizes that are not sizes, dates that are not dates;
- a --dir that is not a directory, one that does not exist yet, and the
  default directory (TRUENO_CACHE_DIR, else ~/.cache/trueno);
- list, show, stats, verify, prune and clear on entries written here byte by
  byte: corrupt, a directory in an entry's place, metadata that is not a
  JSON object, leftover temporary files, ambiguous key prefixes;
- explain on unreadable and non-IR files, raw kernel IR, an empty cache, a
  bad TRUENO_CPU, and entries that differ from the program in each key part.

The happy paths on real entries are in test_disk_cache.py.

Usage: test_trueno_cache_cli.py PATH/TO/trueno-cache-probe PATH/TO/trueno-cache
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

PROBE, TOOL = sys.argv[1], sys.argv[2]
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def environment(home, extra=None):
    """The environment of every run: a private cache, never the user's."""
    env = dict(os.environ, HOME=home,
               TRUENO_CACHE_DIR=os.path.join(home, "default-cache"))
    for name in ("TRUENO_CACHE", "TRUENO_CACHE_MAX_MB", "TRUENO_DEBUG"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def tool(home, *args, env=None):
    return subprocess.run([TOOL, *args], env=environment(home, env),
                          capture_output=True, text=True)


def key_of(name):
    return hashlib.sha256(name.encode()).hexdigest()


def write_entry(directory, key, metadata, obj=b"\x7fELF not really",
                mtime=None, hits=None):
    """An entry file as KernelCache::store writes it (see KernelCache.cpp)."""
    if isinstance(metadata, dict):
        metadata = json.dumps(metadata)
    if isinstance(metadata, str):
        metadata = metadata.encode()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, key + ".tkc")
    header = (b"TRUENOKC" + struct.pack("<II", 1, 96) + bytes.fromhex(key) +
              struct.pack("<QQ", len(obj), len(metadata)) +
              hashlib.sha256(obj + metadata).digest())
    with open(path, "wb") as f:
        f.write(header + obj + metadata)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    if hits is not None:
        with open(os.path.join(directory, key + ".hits"), "w") as f:
            f.write("+" * hits)
    return path


def read_metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    obj, meta = struct.unpack("<QQ", data[48:64])
    return json.loads(data[96 + obj:96 + obj + meta])


def corrupt(path):
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(b"\xff\xfe")


def files(directory):
    return sorted(os.listdir(directory))


# A target key in CompileTarget::key's layout: the CPU is the third field.
TARGET = ("cpu; x86_64-pc-linux-gnu; haswell; +avx2,+fma; f64 yes; i64 yes; "
          "vector bits 256; subgroup 1; L1 32768; L2 262144")


def test_usage(home):
    usage = "usage: trueno-cache [--dir DIR]"
    r = tool(home)
    check(r.returncode == 2 and usage in r.stderr, "no command: usage, exit 2")
    for flag in ("--help", "-h"):
        r = tool(home, flag)
        check(r.returncode == 0 and usage in r.stdout and not r.stderr,
              f"{flag}: usage on stdout, exit 0")
    cases = [
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["show"], "show takes one KEY"),
        (["show", "ab", "cd"], "show takes one KEY"),
        (["explain"], "explain takes one FILE"),
        (["list", "extra"], "list takes no arguments"),
        (["verify", "--fix", "now"], "verify takes no arguments"),
        (["prune", "--max-sise", "1M"], "prune has no option --max-sise"),
        (["clear", "--fix"], "clear has no option --fix"),
    ]
    for args, message in cases:
        r = tool(home, "--dir", os.path.join(home, "c"), *args)
        check(r.returncode == 2 and "trueno-cache: " + message in r.stderr and
              usage in r.stderr and not r.stdout,
              f"{' '.join(args)}: '{message}' and usage, exit 2")
    for args, message in [(["prune", "--max-size"], "--max-size takes a value"),
                          (["stats", "--since"], "--since takes a value")]:
        r = tool(home, "--dir", os.path.join(home, "c"), *args)
        check(r.returncode == 2 and r.stderr == f"trueno-cache: {message}\n",
              f"{' '.join(args)}: '{message}', exit 2")


def test_dir_without_value(home):
    # --dir last with no directory: an error, never the default cache.
    default = os.path.join(home, "default-cache")
    entry = write_entry(default, key_of("kept"), {"ir": "trueno.add"})
    r = tool(home, "clear", "--dir")
    check(r.returncode == 2 and r.stderr == "trueno-cache: --dir takes a directory\n",
          "clear --dir (no value): '--dir takes a directory', exit 2")
    check(os.path.exists(entry), "... and the default cache is untouched")


def test_sizes(home):
    cache = os.path.join(home, "c")
    bad = [("12Q", "unknown unit 'Q' (use B, K, M or G)"),
           ("12k", "unknown unit 'k' (use B, K, M or G)"),
           ("lots", "it does not start with a number"),
           ("nan", "it does not start with a number"),
           ("-5M", "a size cannot be negative"),
           ("1e30G", "it is too large"),
           ("inf", "it is too large")]
    for text, why in bad:
        r = tool(home, "--dir", cache, "prune", "--max-size", text)
        check(r.returncode == 2 and r.stderr ==
              f"trueno-cache: --max-size {text}: {why}; give a size like 512M\n",
              f"prune --max-size {text}: '{why}', exit 2")
    for text, size in [("100", 100), ("100B", 100), ("1.5K", 1536),
                       ("2M", 2 << 20), ("1G", 1 << 30)]:
        r = tool(home, "--dir", cache, "--json", "prune", "--max-size", text)
        check(r.returncode == 0 and json.loads(r.stdout) ==
              {"removed": 0, "max_bytes": size},
              f"prune --max-size {text} is {size} bytes")
    r = tool(home, "--dir", cache, "prune", "--max-size", "2M")
    check(r.stdout == "removed 0 least recently used entries; at most 2.0 MiB "
          "remain\n", "prune in text, in MiB: " + r.stdout.strip())


def test_prune(home):
    cache = os.path.join(home, "c")
    keys = [key_of(f"prune {i}") for i in range(3)]
    paths = [write_entry(cache, k, {"ir": "x" * 300}, mtime=1000 + i, hits=2)
             for i, k in enumerate(keys)]
    size = os.path.getsize(paths[0])
    temporary = os.path.join(cache, ".tmp-1-0.tkc")
    with open(temporary, "wb") as f:
        f.write(b"TRUENOKC" + b"\0" * 5000)  # never evicted: being written
    r = tool(home, "--dir", cache, "prune", "--max-size", str(2 * size))
    check(r.returncode == 0 and r.stdout.startswith(
        "removed 1 least recently used entries"),
          "prune removes the least recently used entry: " + r.stdout.strip())
    check(not os.path.exists(paths[0]) and
          not os.path.exists(os.path.join(cache, keys[0] + ".hits")) and
          os.path.exists(paths[1]) and os.path.exists(paths[2]) and
          os.path.exists(temporary),
          "... with its hit count; the newer ones and a temporary file stay")
    # Without --max-size: the configured limit, TRUENO_CACHE_MAX_MB.
    r = tool(home, "--dir", cache, "--json", "prune",
             env={"TRUENO_CACHE_MAX_MB": "0"})
    check(r.returncode == 0 and json.loads(r.stdout) ==
          {"removed": 2, "max_bytes": 0},
          "prune without --max-size uses TRUENO_CACHE_MAX_MB")


def test_directories(home):
    not_dir = os.path.join(home, "a-file")
    with open(not_dir, "w") as f:
        f.write("x")
    for command in (["list"], ["clear"], ["verify"], ["stats"]):
        r = tool(home, "--dir", not_dir, *command)
        check(r.returncode == 2 and r.stderr ==
              f"trueno-cache: cannot read {not_dir}: Not a directory\n",
              f"{command[0]} on a file: 'cannot read ...: Not a directory'")
    missing = os.path.join(home, "not-yet")
    r = tool(home, "--dir", missing, "list")
    check(r.returncode == 0 and r.stdout.endswith("0 entries\n"),
          "list of a cache not created yet: 0 entries")
    r = tool(home, "--dir", missing, "--json", "verify")
    check(r.returncode == 0 and json.loads(r.stdout) ==
          {"entries": 0, "bad": [], "fixed": False}, "verify of it: nothing bad")
    check(not os.path.exists(missing), "... and neither creates it")
    # The default directory: TRUENO_CACHE_DIR, else ~/.cache/trueno.
    r = tool(home, "--json", "stats")
    check(json.loads(r.stdout)["directory"] ==
          os.path.join(home, "default-cache"),
          "without --dir: TRUENO_CACHE_DIR")
    r = tool(home, "--json", "stats", env={"TRUENO_CACHE_DIR": ""})
    check(json.loads(r.stdout)["directory"] ==
          os.path.join(home, ".cache", "trueno"),
          "TRUENO_CACHE_DIR empty: ~/.cache/trueno")


def odd_cache(cache):
    """Entries in every state list, show, stats and verify distinguish."""
    made = {}
    made["long"] = write_entry(cache, key_of("long"), {
        "ir": "trueno.kernel trueno.matmul trueno.strides trueno.add "
              "trueno.broadcast_in_dim trueno.add trueno.reduce_sum "
              "trueno.exp",
        "target": TARGET, "compile_ms": 12.5}, mtime=5000, hits=3)
    made["plain"] = write_entry(cache, key_of("plain"), {
        "target": "no fields", "compile_ms": 30}, mtime=4000)
    made["big"] = write_entry(cache, key_of("big"), {"ir": "trueno.mul"},
                              obj=b"\0" * (3 << 19), mtime=3000)
    made["not json"] = write_entry(cache, key_of("not json"), "not json",
                                   mtime=2000)
    made["array"] = write_entry(cache, key_of("array"), "[1, 2]", mtime=1000)
    made["corrupt"] = write_entry(cache, key_of("corrupt"), {"ir": "x" * 50},
                                  hits=1)
    corrupt(made["corrupt"])
    os.utime(made["corrupt"], (900, 900))
    made["directory"] = os.path.join(cache, key_of("directory") + ".tkc")
    os.mkdir(made["directory"])
    os.utime(made["directory"], (800, 800))
    made["temporary"] = os.path.join(cache, ".tmp-77-0.tkc")
    with open(made["temporary"], "wb") as f:
        f.write(b"TRUENOKC\x01")
    made["notes"] = os.path.join(cache, "notes.txt")
    with open(made["notes"], "w") as f:
        f.write("not the cache's\n")
    return made


def test_list(home):
    cache = os.path.join(home, "c")
    made = odd_cache(cache)
    r = tool(home, "--dir", cache, "--json", "list")
    listed = {e["key"]: e for e in json.loads(r.stdout)}
    check(r.returncode == 0 and len(listed) == 7 and
          ".tmp-77-0" not in listed,
          "list --json: 7 entries, not the temporary file")
    long = listed[key_of("long")]
    check(long["ops"] == "matmul+add+broadcast_in_dim+reduce_sum+exp" and
          long["target"] == "haswell" and long["hits"] == 3 and
          long["compile_ms"] == 12.5 and long["valid"],
          "a valid entry: its ops once each, its CPU, hits, compile time")
    check(listed[key_of("plain")]["ops"] == "-" and
          listed[key_of("plain")]["target"] == "" and
          listed[key_of("plain")]["hits"] == 0,
          "no IR, no target key layout, no hit file: '-', '' and 0")
    for name in ("not json", "array"):
        e = listed[key_of(name)]
        check(e["valid"] and e["ops"] == "-" and e["compile_ms"] == 0,
              f"metadata {name}: a valid entry without details")
    e = listed[key_of("corrupt")]
    check(not e["valid"] and
          e["problem"] == "checksum mismatch: the payload is corrupt" and
          "ops" not in e, "a corrupt entry: invalid, with its problem")
    e = listed[key_of("directory")]
    check(not e["valid"] and e["bytes"] == 0 and
          e["problem"] == "a directory where an entry file is expected",
          "a directory in an entry's place: invalid, 0 bytes")
    text = tool(home, "--dir", cache, "list").stdout
    rows = {line[:12]: line for line in text.splitlines()}
    check(text.endswith("7 entries\n") and
          [line[:12] for line in text.splitlines()[1:3]] ==
          [key_of("long")[:12], key_of("plain")[:12]],
          "list as a table, most recently used first")
    check("matmul+add+broadcast_in_dim+red... haswell" in
          rows[key_of("long")[:12]], "long op lists are cut at 34 characters")
    check("(invalid: checksum mismatch: th..." in rows[key_of("corrupt")[:12]],
          "an invalid entry's problem in the ops column, cut")
    plain_size = os.path.getsize(made["plain"])
    check(" 1.5 MiB " in rows[key_of("big")[:12]] and
          f" {plain_size} B " in rows[key_of("plain")[:12]],
          "sizes in MiB and in bytes")


def test_show(home):
    cache = os.path.join(home, "c")
    odd_cache(cache)
    # Two keys that share their first hex digit (brute-forced once).
    first = key_of("long")[0]
    other = next(key_of(f"twin {i}") for i in range(1000)
                 if key_of(f"twin {i}")[0] == first)
    write_entry(cache, other, {"ir": "trueno.sub"})
    r = tool(home, "--dir", cache, "show", first)
    check(r.returncode == 1 and r.stderr ==
          f"trueno-cache: key prefix '{first}' is ambiguous; give more "
          "characters\n", "show of an ambiguous prefix: exit 1, says so")
    r = tool(home, "--dir", cache, "show", "zzzz")
    check(r.returncode == 1 and
          r.stderr == "trueno-cache: no entry with key prefix 'zzzz'\n",
          "show of an unknown key: exit 1, says so")
    path = os.path.join(cache, key_of("corrupt") + ".tkc")
    r = tool(home, "--dir", cache, "--json", "show", key_of("corrupt")[:16])
    check(r.returncode == 1 and not r.stdout and r.stderr ==
          f"trueno-cache: {path} is invalid: checksum mismatch: the payload "
          "is corrupt\n", "show of a corrupt entry: exit 1, its problem")
    r = tool(home, "--dir", cache, "show", key_of("long")[:20])
    check(r.returncode == 0 and f"key:            {key_of('long')}" in r.stdout
          and f"target:         {TARGET}" in r.stdout and
          "hits:           3," in r.stdout and "trueno.matmul" in r.stdout,
          "show of a valid entry: key, target, hits, IR")


def test_stats(home):
    cache = os.path.join(home, "c")
    odd_cache(cache)
    with open(os.path.join(cache, "events.log"), "w") as f:
        f.write("100 hit k\n200 miss k\na torn line\n\n300 hit k\n"
                "86400 miss k\n")
    r = tool(home, "--dir", cache, "stats")
    check(r.returncode == 0 and
          "entries:    7 (2 invalid)" in r.stdout and
          "lookups since the beginning: 2 hits, 2 misses, hit rate 50.0%"
          in r.stdout, "stats in text: lines that are not events are skipped")
    costly = [line.split()[0] for line in
              r.stdout.split("most compile time:\n")[1].splitlines()]
    zero_ms = {key_of(n)[:12] for n in ("big", "not json", "array")}
    check(costly[:2] == [key_of("plain")[:12], key_of("long")[:12]] and
          set(costly[2:]) == zero_ms,
          "most compile time: valid entries only, the costliest first")
    r = tool(home, "--dir", cache, "stats", "--since", "1970-01-02")
    check(r.returncode == 0 and "lookups since 1970-01-02: 0 hits, 1 misses, "
          "hit rate 0.0%" in r.stdout, "stats --since counts from that day")
    for date in ("yesterday", "2024-13-01", "2024-01-01x"):
        r = tool(home, "--dir", cache, "stats", "--since", date)
        check(r.returncode == 2 and not r.stdout and r.stderr ==
              f"trueno-cache: --since {date}: not a date; give YYYY-MM-DD\n",
              f"stats --since {date}: not a date, exit 2")


def test_verify_and_clear(home):
    cache = os.path.join(home, "c")
    made = odd_cache(cache)
    r = tool(home, "--dir", cache, "verify")
    lines = r.stdout.splitlines()
    check(r.returncode == 1 and sorted(lines[:-1]) == sorted([
        key_of("corrupt") + ".tkc: checksum mismatch: the payload is corrupt",
        key_of("directory") + ".tkc: a directory where an entry file is "
        "expected",
        ".tmp-77-0.tkc: an unfinished write"]) and
          lines[-1] == "7 entries checked, 3 bad",
          "verify: each bad entry once, the temporary file as an unfinished "
          "write, exit 1")
    r = tool(home, "--dir", cache, "--json", "verify", "--fix")
    report = json.loads(r.stdout)
    check(r.returncode == 0 and report["fixed"] and report["entries"] == 7 and
          sorted(b["key"] for b in report["bad"]) ==
          sorted([key_of("corrupt"), key_of("directory"), ".tmp-77-0.tkc"]),
          "verify --fix --json: names them, exit 0")
    check(not any(os.path.exists(made[n]) for n in
                  ("corrupt", "directory", "temporary")) and
          not os.path.exists(os.path.join(cache, key_of("corrupt") + ".hits"))
          and os.path.exists(made["long"]), "... and removes them only")
    r = tool(home, "--dir", cache, "verify")
    check(r.returncode == 0 and r.stdout == "5 entries checked, 0 bad\n",
          "then verify passes")
    # Another writer's temporary file, of any name, is an unfinished write.
    with open(os.path.join(cache, ".tmp-78-0"), "w") as f:
        f.write("half")
    r = tool(home, "--dir", cache, "verify", "--fix")
    check(r.returncode == 0 and r.stdout ==
          ".tmp-78-0: an unfinished write (removed)\n"
          "5 entries checked, 1 bad, removed\n", "verify --fix in text")
    for name in (".tmp-79-0.tkc", ".tmp-80-0"):
        with open(os.path.join(cache, name), "w") as f:
            f.write("half")
    with open(os.path.join(cache, "events.log"), "w") as f:
        f.write("1 hit k\n")
    r = tool(home, "--dir", cache, "--json", "clear")
    check(r.returncode == 0 and json.loads(r.stdout) == {"removed": 5} and
          files(cache) == ["notes.txt"],
          "clear --json: counts entries, removes hits, the log and temporary "
          "files, keeps other files")


def explain_json(home, cache, file, env=None):
    r = tool(home, "--dir", cache, "--json", "explain", file, env=env)
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def test_explain(home, seed):
    real = [os.path.join(seed, f) for f in files(seed) if f.endswith(".tkc")]
    meta = read_metadata(real[0])
    real_key = os.path.basename(real[0])[:-4]
    ir_file = os.path.join(home, "kernel.mlir")
    with open(ir_file, "w") as f:
        f.write(meta["ir"])

    r = tool(home, "--dir", seed, "explain", os.path.join(home, "missing.log"))
    check(r.returncode == 2 and r.stderr == "trueno-cache: cannot read " +
          os.path.join(home, "missing.log") + "\n", "explain of a missing file")
    not_ir = os.path.join(home, "notes.txt")
    cut = os.path.join(home, "cut.log")
    with open(not_ir, "w") as f:
        f.write("hello\n")
    with open(cut, "w") as f:  # a log cut inside its first block
        f.write("// ---- trueno: kernel cache key " + real_key)
    # A log cut after its one block's IR, before the end marker: the text
    # is still that program's IR.
    cut_after_ir = os.path.join(home, "cut-after-ir.log")
    with open(cut_after_ir, "w") as f:
        f.write("// ---- trueno: kernel cache key " + real_key + " ----\n" +
                meta["ir"])
    r = tool(home, "--dir", seed, "explain", cut_after_ir)
    check(r.returncode == 0 and
          r.stdout == f"hit: {real_key[:12]} is in the cache\n",
          "explain of a log cut before its end marker: its one program")
    empty_file = os.path.join(home, "empty.log")
    open(empty_file, "w").close()
    for path in (not_ir, cut, empty_file):
        r = tool(home, "--dir", seed, "explain", path)
        check(r.returncode == 2 and r.stderr.endswith(f"trueno-cache: {path} holds "
              "neither kernel IR nor a TRUENO_DEBUG=2 log\n"),
              f"explain of {os.path.basename(path)}: neither IR nor a log")
    r = tool(home, "--dir", seed, "explain", ir_file,
             env={"TRUENO_CPU": "no-such-cpu"})
    check(r.returncode == 2 and "TRUENO_CPU=no-such-cpu is not a CPU LLVM "
          "knows" in r.stderr, "explain with a bad TRUENO_CPU: its error")

    r = tool(home, "--dir", seed, "explain", ir_file)
    check(r.returncode == 0 and
          r.stdout == f"hit: {real_key[:12]} is in the cache\n",
          "explain of a file of kernel IR: a hit")
    empty = os.path.join(home, "empty")
    os.mkdir(empty)
    corrupt(shutil.copy(real[0], empty))
    r = tool(home, "--dir", empty, "explain", ir_file)
    check(r.returncode == 0 and r.stdout ==
          f"miss: {real_key[:12]}; the cache has no valid entries\n",
          "explain on a cache of one corrupt entry: no valid entries")

    for fields, label in [(["target"], "target"),
                          (["trueno"], "trueno version"),
                          (["llvm"], "llvm version"), (["options"], "options"),
                          (["trueno", "llvm"], "trueno version, llvm version")]:
        cache = os.path.join(home, "differs-" + "-".join(fields))
        changed = dict(meta)
        for field in fields:
            changed[field] = "other " + field
        fake = key_of(label)
        write_entry(cache, fake, changed)
        r = tool(home, "--dir", cache, "explain", ir_file)
        expected = (f"miss: {real_key[:12]}; the nearest entry {fake[:12]} "
                    f"differs in {label}")
        if fields == ["target"]:
            expected += f" (entry: other target; now: {meta['target']})"
        check(r.returncode == 0 and r.stdout == expected + "\n",
              f"explain names a different {label}")

    # The nearest entry is the one with fewest differences, wherever it is.
    cache = os.path.join(home, "nearest")
    far = dict(meta, ir="module {}", llvm="1.0")
    near = dict(meta, options="-O0")
    write_entry(cache, key_of("far"), far, mtime=2000)
    write_entry(cache, key_of("near"), near, mtime=1000)
    r, result = explain_json(home, cache, ir_file)
    check(r.returncode == 0 and len(result) == 1 and not result[0]["hit"] and
          result[0]["nearest"] == key_of("near") and
          result[0]["differs_in"] == ["options"],
          "explain --json: the nearest entry and what differs")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        seed = os.path.join(tmp, "seed")
        made = subprocess.run([PROBE, "run", "2"], capture_output=True,
                              text=True, env=environment(
                                  tmp, {"TRUENO_CACHE_DIR": seed}))
        check(made.returncode == 0, "the probe fills a cache: " +
              made.stderr.strip())
        for test in (test_usage, test_dir_without_value, test_sizes,
                     test_prune, test_directories, test_list, test_show,
                     test_stats, test_verify_and_clear):
            home = os.path.join(tmp, test.__name__)
            os.mkdir(home)
            test(home)
        home = os.path.join(tmp, "test_explain")
        os.mkdir(home)
        test_explain(home, seed)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

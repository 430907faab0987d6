#!/usr/bin/python3
"""Cross-process tests of the disk kernel cache.

- A second run of the same program compiles nothing (counted by the runtime).
- Several processes warming one empty cache at once all succeed and leave
  only valid entries, which a later run uses without compiling.
- A damaged entry is removed with a message and recompiled; the run succeeds.
- An unwritable cache location degrades to memory only, with one warning.
- TRUENO_CACHE=0 turns the disk cache off.
- Vulkan programs (TRUENO_DEVICE=vulkan, lavapipe in CI): their SPIR-V and
  the driver's pipeline cache are stored; a second process lowers nothing
  and computes the same results; an entry whose program is damaged behind
  a valid checksum is refused and recompiled; trueno-cache lists, shows
  (spirv-dis) and explains them.

- The trueno-cache tool's commands, in text and --json.

Usage: test_disk_cache.py PATH/TO/trueno-cache-probe PATH/TO/trueno-cache
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

N = 6


def run(probe, cache_dir, *args, env_extra=None):
    env = dict(os.environ, TRUENO_CACHE_DIR=cache_dir)
    env.pop("TRUENO_CACHE", None)
    env.update(env_extra or {})
    return subprocess.run([probe, *args], env=env, capture_output=True, text=True)


def counts(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(kv.split("=") for kv in result.stdout.split())


def main():
    probe = sys.argv[1]
    failures = []

    def check(condition, message):
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            failures.append(message)

    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        first = counts(run(probe, cache, "run", str(N)))
        check(int(first["compiled"]) == N and int(first["disk_misses"]) == N,
              f"a cold run compiles all {N} programs: {first}")
        second = counts(run(probe, cache, "run", str(N)))
        check(int(second["compiled"]) == 0 and int(second["disk_hits"]) == N,
              f"a second process compiles nothing: {second}")
        entries = [f for f in os.listdir(cache) if f.endswith(".tkc")]
        check(len(entries) == N, f"one entry per program: {len(entries)}")

        # Damage every entry in a different way; each is detected and replaced.
        paths = sorted(os.path.join(cache, f) for f in entries)
        with open(paths[0], "r+b") as f:  # truncated
            f.truncate(50)
        with open(paths[1], "r+b") as f:  # a flipped byte in the payload
            f.seek(200)
            byte = f.read(1)
            f.seek(200)
            f.write(bytes([byte[0] ^ 0xFF]))
        with open(paths[2], "r+b") as f:  # wrong magic
            f.write(b"NOTTRUEN")
        with open(paths[3], "r+b") as f:  # wrong format version
            f.seek(8)
            f.write((99).to_bytes(4, "little"))
        os.remove(paths[4])  # a directory where a file is expected
        os.mkdir(paths[4])
        damaged = run(probe, cache, "run", str(N))
        result = counts(damaged)
        check(int(result["compiled"]) == 5 and int(result["disk_hits"]) == 1,
              f"5 damaged entries are recompiled, the intact one loads: {result}")
        for reason in ("truncated", "checksum mismatch", "wrong magic",
                       "format version 99, expected 1",
                       "a directory where an entry file is expected"):
            check(reason in damaged.stderr, f"the log names '{reason}'")
        verify = run(probe, cache, "verify", cache)
        check(verify.returncode == 0, "afterwards every entry is valid: " +
              verify.stdout.strip())

    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        env = dict(os.environ, TRUENO_CACHE_DIR=cache)
        env.pop("TRUENO_CACHE", None)
        procs = [subprocess.Popen([probe, "run", str(N)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(4)]
        outs = [p.communicate() for p in procs]
        check(all(p.returncode == 0 for p in procs),
              "4 processes warming one empty cache at once all succeed")
        check(not any("removed" in err for _, err in outs),
              "no process saw a damaged entry")
        verify = run(probe, cache, "verify", cache)
        check(verify.returncode == 0 and f"entries={N} bad=0" in verify.stdout,
              "they leave exactly one valid entry per program: " +
              verify.stdout.strip())
        after = counts(run(probe, cache, "run", str(N)))
        check(int(after["compiled"]) == 0, f"a later run compiles nothing: {after}")

    with tempfile.TemporaryDirectory() as tmp:
        blocker = os.path.join(tmp, "file")
        open(blocker, "w").close()
        bad = run(probe, os.path.join(blocker, "cache"), "run", str(N))
        check(bad.returncode == 0, "an unusable cache location is not an error")
        check(bad.stderr.count("kernel cache: cannot create") == 1,
              "it is reported once: " + bad.stderr.strip())
        off = run(probe, os.path.join(tmp, "off"), "run", "2",
                  env_extra={"TRUENO_CACHE": "0"})
        check(counts(off)["disk_misses"] == "0" and
              not os.path.exists(os.path.join(tmp, "off")),
              "TRUENO_CACHE=0 never touches the disk")

    tool = sys.argv[2]

    def cache_tool(cache_dir, *args):
        return subprocess.run([tool, "--dir", cache_dir, *args],
                              capture_output=True, text=True)

    vulkan_cases(probe, cache_tool, check)

    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        counts(run(probe, cache, "run", str(N)))
        log = run(probe, cache, "run", str(N), env_extra={"TRUENO_DEBUG": "2"})
        listed = json.loads(cache_tool(cache, "--json", "list").stdout)
        check(len(listed) == N and all(e["valid"] and e["hits"] == 1 for e in listed),
              "list --json: every entry, valid, one hit each")
        check({e["ops"] for e in listed} == {"mul+add+exp", "sub+tanh"},
              "list names the fused ops: " + str({e["ops"] for e in listed}))
        text = cache_tool(cache, "list").stdout
        check(f"{N} entries" in text and "KERNEL OPS" in text, "list as a table")
        key = listed[0]["key"]
        shown = cache_tool(cache, "show", key[:10])
        check(shown.returncode == 0 and "trueno." in shown.stdout and
              "format version 1, checksum ok" in shown.stdout and
              "Disassembly of section" in shown.stdout,
              "show KEY: header, metadata, IR and disassembly")
        shown_json = json.loads(cache_tool(cache, "--json", "show", key[:10]).stdout)
        check(shown_json["key"] == key and "ir" in shown_json["metadata"],
              "show --json")
        check(cache_tool(cache, "show", "zzzz").returncode == 1,
              "show of an unknown key fails")
        stats = json.loads(cache_tool(cache, "--json", "stats").stdout)
        check(stats["entries"] == N and stats["hits"] == N and
              stats["misses"] == N and len(stats["most_compile_time"]) == 5,
              f"stats --json counts hits and misses: {stats['hits']}/{stats['misses']}")
        future = json.loads(cache_tool(cache, "--json", "stats", "--since",
                                       "2999-01-01").stdout)
        check(future["hits"] == 0, "stats --since filters by date")
        with open(os.path.join(tmp, "debug.log"), "w") as f:
            f.write(log.stderr)
        explained = json.loads(cache_tool(cache, "--json", "explain",
                                          os.path.join(tmp, "debug.log")).stdout)
        check(len(explained) == N and all(e["hit"] for e in explained),
              "explain reads a TRUENO_DEBUG=2 log: every program would hit")
        changed = log.stderr.replace("trueno.tanh", "trueno.exp")
        with open(os.path.join(tmp, "changed.log"), "w") as f:
            f.write(changed)
        explained = json.loads(cache_tool(cache, "--json", "explain",
                                          os.path.join(tmp, "changed.log")).stdout)
        misses = [e for e in explained if not e["hit"]]
        check(len(misses) == N // 2 and all(e["differs_in"] == ["ir"] for e in misses),
              "explain names the part of the key that differs (the IR)")
        with open(os.path.join(cache, key + ".tkc"), "r+b") as f:
            f.seek(120)
            f.write(b"\x00\x01\x02")
        bad = cache_tool(cache, "verify")
        check(bad.returncode == 1 and "checksum mismatch" in bad.stdout,
              "verify reports a damaged entry and fails")
        fixed = cache_tool(cache, "verify", "--fix")
        check(fixed.returncode == 0 and "removed" in fixed.stdout and
              not os.path.exists(os.path.join(cache, key + ".tkc")),
              "verify --fix removes it")
        pruned = json.loads(cache_tool(cache, "--json", "prune", "--max-size",
                                       "12K").stdout)
        left = [f for f in os.listdir(cache) if f.endswith(".tkc")]
        check(pruned["removed"] == N - 2 and len(left) == 1,
              f"prune --max-size keeps what fits: removed {pruned['removed']}")
        cleared = cache_tool(cache, "clear")
        check(cleared.returncode == 0 and not os.listdir(cache), "clear empties it")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


def rewrite_entry(path, edit):
    """Applies `edit` to an entry's object bytes and writes the entry back
    with its sizes and checksum recomputed (what only a foreign writer, not
    a damaged disk, produces)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    object_size = int.from_bytes(data[48:56], "little")
    metadata_size = int.from_bytes(data[56:64], "little")
    obj = edit(bytes(data[96:96 + object_size]))
    metadata = bytes(data[96 + object_size:96 + object_size + metadata_size])
    data[48:56] = len(obj).to_bytes(8, "little")
    data[64:96] = hashlib.sha256(obj + metadata).digest()
    with open(path, "wb") as f:
        f.write(bytes(data[:96]) + obj + metadata)


def vulkan_cases(probe, cache_tool, check):
    vk = {"TRUENO_DEVICE": "vulkan", "TRUENO_VULKAN_VALIDATION": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        first = run(probe, cache, "run", str(N), env_extra=vk)
        if first.returncode != 0 and \
                os.environ.get("TRUENO_TEST_REQUIRE_VULKAN") != "1":
            print("skip the Vulkan cases: no Vulkan device (" +
                  first.stderr.strip().splitlines()[-1] + ")")
            return
        cold = counts(first)
        # As many kernels in each program: full() on a GPU is a fill, a
        # kernel of the program that first reads it.
        check(int(cold["compiled"]) % N == 0 and int(cold["compiled"]) > 0 and
              int(cold["disk_misses"]) == N,
              f"Vulkan: a cold run lowers all {N} programs: {cold}")
        warm_run = run(probe, cache, "run", str(N), env_extra=vk)
        warm = counts(warm_run)
        check(int(warm["compiled"]) == 0 and int(warm["disk_hits"]) == N,
              f"Vulkan: a second process lowers nothing: {warm}")
        cpu = counts(run(probe, os.path.join(tmp, "cpu"), "run", str(N)))
        check(warm["checksum"] == cold["checksum"] and
              abs(float(warm["checksum"]) - float(cpu["checksum"])) <=
              1e-5 * abs(float(cpu["checksum"])),
              "Vulkan: the programs from disk compute what the compiled ones "
              f"did, and the CPU: {warm['checksum']} {cold['checksum']} "
              f"{cpu['checksum']}")
        check("validation" not in first.stderr + warm_run.stderr,
              "Vulkan: the validation layer is silent: " +
              (first.stderr + warm_run.stderr)[-500:])
        listed = json.loads(cache_tool(cache, "--json", "list").stdout)
        check(len(listed) == N and
              all(e["target"].startswith("vk:") for e in listed),
              "Vulkan: list names the device: " +
              str({e["target"] for e in listed}))
        key = listed[0]["key"]
        shown = cache_tool(cache, "show", key[:12])
        check(shown.returncode == 0 and "OpEntryPoint GLCompute" in shown.stdout
              and "driver pipeline cache" in shown.stdout,
              "Vulkan: show disassembles the SPIR-V: " + shown.stdout[-300:])
        log = run(probe, cache, "run", str(N),
                  env_extra=dict(vk, TRUENO_DEBUG="2"))
        check(" for vulkan:0 ----" in log.stderr,
              "Vulkan: TRUENO_DEBUG=2 names the device of each key")
        with open(os.path.join(tmp, "debug.log"), "w") as f:
            f.write(log.stderr)
        explained = json.loads(cache_tool(cache, "--json", "explain",
                                          os.path.join(tmp, "debug.log")).stdout)
        check(len(explained) == N and all(e["hit"] for e in explained),
              "Vulkan: explain keys the log's programs for its device")

        # A program damaged behind a valid checksum: the count of kernels
        # (after the u64 length, magic and version) made enormous.
        paths = sorted(os.path.join(cache, f) for f in os.listdir(cache)
                       if f.endswith(".tkc"))
        rewrite_entry(paths[0], lambda o: o[:16] + b"\xff\xff\xff\x7f" + o[20:])
        rewrite_entry(paths[1], lambda o: o[:-40])  # cut inside the program
        damaged = run(probe, cache, "run", str(N), env_extra=vk)
        result = counts(damaged)
        per_program = int(cold["compiled"]) // N
        check(int(result["compiled"]) == 2 * per_program and
              int(result["disk_misses"]) == 2 and
              int(result["disk_hits"]) == N - 2 and
              result["checksum"] == cold["checksum"],
              f"Vulkan: two damaged programs are refused and lowered again: "
              f"{result}")
        check(damaged.stderr.count("a corrupt SPIR-V program") == 1 and
              "a count larger than the bytes left" in damaged.stderr,
              "Vulkan: the log says why: " + damaged.stderr.strip()[-400:])
        again = counts(run(probe, cache, "run", str(N), env_extra=vk))
        check(int(again["compiled"]) == 0,
              f"Vulkan: and their entries are replaced: {again}")


if __name__ == "__main__":
    sys.exit(main())

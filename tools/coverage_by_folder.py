#!/usr/bin/env python3
"""Sums `llvm-cov export -summary-only` per top-level folder of the repository.

usage: coverage_by_folder.py REPO_ROOT COVERAGE_JSON

Prints a Markdown table (lines, functions, branches: covered/total and %) with
one row per folder (core, ir, passes, codegen, runtime, frontend, tools/...)
and a total row; tools/ is split per tool, since each is its own program.
Files outside REPO_ROOT (generated files in the build directory) are skipped.
"""
import json
import os
import sys
from collections import defaultdict

KINDS = ("lines", "functions", "branches")


def folder_of(path, root):
    rel = os.path.relpath(os.path.realpath(path), root)
    if rel.startswith("..") or rel.startswith("build"):
        return None  # outside the tree, or generated in a build directory
    parts = rel.split(os.sep)
    if parts[0] == "tools" and len(parts) > 2:
        return "tools/" + parts[1]
    return parts[0]


def percent(covered, count):
    return f"{100.0 * covered / count:.1f}%" if count else "-"


def main():
    root, path = os.path.realpath(sys.argv[1]), sys.argv[2]
    with open(path) as f:
        files = json.load(f)["data"][0]["files"]
    totals = defaultdict(lambda: {k: [0, 0] for k in KINDS})
    for entry in files:
        folder = folder_of(entry["filename"], root)
        if folder is None:
            continue
        for kind in KINDS:
            s = entry["summary"][kind]
            for key in (folder, "total"):
                totals[key][kind][0] += s["covered"]
                totals[key][kind][1] += s["count"]
    print("| folder | lines | functions | branches |")
    print("|---|---|---|---|")
    for folder in sorted(k for k in totals if k != "total") + ["total"]:
        cells = []
        for kind in KINDS:
            covered, count = totals[folder][kind]
            cells.append(f"{percent(covered, count)} ({covered}/{count})")
        print(f"| {folder} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks that no folder reaches up the layer chain.

The layers, bottom first (docs/ARCHITECTURE.md):
    core <- ir <- autograd <- passes <- codegen <- runtime <- frontend
with tools, tests and benchmarks on top. The training libraries
(frontend/nn, optim, data, io) sit on the frontend's installed API alone. Every `#include "trueno/..."` in a
layer's sources must name a header of the same layer or one below it. A
header's layer is read from its path: trueno/Core/, trueno/IR/,
trueno/Autograd/, trueno/Passes/, trueno/Codegen/, trueno/Runtime/ by
folder; the plain trueno/*.h headers are core's when they live in
core/include, the frontend's otherwise.

Usage: check_layering.py SOURCE_DIR   (exits 1 and lists each upward edge)
"""
import pathlib
import re
import sys

LAYERS = ["core", "ir", "autograd", "passes", "codegen", "runtime", "frontend"]
SUBFOLDER_LAYER = {"Core": "core", "IR": "ir", "Autograd": "autograd",
                   "Passes": "passes", "Codegen": "codegen",
                   "Runtime": "runtime"}
TRAINING_LIBRARIES = ["nn", "optim", "data", "io"]
ANY_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]trueno/([^">]+)[">]')


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    core_headers = {p.name for p in (root / "core/include/trueno").glob("*")}
    core_headers.add("Version.h")  # generated from core/Version.h.in

    def layer_of_header(path: str) -> str:
        first = path.split("/")[0]
        if first in SUBFOLDER_LAYER:
            return SUBFOLDER_LAYER[first]
        return "core" if path in core_headers else "frontend"

    problems = []
    checked = 0
    for layer in LAYERS:
        folder = root / layer
        if not folder.is_dir():
            continue
        for source in sorted(folder.rglob("*")):
            if source.suffix not in {".h", ".cpp", ".inc", ".def"}:
                continue
            checked += 1
            for number, line in enumerate(source.read_text().splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = layer_of_header(match.group(1))
                if LAYERS.index(target) > LAYERS.index(layer):
                    problems.append(
                        f"{source.relative_to(root)}:{number}: {layer} "
                        f"includes trueno/{match.group(1)} of {target}, "
                        f"a layer above it")
    # The training libraries (frontend/nn, optim, data, io) use the installed
    # API only: no internal header of core (trueno/Core/) or of the
    # frontend's lib/, and no header of another training library's lib/.
    for library in TRAINING_LIBRARIES:
        folder = root / "frontend" / library
        for source in sorted(folder.rglob("*")):
            if source.suffix not in {".h", ".cpp"}:
                continue
            checked += 1
            for number, line in enumerate(source.read_text().splitlines(), 1):
                match = ANY_INCLUDE.match(line)
                if not match:
                    continue
                name = match.group(1)
                internal = name.startswith("trueno/Core/") or (
                    not name.startswith("trueno/") and "/" in name) or (
                    not name.startswith("trueno/") and
                    not (source.parent / name).exists())
                if internal:
                    problems.append(
                        f"{source.relative_to(root)}:{number}: the training "
                        f"library {library} includes {name}, which is not "
                        f"part of the installed API")
    for problem in problems:
        print(problem)
    print(f"layering: {checked} files checked, {len(problems)} upward "
          f"include{'s' if len(problems) != 1 else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# tools/gpu-bundle.sh [build-dir] - pack what tools/gpu-run.sh needs on a
# GPU machine that has neither Debian's LLVM/MLIR 19 nor a Vulkan loader:
# the Vulkan test and benchmark programs, stripped, every shared library they
# load (but glibc's own, which the machine has in a newer version), the
# Vulkan loader, the Khronos validation layer, spirv-val and vulkaninfo.
# Writes .gpu/bundle.tar.xz (about 60 MiB: libLLVM and libMLIR are most of
# it), which travels to the machine with the working tree; .gpu/ is ignored.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
out="$root/.gpu"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/bin" "$stage/lib" "$stage/layers"

programs=("$build/tests/trueno-vulkan-tests" "$build/tests/trueno-vulkan-backend-tests")
for p in "$build"/benchmarks/trueno-vulkan-bench "$build"/tests/trueno-op-cases \
         "$build"/tests/trueno-cache-probe; do
  [ -x "$p" ] && programs+=("$p")
done
# vulkaninfo is Debian's vulkan-tools, which the README's commands do not
# install (a fresh machine lacks it).
command -v vulkaninfo >/dev/null ||
  { apt-get install -y -q vulkan-tools >/dev/null || exit 1; }
programs+=("$(command -v spirv-val)" "$(command -v vulkaninfo)")

for p in "${programs[@]}"; do
  cp "$p" "$stage/bin/"
  strip --strip-debug "$stage/bin/$(basename "$p")"
done
# Every library the programs load, by ldd's resolution here, less glibc.
for p in "${programs[@]}"; do ldd "$p"; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux-x86-64)\.so' |
  while read -r lib; do
    cp -L "$lib" "$stage/lib/"
    strip --strip-debug "$stage/lib/$(basename "$lib")" 2>/dev/null || true
  done
# ICU's data (30 MiB) is there only because libLLVM needs libxml2, which
# needs ICU, for what Trueno never does (Windows manifests): a library with
# the one symbol libicuuc asks for stands in, and keeps the bundle under
# the 64 MiB a call may carry.
echo 'const char icudt72_dat[32] = {0};' |
  gcc -shared -x c - -Wl,-soname,libicudata.so.72 -o "$stage/lib/libicudata.so.72"
cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$stage/lib/"
cp -L /usr/lib/x86_64-linux-gnu/libVkLayer_khronos_validation.so "$stage/layers/"
sed 's|"library_path": *"[^"]*"|"library_path": "./libVkLayer_khronos_validation.so"|' \
  /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json \
  >"$stage/layers/VkLayer_khronos_validation.json"
cp "$root/tools/gpu-run.sh" "$stage/"
# Opened at run time by the host JIT (ldd does not see it).
cp -L /usr/lib/llvm-19/lib/libomp.so "$out/libomp.so"
tar -C "$stage" -cf - . | xz -9 -T2 >"$out/bundle.tar.xz.tmp"
mv "$out/bundle.tar.xz.tmp" "$out/bundle.tar.xz"
grep -qx '/.gpu/' "$root/.git/info/exclude" 2>/dev/null ||
  { mkdir -p "$root/.git/info"; echo '/.gpu/' >>"$root/.git/info/exclude"; }
ls -la "$out/bundle.tar.xz"

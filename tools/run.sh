#!/usr/bin/env bash
# tools/run.sh train|demo|test|sanitize|coverage|build - set up, build, then
# train a CNN on Fashion-MNIST (the main job; arguments go to
# trueno-fashion-mnist), run the demo, the tests, the unit and end-to-end tests under AddressSanitizer
# and UndefinedBehaviorSanitizer (build-sanitize/) and the unit tests under
# ThreadSanitizer (build-tsan/), or the whole suite built with clang-19's
# source-based coverage (build-coverage/, opt-in: not part of CI).
#
# Works on a fresh Debian 12 machine: installs the Debian packages that are
# missing (apt-get as root, or through sudo), configures with CMake and
# Ninja, builds, and runs. Quick when everything is already there: the
# package check is one dpkg-query, and ninja and ccache skip what is built.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TRUENO_BUILD_DIR:-$root/build}"
jobs="${TRUENO_JOBS:-$(nproc)}"

# Everything the build, the tests and the benchmarks need, all from Debian.
packages=(
  g++ cmake ninja-build ccache python3 python3-numpy python3-torch
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools clang-19 lld-19
  libfmt-dev doctest-dev libbenchmark-dev libomp-19-dev
  libopenblas-dev liblapacke-dev python3-threadpoolctl libclang-rt-19-dev
  zlib1g-dev dataset-fashion-mnist
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers spirv-tools
)

install_missing_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "trueno: installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      echo "trueno: these packages are missing and I cannot install them" \
           "(not root, and no password-less sudo):" >&2
      echo "  sudo apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_and_build() {
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  cmake --build "$build" -j "$jobs"
}

# Builds `targets` in `dir` with `sanitizers` (-fsanitize=...), at -O1 with
# line tables only: the build is most of the time a sanitizer run takes.
build_sanitized() {
  local dir="$1" sanitizers="$2"
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_CXX_FLAGS="-O1 -g1 -fsanitize=$sanitizers -fno-omit-frame-pointer" \
      -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=$sanitizers" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitizers"
  fi
  cmake --build "$dir" -j "$jobs" --target "$@"
}

run_sanitized() {
  # The unit, compiler and end-to-end op tests and the fuzzers with ASan +
  # UBSan. The JIT's
  # kernels are not instrumented (LLVM compiles them at run time); every
  # line of the library that calls them is. allocator_may_return_null lets
  # the MemoryError tests see a failed allocation; LeakSanitizer is off,
  # since it cannot attach where ptrace is restricted (CI containers).
  local asan="${TRUENO_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
  build_sanitized "$asan" "address,undefined -fno-sanitize-recover=undefined" \
    trueno-unit-tests trueno-compiler-tests trueno-op-cases trueno-fuzz
  (
    export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=0:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    "$asan/tests/trueno-unit-tests"
    "$asan/tests/trueno-compiler-tests"
    /usr/bin/python3 "$root/tests/e2e/test_ops_vs_torch.py" "$asan/tests/trueno-op-cases"
    # The readers of untrusted bytes, mutated (tests/fuzz).
    "$asan/tests/trueno-fuzz" npy 100000
    "$asan/tests/trueno-fuzz" cache 10000
    "$asan/tests/trueno-fuzz" vulkan-program 100000
  )

  # The unit tests (threads sharing pending tensors, the caches) with
  # ThreadSanitizer. OpenMP runs one thread: its workers synchronize inside
  # the uninstrumented libomp, which TSan would report as races in every
  # parallel kernel.
  local tsan="${TRUENO_TSAN_BUILD_DIR:-$root/build-tsan}"
  build_sanitized "$tsan" thread trueno-unit-tests
  OMP_NUM_THREADS=1 \
    TSAN_OPTIONS="halt_on_error=1:allocator_may_return_null=1:suppressions=$root/tests/sanitizers/tsan.supp" \
    "$tsan/tests/trueno-unit-tests"
}

# The whole ctest suite, built with clang-19's source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping), then one report of lines,
# functions and branches: per file, and per top-level folder
# (tools/coverage_by_folder.py). Every process the tests start writes its own
# profile (%p: pid, %m: binary), so the Python drivers' subprocesses count.
run_coverage() {
  local dir="${TRUENO_COVERAGE_BUILD_DIR:-$root/build-coverage}"
  local flags="-fprofile-instr-generate -fcoverage-mapping"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
      -DCMAKE_CXX_FLAGS="-O1 -g0 $flags" \
      -DCMAKE_SHARED_LINKER_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags"
  fi
  # libtorch's headers do not compile with clang-19 and libstdc++ 12, and the
  # libtorch benchmarks measure nothing of Trueno's code: leave them out.
  cmake "$dir" -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON > /dev/null
  cmake --build "$dir" -j "$jobs"
  rm -rf "$dir/profiles"
  mkdir -p "$dir/profiles"
  # A failing test still counts what it ran; the exit status says it failed.
  local status=0
  LLVM_PROFILE_FILE="$dir/profiles/%p-%m.profraw" \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" -E 'benchmark-|install-' "${@}" ||
    status=$?
  llvm-profdata-19 merge -sparse -o "$dir/trueno.profdata" "$dir"/profiles/*.profraw
  # The library, the training libraries and the installed tools; tests, generated files and system
  # headers are not what is measured.
  local objects=("$dir/frontend/libtrueno.so"
                 -object "$dir/frontend/nn/libtrueno_nn.so"
                 -object "$dir/frontend/optim/libtrueno_optim.so"
                 -object "$dir/frontend/data/libtrueno_data.so"
                 -object "$dir/frontend/io/libtrueno_io.so"
                 -object "$dir/tools/trueno-cache/trueno-cache"
                 -object "$dir/tools/trueno-opt/trueno-opt")
  local ignore='(^/usr/|/tests/|\.inc$)'
  llvm-cov-19 report -instr-profile="$dir/trueno.profdata" "${objects[@]}" \
    -ignore-filename-regex="$ignore" -show-region-summary=false > "$dir/coverage.txt"
  llvm-cov-19 export -summary-only -instr-profile="$dir/trueno.profdata" "${objects[@]}" \
    -ignore-filename-regex="$ignore" > "$dir/coverage.json"
  /usr/bin/python3 "$root/tools/coverage_by_folder.py" "$root" "$dir/coverage.json"
  echo "trueno: per-file report in $dir/coverage.txt"
  return "$status"
}

case "${1:-}" in
  build)
    install_missing_packages
    configure_and_build
    ;;
  train)
    install_missing_packages
    configure_and_build
    "$build/tools/trueno-fashion-mnist/trueno-fashion-mnist" \
      --out "$build/fashion-mnist" "${@:2}"
    ;;
  demo)
    install_missing_packages
    configure_and_build
    "$build/tools/trueno-demo/trueno-demo"
    ;;
  test)
    install_missing_packages
    configure_and_build
    ctest --test-dir "$build" --output-on-failure -j "$jobs" "${@:2}"
    ;;
  sanitize)
    install_missing_packages
    run_sanitized
    ;;
  coverage)
    install_missing_packages
    run_coverage "${@:2}"
    ;;
  *)
    echo "usage: tools/run.sh train|demo|test|sanitize|coverage|build [arguments for train or test]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# tools/run.sh demo|test|build - set up, build, then run the demo or the tests.
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
  libopenblas-dev liblapacke-dev python3-threadpoolctl
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

case "${1:-}" in
  build)
    install_missing_packages
    configure_and_build
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
  *)
    echo "usage: tools/run.sh demo|test|build [ctest arguments for test]" >&2
    exit 2
    ;;
esac

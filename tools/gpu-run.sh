#!/usr/bin/env bash
# tools/gpu-run.sh - the whole GPU run, in one call of the device machine:
# unpacks .gpu/bundle.tar.xz (made here by tools/gpu-bundle.sh), finds the
# NVIDIA Vulkan driver, runs the Vulkan test suite on the GPU under the
# validation layer, then the benchmarks, and writes logs under $OUT.
# Usage there: bash tools/gpu-run.sh [tests|bench|sweep|matmul|unroll|merge|cases|slowdown|profile|coopmat|coopshape|step|drift|groups|all|none]
set -uo pipefail
what="${1:-all}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-/tmp/trueno-gpu-out}"
mkdir -p "$out"
t=/tmp/trueno-gpu
rm -rf "$t" && mkdir -p "$t" && xz -dc "$root/.gpu/bundle.tar.xz" | tar -C "$t" -xf - || exit 1
# The machine's own C++ runtime where it has one (newer than Debian 12's;
# the NVIDIA driver loads into the same process).
if ldconfig -p | grep -q 'libstdc++.so.6 '; then
  rm -f "$t/lib/libstdc++.so.6" "$t/lib/libgcc_s.so.1"
fi
# The GL vendor-neutral libraries the NVIDIA Vulkan driver (libGLX_nvidia)
# loads, unpacked from Debian's packages carried in .gl/ (the device
# machine's README says how they are fetched).
if [ -d "$root/.gl" ]; then
  for f in "$root"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# The host JIT opens LLVM's OpenMP runtime where Debian puts it.
if [ -f "$root/.gpu/libomp.so" ] && [ ! -f /usr/lib/llvm-19/lib/libomp.so ]; then
  mkdir -p /usr/lib/llvm-19/lib && cp "$root/.gpu/libomp.so" /usr/lib/llvm-19/lib/
fi
export LD_LIBRARY_PATH="$t/lib" TRUENO_VULKAN_LOADER="$t/lib/libvulkan.so.1"
export VK_LAYER_PATH="$t/layers" PATH="$t/bin:$PATH"
# The driver's manifest: where the image's driver mount puts it, else the
# loader's usual places.
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
           /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && { export VK_DRIVER_FILES="$icd"; break; }
done
export TRUENO_CACHE_DIR="$t/cache"
python="${PYTHON:-python3}" # the machine's, with PyTorch
{
  echo "date: $(date -u)"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-none}"
  vulkaninfo --summary 2>&1 | head -60
} 2>&1 | tee "$out/device.txt"
rc=0
if [ "$what" = tests ] || [ "$what" = all ]; then
  # Under the validation layer without cooperative matrices (Debian's
  # layer, 1.3.239, predates VK_KHR_cooperative_matrix).
  export TRUENO_VULKAN_COOPERATIVE_MATRIX=0
  TRUENO_VULKAN_VALIDATION=1 TRUENO_TEST_REQUIRE_VULKAN=1 \
    trueno-vulkan-tests 2>&1 | tee "$out/vulkan-tests.txt"
  rc=${PIPESTATUS[0]}
  TRUENO_VULKAN_VALIDATION=1 TRUENO_TEST_REQUIRE_VULKAN=1 \
    trueno-vulkan-backend-tests 2>&1 | tee "$out/vulkan-backend-tests.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  # The end-to-end op suite, every case on the GPU, against this machine's
  # PyTorch.
  TRUENO_DEVICE=vulkan TRUENO_TEST_SHOW=200 PYTHONUNBUFFERED=1 \
    "$python" "$root/tests/e2e/test_ops_vs_torch.py" "$t/bin/trueno-op-cases" \
    >"$out/ops-vs-torch-vulkan.txt" 2>&1
  echo "ops-vs-torch on vulkan: exit $?; $(tail -1 "$out/ops-vs-torch-vulkan.txt")"
  # Then with cooperative matrices (the default, bfloat16 ones too),
  # without the layer: the backend tests and the op suite's products,
  # checked by their results.
  unset TRUENO_VULKAN_COOPERATIVE_MATRIX TRUENO_VULKAN_COOPERATIVE_BF16
  TRUENO_TEST_REQUIRE_VULKAN=1 trueno-vulkan-backend-tests 2>&1 |
    tee "$out/vulkan-backend-tests-coopmat.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  TRUENO_DEVICE=vulkan TRUENO_TEST_OPS=matmul,bmm,mm,linear,einsum,tensordot \
    PYTHONUNBUFFERED=1 "$python" "$root/tests/e2e/test_ops_vs_torch.py" \
    "$t/bin/trueno-op-cases" 8 >"$out/ops-vs-torch-vulkan-coopmat.txt" 2>&1
  echo "products on vulkan with cooperative matrices: exit $?; $(tail -1 "$out/ops-vs-torch-vulkan-coopmat.txt")"
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  TRUENO_DEVICE=vulkan PYTHONUNBUFFERED=1 "$python" "$root/benchmarks/gpu_compare.py" \
    "$t/bin/trueno-vulkan-bench" "$out/gpu-compare.json" 2>&1 | tee "$out/gpu-compare.txt"
  # A new program's first realize with the disk kernel cache cold and warm
  # (SPIR-V and the driver's VkPipelineCache from disk); the driver's own
  # shader disk cache off, so that warm is what the pipeline cache gives.
  TRUENO_DEVICE=vulkan __GL_SHADER_DISK_CACHE=0 "$python" \
    "$root/benchmarks/cache_startup.py" "$t/bin/trueno-cache-probe" 30 2>&1 |
    tee "$out/cache-startup-vulkan.txt"
fi
if [ "$what" = sweep ] || [ "$what" = all ]; then
  # The bandwidth-bound cases at other workgroup sizes (the same kernels,
  # compiled for each): what the launch shape costs on this GPU.
  for wg in 64 128 256 512 1024; do
    echo "workgroup size $wg"
    TRUENO_DEVICE=vulkan TRUENO_VULKAN_WORKGROUP_SIZE=$wg trueno-vulkan-bench 1 exp_fma
    TRUENO_DEVICE=vulkan TRUENO_VULKAN_WORKGROUP_SIZE=$wg trueno-vulkan-bench 1 sum
  done 2>&1 | tee "$out/workgroup-sweep.txt"
fi
if [ "$what" = matmul ] || [ "$what" = all ]; then
  # The matmul cases at both tile sizes (TRUENO_VULKAN_MATMUL_TILE).
  for tile in 64 128; do
    echo "matmul tile $tile"
    TRUENO_DEVICE=vulkan TRUENO_VULKAN_MATMUL_TILE=$tile trueno-vulkan-bench 1 matmul
  done 2>&1 | tee "$out/matmul-tiles.txt"
  # float16 without and with cooperative matrices.
  for cooperative in 0 1; do
    echo "TRUENO_VULKAN_COOPERATIVE_MATRIX=$cooperative"
    TRUENO_DEVICE=vulkan TRUENO_VULKAN_COOPERATIVE_MATRIX=$cooperative \
      trueno-vulkan-bench 1 matmul_f16
  done 2>&1 | tee -a "$out/matmul-tiles.txt"
fi
if [ "$what" = unroll ] || [ "$what" = all ]; then
  # The reduction cases at other unroll factors of a thread's reduction
  # loop (trueno-unroll-reduction-loops; 1 is not unrolled), each alone.
  for u in 1 4 8 16; do
    echo "unroll factor $u"
    for c in sum softmax exp_fma; do
      TRUENO_DEVICE=vulkan TRUENO_VULKAN_UNROLL=$u trueno-vulkan-bench 1 $c
    done
  done 2>&1 | tee "$out/unroll-sweep.txt"
fi
if [ "$what" = merge ] || [ "$what" = all ]; then
  # Calls issued while the GPU is busy sharing a submission
  # (TRUENO_VULKAN_MERGE) off and on, alternated twice, each a process.
  for r in 1 2; do
    for m in 0 1; do
      echo "TRUENO_VULKAN_MERGE=$m"
      TRUENO_DEVICE=vulkan TRUENO_VULKAN_MERGE=$m trueno-vulkan-bench 1 \
        softmax_4096x4096_pipelined,small_program,exp_fma_16M_pipelined,sum_256M_pipelined,fmnist_train_step
    done
  done 2>&1 | tee "$out/merge.txt"
fi
if [ "$what" = cases ] || [ "$what" = all ]; then
  # Every case in a process of its own: the figures docs/PERFORMANCE.md
  # gives (a full run's later kernels were slower; see there).
  for c in exp_fma softmax sum matmul conv2d fmnist_train small_program compile; do
    TRUENO_DEVICE=vulkan trueno-vulkan-bench 1 $c
  done 2>&1 | tee "$out/cases-alone.txt"
fi
if [ "$what" = slowdown ] || [ "$what" = all ]; then
  # Kernels ran 2-3x slower on the GPU after the 256 MiB transfers in one
  # process: the sum and softmax alone, then after each transfer case.
  # (TRUENO_VULKAN_DEDICATED=0: large buffers without dedicated allocations.)
  for dedicated in 0 1; do
    for cases in sum_256M sum_256M,softmax exp_fma,sum_256M \
                 upload_256MiB,download_256MiB,sum_256M,softmax; do
      echo "cases $cases, TRUENO_VULKAN_DEDICATED=$dedicated"
      TRUENO_DEVICE=vulkan TRUENO_VULKAN_DEDICATED=$dedicated \
        trueno-vulkan-bench 1 $cases
    done
  done 2>&1 | tee "$out/slowdown.txt"
fi
if [ "$what" = coopshape ]; then
  # The cooperative kernel's shapes (columns, step, copies of the tiles):
  # each one's results (the backend tests' products, the op suite's), then
  # float16 products under each, alternated, twice; PyTorch's last.
  shapes="128:64:1 128:32:2 256:32:1 128:32:1"
  for shape in $shapes; do
    IFS=: read -r columns step copies <<<"$shape"
    echo "shape columns=$columns step=$step buffers=$copies"
    TRUENO_VULKAN_COOPERATIVE_COLUMNS=$columns TRUENO_VULKAN_COOPERATIVE_STEP=$step \
      TRUENO_VULKAN_COOPERATIVE_BUFFERS=$copies TRUENO_TEST_REQUIRE_VULKAN=1 \
      trueno-vulkan-backend-tests -tc='*cooperative*' 2>&1 | tail -3
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    TRUENO_VULKAN_COOPERATIVE_COLUMNS=$columns TRUENO_VULKAN_COOPERATIVE_STEP=$step \
      TRUENO_VULKAN_COOPERATIVE_BUFFERS=$copies TRUENO_DEVICE=vulkan \
      TRUENO_TEST_OPS=matmul,bmm,mm,linear,einsum,tensordot PYTHONUNBUFFERED=1 \
      "$python" "$root/tests/e2e/test_ops_vs_torch.py" "$t/bin/trueno-op-cases" 8 2>&1 |
      grep -E "^seed|passed|FAIL" | head -12
  done 2>&1 | tee "$out/coopshape-tests.txt"
  for round in 1 2; do
    for shape in $shapes; do
      IFS=: read -r columns step copies <<<"$shape"
      for c in matmul_f16_1024 matmul_f16_4096 matmul_f16_8192; do
        echo "$shape $(TRUENO_VULKAN_COOPERATIVE_COLUMNS=$columns \
          TRUENO_VULKAN_COOPERATIVE_STEP=$step TRUENO_VULKAN_COOPERATIVE_BUFFERS=$copies \
          TRUENO_DEVICE=vulkan trueno-vulkan-bench 1 $c 2>&1 | grep '"case"')"
      done
    done
  done | tee "$out/coopshape-cases.txt"
  PYTHONPATH="$root/benchmarks" "$python" -c \
    "from gpu_compare import print_f16_products; print_f16_products()" 2>&1 |
    tee "$out/coopshape-torch.txt"
fi
if [ "$what" = coopmat ]; then
  # Cooperative-matrix products and im2col convolutions: their results
  # (without the validation layer, which predates the extension; then the
  # backend tests under it with cooperative matrices off), then each
  # product and convolution case alone, and PyTorch's float16 products.
  export TRUENO_VULKAN_COOPERATIVE_MATRIX=1 # the default, said
  export TRUENO_VULKAN_COOPERATIVE_BF16=1 # the default, said
  TRUENO_DEBUG=1 TRUENO_DEVICE=vulkan trueno-vulkan-bench 64 small_program 2>&1 |
    grep "cooperative matrices" | tee "$out/coopmat-device.txt"
  TRUENO_TEST_REQUIRE_VULKAN=1 trueno-vulkan-backend-tests 2>&1 |
    tee "$out/vulkan-backend-tests-coopmat.txt" | tail -4
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  TRUENO_VULKAN_COOPERATIVE_MATRIX=0 TRUENO_VULKAN_VALIDATION=1 \
    TRUENO_TEST_REQUIRE_VULKAN=1 trueno-vulkan-backend-tests 2>&1 |
    tee "$out/vulkan-backend-tests.txt" | tail -4
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  TRUENO_DEVICE=vulkan TRUENO_TEST_OPS=matmul,bmm,mm,linear,einsum,tensordot,conv \
    PYTHONUNBUFFERED=1 "$python" "$root/tests/e2e/test_ops_vs_torch.py" \
    "$t/bin/trueno-op-cases" 8 >"$out/coopmat-ops.txt" 2>&1
  head -1 "$out/coopmat-ops.txt"; tail -1 "$out/coopmat-ops.txt"
  grep -B3 -A20 "FAIL" "$out/coopmat-ops.txt" | head -60
  for c in matmul_f16_1024 matmul_f16_4096 matmul_f16_8192 matmul_bf16 \
           matmul_f32_1024 matmul_f32_4096 matmul_f32_8192 conv2d \
           fmnist_train small_program exp_fma_16M softmax_4096x4096 \
           sum_256M_pipelined; do
    TRUENO_DEVICE=vulkan trueno-vulkan-bench 1 $c
  done 2>&1 | grep '"case"' | tee "$out/coopmat-cases.txt"
  TRUENO_DEVICE=vulkan TRUENO_VULKAN_COOPERATIVE_MATRIX=0 \
    trueno-vulkan-bench 1 matmul_f16_4096 2>&1 | grep '"case"'
  # The cooperative kernel's steps of 32 against 64, alternated.
  for round in 1 2; do
    for step in 32 64; do
      echo "TRUENO_VULKAN_COOPERATIVE_STEP=$step"
      for c in matmul_f16_1024 matmul_f16_4096 matmul_f16_8192; do
        TRUENO_DEVICE=vulkan TRUENO_VULKAN_COOPERATIVE_STEP=$step \
          trueno-vulkan-bench 1 $c 2>&1 | grep '"case"'
      done
    done
  done | tee "$out/coopmat-step.txt"
  unset TRUENO_VULKAN_COOPERATIVE_MATRIX
  "$python" - <<PY 2>&1 | tee "$out/coopmat-torch.txt"
import sys
sys.path.insert(0, "$root/benchmarks")
import torch
from gpu_compare import cuda_ms, print_f16_products
print_f16_products()
from gpu_compare import fmnist_step_ms, pipelined_ms, PIPELINED
a, b, c = (torch.randn(16 << 20, device="cuda") for _ in range(3))
print(f"torch exp_fma_16M: {cuda_ms(lambda: torch.exp(a * b + c)):.4f} ms, "
      f"pipelined {pipelined_ms(lambda: torch.exp(a * b + c), PIPELINED):.4f}")
sm = torch.randn(4096, 4096, device="cuda")
print(f"torch softmax_4096x4096: {cuda_ms(lambda: torch.softmax(sm, 1)):.4f} ms, "
      f"pipelined {pipelined_ms(lambda: torch.softmax(sm, 1), PIPELINED):.4f}")
big = torch.rand(256 << 20, device="cuda")
print(f"torch sum_256M: {cuda_ms(lambda: big.sum()):.4f} ms, "
      f"pipelined {pipelined_ms(lambda: big.sum(), PIPELINED):.4f}")
del a, b, c, sm, big
x = torch.randn(64, 32, 14, 14, device="cuda")
w = torch.randn(64, 32, 3, 3, device="cuda")
b = torch.randn(64, device="cuda")
conv = cuda_ms(lambda: torch.nn.functional.conv2d(x, w, b, padding=1))
print(f"torch conv2d_fmnist: {conv:.4f} ms")
print(f"torch fmnist_train_step: {fmnist_step_ms(64):.4f} ms")
PY
fi
if [ "$what" = drift ]; then
  # The training step's time a step over the first and the last 500 of
  # 3000 (the pending writes a realize walks once grew every step), then
  # the step as the table times it, twice, and PyTorch's in the same call.
  TRUENO_DEVICE=vulkan trueno-vulkan-bench 1 train_step_drift 2>&1 |
    grep '"case"' | tee "$out/drift.txt"
  for round in 1 2; do
    TRUENO_DEVICE=vulkan trueno-vulkan-bench 1 fmnist_train_step 2>&1 |
      grep -E '"case"|took'
  done 2>&1 | tee -a "$out/drift.txt"
  "$python" - <<PY 2>&1 | tee -a "$out/drift.txt"
import sys
sys.path.insert(0, "$root/benchmarks")
from gpu_compare import fmnist_step_ms
print(f"torch fmnist_train_step: {fmnist_step_ms(64):.4f} ms")
PY
fi
if [ "$what" = groups ]; then
  # Products' tiles taken in groups of 1 (the default), 4, 8 and 16 tile
  # rows (TRUENO_VULKAN_MATMUL_TILE_GROUP), each a process of its own, two
  # alternated rounds; cuBLAS in the same call.
  for round in 1 2; do
    for g in 1 4 8 16; do
      echo "group $g round $round"
      TRUENO_VULKAN_MATMUL_TILE_GROUP=$g TRUENO_DEVICE=vulkan trueno-vulkan-bench 1 \
        matmul_f16_4096,matmul_f16_8192,matmul_bf16_8192,matmul_f32_4096 2>&1 | grep '"case"'
    done
  done 2>&1 | tee "$out/groups.txt"
  (cd "$root/benchmarks" && "$python" -c "import gpu_compare as g; g.print_f16_products((4096, 8192)); g.print_f16_products((4096, 8192), 'bf16')") 2>&1 |
    tee -a "$out/groups.txt"
fi
if [ "$what" = step ] || [ "$what" = all ]; then
  # The training step's host time: its fence wait polling 200 us before
  # it blocks against the default (5 ms), alternated; the host's share of
  # its realize (TRUENO_DEBUG=1); PyTorch's step in the same call.
  for round in 1 2 3; do
    for spin in 200 5000; do
      echo "TRUENO_VULKAN_SPIN_US=$spin"
      TRUENO_DEVICE=vulkan TRUENO_VULKAN_SPIN_US=$spin \
        trueno-vulkan-bench 1 fmnist_train_step,small_program 2>&1 | grep '"case"'
    done
  done 2>&1 | tee "$out/step.txt"
  TRUENO_DEVICE=vulkan TRUENO_DEBUG=1 trueno-vulkan-bench 1 fmnist_train_step 2>&1 |
    grep "realize:" | tail -2 | tee -a "$out/step.txt"
  "$python" - <<PY 2>&1 | tee -a "$out/step.txt"
import sys
sys.path.insert(0, "$root/benchmarks")
from gpu_compare import fmnist_step_ms
for _ in range(3):
    print(f"torch fmnist_train_step: {fmnist_step_ms(64):.4f} ms")
PY
fi
if [ "$what" = profile ] || [ "$what" = all ]; then
  # Where the device's time goes, kernel by kernel (TRUENO_VULKAN_PROFILE),
  # for the cases furthest from PyTorch.
  for c in softmax conv2d_fmnist fmnist_train_step matmul_f32_4096; do
    echo "case $c"
    TRUENO_DEVICE=vulkan TRUENO_VULKAN_PROFILE=1 trueno-vulkan-bench 1 $c
  done 2>&1 | tee "$out/profile.txt"
fi
exit $rc

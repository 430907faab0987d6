// The Vulkan pipeline (trueno-vulkan-pipeline) on a fused chain: one
// workgroup of 64 threads per 64 elements walking the elements with a
// grid-stride loop (trueno-map-to-workgroups), the kernel outlined and converted
// to a spirv.module whose entry point binds each argument as a storage
// buffer; float32 exp as the CPU's polynomial, not GLSL's Exp. Every shader
// it makes is checked by spirv-val in tests/vulkan/VulkanCodegenTest.cpp.
// RUN: trueno-opt %s -trueno-vulkan-pipeline | FileCheck %s
// RUN: trueno-opt %s -trueno-vulkan-pipeline=stop-after=gpu | FileCheck %s --check-prefix=GPU

// GPU: gpu.launch_func @chain_kernel::@chain_kernel blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%{{.*}} : memref<1000xf32>, %{{.*}} : memref<1000xf32>, %{{.*}} : memref<1000xf32>)
// GPU: gpu.func @chain_kernel({{.*}}) kernel attributes {known_block_size = array<i32: 64, 1, 1>, known_grid_size = array<i32: 16, 1, 1>}
// GPU: scf.for %{{.*}} = %{{.*}} to %c1000 step %c1024

// CHECK: spirv.module @__spv__chain_kernel Logical GLSL450
// CHECK-DAG: spirv.GlobalVariable @chain_kernel_arg_0 bind(0, 0) : !spirv.ptr<!spirv.struct<(!spirv.array<1000 x f32, stride=4> [0])>, StorageBuffer>
// CHECK-DAG: spirv.GlobalVariable @chain_kernel_arg_2 bind(0, 2)
// CHECK: spirv.func @chain_kernel()
// CHECK-NOT: spirv.GL.Exp
// CHECK: spirv.EntryPoint "GLCompute" @chain_kernel
// CHECK: spirv.ExecutionMode @chain_kernel "LocalSize", 64, 1, 1
func.func @chain(%a: tensor<1000xf32>, %b: tensor<1000xf32>) -> tensor<1000xf32> {
  %0 = trueno.mul %a, %b : tensor<1000xf32>
  %1 = trueno.exp %0 : tensor<1000xf32>
  return %1 : tensor<1000xf32>
}

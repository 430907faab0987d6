// trueno-spirv-entry-points: the device's capabilities as the module's SPIR-V
// target environment, each kernel's workgroup size as its entry point ABI,
// and launches of more workgroups than the device allows refused.
// RUN: trueno-opt %s -split-input-file -verify-diagnostics -trueno-spirv-entry-points='float64=true int16=true storage16=true' | FileCheck %s
// RUN: trueno-opt %s -split-input-file -verify-diagnostics -trueno-spirv-entry-points='float16=true storage16=true cooperative-matrix=true' | FileCheck %s --check-prefix=COOP
// RUN: trueno-opt %s -split-input-file -verify-diagnostics -trueno-spirv-entry-points='subgroup-size=8' | FileCheck %s --check-prefix=SUBGROUP

// CHECK: module attributes {gpu.container_module, spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Float64, Int16, StorageBuffer16BitAccess], [SPV_KHR_storage_buffer_storage_class, SPV_KHR_16bit_storage]>, api=Vulkan, #spirv.resource_limits<>>}
// With cooperative matrices: SPIR-V 1.6 (what MLIR 19 gives their operations).
// With subgroups that shuffle: elections and shuffles allowed, and the
// device's subgroup size, which gpu.shuffle's conversion checks widths
// against.
// SUBGROUP: spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, GroupNonUniform, GroupNonUniformShuffle], [SPV_KHR_storage_buffer_storage_class]>, api=Vulkan, #spirv.resource_limits<subgroup_size = 8>>
// COOP: spirv.target_env = #spirv.target_env<#spirv.vce<v1.6, [Shader, Float16, StorageBuffer16BitAccess, CooperativeMatrixKHR, GroupNonUniform], [SPV_KHR_storage_buffer_storage_class, SPV_KHR_16bit_storage, SPV_KHR_cooperative_matrix]>
// CHECK: gpu.func @k(%{{.*}}: memref<256xf32>) kernel attributes {known_block_size = array<i32: 64, 2, 1>, spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [64, 2, 1]>}
// CHECK: func.func @helper() {
// CHECK-NOT: spirv.entry_point_abi
module attributes {gpu.container_module} {
  func.func @host(%a: memref<256xf32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @m::@k blocks in (%c2, %c1, %c1) threads in (%c64, %c2, %c1) args(%a : memref<256xf32>)
    return
  }
  gpu.module @m {
    gpu.func @k(%a: memref<256xf32>) kernel attributes {known_block_size = array<i32: 64, 2, 1>} {
      gpu.return
    }
  }
  func.func @helper() {
    return
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{'gpu.func' op has no known workgroup size}}
    gpu.func @k(%a: memref<256xf32>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host(%a: memref<256xf32>) {
    %c1 = arith.constant 1 : index
    %many = arith.constant 70000 : index
    // expected-error @+1 {{'gpu.launch_func' op needs 70000 workgroups in dimension 0; the device allows 65535}}
    gpu.launch_func @m::@k blocks in (%many, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<256xf32>)
    return
  }
  gpu.module @m {
    gpu.func @k(%a: memref<256xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host(%a: memref<256xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{'gpu.launch_func' op has a workgroup count that is not a constant}}
    gpu.launch_func @m::@k blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<256xf32>)
    return
  }
  gpu.module @m {
    gpu.func @k(%a: memref<256xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      gpu.return
    }
  }
}

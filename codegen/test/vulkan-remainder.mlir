// A float32 remainder through the whole Vulkan pipeline, for a device
// without float64 (the integer remainder for every |x| > |y|), with float64
// but not int64 (no float64 copysign, which needs Int64), and with both:
// the integer loop becomes a SPIR-V loop inside a selection.
// RUN: trueno-opt %s '-trueno-vulkan-pipeline=float64=false' | FileCheck %s
// RUN: trueno-opt %s '-trueno-vulkan-pipeline=float64=true' | FileCheck %s --check-prefixes=CHECK,F64
// RUN: trueno-opt %s '-trueno-vulkan-pipeline=float64=true int64=true' | FileCheck %s --check-prefixes=CHECK,F64

// CHECK: spirv.module
// F64: spirv.FConvert %{{.*}} : f32 to f64
// CHECK: spirv.mlir.selection
// CHECK: spirv.mlir.loop
// CHECK: spirv.ShiftLeftLogical
// CHECK: spirv.ConvertUToF
func.func @remainder(%a: tensor<1024xf32>, %b: tensor<1024xf32>) -> tensor<1024xf32> {
  %0 = trueno.remainder %a, %b : tensor<1024xf32>
  return %0 : tensor<1024xf32>
}

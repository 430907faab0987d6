// trueno-spirv-float-controls: every entry point asks the driver to keep
// NaNs, infinities and signed zeros, and denormals, for the widths given;
// spirv-update-vce then declares the capabilities and the extension, which
// the pass added to the target environment.
// RUN: trueno-opt %s -split-input-file -verify-diagnostics -pass-pipeline='builtin.module(trueno-spirv-float-controls{signed-zero-inf-nan-preserve=16,32 denorm-preserve=32},spirv.module(spirv-update-vce))' | FileCheck %s
// RUN: not trueno-opt %s -trueno-spirv-float-controls='denorm-preserve=8' 2>&1 | FileCheck %s --check-prefix=WIDTH

// WIDTH: float controls for a 8-bit float: SPIR-V has 16, 32 and 64-bit floats

// CHECK: spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, SignedZeroInfNanPreserve, DenormPreserve], [SPV_KHR_storage_buffer_storage_class, SPV_KHR_float_controls]>
// CHECK: spirv.module @m Logical GLSL450 requires #spirv.vce<v1.0, [Shader, SignedZeroInfNanPreserve, DenormPreserve], [SPV_KHR_float_controls]>
// CHECK: spirv.EntryPoint "GLCompute" @k
// CHECK-NEXT: spirv.ExecutionMode @k "SignedZeroInfNanPreserve", 16
// CHECK-NEXT: spirv.ExecutionMode @k "SignedZeroInfNanPreserve", 32
// CHECK-NEXT: spirv.ExecutionMode @k "DenormPreserve", 32
// CHECK-NEXT: spirv.ExecutionMode @k "LocalSize", 64, 1, 1
// CHECK: spirv.EntryPoint "GLCompute" @other
// CHECK-NEXT: spirv.ExecutionMode @other "SignedZeroInfNanPreserve", 16
module attributes {spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader], [SPV_KHR_storage_buffer_storage_class]>, api=Vulkan, #spirv.resource_limits<>>} {
  spirv.module @m Logical GLSL450 {
    spirv.func @k() "None" {
      spirv.Return
    }
    spirv.EntryPoint "GLCompute" @k
    spirv.ExecutionMode @k "LocalSize", 64, 1, 1
  }
  spirv.module @n Logical GLSL450 {
    spirv.func @other() "None" {
      spirv.Return
    }
    spirv.EntryPoint "GLCompute" @other
  }
}

// -----

// expected-error @+1 {{float controls need the module's spirv.target_env}}
module {
  spirv.module @m Logical GLSL450 {
    spirv.func @k() "None" {
      spirv.Return
    }
    spirv.EntryPoint "GLCompute" @k
  }
}


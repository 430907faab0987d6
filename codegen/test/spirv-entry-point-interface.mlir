// trueno-spirv-entry-point-interface: a SPIR-V 1.4+ module's entry point
// lists every global variable its function uses; a module reading the
// SubgroupId built-in gets GroupNonUniform. Older modules keep the
// Input/Output-only interface that 1.3 asks for.
// RUN: trueno-opt %s -split-input-file -pass-pipeline='builtin.module(spirv.module(trueno-spirv-entry-point-interface))' | FileCheck %s

// CHECK: spirv.module Logical GLSL450 requires #spirv.vce<v1.6, [Shader, GroupNonUniform], [SPV_KHR_storage_buffer_storage_class]>
// CHECK: spirv.EntryPoint "GLCompute" @k, @id, @buffer, @shared
spirv.module Logical GLSL450 requires #spirv.vce<v1.6, [Shader], [SPV_KHR_storage_buffer_storage_class]> {
  spirv.GlobalVariable @id built_in("SubgroupId") : !spirv.ptr<i32, Input>
  spirv.GlobalVariable @shared : !spirv.ptr<!spirv.struct<(!spirv.array<16 x f32>)>, Workgroup>
  spirv.GlobalVariable @buffer bind(0, 0) : !spirv.ptr<!spirv.struct<(!spirv.array<16 x f32, stride=4> [0])>, StorageBuffer>
  spirv.func @k() "None" {
    %b = spirv.mlir.addressof @buffer : !spirv.ptr<!spirv.struct<(!spirv.array<16 x f32, stride=4> [0])>, StorageBuffer>
    %s = spirv.mlir.addressof @shared : !spirv.ptr<!spirv.struct<(!spirv.array<16 x f32>)>, Workgroup>
    %i = spirv.mlir.addressof @id : !spirv.ptr<i32, Input>
    spirv.Return
  }
  spirv.EntryPoint "GLCompute" @k, @id
}

// -----

// CHECK: spirv.module Logical GLSL450 requires #spirv.vce<v1.3, [Shader], [SPV_KHR_storage_buffer_storage_class]>
// CHECK: spirv.EntryPoint "GLCompute" @k, @id{{$}}
spirv.module Logical GLSL450 requires #spirv.vce<v1.3, [Shader], [SPV_KHR_storage_buffer_storage_class]> {
  spirv.GlobalVariable @id built_in("LocalInvocationId") : !spirv.ptr<vector<3xi32>, Input>
  spirv.GlobalVariable @buffer bind(0, 0) : !spirv.ptr<!spirv.struct<(!spirv.array<16 x f32, stride=4> [0])>, StorageBuffer>
  spirv.func @k() "None" {
    %b = spirv.mlir.addressof @buffer : !spirv.ptr<!spirv.struct<(!spirv.array<16 x f32, stride=4> [0])>, StorageBuffer>
    %i = spirv.mlir.addressof @id : !spirv.ptr<vector<3xi32>, Input>
    spirv.Return
  }
  spirv.EntryPoint "GLCompute" @k, @id
}

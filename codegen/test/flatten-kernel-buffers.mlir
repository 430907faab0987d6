// trueno-flatten-kernel-buffers: a kernel's strided and negative-stride
// views (and broadcasts' zero strides, which the parser does not take) become 1-D buffers of the elements they reach,
// indexed with the linearized position (plus the reach of negative strides
// below the first element, where the runtime binds the buffer); bfloat16 is
// stored as i16; each launch passes a reinterpret_cast of its operand.
// RUN: trueno-opt %s -trueno-flatten-kernel-buffers | FileCheck %s

// CHECK-LABEL: func.func @host
// CHECK: %[[T:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [28], strides: [1] : memref<3x4xf32, strided<[12, 1]>> to memref<28xf32>
// CHECK: %[[F:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [4], strides: [1] : memref<4xbf16, strided<[-1]>> to memref<4xbf16>
// CHECK: %[[FI:.*]] = builtin.unrealized_conversion_cast %[[F]] : memref<4xbf16> to memref<4xi16>
// CHECK: gpu.launch_func @kernels::@k {{.*}} args(%[[T]] : memref<28xf32>, %[[FI]] : memref<4xi16>, %{{.*}} : memref<12xf32>)
// CHECK-LABEL: gpu.func @k
// CHECK-SAME: (%[[X:.*]]: memref<28xf32>, %[[Z:.*]]: memref<4xi16>, %{{.*}}: memref<12xf32>)
// CHECK: %[[ROW:.*]] = arith.muli %{{.*}}, %c12
// CHECK: %[[AT:.*]] = arith.addi %[[ROW]], %{{.*}}
// CHECK: memref.load %[[X]][%[[AT]]]
// The negative stride reaches 3 elements below the first one.
// CHECK: %[[BACK:.*]] = arith.muli %{{.*}}, %c-1
// CHECK: %[[POS:.*]] = arith.addi %[[BACK]], %c3
// CHECK: %[[BITS:.*]] = memref.load %[[Z]][%[[POS]]]
// CHECK: arith.bitcast %[[BITS]] : i16 to bf16
module attributes {gpu.container_module} {
  func.func @host(%a: memref<3x4xf32, strided<[12, 1]>>,
                  %f: memref<4xbf16, strided<[-1]>>,
                  %out: memref<3x4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1)
        args(%a : memref<3x4xf32, strided<[12, 1]>>,
             %f : memref<4xbf16, strided<[-1]>>, %out : memref<3x4xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @k(%a: memref<3x4xf32, strided<[12, 1]>>,
                %f: memref<4xbf16, strided<[-1]>>,
                %out: memref<3x4xf32>) kernel {
      %i = gpu.thread_id x
      %j = gpu.thread_id y
      %x = memref.load %a[%i, %j] : memref<3x4xf32, strided<[12, 1]>>
      %z = memref.load %f[%j] : memref<4xbf16, strided<[-1]>>
      %w = arith.extf %z : bf16 to f32
      %s = arith.addf %x, %x : f32
      %t = arith.addf %s, %w : f32
      memref.store %t, %out[%i, %j] : memref<3x4xf32>
      gpu.return
    }
  }
}

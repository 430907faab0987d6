// trueno-flatten-kernel-buffers: a kernel's strided and negative-stride
// views (and broadcasts' zero strides, which the parser does not take) become 1-D buffers of the elements they reach,
// indexed with the linearized position (plus the reach of negative strides
// below the first element, where the runtime binds the buffer); bfloat16 is
// stored as i16; each launch passes a reinterpret_cast of its operand.
// Cooperative matrix loads and stores keep their row stride; float64
// copysign is comparisons where the device has no int64.
// RUN: trueno-opt %s -split-input-file -verify-diagnostics -trueno-flatten-kernel-buffers | FileCheck %s
// RUN: trueno-opt %s -split-input-file -verify-diagnostics '-trueno-flatten-kernel-buffers=float64=true' | FileCheck %s --check-prefix=F64
// RUN: trueno-opt %s -split-input-file -verify-diagnostics '-trueno-flatten-kernel-buffers=float64=true int64=true' | FileCheck %s --check-prefix=I64

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

// -----

// Math that SPIR-V's GLSL.std.450 gets wrong or lacks: powf is guarded with
// IEEE pow's special cases (a negative base to a non-integer power is NaN,
// NaN in gives NaN, x^0 and 1^y are 1, zero bases by the exponent's sign);
// math.ipowi becomes exponentiation by squaring over the exponent's bits
// (bits 1 to 30 shifted out for i32), a negative exponent giving 1, +-1
// or 0.
// CHECK-LABEL: gpu.func @math
// CHECK: %[[P:.*]] = math.powf %[[X:.*]], %[[Y:.*]] : f32
// CHECK: math.floor %[[Y]]
// CHECK: arith.cmpf olt, %[[X]]
// CHECK: arith.cmpf uno, %[[X]], %[[Y]]
// CHECK: arith.cmpf oeq
// CHECK: %[[R:.*]] = arith.select
// CHECK-NEXT: memref.store %[[R]]
// tanh (a polynomial here) saturated to +-1 beyond 9.1.
// CHECK: %[[FAR:.*]] = arith.cmpf ogt, %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[ONE:.*]] = math.copysign %cst{{.*}}, %[[X]]
// CHECK: %[[TH:.*]] = arith.select %[[FAR]], %[[ONE]], %{{.*}} : f32
// CHECK-NEXT: memref.store %[[TH]]
// CHECK-NOT: math.ipowi
// CHECK-COUNT-30: arith.shrsi
// CHECK: arith.cmpi slt
// CHECK: memref.store
// remsi from the quotient (MLIR's OpSRem emulation overflows at the
// minimum); remf through float64 (the option), an infinite divisor giving x.
// CHECK-NOT: arith.remsi
// CHECK: %[[Q:.*]] = arith.divsi %[[A:.*]], %[[B:.*]] : i32
// CHECK: %[[QB:.*]] = arith.muli %[[Q]], %[[B]]
// CHECK: arith.subi %[[A]], %[[QB]]
// F64: arith.extf %{{.*}} : f32 to f64
// F64: math.floor %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f32
// A float32 remainder the float64 shortcut does not cover (or every one,
// without float64) is computed in integers, exactly, in a branch: a
// shift-and-subtract loop over the exponents' difference.
// CHECK: scf.if %{{.*}} -> (f32) {
// CHECK: scf.while
// CHECK: arith.cmpi sgt
// CHECK: scf.condition
// CHECK: arith.cmpi uge
// CHECK: arith.subi
// CHECK: arith.shli
// CHECK: math.copysign
// F64: scf.if %{{.*}} -> (f32) {
// F64: scf.while
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @math(%a: memref<4xf32>, %n: memref<4xi32>, %out: memref<4xf32>,
                   %iout: memref<4xi32>) kernel {
      %i = gpu.thread_id x
      %x = memref.load %a[%i] : memref<4xf32>
      %y = memref.load %a[%i] : memref<4xf32>
      %p = math.powf %x, %y : f32
      memref.store %p, %out[%i] : memref<4xf32>
      %th = math.tanh %x : f32
      memref.store %th, %out[%i] : memref<4xf32>
      %k = memref.load %n[%i] : memref<4xi32>
      %q = math.ipowi %k, %k : i32
      memref.store %q, %iout[%i] : memref<4xi32>
      %m = arith.remsi %k, %q : i32
      memref.store %m, %iout[%i] : memref<4xi32>
      %f = arith.remf %x, %y : f32
      memref.store %f, %out[%i] : memref<4xf32>
      gpu.return
    }
  }
}

// -----

// Read only by 4-element vector.loads (offset, size and non-unit stride
// multiples of 4): an array of vectors, each load one wide load at a
// quarter of the position. Read by a scalar load too, or of a size not a
// multiple of 4: the vector's elements one by one.
// CHECK-LABEL: func.func @vectors
// CHECK: %[[R:.*]] = memref.reinterpret_cast %arg0 to offset: [0], sizes: [32], strides: [1] : memref<4x8xf16> to memref<32xf16>
// CHECK: %[[V:.*]] = builtin.unrealized_conversion_cast %[[R]] : memref<32xf16> to memref<8xvector<4xf16>>
// CHECK: gpu.launch_func @kernels::@v {{.*}} args(%[[V]] : memref<8xvector<4xf16>>, %{{.*}} : memref<32xf16>, %{{.*}} : memref<6xf32>
// CHECK-LABEL: gpu.func @v
// CHECK-SAME: (%[[A:.*]]: memref<8xvector<4xf16>>, %[[B:.*]]: memref<32xf16>, %[[C:.*]]: memref<6xf32>
// CHECK: %[[ROW:.*]] = arith.muli %{{.*}}, %c8
// CHECK: %[[AT:.*]] = arith.addi %[[ROW]], %{{.*}}
// CHECK: %[[QUARTER:.*]] = arith.divui %[[AT]], %c4
// CHECK: memref.load %[[A]][%[[QUARTER]]] : memref<8xvector<4xf16>>
// CHECK-COUNT-4: memref.load %[[B]]
// CHECK: vector.from_elements
// CHECK: memref.load %[[B]]
// CHECK-COUNT-4: memref.load %[[C]]
// CHECK: vector.from_elements
module attributes {gpu.container_module} {
  func.func @vectors(%a: memref<4x8xf16>, %b: memref<4x8xf16>, %c: memref<6xf32>, %out: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@v blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1)
        args(%a : memref<4x8xf16>, %b : memref<4x8xf16>, %c : memref<6xf32>, %out : memref<4xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @v(%a: memref<4x8xf16>, %b: memref<4x8xf16>, %c: memref<6xf32>, %out: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %c0 = arith.constant 0 : index
      %c4 = arith.constant 4 : index
      %col = arith.muli %i, %c4 : index
      %va = vector.load %a[%i, %col] : memref<4x8xf16>, vector<4xf16>
      %vb = vector.load %b[%i, %col] : memref<4x8xf16>, vector<4xf16>
      %sb = memref.load %b[%i, %c0] : memref<4x8xf16>
      %vc = vector.load %c[%c0] : memref<6xf32>, vector<4xf32>
      %x = vector.extract %va[0] : f16 from vector<4xf16>
      %y = vector.extract %vb[1] : f16 from vector<4xf16>
      %s = arith.addf %x, %y : f16
      %t = arith.addf %s, %sb : f16
      %w = arith.extf %t : f16 to f32
      %z = vector.extract %vc[2] : f32 from vector<4xf32>
      %r = arith.addf %w, %z : f32
      memref.store %r, %out[%i] : memref<4xf32>
      gpu.return
    }
  }
}

// -----

// Read only by 8-element vector.loads of halves (16 bytes): an array of
// vector<4xi32> (SPIR-V's vectors have at most 4 components), each load
// one load at an eighth of the position, bitcast back to the halves; a
// buffer read by 8- and 4-element loads is not an array of vectors.
// CHECK-LABEL: func.func @wide_halves
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : memref<32xf16> to memref<4xvector<4xi32>>
// CHECK-LABEL: gpu.func @w
// CHECK-SAME: (%[[A:.*]]: memref<4xvector<4xi32>>, %[[B:.*]]: memref<32xf16>
// CHECK: %[[EIGHTH:.*]] = arith.divui %{{.*}}, %c8
// CHECK: %[[G:.*]] = memref.load %[[A]][%[[EIGHTH]]] : memref<4xvector<4xi32>>
// CHECK: vector.bitcast %[[G]] : vector<4xi32> to vector<8xf16>
// CHECK-COUNT-8: memref.load %[[B]]
module attributes {gpu.container_module} {
  func.func @wide_halves(%a: memref<4x8xf16>, %b: memref<4x8xf16>, %out: memref<4xf16>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@w blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1)
        args(%a : memref<4x8xf16>, %b : memref<4x8xf16>, %out : memref<4xf16>)
    return
  }
  gpu.module @kernels {
    gpu.func @w(%a: memref<4x8xf16>, %b: memref<4x8xf16>, %out: memref<4xf16>) kernel {
      %i = gpu.thread_id x
      %c0 = arith.constant 0 : index
      %va = vector.load %a[%i, %c0] : memref<4x8xf16>, vector<8xf16>
      %vb = vector.load %b[%i, %c0] : memref<4x8xf16>, vector<8xf16>
      %wb = vector.load %b[%i, %c0] : memref<4x8xf16>, vector<4xf16>
      %x = vector.extract %va[7] : f16 from vector<8xf16>
      %y = vector.extract %vb[6] : f16 from vector<8xf16>
      %z = vector.extract %wb[1] : f16 from vector<4xf16>
      %s = arith.addf %x, %y : f16
      %t = arith.addf %s, %z : f16
      memref.store %t, %out[%i] : memref<4xf16>
      gpu.return
    }
  }
}

// -----

// A float64 remainder: OpFRem's without int64; with it, exact in 64-bit
// integers like float32's (a 52-bit mantissa, r 2^-52 then the exponent).
// CHECK-LABEL: gpu.func @remainder64
// CHECK-NOT: scf.while
// CHECK: arith.remf %{{.*}} : f64
// I64-LABEL: gpu.func @remainder64
// I64: scf.if %{{.*}} -> (f64) {
// I64: arith.bitcast %{{.*}} : f64 to i64
// I64: scf.while
// I64: arith.shli %{{.*}} : i64
// I64: arith.uitofp %{{.*}} : i64 to f64
// I64: arith.mulf %{{.*}}, %cst{{.*}} : f64
// I64: math.copysign %{{.*}} : f64
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @remainder64(%a: memref<4xf64>, %out: memref<4xf64>) kernel {
      %i = gpu.thread_id x
      %c1 = arith.constant 1 : index
      %x = memref.load %a[%i] : memref<4xf64>
      %y = memref.load %a[%c1] : memref<4xf64>
      %f = arith.remf %x, %y : f64
      memref.store %f, %out[%i] : memref<4xf64>
      gpu.return
    }
  }
}

// -----

// Cooperative matrices loaded from and stored to a kernel buffer (the
// matrix kernel's accumulators added to C): at the linearized position of
// their first element, with the same row stride.
// CHECK-LABEL: gpu.func @matrices
// CHECK-SAME: (%[[C:.*]]: memref<4096xf32>)
// CHECK: %[[ROW:.*]] = arith.muli %{{.*}}, %c64
// CHECK: %[[AT:.*]] = arith.addi %[[ROW]], %{{.*}}
// CHECK: %[[OLD:.*]] = gpu.subgroup_mma_load_matrix %[[C]][%[[AT]]] {leadDimension = 64 : index} : memref<4096xf32> -> !gpu.mma_matrix<16x16xf32, "COp">
// CHECK: gpu.subgroup_mma_store_matrix %{{.*}}, %[[C]][%{{.*}}] {leadDimension = 64 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<4096xf32>
module attributes {gpu.container_module} {
  func.func @host(%c: memref<64x64xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@matrices blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1) args(%c : memref<64x64xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @matrices(%c: memref<64x64xf32>) kernel {
      %i = gpu.thread_id x
      %c16 = arith.constant 16 : index
      %row = arith.muli %i, %c16 : index
      %old = gpu.subgroup_mma_load_matrix %c[%row, %c16] {leadDimension = 64 : index} : memref<64x64xf32> -> !gpu.mma_matrix<16x16xf32, "COp">
      %sum = gpu.subgroup_mma_elementwise addf %old, %old : (!gpu.mma_matrix<16x16xf32, "COp">, !gpu.mma_matrix<16x16xf32, "COp">) -> !gpu.mma_matrix<16x16xf32, "COp">
      gpu.subgroup_mma_store_matrix %sum, %c[%row, %c16] {leadDimension = 64 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<64x64xf32>
      gpu.return
    }
  }
}

// -----

// A bfloat16 buffer read only through float16 views of it (the matrix
// kernel's loads from its inputs: MLIR's matrix load takes no bfloat16
// memref) becomes a float16 buffer, not an i16 one: the launch casts the
// flat bfloat16 buffer to float16, and the loads read the argument itself.
// CHECK-LABEL: func.func @host_half_view
// CHECK: %[[F:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [4096], strides: [1] : memref<64x64xbf16> to memref<4096xbf16>
// CHECK: %[[H:.*]] = builtin.unrealized_conversion_cast %[[F]] : memref<4096xbf16> to memref<4096xf16>
// CHECK: args(%[[H]] : memref<4096xf16>, %{{.*}} : memref<256xf32>)
// CHECK-LABEL: gpu.func @half_view
// CHECK-SAME: (%[[A:.*]]: memref<4096xf16>, %{{.*}}: memref<256xf32>)
// CHECK-NOT: unrealized_conversion_cast
// CHECK: gpu.subgroup_mma_load_matrix %[[A]][%{{.*}}] {leadDimension = 64 : index} : memref<4096xf16> -> !gpu.mma_matrix<16x16xf16, "AOp">
// CHECK: gpu.subgroup_mma_load_matrix %[[A]][%{{.*}}] {leadDimension = 64 : index} : memref<4096xf16> -> !gpu.mma_matrix<16x16xf16, "BOp">
module attributes {gpu.container_module} {
  func.func @host_half_view(%a: memref<64x64xbf16>, %c: memref<16x16xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@half_view blocks in (%c1, %c1, %c1)
        threads in (%c1, %c1, %c1) args(%a : memref<64x64xbf16>, %c : memref<16x16xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @half_view(%a: memref<64x64xbf16>, %c: memref<16x16xf32>) kernel {
      %i = gpu.thread_id x
      %c16 = arith.constant 16 : index
      %row = arith.muli %i, %c16 : index
      %view = builtin.unrealized_conversion_cast %a : memref<64x64xbf16> to memref<64x64xf16>
      %m = gpu.subgroup_mma_load_matrix %view[%row, %c16] {leadDimension = 64 : index} : memref<64x64xf16> -> !gpu.mma_matrix<16x16xf16, "AOp">
      %zero = arith.constant 0.0 : f32
      %acc = gpu.subgroup_mma_constant_matrix %zero : !gpu.mma_matrix<16x16xf32, "COp">
      %n = gpu.subgroup_mma_load_matrix %view[%c16, %row] {leadDimension = 64 : index} : memref<64x64xf16> -> !gpu.mma_matrix<16x16xf16, "BOp">
      %p = gpu.subgroup_mma_compute %m, %n, %acc : !gpu.mma_matrix<16x16xf16, "AOp">, !gpu.mma_matrix<16x16xf16, "BOp"> -> !gpu.mma_matrix<16x16xf32, "COp">
      %c0 = arith.constant 0 : index
      gpu.subgroup_mma_store_matrix %p, %c[%c0, %c0] {leadDimension = 16 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<16x16xf32>
      gpu.return
    }
  }
}

// -----

// A bfloat16 buffer read both through a float16 view and as bfloat16 is
// refused (the argument has one type).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @+1 {{reads a bfloat16 buffer both through float16 views and otherwise}}
    gpu.func @mixed_views(%a: memref<64x64xbf16>, %c: memref<16x16xf32>) kernel {
      %c0 = arith.constant 0 : index
      %view = builtin.unrealized_conversion_cast %a : memref<64x64xbf16> to memref<64x64xf16>
      %m = gpu.subgroup_mma_load_matrix %view[%c0, %c0] {leadDimension = 64 : index} : memref<64x64xf16> -> !gpu.mma_matrix<16x16xf16, "AOp">
      %n = gpu.subgroup_mma_load_matrix %view[%c0, %c0] {leadDimension = 64 : index} : memref<64x64xf16> -> !gpu.mma_matrix<16x16xf16, "BOp">
      %zero = arith.constant 0.0 : f32
      %acc = gpu.subgroup_mma_constant_matrix %zero : !gpu.mma_matrix<16x16xf32, "COp">
      %p = gpu.subgroup_mma_compute %m, %n, %acc : !gpu.mma_matrix<16x16xf16, "AOp">, !gpu.mma_matrix<16x16xf16, "BOp"> -> !gpu.mma_matrix<16x16xf32, "COp">
      gpu.subgroup_mma_store_matrix %p, %c[%c0, %c0] {leadDimension = 16 : index} : !gpu.mma_matrix<16x16xf32, "COp">, memref<16x16xf32>
      %x = memref.load %a[%c0, %c0] : memref<64x64xbf16>
      %w = arith.extf %x : bf16 to f32
      memref.store %w, %c[%c0, %c0] : memref<16x16xf32>
      gpu.return
    }
  }
}

// -----

// float64 copysign without int64 (SPIR-V's needs Int64): negative where
// the sign is below zero, or zero with 1 / sign below zero (-0); with
// int64 it stays.
// F64-LABEL: gpu.func @copysign64
// F64-NOT: math.copysign
// F64: %[[LESS:.*]] = arith.cmpf olt, %[[S:.*]], %{{.*}} : f64
// F64: %[[ZERO:.*]] = arith.cmpf oeq, %[[S]], %{{.*}} : f64
// F64: %[[INVERSE:.*]] = arith.divf %{{.*}}, %[[S]] : f64
// F64: arith.cmpf olt, %[[INVERSE]]
// F64: %[[MAGNITUDE:.*]] = math.absf
// F64: %[[NEG:.*]] = arith.negf %[[MAGNITUDE]]
// F64: arith.select %{{.*}}, %[[NEG]], %[[MAGNITUDE]] : f64
// I64-LABEL: gpu.func @copysign64
// I64: math.copysign %{{.*}} : f64
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @copysign64(%a: memref<4xf64>, %out: memref<4xf64>) kernel {
      %i = gpu.thread_id x
      %c1 = arith.constant 1 : index
      %x = memref.load %a[%i] : memref<4xf64>
      %s = memref.load %a[%c1] : memref<4xf64>
      %r = math.copysign %x, %s : f64
      memref.store %r, %out[%i] : memref<4xf64>
      gpu.return
    }
  }
}

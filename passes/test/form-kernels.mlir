// Fusion into kernels: which ops share a loop nest, which values become
// kernel outputs, and where the boundaries are.
// RUN: trueno-opt %s -trueno-form-kernels -split-input-file -verify-diagnostics | FileCheck %s
// RUN: trueno-opt %s -trueno-form-kernels='max-buffers=4' -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=BUFFERS
// RUN: trueno-opt %s -trueno-form-kernels='widen-into-products=true' -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=WIDEN

// A chain over broadcast arguments is one kernel with one output.
// CHECK-LABEL: func.func @chain(
// CHECK-NEXT:    %[[R:.*]] = call @chain_kernel0(%arg1, %arg0) : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @chain_kernel0(%{{.*}}: tensor<8xf32>, %{{.*}}: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {trueno.kernel}
// CHECK-COUNT-5: = trueno.
// CHECK-NEXT:    return
func.func @chain(%x: tensor<4x8xf32>, %row: tensor<8xf32>) -> tensor<4x8xf32> {
  %r = trueno.expand %row : tensor<8xf32> to tensor<4x8xf32>
  %0 = trueno.mul %x, %r : tensor<4x8xf32>
  %1 = trueno.exp %0 : tensor<4x8xf32>
  %2 = trueno.add %1, %r : tensor<4x8xf32>
  %3 = trueno.tanh %2 : tensor<4x8xf32>
  return %3 : tensor<4x8xf32>
}

// -----

// A diamond (one value read by two branches that meet again) is one kernel.
// CHECK-LABEL: func.func @diamond(
// CHECK-NEXT:    call @diamond_kernel0(%arg0)
// CHECK-NEXT:    return
// CHECK-NOT:   func.func private @diamond_kernel1
func.func @diamond(%x: tensor<16xf32>) -> tensor<16xf32> {
  %e = trueno.exp %x : tensor<16xf32>
  %a = trueno.neg %e : tensor<16xf32>
  %b = trueno.sqrt %e : tensor<16xf32>
  %c = trueno.add %a, %b : tensor<16xf32>
  return %c : tensor<16xf32>
}

// -----

// A value also needed outside the chain is a second output of the same
// kernel, not recomputed by a second one.
// CHECK-LABEL: func.func @multi_output(
// CHECK-NEXT:    %[[R:.*]]:2 = call @multi_output_kernel0(%arg0, %arg1) : (tensor<16xf32>, tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>)
// CHECK-NEXT:    return %[[R]]#1, %[[R]]#0
// CHECK:       func.func private @multi_output_kernel0
// CHECK:         %[[T:.*]] = trueno.mul
// CHECK:         %[[U:.*]] = trueno.exp %[[T]]
// CHECK:         return %[[T]], %[[U]]
func.func @multi_output(%a: tensor<16xf32>, %b: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %t = trueno.mul %a, %b : tensor<16xf32>
  %u = trueno.exp %t : tensor<16xf32>
  return %u, %t : tensor<16xf32>, tensor<16xf32>
}

// -----

// An expensive value of a small shape is computed once by its own kernel and
// read broadcast by the big one, instead of once per output element.
// CHECK-LABEL: func.func @expensive_broadcast(
// CHECK-NEXT:    %[[SMALL:.*]] = call @expensive_broadcast_kernel0(%arg0) : (tensor<64x1xf32>) -> tensor<64x1xf32>
// CHECK-NEXT:    %[[BIG:.*]] = call @expensive_broadcast_kernel1(%[[SMALL]], %arg1) : (tensor<64x1xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
// CHECK-NEXT:    return %[[BIG]]
// CHECK:       func.func private @expensive_broadcast_kernel0
// CHECK-NEXT:    trueno.exp
// CHECK-NEXT:    return
// CHECK:       func.func private @expensive_broadcast_kernel1
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.mul
// CHECK-NEXT:    return
func.func @expensive_broadcast(%col: tensor<64x1xf32>, %x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %e = trueno.exp %col : tensor<64x1xf32>
  %b = trueno.expand %e : tensor<64x1xf32> to tensor<64x256xf32>
  %r = trueno.mul %b, %x : tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

// Random numbers are expensive too (twenty 32-bit products an element): a
// column of them broadcast over rows is drawn once, not once per element.
// CHECK-LABEL: func.func @random_broadcast(
// CHECK-NEXT:    %[[U:.*]] = call @random_broadcast_kernel0(%arg0) : (tensor<i32>) -> tensor<64x1xf32>
// CHECK-NEXT:    %[[R:.*]] = call @random_broadcast_kernel1(%[[U]], %arg1)
// CHECK:       func.func private @random_broadcast_kernel0
// CHECK-NEXT:    trueno.random_uniform
// CHECK-NEXT:    return
func.func @random_broadcast(%k: tensor<i32>, %x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %u = trueno.random_uniform %k, %k, %k, %k : tensor<64x1xf32>
  %b = trueno.expand %u : tensor<64x1xf32> to tensor<64x256xf32>
  %r = trueno.mul %b, %x : tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

// Cheap arithmetic of a small shape is pulled through the broadcast: one
// kernel, recomputing the two adds per element costs less than a second pass.
// CHECK-LABEL: func.func @cheap_broadcast(
// CHECK-NEXT:    call @cheap_broadcast_kernel0(%arg0, %arg1, %arg2)
// CHECK-NEXT:    return
// CHECK:       func.func private @cheap_broadcast_kernel0
// CHECK-COUNT-4: = trueno.
// CHECK-NEXT:    return
func.func @cheap_broadcast(%col: tensor<64x1xf32>, %s: tensor<64x1xf32>, %x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %a = trueno.add %col, %s : tensor<64x1xf32>
  %m = trueno.maximum %a, %s : tensor<64x1xf32>
  %b = trueno.expand %m : tensor<64x1xf32> to tensor<64x256xf32>
  %r = trueno.mul %b, %x : tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

// A cheap small value that is also returned is not pulled through: it is
// materialized anyway, so the big kernel reads it.
// CHECK-LABEL: func.func @cheap_but_returned(
// CHECK-NEXT:    %[[SMALL:.*]] = call @cheap_but_returned_kernel0(%arg0)
// CHECK-NEXT:    %[[BIG:.*]] = call @cheap_but_returned_kernel1(%[[SMALL]], %arg1)
// CHECK-NEXT:    return %[[BIG]], %[[SMALL]]
func.func @cheap_but_returned(%col: tensor<8x1xf32>, %x: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x1xf32>) {
  %a = trueno.neg %col : tensor<8x1xf32>
  %b = trueno.expand %a : tensor<8x1xf32> to tensor<8x8xf32>
  %r = trueno.add %b, %x : tensor<8x8xf32>
  return %r, %a : tensor<8x8xf32>, tensor<8x1xf32>
}

// -----

// A product is expensive: its broadcast reads it materialized. A movement
// op is cheap: a reshape is pulled through its broadcast.
// CHECK-LABEL: func.func @product_and_reshape_broadcast(
// CHECK-NEXT:    %[[P:.*]] = call @product_and_reshape_broadcast_kernel0(%arg0, %arg1) : (tensor<4x3xf32>, tensor<3x1xf32>) -> tensor<4x1xf32>
// CHECK-NEXT:    %[[R:.*]] = call @product_and_reshape_broadcast_kernel1(%[[P]], %arg2)
// CHECK-NEXT:    %[[Q:.*]] = call @product_and_reshape_broadcast_kernel2(%arg3, %arg2) : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return %[[R]], %[[Q]]
// CHECK:       func.func private @product_and_reshape_broadcast_kernel2
// CHECK-NEXT:    trueno.reshape
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.mul
func.func @product_and_reshape_broadcast(%a: tensor<4x3xf32>, %w: tensor<3x1xf32>, %x: tensor<4x8xf32>, %v: tensor<4xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %p = trueno.matmul %a, %w : tensor<4x3xf32>, tensor<3x1xf32> -> tensor<4x1xf32>
  %pb = trueno.expand %p : tensor<4x1xf32> to tensor<4x8xf32>
  %r = trueno.mul %pb, %x : tensor<4x8xf32>
  %c = trueno.reshape %v : tensor<4xf32> -> tensor<4x1xf32>
  %cb = trueno.expand %c : tensor<4x1xf32> to tensor<4x8xf32>
  %q = trueno.mul %cb, %x : tensor<4x8xf32>
  return %r, %q : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Independent outputs of different shapes are separate kernels.
// CHECK-LABEL: func.func @two_shapes(
// CHECK-NEXT:    call @two_shapes_kernel0(%arg0)
// CHECK-NEXT:    call @two_shapes_kernel1(%arg1)
// CHECK-NEXT:    return
func.func @two_shapes(%a: tensor<4xf32>, %b: tensor<5xf32>) -> (tensor<4xf32>, tensor<5xf32>) {
  %x = trueno.exp %a : tensor<4xf32>
  %y = trueno.exp %b : tensor<5xf32>
  return %x, %y : tensor<4xf32>, tensor<5xf32>
}

// -----

// Constants are cloned into each kernel that reads them; a returned constant
// gets a kernel of its own. Strides of view arguments follow them.
// CHECK-LABEL: func.func @constants(
// CHECK-NEXT:    call @constants_kernel0(%arg0)
// CHECK-NEXT:    call @constants_kernel1()
// CHECK:       func.func private @constants_kernel0(%{{.*}}: tensor<2x3xf32> {trueno.strides = array<i64: 1, 2>})
// CHECK-NEXT:    trueno.constant
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.add
// CHECK:       func.func private @constants_kernel1()
// CHECK-NEXT:    trueno.constant dense<2>
func.func @constants(%x: tensor<2x3xf32> {trueno.strides = array<i64: 1, 2>}) -> (tensor<2x3xf32>, tensor<i32>) {
  %c = trueno.constant dense<1.5> : tensor<f32>
  %b = trueno.expand %c : tensor<f32> to tensor<2x3xf32>
  %r = trueno.add %x, %b : tensor<2x3xf32>
  %k = trueno.constant dense<2> : tensor<i32>
  return %r, %k : tensor<2x3xf32>, tensor<i32>
}

// -----

// A constant both returned and read by a kernel: the reader clones it, and
// the returned value comes from a kernel of its own.
// CHECK-LABEL: func.func @constant_returned_and_read(
// CHECK-NEXT:    %[[R:.*]] = call @constant_returned_and_read_kernel0(%arg0) : (tensor<f32>) -> tensor<f32>
// CHECK-NEXT:    %[[C:.*]] = call @constant_returned_and_read_kernel1() : () -> tensor<f32>
// CHECK-NEXT:    return %[[R]], %[[C]]
// CHECK:       func.func private @constant_returned_and_read_kernel0
// CHECK-NEXT:    %[[K:.*]] = trueno.constant dense<1.500000e+00>
// CHECK-NEXT:    trueno.add %{{.*}}, %[[K]]
// CHECK:       func.func private @constant_returned_and_read_kernel1()
// CHECK-NEXT:    %[[K:.*]] = trueno.constant dense<1.500000e+00>
// CHECK-NEXT:    return %[[K]]
func.func @constant_returned_and_read(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %c = trueno.constant dense<1.5> : tensor<f32>
  %r = trueno.add %x, %c : tensor<f32>
  return %r, %c : tensor<f32>, tensor<f32>
}

// -----

// Values that nothing returns are not computed.
// CHECK-LABEL: func.func @dead_code(
// CHECK-NEXT:    %[[R:.*]] = call @dead_code_kernel0(%arg0)
// CHECK-NEXT:    return %[[R]]
// CHECK-NOT:   trueno.mul
func.func @dead_code(%x: tensor<4x1xf32>, %y: tensor<4x4xf32>) -> tensor<4x1xf32> {
  %e = trueno.exp %x : tensor<4x1xf32>
  %b = trueno.expand %e : tensor<4x1xf32> to tensor<4x4xf32>
  %s = trueno.mul %b, %y : tensor<4x4xf32>
  %f = trueno.log %e : tensor<4x1xf32>
  return %f : tensor<4x1xf32>
}

// -----

// Only trueno ops can be partitioned.
func.func @foreign(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{trueno-form-kernels expects only trueno ops in a graph function, found tensor.empty}}
  %e = tensor.empty() : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// A graph function is one block.
// expected-error @+1 {{trueno-form-kernels expects one block}}
func.func @two_blocks(%x: tensor<4xf32>) -> tensor<4xf32> {
  cf.br ^next
^next:
  return %x : tensor<4xf32>
}

// -----

// A reduction iterates over its input's shape: producers of that shape join
// it. Its result broadcast back over its own rows (x - sum(x * x)) joins it
// too when a row is small (at most 256 KiB): codegen then runs the kernel a
// block of rows at a time.
// CHECK-LABEL: func.func @reduction_row_fusion(
// CHECK-NEXT:    %[[R:.*]] = call @reduction_row_fusion_kernel0(%arg0)
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @reduction_row_fusion_kernel0
// CHECK-NEXT:    trueno.mul
// CHECK-NEXT:    trueno.reduce_sum
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.sub
// CHECK-NEXT:    return
func.func @reduction_row_fusion(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sq = trueno.mul %x, %x : tensor<4x8xf32>
  %s = trueno.reduce_sum %sq dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %b = trueno.expand %s : tensor<4x1xf32> to tensor<4x8xf32>
  %r = trueno.sub %x, %b : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// The reduced value read through two broadcasts: the first brings the
// reduction into the kernel, the second finds it there.
// CHECK-LABEL: func.func @row_fusion_twice(
// CHECK-NEXT:    %[[R:.*]] = call @row_fusion_twice_kernel0(%arg0)
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @row_fusion_twice_kernel0
// CHECK-NEXT:    trueno.reduce_max
// CHECK-COUNT-4: = trueno.
// CHECK-NEXT:    return
func.func @row_fusion_twice(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = trueno.reduce_max %x dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %a = trueno.expand %m : tensor<4x1xf32> to tensor<4x8xf32>
  %d = trueno.sub %x, %a : tensor<4x8xf32>
  %b = trueno.expand %m : tensor<4x1xf32> to tensor<4x8xf32>
  %r = trueno.div %d, %b : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// Rows of more than 256 KiB (here 400 KB) would not stay in the cache
// between sweeps: the reduced value is consumed by a separate kernel, which
// reads it broadcast (x - mean(x) needs the mean before any element).
// CHECK-LABEL: func.func @reduction_boundary(
// CHECK-NEXT:    %[[S:.*]] = call @reduction_boundary_kernel0(%arg0)
// CHECK-NEXT:    %[[R:.*]] = call @reduction_boundary_kernel1(%[[S]], %arg0)
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @reduction_boundary_kernel0
// CHECK-NEXT:    trueno.mul
// CHECK-NEXT:    trueno.reduce_sum
// CHECK:       func.func private @reduction_boundary_kernel1
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.sub
func.func @reduction_boundary(%x: tensor<4x100000xf32>) -> tensor<4x100000xf32> {
  %sq = trueno.mul %x, %x : tensor<4x100000xf32>
  %s = trueno.reduce_sum %sq dims = [1] : tensor<4x100000xf32> -> tensor<4x1xf32>
  %b = trueno.expand %s : tensor<4x1xf32> to tensor<4x100000xf32>
  %r = trueno.sub %x, %b : tensor<4x100000xf32>
  return %r : tensor<4x100000xf32>
}

// -----

// Rows of unknown length are not fused back into their reduction either:
// nothing says they would fit in the cache.
// CHECK-LABEL: func.func @dynamic_rows(
// CHECK-NEXT:    %[[S:.*]] = call @dynamic_rows_kernel0(%arg0) : (tensor<4x?xf32>) -> tensor<4x1xf32>
// CHECK-NEXT:    %[[R:.*]] = call @dynamic_rows_kernel1(%[[S]], %arg0) : (tensor<4x1xf32>, tensor<4x?xf32>) -> tensor<4x?xf32>
// CHECK-NEXT:    return %[[R]]
func.func @dynamic_rows(%x: tensor<4x?xf32>) -> tensor<4x?xf32> {
  %s = trueno.reduce_sum %x dims = [1] : tensor<4x?xf32> -> tensor<4x1xf32>
  %b = trueno.expand %s : tensor<4x1xf32> to tensor<4x?xf32>
  %r = trueno.sub %x, %b : tensor<4x?xf32>
  return %r : tensor<4x?xf32>
}

// -----

// A reduction to no elements (zero rows) has no row size to weigh: its
// consumer stays a kernel of its own.
// CHECK-LABEL: func.func @no_rows(
// CHECK-NEXT:    %[[S:.*]] = call @no_rows_kernel0(%arg0) : (tensor<0x8xf32>) -> tensor<0x1xf32>
// CHECK-NEXT:    %[[R:.*]] = call @no_rows_kernel1(%[[S]], %arg0) : (tensor<0x1xf32>, tensor<0x8xf32>) -> tensor<0x8xf32>
// CHECK-NEXT:    return %[[R]]
func.func @no_rows(%x: tensor<0x8xf32>) -> tensor<0x8xf32> {
  %s = trueno.reduce_sum %x dims = [1] : tensor<0x8xf32> -> tensor<0x1xf32>
  %b = trueno.expand %s : tensor<0x1xf32> to tensor<0x8xf32>
  %r = trueno.sub %x, %b : tensor<0x8xf32>
  return %r : tensor<0x8xf32>
}

// -----

// Row fusion never makes a cycle: the broadcast sum's reader also reads
// log(sum), computed by a kernel of its own (log is expensive, so it is not
// pulled through its broadcast; it is returned too, so it does not join the
// row's kernel), which needs the sum first.
// CHECK-LABEL: func.func @row_fusion_cycle(
// CHECK-NEXT:    %[[S:.*]] = call @row_fusion_cycle_kernel0(%arg0) : (tensor<4x8xf32>) -> tensor<4x1xf32>
// CHECK-NEXT:    %[[L:.*]] = call @row_fusion_cycle_kernel1(%[[S]]) : (tensor<4x1xf32>) -> tensor<4x1xf32>
// CHECK-NEXT:    %[[R:.*]] = call @row_fusion_cycle_kernel2(%[[S]], %[[L]], %arg0)
// CHECK-NEXT:    return %[[R]], %[[L]]
// CHECK:       func.func private @row_fusion_cycle_kernel0
// CHECK-NEXT:    trueno.reduce_sum
// CHECK-NEXT:    return
func.func @row_fusion_cycle(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x1xf32>) {
  %s = trueno.reduce_sum %x dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %l = trueno.log %s : tensor<4x1xf32>
  %sb = trueno.expand %s : tensor<4x1xf32> to tensor<4x8xf32>
  %lb = trueno.expand %l : tensor<4x1xf32> to tensor<4x8xf32>
  %d = trueno.sub %x, %sb : tensor<4x8xf32>
  %r = trueno.mul %d, %lb : tensor<4x8xf32>
  return %r, %l : tensor<4x8xf32>, tensor<4x1xf32>
}

// -----

// Read only by the row's kernel, log(sum) joins it with the sum: computed
// once a row there (layerNorm's 1 / sqrt(var + eps) is such a group). One
// kernel.
// CHECK-LABEL: func.func @row_fusion_through_reduced(
// CHECK-NEXT:    %[[R:.*]] = call @row_fusion_through_reduced_kernel0(%arg0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @row_fusion_through_reduced_kernel0
// CHECK:         trueno.reduce_sum
// CHECK:         trueno.log {{.*}} : tensor<4x1xf32>
// CHECK:         trueno.mul {{.*}} : tensor<4x8xf32>
// CHECK-NEXT:    return
func.func @row_fusion_through_reduced(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = trueno.reduce_sum %x dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %l = trueno.log %s : tensor<4x1xf32>
  %sb = trueno.expand %s : tensor<4x1xf32> to tensor<4x8xf32>
  %lb = trueno.expand %l : tensor<4x1xf32> to tensor<4x8xf32>
  %d = trueno.sub %x, %sb : tensor<4x8xf32>
  %r = trueno.mul %d, %lb : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// layerNorm's two sweeps: the mean (scaled, through its broadcast), the
// squared deviations' sum, then 1 / sqrt(var + eps) on the reduced values
// and the normalized rows: one kernel, where it was three (the
// deviations written and read back).
// CHECK-LABEL: func.func @layer_norm(
// CHECK-NEXT:    %[[R:.*]] = call @layer_norm_kernel0(%arg0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return %[[R]]
// CHECK-NOT:   func.func private @layer_norm_kernel1
func.func @layer_norm(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %n = trueno.constant dense<0.125> : tensor<4x1xf32>
  %eps = trueno.constant dense<1.0e-05> : tensor<4x1xf32>
  %s = trueno.reduce_sum %x dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %m = trueno.mul %s, %n : tensor<4x1xf32>
  %mb = trueno.expand %m : tensor<4x1xf32> to tensor<4x8xf32>
  %c = trueno.sub %x, %mb : tensor<4x8xf32>
  %sq = trueno.mul %c, %c : tensor<4x8xf32>
  %v = trueno.reduce_sum %sq dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %vm = trueno.mul %v, %n : tensor<4x1xf32>
  %ve = trueno.add %vm, %eps : tensor<4x1xf32>
  %r = trueno.rsqrt %ve : tensor<4x1xf32>
  %rb = trueno.expand %r : tensor<4x1xf32> to tensor<4x8xf32>
  %y = trueno.mul %c, %rb : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A product's elementwise consumers fuse after it (the bias through its
// broadcast); its producers stay in a kernel of their own.
// CHECK-LABEL: func.func @graph
// CHECK:         %[[E:.*]] = call @graph_kernel0(%arg0)
// CHECK:         %[[R:.*]] = call @graph_kernel1(%[[E]], %arg1, %arg2)
// CHECK:         return %[[R]]
// CHECK-LABEL: func.func private @graph_kernel0
// CHECK:         trueno.exp
// CHECK-NOT:     trueno.matmul
// CHECK-LABEL: func.func private @graph_kernel1
// CHECK:         trueno.matmul
// CHECK:         trueno.expand
// CHECK:         trueno.add
// CHECK:         trueno.relu
func.func @graph(%x: tensor<4x3xf32>, %w: tensor<3x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %e = trueno.exp %x : tensor<4x3xf32>
  %p = trueno.matmul %e, %w : tensor<4x3xf32>, tensor<3x3xf32> -> tensor<4x3xf32>
  %bb = trueno.expand %b : tensor<3xf32> to tensor<4x3xf32>
  %s = trueno.add %p, %bb : tensor<4x3xf32>
  %r = trueno.relu %s : tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

// softmax: exp(x - max) feeds the sum and, after it, the division. With
// small rows the max, the sum and the division are one kernel (each
// reduction joins the consumers of its broadcast result; trueno-tile-rows
// then runs it block by block), and the exponential is computed once.
// CHECK-LABEL: func.func @graph
// CHECK-NEXT:    %[[Y:.*]] = call @graph_kernel0(%arg0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return %[[Y]]
// CHECK-LABEL: func.func private @graph_kernel0
// CHECK:         trueno.reduce_max
// CHECK:         trueno.exp %
// CHECK-NOT:     trueno.exp %
// CHECK:         trueno.reduce_sum
// CHECK-NOT:     trueno.exp %
// CHECK:         trueno.div
func.func @graph(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = trueno.reduce_max %x dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %mb = trueno.expand %m : tensor<4x1xf32> to tensor<4x8xf32>
  %d = trueno.sub %x, %mb : tensor<4x8xf32>
  %e = trueno.exp %d : tensor<4x8xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %sb = trueno.expand %s : tensor<4x1xf32> to tensor<4x8xf32>
  %y = trueno.div %e, %sb : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Rows of 400 KB: three kernels. The division's kernel recomputes
// exp(x - max) rather than reading it back, so the sum's kernel has a
// single (small) output.
// CHECK-LABEL: func.func @long_rows
// CHECK:         %[[M:.*]] = call @long_rows_kernel0(%arg0) : (tensor<4x100000xf32>) -> tensor<4x1xf32>
// CHECK:         %[[S:.*]] = call @long_rows_kernel1(%[[M]], %arg0) : (tensor<4x1xf32>, tensor<4x100000xf32>) -> tensor<4x1xf32>
// CHECK:         call @long_rows_kernel2(%[[S]], %[[M]], %arg0) : (tensor<4x1xf32>, tensor<4x1xf32>, tensor<4x100000xf32>) -> tensor<4x100000xf32>
// CHECK-LABEL: func.func private @long_rows_kernel2
// CHECK:         trueno.sub
// CHECK:         trueno.exp
// CHECK:         trueno.div
func.func @long_rows(%x: tensor<4x100000xf32>) -> tensor<4x100000xf32> {
  %m = trueno.reduce_max %x dims = [1] : tensor<4x100000xf32> -> tensor<4x1xf32>
  %mb = trueno.expand %m : tensor<4x1xf32> to tensor<4x100000xf32>
  %d = trueno.sub %x, %mb : tensor<4x100000xf32>
  %e = trueno.exp %d : tensor<4x100000xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<4x100000xf32> -> tensor<4x1xf32>
  %sb = trueno.expand %s : tensor<4x1xf32> to tensor<4x100000xf32>
  %y = trueno.div %e, %sb : tensor<4x100000xf32>
  return %y : tensor<4x100000xf32>
}

// -----

// As @long_rows, but what the sum reads takes 17 elementwise ops to
// compute: more than the 16 worth recomputing. The sum's kernel writes it
// as a second output, and the division's kernel reads it back.
// CHECK-LABEL: func.func @long_cone
// CHECK-NEXT:    %[[K0:.*]]:2 = call @long_cone_kernel0(%arg0) : (tensor<4x100000xf32>) -> (tensor<4x100000xf32>, tensor<4x1xf32>)
// CHECK-NEXT:    %[[Y:.*]] = call @long_cone_kernel1(%[[K0]]#1, %[[K0]]#0) : (tensor<4x1xf32>, tensor<4x100000xf32>) -> tensor<4x100000xf32>
// CHECK-NEXT:    return %[[Y]]
// CHECK-LABEL: func.func private @long_cone_kernel1
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.div
// CHECK-NEXT:    return
func.func @long_cone(%x: tensor<4x100000xf32>) -> tensor<4x100000xf32> {
  %e0 = trueno.exp %x : tensor<4x100000xf32>
  %e1 = trueno.neg %e0 : tensor<4x100000xf32>
  %e2 = trueno.neg %e1 : tensor<4x100000xf32>
  %e3 = trueno.neg %e2 : tensor<4x100000xf32>
  %e4 = trueno.neg %e3 : tensor<4x100000xf32>
  %e5 = trueno.neg %e4 : tensor<4x100000xf32>
  %e6 = trueno.neg %e5 : tensor<4x100000xf32>
  %e7 = trueno.neg %e6 : tensor<4x100000xf32>
  %e8 = trueno.neg %e7 : tensor<4x100000xf32>
  %e9 = trueno.neg %e8 : tensor<4x100000xf32>
  %e10 = trueno.neg %e9 : tensor<4x100000xf32>
  %e11 = trueno.neg %e10 : tensor<4x100000xf32>
  %e12 = trueno.neg %e11 : tensor<4x100000xf32>
  %e13 = trueno.neg %e12 : tensor<4x100000xf32>
  %e14 = trueno.neg %e13 : tensor<4x100000xf32>
  %e15 = trueno.neg %e14 : tensor<4x100000xf32>
  %e16 = trueno.neg %e15 : tensor<4x100000xf32>
  %s = trueno.reduce_sum %e16 dims = [1] : tensor<4x100000xf32> -> tensor<4x1xf32>
  %sb = trueno.expand %s : tensor<4x1xf32> to tensor<4x100000xf32>
  %y = trueno.div %e16, %sb : tensor<4x100000xf32>
  return %y : tensor<4x100000xf32>
}

// -----

// Only the readers of exp(x) that need the sum get their own copy of it:
// %u, which does not (its other operand is computed from %b alone), reads
// exp(x) in the sum's kernel.
// CHECK-LABEL: func.func @independent_reader
// CHECK-NEXT:    %[[K0:.*]]:2 = call @independent_reader_kernel0(%arg0, %arg2) : (tensor<4x100000xf32>, tensor<4x100000xf32>) -> (tensor<4x1xf32>, tensor<4x100000xf32>)
// CHECK-NEXT:    %[[Y:.*]] = call @independent_reader_kernel1(%[[K0]]#0, %arg0)
// CHECK-NEXT:    return %[[Y]], %[[K0]]#1
// CHECK:       func.func private @independent_reader_kernel0
// CHECK-NEXT:    %[[E:.*]] = trueno.exp
// CHECK-NEXT:    trueno.reduce_sum %[[E]]
// CHECK:         trueno.add %[[E]],
// CHECK:       func.func private @independent_reader_kernel1
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    trueno.exp
// CHECK-NEXT:    trueno.div
func.func @independent_reader(%x: tensor<4x100000xf32>, %a: tensor<4x100000xf32>, %b: tensor<4x100000xf32>) -> (tensor<4x100000xf32>, tensor<4x100000xf32>) {
  %e = trueno.exp %x : tensor<4x100000xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<4x100000xf32> -> tensor<4x1xf32>
  %sb = trueno.expand %s : tensor<4x1xf32> to tensor<4x100000xf32>
  %y = trueno.div %e, %sb : tensor<4x100000xf32>
  %t = trueno.sqrt %b : tensor<4x100000xf32>
  %p = trueno.neg %t : tensor<4x100000xf32>
  %q = trueno.abs %t : tensor<4x100000xf32>
  %m = trueno.mul %p, %q : tensor<4x100000xf32>
  %u = trueno.add %e, %m : tensor<4x100000xf32>
  return %y, %u : tensor<4x100000xf32>, tensor<4x100000xf32>
}

// -----

// A gather reads its input at data-dependent positions, so the input's
// producer (exp) is a kernel of its own; the index's producer (add) and the
// gathered value's consumer (mul) share the gather's kernel.
// CHECK-LABEL: func.func @graph
// CHECK:         %[[E:.*]] = call @graph_kernel0(%arg0)
// CHECK:         call @graph_kernel1(%arg1, %[[E]]
// CHECK-LABEL: func.func private @graph_kernel1
// CHECK:         trueno.add
// CHECK:         trueno.gather
// CHECK:         trueno.mul
func.func @graph(%x: tensor<10x4xf32>, %ids: tensor<3x4xi64>) -> tensor<3x4xf32> {
  %e = trueno.exp %x : tensor<10x4xf32>
  %one = trueno.constant dense<1> : tensor<3x4xi64>
  %i = trueno.add %ids, %one : tensor<3x4xi64>
  %g = trueno.gather %e, %i dim = 0 : tensor<10x4xf32>, tensor<3x4xi64> -> tensor<3x4xf32>
  %two = trueno.constant dense<2.0> : tensor<3x4xf32>
  %r = trueno.mul %g, %two : tensor<3x4xf32>
  return %r : tensor<3x4xf32>
}

// -----

// Movement ops join their producers' and consumers' kernels: a transpose,
// a reshape and a slice between elementwise ops are one kernel each.
// CHECK-LABEL: func.func @through_movement(
// CHECK-NEXT:    %[[R:.*]]:3 = call @through_movement_kernel0(%arg0, %arg1)
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1, %[[R]]#2
// CHECK:       func.func private @through_movement_kernel0
// CHECK-DAG:     trueno.transpose
// CHECK-DAG:     trueno.reshape
// CHECK-DAG:     trueno.slice
// CHECK:         return
// CHECK-NOT:   func.func private @through_movement_kernel1
func.func @through_movement(%a: tensor<3x4xf32>, %b: tensor<3x4xf32>) -> (tensor<4x3xf32>, tensor<12xf32>, tensor<2x4xf32>) {
  %m = trueno.mul %a, %b : tensor<3x4xf32>
  %t = trueno.transpose %m permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %e = trueno.exp %t : tensor<4x3xf32>
  %r = trueno.reshape %m : tensor<3x4xf32> -> tensor<12xf32>
  %n = trueno.neg %r : tensor<12xf32>
  %s = trueno.slice %m offsets = [2, 0] steps = [-2, 1] : tensor<3x4xf32> -> tensor<2x4xf32>
  %q = trueno.sqrt %s : tensor<2x4xf32>
  return %e, %n, %q : tensor<4x3xf32>, tensor<12xf32>, tensor<2x4xf32>
}

// -----

// cat({a + 1, b * 2}) is one kernel: each input's producers join the
// concat, whatever their shape.
// CHECK-LABEL: func.func @concat(
// CHECK-NEXT:    %[[R:.*]] = call @concat_kernel0(
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @concat_kernel0
// CHECK-DAG:     trueno.add
// CHECK-DAG:     trueno.mul
// CHECK:         trueno.concat
// CHECK-NOT:   func.func private @concat_kernel1
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %one: tensor<2x3xf32>, %two: tensor<4x3xf32>) -> tensor<6x3xf32> {
  %x = trueno.add %a, %one : tensor<2x3xf32>
  %y = trueno.mul %b, %two : tensor<4x3xf32>
  %c = trueno.concat %x, %y dim = 0 : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<6x3xf32>
  return %c : tensor<6x3xf32>
}

// -----

// A movement op never makes a reduction's consumers share its kernel: the
// reduced value is not the reduction's domain, and reading it reshaped is
// still a boundary (rows here are 400 KB, past row fusion).
// CHECK-LABEL: func.func @reduction_then_reshape(
// CHECK-NEXT:    %[[S:.*]] = call @reduction_then_reshape_kernel0(%arg0)
// CHECK-NEXT:    %[[R:.*]] = call @reduction_then_reshape_kernel1(%[[S]])
// CHECK-NEXT:    return %[[R]]
// CHECK:       func.func private @reduction_then_reshape_kernel0
// CHECK-NEXT:    trueno.reduce_sum
// CHECK-NEXT:    return
// CHECK:       func.func private @reduction_then_reshape_kernel1
// CHECK-NEXT:    trueno.reshape
// CHECK-NEXT:    trueno.exp
func.func @reduction_then_reshape(%x: tensor<4x100000xf32>) -> tensor<2x2xf32> {
  %s = trueno.reduce_sum %x dims = [1] : tensor<4x100000xf32> -> tensor<4xf32>
  %r = trueno.reshape %s : tensor<4xf32> -> tensor<2x2xf32>
  %e = trueno.exp %r : tensor<2x2xf32>
  return %e : tensor<2x2xf32>
}

// -----

// A product's operands are still materialized first, even through a
// transpose; its transposed result joins the product's kernel (x @ w, then
// .mT() + 1).
// CHECK-LABEL: func.func @product_operands(
// CHECK-NEXT:    %[[T:.*]] = call @product_operands_kernel0(%arg1)
// CHECK-NEXT:    %[[R:.*]] = call @product_operands_kernel1(%arg0, %[[T]], %arg2)
// CHECK:       func.func private @product_operands_kernel0
// CHECK-NEXT:    trueno.neg
// CHECK-NEXT:    trueno.transpose
// CHECK:       func.func private @product_operands_kernel1
// CHECK:         trueno.matmul
// CHECK-NEXT:    trueno.transpose
// CHECK-NEXT:    trueno.add
func.func @product_operands(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>, %one: tensor<32x8xf32>) -> tensor<32x8xf32> {
  %n = trueno.neg %w : tensor<32x16xf32>
  %wt = trueno.transpose %n permutation = [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %p = trueno.matmul %x, %wt : tensor<8x16xf32>, tensor<16x32xf32> -> tensor<8x32xf32>
  %pt = trueno.transpose %p permutation = [1, 0] : tensor<8x32xf32> -> tensor<32x8xf32>
  %r = trueno.add %pt, %one : tensor<32x8xf32>
  return %r : tensor<32x8xf32>
}

// -----

// An argument returned as it is (a copy of a realized view) gets a kernel
// that copies it, with the argument's strides; returned twice, it is still
// one copy.
// CHECK-LABEL: func.func @returned_argument(
// CHECK-NEXT:    %[[C:.*]] = call @returned_argument_kernel0(%arg0) : (tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    return %[[C]], %[[C]]
// CHECK:       func.func private @returned_argument_kernel0(%[[A:.*]]: tensor<4x3xf32> {trueno.strides = array<i64: 1, 4>}) -> tensor<4x3xf32> attributes {trueno.kernel}
// CHECK-NEXT:    return %[[A]]
func.func @returned_argument(%x: tensor<4x3xf32> {trueno.strides = array<i64: 1, 4>}) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  return %x, %x : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Declarations and functions that already are kernels are left alone.
// CHECK-LABEL: func.func private @declared(tensor<4xf32>) -> tensor<4xf32>
// CHECK-LABEL: func.func private @formed(
// CHECK-NEXT:    trueno.exp
// CHECK-NEXT:    trueno.neg
// CHECK-NEXT:    return
// CHECK-NOT:   func.func
func.func private @declared(tensor<4xf32>) -> tensor<4xf32>
func.func private @formed(%x: tensor<4xf32>) -> tensor<4xf32> attributes {trueno.kernel} {
  %e = trueno.exp %x : tensor<4xf32>
  %n = trueno.neg %e : tensor<4xf32>
  return %n : tensor<4xf32>
}

// -----

// A chain reading four arguments: one kernel of five buffers, or, with at
// most four a kernel (a Vulkan device may bind as few as 32), the first two
// adds (a, b, c and their sum) and then the last.
// CHECK-LABEL: func.func @wide(
// CHECK-NEXT:    call @wide_kernel0
// CHECK-NEXT:    return
// BUFFERS-LABEL: func.func @wide(
// BUFFERS-NEXT:    %[[S:.*]] = call @wide_kernel0(%arg0, %arg1, %arg2)
// BUFFERS-NEXT:    %[[R:.*]] = call @wide_kernel1(%[[S]], %arg3)
// BUFFERS-NEXT:    return %[[R]]
func.func @wide(%a: tensor<16xf32>, %b: tensor<16xf32>, %c: tensor<16xf32>, %d: tensor<16xf32>) -> tensor<16xf32> {
  %0 = trueno.add %a, %b : tensor<16xf32>
  %1 = trueno.add %0, %c : tensor<16xf32>
  %2 = trueno.add %1, %d : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// Halves widened for a product: kernels of their own, or with
// widen-into-products the product's kernel reads the halves (the widening
// of %a, which the product alone reads); %b's widening is also returned,
// so it stays a kernel's output.
// CHECK-LABEL: func.func @halves(
// CHECK-NEXT:    %[[WA:.*]] = call @halves_kernel0(%arg0)
// CHECK-NEXT:    %[[WB:.*]] = call @halves_kernel1(%arg1)
// CHECK-NEXT:    call @halves_kernel2(%[[WA]], %[[WB]])
// CHECK-NEXT:    return
// WIDEN-LABEL: func.func @halves(
// WIDEN-NEXT:    %[[WB:.*]] = call @halves_kernel0(%arg1)
// WIDEN-NEXT:    call @halves_kernel1(%arg0, %[[WB]])
// WIDEN:       func.func private @halves_kernel1(%{{.*}}: tensor<8x4xf16>, %{{.*}}: tensor<4x6xf32>)
// WIDEN-NEXT:    trueno.cast
// WIDEN-NEXT:    trueno.matmul
func.func @halves(%a: tensor<8x4xf16>, %b: tensor<4x6xbf16>) -> (tensor<8x6xf32>, tensor<4x6xf32>) {
  %wa = trueno.cast %a : tensor<8x4xf16> to tensor<8x4xf32>
  %wb = trueno.cast %b : tensor<4x6xbf16> to tensor<4x6xf32>
  %p = trueno.matmul %wa, %wb : tensor<8x4xf32>, tensor<4x6xf32> -> tensor<8x6xf32>
  return %p, %wb : tensor<8x6xf32>, tensor<4x6xf32>
}

// -----

// A bfloat16 widening joins the product's kernel too: codegen reads the
// bfloat16 there where the product runs on bfloat16 cooperative matrices,
// and keeps the widening (a launch of its own, as before) elsewhere.
// CHECK-LABEL: func.func @bfloat16_product(
// CHECK-NEXT:    %[[WA:.*]] = call @bfloat16_product_kernel0(%arg0)
// CHECK-NEXT:    call @bfloat16_product_kernel1(%[[WA]], %arg1)
// WIDEN-LABEL: func.func @bfloat16_product(
// WIDEN-NEXT:    call @bfloat16_product_kernel0(%arg0, %arg1)
// WIDEN-NEXT:    return
// WIDEN:       func.func private @bfloat16_product_kernel0(%{{.*}}: tensor<8x4xbf16>, %{{.*}}: tensor<4x6xf32>)
// WIDEN-NEXT:    trueno.cast
// WIDEN-NEXT:    trueno.matmul
func.func @bfloat16_product(%a: tensor<8x4xbf16>, %b: tensor<4x6xf32>) -> tensor<8x6xf32> {
  %wa = trueno.cast %a : tensor<8x4xbf16> to tensor<8x4xf32>
  %p = trueno.matmul %wa, %b : tensor<8x4xf32>, tensor<4x6xf32> -> tensor<8x6xf32>
  return %p : tensor<8x6xf32>
}

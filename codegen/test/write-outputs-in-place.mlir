// A result computed into a fresh buffer and copied into its output buffer
// at the end is computed in the output buffer instead (conv2d.mlir @grouped
// shows it in the pipeline).
// RUN: trueno-opt %s -trueno-write-outputs-in-place -split-input-file | FileCheck %s

// Written through a view (as a grouped convolution writes its NGFHW result):
// the view is taken of the output, and the copy and the dealloc go.
// CHECK-LABEL: func.func @through_view(
// CHECK-SAME:    %[[X:.*]]: memref<2x6xf32>, %[[OUT:.*]]: memref<2x6xf32>)
// CHECK-NOT:     memref.alloc
// CHECK:         %[[V:.*]] = memref.expand_shape %[[OUT]]
// CHECK:         linalg.copy ins(%{{.*}} : memref<2x2x3xf32>) outs(%[[V]] : memref<2x2x3xf32>)
// CHECK-NOT:     memref.copy
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @through_view(%x: memref<2x6xf32>, %out: memref<2x6xf32>) {
  %alloc = memref.alloc() : memref<2x6xf32>
  %v = memref.expand_shape %alloc [[0], [1, 2]] output_shape [2, 2, 3] : memref<2x6xf32> into memref<2x2x3xf32>
  %xv = memref.expand_shape %x [[0], [1, 2]] output_shape [2, 2, 3] : memref<2x6xf32> into memref<2x2x3xf32>
  linalg.copy ins(%xv : memref<2x2x3xf32>) outs(%v : memref<2x2x3xf32>)
  memref.copy %alloc, %out : memref<2x6xf32> to memref<2x6xf32>
  memref.dealloc %alloc : memref<2x6xf32>
  return
}

// -----

// The buffer is read after the copy: the copy stays (writing the output
// earlier would be fine here, but a later write would not be).
// CHECK-LABEL: func.func @used_after_copy(
// CHECK:         memref.alloc
// CHECK:         memref.copy
// CHECK:         linalg.copy
func.func @used_after_copy(%x: memref<4xf32>, %y: memref<4xf32>, %out: memref<4xf32>) {
  %alloc = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%alloc : memref<4xf32>)
  memref.copy %alloc, %out : memref<4xf32> to memref<4xf32>
  linalg.copy ins(%y : memref<4xf32>) outs(%alloc : memref<4xf32>)
  memref.dealloc %alloc : memref<4xf32>
  return
}

// -----

// The output is also read: the copy stays.
// CHECK-LABEL: func.func @output_read(
// CHECK:         memref.alloc
// CHECK:         memref.copy
func.func @output_read(%x: memref<4xf32>, %out: memref<4xf32>) {
  %alloc = memref.alloc() : memref<4xf32>
  linalg.copy ins(%out : memref<4xf32>) outs(%alloc : memref<4xf32>)
  memref.copy %alloc, %out : memref<4xf32> to memref<4xf32>
  memref.dealloc %alloc : memref<4xf32>
  return
}

// -----

// Types differ (the output is a strided view): the copy stays.
// CHECK-LABEL: func.func @other_layout(
// CHECK:         memref.alloc
// CHECK:         memref.copy
func.func @other_layout(%x: memref<4xf32>, %out: memref<4xf32, strided<[2]>>) {
  %alloc = memref.alloc() : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%alloc : memref<4xf32>)
  memref.copy %alloc, %out : memref<4xf32> to memref<4xf32, strided<[2]>>
  memref.dealloc %alloc : memref<4xf32>
  return
}

// -----

// What is copied is a reshape of the buffer (a result returned through a
// trueno.reshape): the buffer becomes the inverse reshape of the output.
// CHECK-LABEL: func.func @copied_through_reshape(
// CHECK-SAME:    %[[X:.*]]: memref<3x4xf32>, %[[OUT:.*]]: memref<2x6xf32>)
// CHECK-NOT:     memref.alloc
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape %[[OUT]] {{\[}}[0, 1]] : memref<2x6xf32> into memref<12xf32>
// CHECK:         %[[V:.*]] = memref.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [3, 4] : memref<12xf32> into memref<3x4xf32>
// CHECK:         linalg.copy ins(%[[X]] : memref<3x4xf32>) outs(%[[V]] : memref<3x4xf32>)
// CHECK-NOT:     memref.copy
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @copied_through_reshape(%x: memref<3x4xf32>, %out: memref<2x6xf32>) {
  %alloc = memref.alloc() : memref<3x4xf32>
  linalg.copy ins(%x : memref<3x4xf32>) outs(%alloc : memref<3x4xf32>)
  %flat = memref.collapse_shape %alloc [[0, 1]] : memref<3x4xf32> into memref<12xf32>
  %r = memref.expand_shape %flat [[0, 1]] output_shape [2, 6] : memref<12xf32> into memref<2x6xf32>
  memref.copy %r, %out : memref<2x6xf32> to memref<2x6xf32>
  memref.dealloc %alloc : memref<3x4xf32>
  return
}

// trueno.gather: a parallel generic over the index whose body extracts the
// input element at the iteration's coordinates, with coordinate `dim`
// replaced by the index element; after bufferization, a load.
// RUN: trueno-opt %s -convert-trueno-to-linalg | FileCheck %s
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=loops | FileCheck %s --check-prefix=LOOPS

// CHECK-LABEL: func.func @rows
// CHECK-SAME:    (%[[X:.*]]: tensor<10x4xf32>, %[[I:.*]]: tensor<3x4xi64>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[I]] : tensor<3x4xi64>)
// CHECK:         ^bb0(%[[V:.*]]: i64, %{{.*}}: f32):
// CHECK:           %[[ROW:.*]] = arith.index_cast %[[V]] : i64 to index
// CHECK:           %[[COL:.*]] = linalg.index 1 : index
// CHECK:           %[[E:.*]] = tensor.extract %[[X]][%[[ROW]], %[[COL]]] : tensor<10x4xf32>
// CHECK:           linalg.yield %[[E]] : f32
// LOOPS-LABEL: func.func @rows
// LOOPS:         memref.load %{{.*}} : memref<3x4xi64>
// LOOPS:         arith.index_cast
// LOOPS:         memref.load %{{.*}} : memref<10x4xf32>
func.func @rows(%x: tensor<10x4xf32>, %i: tensor<3x4xi64>) -> tensor<3x4xf32> {
  %0 = trueno.gather %x, %i dim = 0 : tensor<10x4xf32>, tensor<3x4xi64> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

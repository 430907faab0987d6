// trueno-copy-to-linalg: every memref.copy becomes a linalg.copy, which the
// loops stage turns into a (parallel, vectorized) loop nest instead of a call
// to the C runner's memrefCopy.
// RUN: trueno-opt %s -trueno-copy-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @strided
// CHECK-NOT:     memref.copy
// CHECK:         linalg.copy ins(%arg0 : memref<2x3xi8, strided<[3, -1]>>) outs(%arg1 : memref<2x3xi8>)
func.func @strided(%a: memref<2x3xi8, strided<[3, -1]>>, %b: memref<2x3xi8>) {
  memref.copy %a, %b : memref<2x3xi8, strided<[3, -1]>> to memref<2x3xi8>
  return
}

// baq-opt --help names the dialect's operations and attributes, and its
// passes and pipelines.
// RUN: baq-opt --help | FileCheck %s

// CHECK: Operations of the baq dialect:
// CHECK-SAME: baq.packed_matmul
// CHECK-SAME: baq.packed_constant
// CHECK-SAME: baq.dequantize
// CHECK: Attributes of the baq dialect: #baq.bits, #baq.layout
// CHECK: Discardable attributes on linalg.matmul: baq.hessian, baq.bits
// CHECK: Available Dialects:{{.*}} baq,
// CHECK-DAG: --baq-allocate
// CHECK-DAG: --baq-expand
// CHECK-DAG: --baq-fuse-packed-matmul
// CHECK-DAG: --baq-lower-cpu
// CHECK-DAG: --baq-lower-nvvm
// CHECK-DAG: --baq-quantize-and-lower-cpu
// CHECK-DAG: --baq-quantize-and-lower-nvvm

// A [N, M] weight seen through a unit-dim tensor.expand_shape, tensor.collapse_shape and
// tensor.cast.
// Quantized by --baq-allocate, lowered by --baq-lower-cpu (CPU and GPU kernel
// configurations) and run; the result must match a float64 numpy reference
// computed from the packed codes (Inputs/forms.py).
//
// RUN: %python %S/Inputs/forms.py gen reshape | baq-opt --baq-allocate="target-bits=2.5 progress=false" -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir --check-prefix=ALLOC
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// ALLOC: baq.packed_constant #baq.layout<outputs = 24, inputs = 32, channel_dim = 0,
// ALLOC: tensor.expand_shape
// ALLOC: tensor.collapse_shape
// ALLOC: tensor.cast
// ALLOC: linalg.matmul {baq.bits = #baq.bits<[{{.*}}]>}
// ALLOC-NOT: baq.hessian

// CHECK: forward relative error:
// CHECK-NEXT: PASS

// A weight in a constant memref.global read by get_global + bufferization.to_tensor, with
// transposed-B matmul maps.
// Quantized by --baq-allocate, lowered by --baq-lower-cpu (CPU and GPU kernel
// configurations) and run; the result must match a float64 numpy reference
// computed from the packed codes (Inputs/forms.py).
//
// RUN: %python %S/Inputs/forms.py gen memref-global | baq-opt --baq-allocate="target-bits=2.5 progress=false" -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir --check-prefix=ALLOC
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// ALLOC-NOT: memref.global
// ALLOC: baq.packed_constant #baq.layout<outputs = 24, inputs = 32, channel_dim = 1,
// ALLOC-NOT: bufferization.to_tensor
// ALLOC: linalg.matmul indexing_maps = [#map, #map1, #map2] {baq.bits = #baq.bits<[{{.*}}]>}
// ALLOC-NOT: memref.global
// ALLOC-NOT: baq.hessian

// CHECK: forward relative error:
// CHECK-NEXT: PASS

// A weight in a private immutable ml_program.global read by global_load_const: the load
// becomes packed_constant + dequantize and the unused global is erased.
// Quantized by --baq-allocate, lowered by --baq-lower-cpu (CPU and GPU kernel
// configurations) and run; the result must match a float64 numpy reference
// computed from the packed codes (Inputs/forms.py).
//
// RUN: %python %S/Inputs/forms.py gen ml-program-global | baq-opt --baq-allocate="target-bits=2.5 progress=false" -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir --check-prefix=ALLOC
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %python %S/Inputs/forms.py check < %t.mlir | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// ALLOC-NOT: ml_program.global
// ALLOC: baq.packed_constant #baq.layout<outputs = 24, inputs = 32, channel_dim = 0, {{.*}} payload(dense_resource<fc_weight_payload>
// ALLOC: linalg.matmul {baq.bits = #baq.bits<[{{.*}}]>}
// ALLOC-NOT: ml_program.global
// ALLOC-NOT: baq.hessian

// CHECK: forward relative error:
// CHECK-NEXT: PASS

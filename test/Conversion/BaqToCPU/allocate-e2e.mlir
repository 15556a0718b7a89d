// End to end from --baq-allocate output: synthetic q/k layers (sharing a
// Hessian) are quantized to 2 bits, then each quantized matmul runs through
// the fused kernels and through a reference path (the same packed weight
// dequantized on its own, then a plain linalg.matmul), which must agree.
// f16 layers keep the IR's f16 semantics in the reference (f16 weights and
// f16 accumulation), hence the looser tolerance there.

// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:64x96 --layer k:48x96 --share-hessian q,k --orientation nk --rows 3 \
// RUN:   | baq-opt --baq-allocate="target-bits=2 progress=false" \
// RUN:   | %python %S/Inputs/add_reference.py | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefixes=CHECK,K
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:64x96 --layer k:48x96 --share-hessian q,k --orientation kn --rows 20 \
// RUN:   | baq-opt --baq-allocate="target-bits=3 progress=false" \
// RUN:   | %python %S/Inputs/add_reference.py | baq-opt --baq-lower-cpu="kernel-target=gpu dequant-type=f32" | %run_main | FileCheck %s --check-prefixes=CHECK,K
// Float zeros (zero-type=auto) instead of the default 8-bit zero codes.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:64x96 --layer k:48x96 --share-hessian q,k --orientation nk --rows 3 \
// RUN:   | baq-opt --baq-allocate="target-bits=2 zero-type=auto progress=false" \
// RUN:   | %python %S/Inputs/add_reference.py | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefixes=CHECK,K
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:64x96 --layer k:48x96 --share-hessian q,k --orientation kn --rows 20 \
// RUN:   | baq-opt --baq-allocate="target-bits=3 zero-type=auto progress=false" \
// RUN:   | %python %S/Inputs/add_reference.py | baq-opt --baq-lower-cpu="kernel-target=gpu dequant-type=f32" | %run_main | FileCheck %s --check-prefixes=CHECK,K
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:64x96 --orientation kn --dtype f16 --rows 2 \
// RUN:   | baq-opt --baq-allocate="target-bits=2 progress=false" \
// RUN:   | %python %S/Inputs/add_reference.py --tol 1e-2 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// CHECK: q relative error:
// CHECK-NEXT: PASS
// K: k relative error:
// K-NEXT: PASS

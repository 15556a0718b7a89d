// Values that used to give silently wrong or misleading results from
// --baq-allocate: the paper allocator's overshoot on a tiny target is a
// warning, and a denormal (positive definite) Hessian is named as such rather
// than "not positive definite".
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="progress=false"
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:64x64 -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=0.01 allocator=paper progress=false" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PAPER
// PAPER: warning: allocator=paper reached {{[0-9.]+}} payload bits per weight for target-bits=0.01; allocator=exact meets the budget
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=0.01 progress=false" -o /dev/null 2>&1 | FileCheck %s --check-prefix=EXACT --allow-empty
// EXACT-NOT: warning

func.func @denormal_hessian(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  // expected-error @below {{cannot use 'baq.hessian': Hessian diagonal mean 1.5e-40 is outside [1e-30, 1e+30], where its f32 inverse is representable; multiply the Hessian by a constant (the allocation and GPTQ do not depend on its scale)}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0e-40, 0.0], [0.0, 2.0e-40]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

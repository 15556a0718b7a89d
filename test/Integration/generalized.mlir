// After --linalg-generalize-named-ops every linalg op is a linalg.generic:
// the matmuls lose nothing the pass needs (contractions are matched by their
// maps and body), the transpose of fc1's weight is a yield-only generic that
// is seen through, and Hessians attached by name after the rewrite reach both
// layers. The README's MLP gives the same error as without generalization.
//
// RUN: rm -rf %t && mkdir -p %t && cd %t && env PYTHONPATH=%baq_src_root/python %python %baq_src_root/examples/mlp/mlp.py
// RUN: baq-opt %t/mlp.mlir --linalg-generalize-named-ops --baq-attach-hessians=file=%t/hessians.safetensors --baq-allocate="target-bits=3 progress=false" -o %t/q.mlir
// RUN: FileCheck %s --input-file=%t/q.mlir --check-prefix=ALLOC
// RUN: baq-opt %t/q.mlir --baq-lower-cpu | %run_main | FileCheck %s

// ALLOC-NOT: linalg.matmul
// ALLOC-DAG: baq.packed_constant #baq.layout<outputs = 32, inputs = 16, channel_dim = 1,
// ALLOC-DAG: baq.packed_constant #baq.layout<outputs = 8, inputs = 32, channel_dim = 1,
// ALLOC: linalg.generic {{.*}} ins(%{{.*}} : tensor<32x16xf32>) outs(%{{.*}} : tensor<16x32xf32>)
// ALLOC: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x32xf32>) {{.*}} attrs =  {baq.bits = #baq.bits<
// ALLOC: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x32xf32>, tensor<8x32xf32>) {{.*}} attrs =  {baq.bits = #baq.bits<
// ALLOC-NOT: linalg.matmul

// CHECK: relative error vs fp32: 0.1745

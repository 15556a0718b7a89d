// act-order reads diag(H) of the undamped Hessian, which the pass otherwise
// keeps only for reports: without report= it must still be there (this
// crashed), and the result must equal the one with a report.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer a:24x48 --layer b:16x48 --share-hessian a,b --seed 3 -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.5 budget=total budget-scope=layer act-order=true progress=false" -o %t.1.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.5 budget=total budget-scope=layer act-order=true progress=false report=%t.json" -o %t.2.mlir
// RUN: cmp %t.1.mlir %t.2.mlir
// RUN: FileCheck %s --input-file=%t.1.mlir
// CHECK-COUNT-2: baq.packed_constant

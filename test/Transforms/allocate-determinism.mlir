// Same input and options give byte-identical output; a second run changes
// nothing (already quantized matmuls are skipped).
//
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer a:24x48 --layer b:48x24 --seed 5 -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.5 progress=false" -o %t.1.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.5 progress=false" -o %t.2.mlir
// RUN: cmp %t.1.mlir %t.2.mlir
// RUN: baq-opt %t.1.mlir --baq-allocate="target-bits=2.5 progress=false" -o %t.3.mlir
// RUN: cmp %t.1.mlir %t.3.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.5 progress=false" --emit-bytecode -o %t.1.mlirbc
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=2.5 progress=false" --emit-bytecode -o %t.2.mlirbc
// RUN: cmp %t.1.mlirbc %t.2.mlirbc
// RUN: baq-opt %t.1.mlirbc -o %t.4.mlir
// RUN: cmp %t.1.mlir %t.4.mlir
//
// The output does not depend on OpenBLAS's thread count (its threaded
// potrf/potri round differently; at 512 wide they changed codes).
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer a:512x512 --layer b:256x1024 -o %t.big.mlir
// RUN: env OPENBLAS_NUM_THREADS=1 baq-opt %t.big.mlir --baq-allocate="progress=false" -o %t.big.1.mlir
// RUN: env OPENBLAS_NUM_THREADS=2 baq-opt %t.big.mlir --baq-allocate="progress=false" -o %t.big.2.mlir
// RUN: env OPENBLAS_NUM_THREADS=4 baq-opt %t.big.mlir --baq-allocate="progress=false" -o %t.big.4.mlir
// RUN: cmp %t.big.1.mlir %t.big.2.mlir
// RUN: cmp %t.big.1.mlir %t.big.4.mlir

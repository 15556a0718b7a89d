// The exhaustive cases of shared-decode-exec.mlir (same checks): every
// bitwidth 1..8 at two shapes, every 1-bit row tail, more mixes and the
// specialised kernel on the same cases. ~30 runs of ~10 s each, so opt-in:
// `lit --param long=1` or BAQ_LONG_TESTS=1.
// REQUIRES: long-tests

// RUN: %gen_case --bits 2 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 39 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 47 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 49 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 57 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,2,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 16 --seed 7 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 5 --n 300 --rows 1 --seed 8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --group-size 48 --orientation kn | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --grid-type f32 --zero-type i8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --grid-edges --group-size 64 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-lower-cpu="kernels=specialized" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=specialized" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

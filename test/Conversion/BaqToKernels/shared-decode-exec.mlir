// The shared decode kernel (kernels=shared) executed on the
// CPU against numpy (the specialised one, kernels=specialized, on the same cases in the long file):
// every bitwidth 1..8, row tails r = L mod 32 of many lengths
// (including r = 0), segments and groups starting mid-word, 0-bit columns,
// f16/f32 scales, i8 zero codes, f16 activations, 1/3/16 activation rows,
// M below and not a multiple of the row vector, unpack=magic.
//
// The CI set below covers every code path (uniform 1/3/5/8 bits: tails 6, 18,
// 30 and 0; 1-bit tails 1 and 31; segments starting mid-word; groups; f16/f32
// grids; i8 zeros; f16 activations; magic unpack) in 13 runs; the exhaustive
// set (every bitwidth at two shapes, every 1-bit tail, more mixes, the
// specialised kernel on the same cases) is shared-decode-exec-long.mlir
// (`lit --param long=1`): each run JIT-compiles a whole kernel (~10 s).

// RUN: %gen_case --bits 1 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 33 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 63 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,3,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7,7,7,3,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6 --m 37 --n 37 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation kn --dtype f16 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 37 --n 300 --rows 2 --group-size 24 --zero-type i8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 5 --grid-type f32 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared unpack=magic accumulators=3 rows-per-thread=8" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

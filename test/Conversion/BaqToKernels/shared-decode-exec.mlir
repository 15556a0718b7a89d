// The shared decode kernel (kernels=shared) executed on the
// CPU against numpy, next to the specialised one (kernels=specialized) on the
// same cases: every bitwidth 1..8, row tails r = L mod 32 of many lengths
// (including r = 0), segments and groups starting mid-word, 0-bit columns,
// f16/f32 scales, i8 zero codes, f16 activations, 1/3/16 activation rows,
// M below and not a multiple of the row vector, unpack=magic.

// RUN: %gen_case --bits 1 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 21 --n 64 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 33 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 39 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 47 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 49 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 57 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 63 --rows 1 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,2,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,3,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7,7,7,3,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6 --m 37 --n 37 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s

// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation kn --dtype f16 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 16 --seed 7 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 5 --n 300 --rows 1 --seed 8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --group-size 48 --orientation kn | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 37 --n 300 --rows 2 --group-size 24 --zero-type i8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --grid-type f32 --zero-type i8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 5 --grid-type f32 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --grid-edges --group-size 64 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 | baq-opt --baq-lower-cpu="kernels=shared unpack=magic accumulators=3 rows-per-thread=8" | %run_main | FileCheck %s

// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-lower-cpu="kernels=specialized" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu="kernels=specialized" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

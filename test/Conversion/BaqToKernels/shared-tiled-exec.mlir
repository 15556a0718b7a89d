// The shared tiled (prefill) kernel (kernels=shared, more activation rows
// than decode-max-rows) executed on the CPU against numpy: its panel is
// dequantized piece by piece from the run-time tables (runtime bit offsets
// and bitwidths, realigned words, the row tail as virtual word F).
// Covered: every bitwidth 1..8 with segments starting mid-word and groups
// cutting them (run 2), row tails (37 x 70 at 3 bits: r = 18; 1 bit, 63
// columns: r = 31), BAQ-like mixes with 0-bit columns and groups, M not a
// multiple of V = 16, activation rows not a multiple of the row tile,
// i8 zeros, f16 activations, the kn orientation, unpack=magic.

// RUN: %gen_case --bits mixed --avg 2.5 --m 50 --n 333 --rows 37 | baq-opt --baq-lower-cpu="kernels=shared tile-rows=8" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1,2,3,4,5,6,7,8,0,5,3 --m 33 --n 11 --rows 17 --group-size 4 | baq-opt --baq-lower-cpu="kernels=shared tile-rows=16" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 20 --orientation kn | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 19 --n 63 --rows 18 --dtype f16 | baq-opt --baq-lower-cpu="kernels=shared unpack=magic" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 21 --group-size 24 --zero-type i8 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 32 --n 100 --rows 32 --group-size 32 --grid-type f32 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

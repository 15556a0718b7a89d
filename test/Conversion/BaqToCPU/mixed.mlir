// Mixed-bitwidth layers (all of 0..8 in one weight, or a ~2-bit BAQ-like
// mix), both weight orientations, f16 activations, scale groups that cut
// segments mid-chunk, and K split into slices whose chunk ranges differ.

// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation nk | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --orientation kn | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 8 --seed 4 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 48 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=5" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 5 --grid-type f32 | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --dtype f16 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --dtype f16 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 16 --seed 7 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 | baq-opt --baq-lower-cpu="unpack=magic accumulators=3 rows-per-thread=8" | %run_main | FileCheck %s

// Degenerate grids: zero scale (step 0, zero point 0) and minima outside
// [-scale, 0] (zero point clamped to 0 or 2^b - 1).
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --grid-edges --group-size 64 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --grid-edges | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 20 --grid-edges --grid-type f32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits mixed --m 45 --n 300 --grid-edges --group-size 32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

// The dequantize + tiled matmul kernel (more activation rows than
// decode-max-rows, or decode-max-rows=0). The GPU configuration dequantizes
// to f16, so its reference rounds the weights to f16 as well; with
// dequant-type=f32 it is compared with the exact weights.

// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 20 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 21 --orientation kn --group-size 32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 21 --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 19 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu dequant-type=f32" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 --group-size 48 | baq-opt --baq-lower-cpu="decode-max-rows=0" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --dtype f16 --orientation kn | baq-opt --baq-lower-cpu="decode-max-rows=0 kernel-target=gpu dequant-type=f32" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 17 --n 1 --rows 18 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// The CPU's panel kernel: M not a multiple of V = 16 (16-lane items + 1-lane
// items), rows not a multiple of the row tile, every bitwidth, groups, i8
// zeros, f16 activations.
// RUN: %gen_case --bits mixed --avg 2.5 --m 50 --n 333 --rows 37 | baq-opt --baq-lower-cpu="tile-rows=8" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1,2,3,4,5,6,7,8,0,5,3 --m 33 --n 11 --rows 17 --group-size 4 | baq-opt --baq-lower-cpu="tile-rows=16" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 32 --n 100 --rows 32 --group-size 32 --zero-type i8 --orientation kn | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 16 --n 64 --rows 19 --dtype f16 | baq-opt --baq-lower-cpu="tile-rows=8" | %run_main | FileCheck %s
// RUN: %gen_case --bits 0 --m 17 --n 40 --rows 18 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

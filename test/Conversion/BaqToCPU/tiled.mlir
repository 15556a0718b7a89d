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
// RUN: %gen_case --bits 0 --m 17 --n 40 --rows 18 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

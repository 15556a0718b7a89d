// A baq.dequantize that feeds no matmul is lowered by the dequantize nests
// plus a scatter into the op's layout; exact, so the error is 0 and the
// f32 cases run with --tol 0 (which must stay 0, not fall back to a default).

// RUN: %gen_case --what dequantize --bits mixed --m 45 --n 300 --tol 0 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits mixed --m 45 --n 300 --orientation kn --group-size 64 --tol 0 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits mixed --m 20 --n 50 --dtype f16 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits 0 --m 5 --n 7 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// RUN: %gen_case --what dequantize --bits 2 --m 4 --n 32 --tol 0 | FileCheck %s --check-prefix=TOL

// TOL: %chk_tol = arith.constant 0.000000000e+00 : f32

// CHECK: relative error: 0
// CHECK-NEXT: PASS

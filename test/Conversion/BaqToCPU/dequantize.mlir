// A baq.dequantize that feeds no matmul is lowered by the dequantize nests
// plus a scatter into the op's layout; exact, so the error is 0.

// RUN: %gen_case --what dequantize --bits mixed --m 45 --n 300 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits mixed --m 45 --n 300 --orientation kn --group-size 64 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits mixed --m 20 --n 50 --dtype f16 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --what dequantize --bits 0 --m 5 --n 7 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// CHECK: relative error: 0
// CHECK-NEXT: PASS

// Odd shapes: K = 1, a single output row, fewer outputs than a row vector,
// N = 33 (one code past a chunk), and the largest decode row count.

// RUN: %gen_case --bits 4 --m 45 --n 1 --rows 1 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 45 --n 1 --rows 3 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 45 --n 1 --rows 20 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 1 --n 77 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 3 --n 77 --rows 2 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 33 --n 33 --rows 1 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 6,6,6,0,0,0,1,2 --m 33 --n 8 --rows 4 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 70 --n 130 --rows 16 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

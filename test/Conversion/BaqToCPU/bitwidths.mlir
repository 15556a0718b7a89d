// Every bitwidth 0..8 on its own, through the fused decode kernel, in the CPU
// configuration (vector<16> rows, 4 accumulators) and in the GPU one (4 rows
// per thread, 2^23 unpacking, K split over slices) executed on the CPU.
// M = 37 is no multiple of the row vector; N = 70 channels leave a partial
// 32-code chunk and, for 3/5/6/7 bits, codes straddling words.

// RUN: %gen_case --bits 0 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s

// RUN: %gen_case --bits 0 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=2" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

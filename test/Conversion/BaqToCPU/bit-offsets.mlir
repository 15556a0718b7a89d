// Segments at unaligned bit offsets (FORMAT.md §3): an 8-bit and a (b+1)-bit
// channel come first, so the b-bit segment starts at stream bit 9 + b, and
// every row's stream (L = 9 + 69 b bits) ends in a tail shared across rows
// whose codes start at the dynamic bit row * (L mod 32) and may straddle
// from a row's last full word into its tail. Both kernel kinds (decode,
// dequantize + tiled matmul), CPU and GPU configurations (K split), M = 37
// rows (no multiple of the row vector).

// RUN: %gen_case --bits 8,2,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,2,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,2,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,2,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,3,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,3,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,3,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,3,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,4,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,4,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,4,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,4,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,5,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,5,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,5,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,5,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,6,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,7,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,7,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,7,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,7,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// RUN: %gen_case --bits 8,8,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7 --m 37 --n 70 --rows 2 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,8,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7 --m 37 --n 70 --rows 1 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,8,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7 --m 37 --n 70 --rows 20 --group-size 24 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits 8,8,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7 --m 37 --n 70 --rows 20 --orientation kn --ref-weight-dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

// The unpack=half2 decode kernel (GPU configuration) executed on the CPU and
// compared with the float64 reference, within the f16 rounding bound of
// gen_case.py --half2-bound 32 (docs/KERNELS.md §4: activations rounded to
// f16, at most 32 products per f16 sum with the default unroll of 2).
// Every bitwidth 1..8 alone, with N = 300 (9 repacked chunks plus a partial
// one on the exact path) and M = 37 (V = 2 and 1-row nests); a BAQ-like mix,
// scale groups cutting chunks, the other orientation with a K split, f16
// activations and 1 and 3 activation rows. The f16 arithmetic of the CPU
// (LLVM's f16 lowering) is the IEEE one the GPU's f16x2 instructions
// implement; the unpacking bit operations are the same arith ops the GPU
// lowering turns into lop3.b32 (baq-fuse-lop3, fuse-lop3.mlir).

// RUN: %gen_case --bits 1 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 300 --rows 2 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s

// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 37 --n 400 --rows 1 --group-size 48 --orientation kn --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --avg 3 --m 40 --n 256 --rows 3 --dtype f16 --half2-bound 32 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2" | %run_main | FileCheck %s

// Tight check: one bitwidth, no groups, k-split=1 unroll=1, against a
// reference that emulates the kernel's f16 roundings (gen_case.py
// --half2-emulate: x' = f16(x 2^-e), 16 f16 FMAs per lane and chunk, each
// rounded once), within the f32 tolerance 1e-5: any wrong code, position or
// scale fails (a +1 in the low half of the f16 magic gives 6e-2).

// RUN: %gen_case --bits 1 --m 37 --n 300 --rows 2 --half2-emulate | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 37 --n 300 --rows 2 --half2-emulate | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 300 --rows 2 --half2-emulate | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 300 --rows 1 --half2-emulate --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 300 --rows 2 --half2-emulate | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 300 --rows 2 --half2-emulate --dtype f16 | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 300 --rows 2 --half2-emulate | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 300 --rows 2 --half2-emulate | baq-opt --baq-lower-cpu="kernel-target=gpu unpack=half2 k-split=1 unroll=1" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

// 8-bit zero codes (zero_type = i8, FORMAT.md §4: z = -((s * zq) / 255)) in
// every decoder of the kernels: the fused decode and the dequantize + tiled
// matmul kinds on the CPU, the GPU configuration run on the CPU, and a lone
// baq.dequantize that must be exact. gen_case.py computes the reference from
// the codes with numpy; codes 0 and 255 and zero scales are included.

// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 3 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 3 --orientation kn --group-size 48 | baq-opt --baq-lower-cpu="unpack=magic accumulators=3 rows-per-thread=8" | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 20 --grid-edges --group-size 32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 19 --orientation kn --grid-type f32 | baq-opt --baq-lower-cpu="kernel-target=gpu dequant-type=f32" | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 3 --dtype f16 --group-size 64 | baq-opt --baq-lower-cpu="kernel-target=gpu" | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --bits mixed --m 45 --n 300 --rows 19 --orientation kn --group-size 32 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 tile-rows=3 dequant-type=f32 reverse=true" | %run_main | FileCheck %s
// RUN: %gen_case --zero-type i8 --what dequantize --bits mixed --m 45 --n 300 --grid-edges --group-size 32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=EXACT
// RUN: %gen_case --zero-type i8 --what dequantize --bits mixed --m 45 --n 300 --orientation kn --group-size 64 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s --check-prefix=EXACT

// CHECK: relative error:
// CHECK-NEXT: PASS
// EXACT: relative error: 0
// EXACT-NEXT: PASS

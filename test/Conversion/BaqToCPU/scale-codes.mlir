// 8-bit scale codes (scale_type = i8, FORMAT.md §4: s = (16 + c mod 16) *
// 2^(floor(c / 16) - 16), 0 for c = 0) in every decoder of the kernels: the
// fused decode (specialised and shared) and the dequantize + tiled matmul
// kinds on the CPU, the GPU configurations run on the CPU, and a lone
// baq.dequantize that must be exact. gen_case.py decodes the codes with numpy;
// codes 0, 1 and 255 are included, with 8-bit and float zeros.

// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 45 --n 300 --rows 3 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --bits mixed --m 45 --n 300 --rows 3 --orientation kn --group-size 48 | baq-opt --baq-lower-cpu="unpack=magic accumulators=3 rows-per-thread=8" | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 45 --n 300 --rows 20 --grid-edges --group-size 32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 45 --n 300 --rows 2 --group-size 32 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 45 --n 300 --rows 20 | baq-opt --baq-lower-cpu="kernels=shared" | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 45 --n 300 --rows 19 --orientation kn --grid-type f32 | baq-opt --baq-lower-cpu="kernel-target=gpu dequant-type=f32" | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --scale-type i8 --zero-type i8 --what dequantize --bits mixed --m 45 --n 300 --grid-edges --group-size 32 | baq-opt --baq-lower-cpu | %run_main | FileCheck %s --check-prefix=EXACT
// RUN: %gen_case --scale-type i8 --what dequantize --bits mixed --m 45 --n 300 --orientation kn --group-size 64 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s --check-prefix=EXACT

// CHECK: relative error:
// CHECK-NEXT: PASS
// EXACT: relative error: 0
// EXACT-NEXT: PASS

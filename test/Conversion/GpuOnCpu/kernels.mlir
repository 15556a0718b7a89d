// Mixed bitwidths, scale groups, f16 activations, both orientations and both
// kernel kinds (fused decode, dequantize + tiled matmul) and a lone
// baq.dequantize, through baq-lower-nvvm's kernels serialized on the CPU
// (see bitwidths.mlir). Small blocks give several blocks per nest with a
// partial last one; `reverse` runs blocks and threads last to first.

// Decode kind: groups cutting segments, K split over grid y.
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 64 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --group-size 48 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 k-split=5 reverse=true" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 5 --grid-type f32 --grid-edges | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=16" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --dtype f16 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 8 --seed 4 | baq-opt --baq-test-lower-gpu-on-cpu | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 2 | baq-opt --baq-test-lower-gpu-on-cpu="rows-per-thread=8 accumulators=3 unroll=2 threads-per-block=2 unpack=convert" | %run_main | FileCheck %s

// Tiled kind (more rows than decode-max-rows, or decode-max-rows=0).
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 21 --ref-weight-dtype f16 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 19 --orientation kn --group-size 32 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 tile-rows=3 dequant-type=f32 reverse=true" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 3 --dtype f16 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="decode-max-rows=0 dequant-type=f32 threads-per-block=4" | %run_main | FileCheck %s

// Odd shapes: K = 1, one output, N one past a 32-code chunk.
// RUN: %gen_case --bits 3 --m 45 --n 1 --rows 3 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s
// RUN: %gen_case --bits mixed --m 1 --n 77 --rows 2 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 33 --n 33 --rows 1 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 reverse=true" | %run_main | FileCheck %s

// A lone dequantize (exact).
// RUN: %gen_case --what dequantize --bits mixed --m 45 --n 300 --orientation kn --group-size 64 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4" | %run_main | FileCheck %s --check-prefix=EXACT
// RUN: %gen_case --what dequantize --bits mixed --m 20 --n 50 --dtype f16 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 reverse=true" | %run_main | FileCheck %s --check-prefix=EXACT

// CHECK: relative error:
// CHECK-NEXT: PASS
// EXACT: relative error: 0
// EXACT-NEXT: PASS

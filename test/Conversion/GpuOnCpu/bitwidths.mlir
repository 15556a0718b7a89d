// The NVVM kernels' own IR (baq-lower-nvvm up to outlined gpu.funcs) run on
// the CPU with every launch serialized over its blocks and threads
// (baq-test-lower-gpu-on-cpu, test/lib), against the numpy reference: the
// grid/block mapping, thread guards and index arithmetic the GPU executes.
// Every bitwidth, with 4 or 8 threads per block so that every nest has
// several blocks, a partial last block (M = 37, N = 70) and K split in 2 or 3
// slices (grid y), and the activation sums over grid y and z.

// RUN: %gen_case --bits 0 --m 37 --n 70 --rows 2 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 1 --m 37 --n 70 --rows 2 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 2 --m 37 --n 70 --rows 2 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 k-split=2 reverse=true" | %run_main | FileCheck %s
// RUN: %gen_case --bits 3 --m 37 --n 70 --rows 3 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 4 --m 37 --n 70 --rows 1 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=3" | %run_main | FileCheck %s
// RUN: %gen_case --bits 5 --m 37 --n 70 --rows 2 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 k-split=2 reverse=true" | %run_main | FileCheck %s
// RUN: %gen_case --bits 6 --m 37 --n 70 --rows 2 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=2" | %run_main | FileCheck %s
// RUN: %gen_case --bits 7 --m 37 --n 70 --rows 2 --orientation kn | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=4 k-split=3 reverse=true" | %run_main | FileCheck %s
// RUN: %gen_case --bits 8 --m 37 --n 70 --rows 3 | baq-opt --baq-test-lower-gpu-on-cpu="threads-per-block=8 k-split=2" | %run_main | FileCheck %s

// CHECK: relative error:
// CHECK-NEXT: PASS

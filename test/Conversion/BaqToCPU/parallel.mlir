// The CPU kernels on OpenMP threads: with parallel-min-work=0 every kernel
// nest becomes one scf.parallel split by libomp, executed with 1, 2 and 3
// threads (more threads than iterations in some nests, uneven splits in
// others) against the same references as the sequential runs.

// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu="parallel-min-work=0" > %t.decode.mlir
// RUN: env OMP_NUM_THREADS=1 %run_main < %t.decode.mlir | FileCheck %s --check-prefix=EXEC
// RUN: env OMP_NUM_THREADS=2 %run_main < %t.decode.mlir | FileCheck %s --check-prefix=EXEC
// RUN: env OMP_NUM_THREADS=3 %run_main < %t.decode.mlir | FileCheck %s --check-prefix=EXEC
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 20 --group-size 64 | baq-opt --baq-lower-cpu="parallel-min-work=0" | env OMP_NUM_THREADS=2 %run_main | FileCheck %s --check-prefix=EXEC
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 5 --orientation kn | baq-opt --baq-lower-cpu="kernel-target=gpu k-split=3 parallel-min-work=0" | env OMP_NUM_THREADS=2 %run_main | FileCheck %s --check-prefix=EXEC
// RUN: %gen_case --bits mixed --m 45 --n 300 --rows 17 | baq-opt --baq-lower-cpu="kernel-target=gpu dequant-type=f32 parallel-min-work=0" | env OMP_NUM_THREADS=2 %run_main | FileCheck %s --check-prefix=EXEC
// RUN: %gen_case --bits 3 --m 33 --n 65 --rows 2 --dtype f16 | baq-opt --baq-lower-cpu="unpack=magic parallel-min-work=0" | env OMP_NUM_THREADS=2 %run_main | FileCheck %s --check-prefix=EXEC

// EXEC-LABEL: relative error:
// EXEC-NEXT: PASS

// Which nests go parallel: all with min-work=0, none of this small layer's
// with the default threshold or with parallel=false.
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu="parallel-min-work=0" | FileCheck %s --check-prefix=ALL
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu | FileCheck %s --check-prefix=NONE
// RUN: %gen_case --bits mixed --avg 2 --m 64 --n 512 --rows 1 --seed 3 | baq-opt --baq-lower-cpu="parallel=false parallel-min-work=0" | FileCheck %s --check-prefix=NONE

// ALL-COUNT-4: omp.parallel
// ALL-NOT: omp.parallel
// NONE-NOT: omp.

// baq-run as a user meets it: --help lists baq-run's own options, not the ~2,700 of LLVM
// (those stay usable and are listed by --help-hidden); --progress prints each compile
// step and its time; --threads N sets the OpenMP team of the compiled kernels (libomp
// reports N) without --lower-options, and changes no output.
//
// RUN: baq-run --help | FileCheck %s --check-prefix=HELP --implicit-check-not=print-after-all --implicit-check-not=x86-
// RUN: baq-run --help | wc -l | FileCheck %s --check-prefix=LINES
// RUN: baq-run --help-hidden | FileCheck %s --check-prefix=HIDDEN
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 0 --synthetic-tokenizer %t.tok -q -o %t.h.mlir
// RUN: baq-opt %t.h.mlir --baq-allocate="target-bits=3 progress=false" -o %t.mlir 2> /dev/null
// Kernels this small stay sequential unless parallel-min-work=0.
// RUN: baq-run %t.mlir --tokenizer %t.tok --steps 8 --lower-options=parallel-min-work=0 --threads 1 --timing --progress > %t.1.txt 2> %t.1.err
// RUN: baq-run %t.mlir --tokenizer %t.tok --steps 8 --lower-options=parallel-min-work=0 --threads 2 --timing > %t.2.txt 2> %t.2.err
// RUN: diff %t.1.txt %t.2.txt
// RUN: FileCheck %s --check-prefix=PROGRESS --input-file=%t.1.err
// RUN: FileCheck %s --check-prefix=TWO --input-file=%t.2.err
// Progress is off by default when stderr is not a terminal.
// RUN: FileCheck %s --check-prefix=QUIET --input-file=%t.2.err
// RUN: not baq-run %t.mlir --tokenizer %t.tok --threads 0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not baq-run %t.mlir --tokenizer %t.tok --threads 2 --omp-threads 1,2 2>&1 | FileCheck %s --check-prefix=BOTH

// HELP: --help-hidden also lists the LLVM and MLIR options
// HELP: USAGE: baq-run [options] <model.mlir>
// HELP: baq-run options:
// HELP-DAG: --device=<value>
// HELP-DAG: =cpu
// HELP-DAG: =cuda
// HELP-DAG: --threads=<uint>
// HELP-DAG: --progress
// HELP-DAG: --tokenizer=<string>
// HELP-DAG: --lower-options=<string>
// HELP-DAG: --perplexity=<string>
// HELP-DAG: --cuda-runtime=<string>

// A screen or two, not thousands of lines.
// LINES: {{^[1-9][0-9]?$}}

// HIDDEN: --print-after-all
// HIDDEN: --threads=<uint>

// PROGRESS: baq-run: lowering with --baq-lower-cpu... {{[0-9]+\.[0-9]}} s
// PROGRESS-NEXT: baq-run: JIT compiling (LLVM -O3)... {{[0-9]+\.[0-9]}} s
// PROGRESS-NEXT: baq-run: lower {{.*}}; threads 1; prefill {{.*}}; decode {{.*}}; parameters {{[0-9.]+}} MB

// TWO: baq-run: lower {{.*}}; threads 2; prefill
// QUIET-NOT: lowering with

// ZERO: baq-run: error: --threads takes a thread count of at least 1
// BOTH: baq-run: error: --threads and --omp-threads both set the thread count: use one

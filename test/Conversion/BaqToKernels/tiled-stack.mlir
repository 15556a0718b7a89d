// The CPU tiled kernels write each chunk's 32 x V weights as one 2-D vector
// transfer. --baq-lower-cpu lowers those transfers fully unrolled: a loop
// lowering would put an alloca per chunk inside the item loop, whose stack
// never shrinks until the function returns (a 2816 x 1024 weight with 32
// rows overflowed the 8 MiB stack). Both kernel kinds.

// RUN: %gen_case --bits mixed --m 33 --n 100 --rows 20 | baq-opt --baq-lower-cpu | FileCheck %s
// RUN: %gen_case --bits mixed --m 33 --n 100 --rows 20 | baq-opt --baq-lower-cpu="kernels=shared" | FileCheck %s

// The shared kernel's function precedes @kernel.
// CHECK-NOT: llvm.alloca {{.*}}vector
// CHECK-LABEL: llvm.func @kernel(
// CHECK-NOT: llvm.alloca {{.*}}vector
// CHECK-LABEL: llvm.func @main(

// REQUIRES: ptxas
// The cubin reader of ptxas_check.py (used by bench/kernels/ptx_analysis.py
// to count SASS): a hand-written PTX loop whose body is 4 FFMA, the counter
// increment, its compare and the backward branch is found as one innermost
// loop of 7 instructions, on both branch encodings (sm_80 and sm_90).

// RUN: %check_ptx --ptxas %ptxas --arch sm_80 --sass --ptx %S/Inputs/sass_loop.ptx | FileCheck %s
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 --sass --ptx %S/Inputs/sass_loop.ptx | FileCheck %s

// CHECK: sass_loop.ptx: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0 loop4: sass={{[0-9]+}} loops=[7] mix=[bra=1 ffma=4 iadd=1 isetp=1]

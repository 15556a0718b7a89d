// REQUIRES: ptxas
// 8-bit scale codes (scale_type = i8) in the NVVM kernels: the PTX of both
// kernel kinds is accepted by ptxas and spills nothing. Their arithmetic is
// executed on the CPU in Conversion/BaqToCPU/scale-codes.mlir.

// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --avg 2 --m 256 --n 512 --rows 1 --group-size 128 | baq-opt --baq-lower-nvvm="chip=sm_90" | baq-opt --gpu-module-to-binary="format=isa" > %t.d90.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 %t.d90.mlir | FileCheck %s --check-prefixes=DECODE,NOSPILL
// RUN: %gen_case --scale-type i8 --zero-type i8 --bits mixed --m 256 --n 512 --rows 32 --dtype f16 | baq-opt --baq-lower-nvvm="chip=sm_80" | baq-opt --gpu-module-to-binary="format=isa" > %t.p80.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_80 %t.p80.mlir | FileCheck %s --check-prefixes=PREFILL,NOSPILL

// DECODE-DAG: kernel_baq_decode: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// DECODE-DAG: kernel_baq_finalize: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0

// PREFILL-DAG: kernel_baq_dequantize: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// PREFILL-DAG: kernel_baq_tiled_matmul: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0

// NOSPILL-NOT: error
// NOSPILL-NOT: {{spill_(stores|loads)=[1-9]}}

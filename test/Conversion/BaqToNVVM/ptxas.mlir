// REQUIRES: ptxas
// The PTX of both kernel kinds, for sm_80 and sm_90, is accepted by ptxas
// and spills nothing: a decode layer (1 and 4 activation rows, ~2-bit mix,
// and every bitwidth 0..8 with scale groups) and a prefill layer (32 rows);
// the unpack=half2 decode kernel (inline lop3.b32, f16x2 arithmetic) for
// sm_80 and sm_90, with a ~2-bit mix and with every bitwidth and groups.

// RUN: %gen_case --bits mixed --avg 2 --m 256 --n 512 --rows 1 | baq-opt --baq-lower-nvvm="chip=sm_80" | baq-opt --gpu-module-to-binary="format=isa" > %t.d80.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_80 %t.d80.mlir | FileCheck %s --check-prefixes=DECODE,NOSPILL
// RUN: %gen_case --bits mixed --avg 2 --m 256 --n 512 --rows 1 | baq-opt --baq-lower-nvvm="chip=sm_90" | baq-opt --gpu-module-to-binary="format=isa" > %t.d90.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 %t.d90.mlir | FileCheck %s --check-prefixes=DECODE,NOSPILL
// RUN: %gen_case --bits mixed --m 256 --n 512 --rows 4 --group-size 128 | baq-opt --baq-lower-nvvm="chip=sm_90" | baq-opt --gpu-module-to-binary="format=isa" > %t.g90.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 %t.g90.mlir | FileCheck %s --check-prefixes=DECODE,NOSPILL
// RUN: %gen_case --bits mixed --avg 2 --m 256 --n 512 --rows 1 | baq-opt --baq-lower-nvvm="chip=sm_80 unpack=half2" | baq-opt --gpu-module-to-binary="format=isa" > %t.h80.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_80 %t.h80.mlir | FileCheck %s --check-prefixes=DECODE,HALF2,NOSPILL
// RUN: %gen_case --bits mixed --avg 2 --m 256 --n 512 --rows 1 | baq-opt --baq-lower-nvvm="chip=sm_90 unpack=half2" | baq-opt --gpu-module-to-binary="format=isa" > %t.h90.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 %t.h90.mlir | FileCheck %s --check-prefixes=DECODE,HALF2,NOSPILL
// RUN: %gen_case --bits mixed --m 256 --n 512 --rows 2 --group-size 96 | baq-opt --baq-lower-nvvm="chip=sm_90 unpack=half2" | baq-opt --gpu-module-to-binary="format=isa" > %t.hg90.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 %t.hg90.mlir | FileCheck %s --check-prefixes=DECODE,HALF2,NOSPILL
// RUN: %gen_case --bits mixed --m 256 --n 512 --rows 32 --dtype f16 | baq-opt --baq-lower-nvvm="chip=sm_80" | baq-opt --gpu-module-to-binary="format=isa" > %t.p80.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_80 %t.p80.mlir | FileCheck %s --check-prefixes=PREFILL,NOSPILL
// RUN: %gen_case --bits mixed --m 256 --n 512 --rows 32 --dtype f16 | baq-opt --baq-lower-nvvm="chip=sm_90" | baq-opt --gpu-module-to-binary="format=isa" > %t.p90.mlir
// RUN: %check_ptx --ptxas %ptxas --arch sm_90 %t.p90.mlir | FileCheck %s --check-prefixes=PREFILL,NOSPILL

// DECODE-DAG: kernel_baq_gather: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// DECODE-DAG: kernel_baq_activation_sums: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// DECODE-DAG: kernel_baq_decode: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// DECODE-DAG: kernel_baq_finalize: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0

// HALF2-DAG: kernel_baq_gather_half2: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0

// PREFILL-DAG: kernel_baq_gather: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// PREFILL-DAG: kernel_baq_dequantize: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0
// PREFILL-DAG: kernel_baq_tiled_matmul: ok registers={{[0-9]+}} spill_stores=0 spill_loads=0

// NOSPILL-NOT: error
// NOSPILL-NOT: {{spill_(stores|loads)=[1-9]}}

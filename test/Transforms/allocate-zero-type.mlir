// Zeros are 8-bit codes by default (zero-type=u8, docs/FORMAT.md §4): i8
// zeros with every scale type, group size, allocator and quantizer, the same
// IR as an explicit zero-type=u8, and counted as 8 bits by budget=total.
// zero-type=auto still stores them in the scales' float type. The scales are
// f16 here unless named (8-bit scale codes: Reliability/scale-codes.mlir).
//
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:16x40 --layer k:8x40 --share-hessian q,k -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 progress=false" -o %t.default.mlir
// RUN: FileCheck %s --check-prefix=U8 < %t.default.mlir
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 zero-type=u8 progress=false" | cmp - %t.default.mlir
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 zero-type=auto progress=false" | FileCheck %s --check-prefix=AUTO
// U8-LABEL: func.func @q
// U8: scale_type = f16, zero_type = i8, payload_bytes = {{[0-9]+}}, scale_bytes = 32, zero_bytes = 16>
// U8-SAME: zeros(dense_resource<q_zeros> : tensor<16x1xi8>)
// U8-LABEL: func.func @k
// U8: zero_type = i8, {{.*}} zeros(dense_resource<k_zeros> : tensor<8x1xi8>)
// AUTO-LABEL: func.func @q
// AUTO: scale_type = f16, zero_type = f16, payload_bytes = {{[0-9]+}}, scale_bytes = 32, zero_bytes = 32>
// AUTO-SAME: zeros(dense_resource<q_zeros> : tensor<16x1xf16>)
// AUTO-LABEL: func.func @k
// AUTO: zero_type = f16, {{.*}} zeros(dense_resource<k_zeros> : tensor<8x1xf16>)
//
// Other scale types: the code is decoded against any scale.
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 scale-type=f32 progress=false" | FileCheck %s --check-prefix=F32-U8
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 scale-type=f32 zero-type=auto progress=false" | FileCheck %s --check-prefix=F32-AUTO
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 scale-type=bf16 progress=false" | FileCheck %s --check-prefix=BF16-U8
// F32-U8-LABEL: func.func @q
// F32-U8: scale_type = f32, zero_type = i8, {{.*}} zeros(dense_resource<q_zeros> : tensor<16x1xi8>)
// F32-AUTO-LABEL: func.func @q
// F32-AUTO: scale_type = f32, zero_type = f32, {{.*}} zeros(dense_resource<q_zeros> : tensor<16x1xf32>)
// BF16-U8-LABEL: func.func @q
// BF16-U8: scale_type = bf16, zero_type = i8, {{.*}} zeros(dense_resource<q_zeros> : tensor<16x1xi8>)
//
// One code per (row, group), and the same default for the uniform, paper and
// RTN modes.
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 group-size=16 progress=false" | FileCheck %s --check-prefix=GROUPS
// GROUPS-LABEL: func.func @q
// GROUPS: group_size = 16, scale_type = f16, zero_type = i8, {{.*}} zero_bytes = 48> {{.*}} zeros(dense_resource<q_zeros> : tensor<16x3xi8>)
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 uniform=true quantizer=rtn progress=false" | FileCheck %s --check-prefix=MODES
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 allocator=paper progress=false" 2>/dev/null | FileCheck %s --check-prefix=MODES
// MODES-LABEL: func.func @q
// MODES: zero_type = i8, {{.*}} zeros(dense_resource<q_zeros> : tensor<16x1xi8>)
//
// budget=total counts the default's 8-bit zeros (8/40 bit per weight here,
// 16/40 with f16 zeros) and spends the 0.2 bit saved on payload; the report
// names the option.
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 budget=total budget-scope=layer report=%t.u8.json progress=false" -o %t.total.mlir
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 budget=total budget-scope=layer zero-type=u8 progress=false" | cmp - %t.total.mlir
// RUN: %python %S/Inputs/check_report.py %t.u8.json --target 3 --mode exact --budget total | FileCheck %s --check-prefix=TOTAL-U8
// RUN: FileCheck %s --check-prefix=JSON-U8 < %t.u8.json
// RUN: baq-opt %t.mlir --baq-allocate="scale-type=f16 target-bits=3 budget=total budget-scope=layer zero-type=auto report=%t.auto.json progress=false" -o /dev/null
// RUN: %python %S/Inputs/check_report.py %t.auto.json --target 3 --mode exact --budget total | FileCheck %s --check-prefix=TOTAL-AUTO
// RUN: FileCheck %s --check-prefix=JSON-AUTO < %t.auto.json
// TOTAL-U8: q 16x40 payload=2.1500 total=3.0000
// TOTAL-U8: k 8x40 payload=1.9000 total=3.0000
// TOTAL-U8: OK
// TOTAL-AUTO: q 16x40 payload=1.9500 total=3.0000
// TOTAL-AUTO: k 8x40 payload=1.7000 total=3.0000
// TOTAL-AUTO: OK
// JSON-U8: "zeros": 0.2000
// JSON-U8: "name": "q"
// JSON-U8: "zero_type": "u8"
// JSON-AUTO: "zeros": 0.4000
// JSON-AUTO: "name": "q"
// JSON-AUTO: "zero_type": "auto"
//
// Both storages lower and run on the CPU against their own dequantized
// weights in test/Conversion/BaqToCPU/allocate-e2e.mlir.

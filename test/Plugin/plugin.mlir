// Stock mlir-opt runs the baq dialect and passes through the plugin.
//
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:16x40 --layer k:8x40 --share-hessian q,k -o %t.mlir
// RUN: mlir-opt %t.mlir --load-dialect-plugin=%baq_libs/libBaqPlugin%shlibext \
// RUN:   --load-pass-plugin=%baq_libs/libBaqPlugin%shlibext \
// RUN:   --pass-pipeline="builtin.module(baq-allocate{target-bits=3 progress=false})" -o %t.plugin.mlir
// RUN: FileCheck %s < %t.plugin.mlir
// The plugin and baq-opt produce the same bytes.
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" -o %t.baq-opt.mlir
// RUN: cmp %t.plugin.mlir %t.baq-opt.mlir
// Round trip of the quantized IR through stock mlir-opt with the dialect plugin.
// RUN: mlir-opt %t.plugin.mlir --load-dialect-plugin=%baq_libs/libBaqPlugin%shlibext | cmp - %t.plugin.mlir
// Stock mlir-opt without the plugin does not know the dialect.
// RUN: not mlir-opt %t.plugin.mlir 2>&1 | FileCheck %s --check-prefix=NOPLUGIN
// NOPLUGIN: error: Dialect `baq' not found for custom op 'baq.packed_constant'

// CHECK-LABEL: func.func @q
// CHECK: baq.packed_constant #baq.layout<outputs = 16, inputs = 40, channel_dim = 1
// CHECK: linalg.matmul {{.*}}{baq.bits = #baq.bits<
// CHECK-LABEL: func.func @k
// CHECK: baq.packed_constant #baq.layout<outputs = 8, inputs = 40, channel_dim = 1

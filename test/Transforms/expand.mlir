// --baq-expand: structure of the expanded IR. Every baq op and attribute is
// gone, the dequantize is an elementwise linalg.generic over 1-D per-channel
// tables that feeds the matmul, and stock mlir-opt (no baq dialect) parses
// the result.
//
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:16x40 --layer k:8x40 --share-hessian q,k \
// RUN:   --layer u:6x40 --no-hessian u --orientation nk --dtype f32 -o %t.mlir
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 scale-type=f16 zero-type=auto progress=false" -o %t.q.mlir 2>/dev/null
// RUN: baq-opt %t.q.mlir --baq-expand -o %t.e.mlir
// RUN: FileCheck %s --check-prefix=GEN --implicit-check-not=baq < %t.e.mlir
// RUN: mlir-opt %t.e.mlir | FileCheck %s --check-prefix=STOCK
//
// Deterministic, and a no-op without baq ops.
// RUN: baq-opt %t.q.mlir --baq-expand | diff - %t.e.mlir
// RUN: baq-opt %t.e.mlir --baq-expand | diff - %t.e.mlir
//
// Hand-written layouts: exact tables, 0-bit only, other operand sources.
// RUN: baq-opt %s --split-input-file --baq-expand | FileCheck %s --implicit-check-not=baq

// GEN: #[[CH:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
// GEN: #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// GEN-LABEL: func.func @q(
// GEN-DAG: %[[P:.*]] = arith.constant dense_resource<q_payload> : tensor<[[WORDS:[0-9]+]]xi32>
// GEN-DAG: %[[S:.*]] = arith.constant dense_resource<q_scales> : tensor<16x1xf16>
// GEN-DAG: %[[Z:.*]] = arith.constant dense_resource<q_zeros> : tensor<16x1xf16>
// GEN: %[[W:.*]] = linalg.generic {indexing_maps = [#[[CH]], #[[CH]], #[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// GEN-SAME: ins({{.*}} : tensor<40xi32>, tensor<40xi32>, tensor<40xi32>) outs({{.*}} : tensor<16x40xf32>)
// GEN: %[[ROW:.*]] = linalg.index 0 : index
// GEN: tensor.extract %[[P]][%{{.*}}] : tensor<[[WORDS]]xi32>
// GEN: tensor.extract %[[P]][%{{.*}}] : tensor<[[WORDS]]xi32>
// GEN: tensor.extract %[[P]][%{{.*}}] : tensor<[[WORDS]]xi32>
// GEN: tensor.extract %[[P]][%{{.*}}] : tensor<[[WORDS]]xi32>
// GEN: tensor.extract %[[S]][%[[ROW]], %{{.*}}] : tensor<16x1xf16>
// GEN: tensor.extract %[[Z]][%[[ROW]], %{{.*}}] : tensor<16x1xf16>
// GEN: arith.divf
// GEN: math.roundeven
// GEN: arith.subf
// GEN: arith.mulf
// GEN: arith.select
// GEN: linalg.yield %{{.*}} : f32
// GEN: } -> tensor<16x40xf32>
// GEN: linalg.matmul indexing_maps = [{{.*}}] ins(%{{.*}}, %[[W]] : tensor<1x40xf32>, tensor<16x40xf32>)
// GEN-LABEL: func.func @k(
// GEN: %[[KW:.*]] = linalg.generic
// GEN: } -> tensor<8x40xf32>
// GEN: linalg.matmul indexing_maps = [{{.*}}] ins(%{{.*}}, %[[KW]] : tensor<1x40xf32>, tensor<8x40xf32>)
// The matmul without a Hessian stays as it was.
// GEN-LABEL: func.func @u(
// GEN: %[[UW:.*]] = arith.constant dense_resource<u> : tensor<6x40xf32>
// GEN-NOT: linalg.generic
// GEN: linalg.matmul indexing_maps = [{{.*}}] ins(%{{.*}}, %[[UW]] : tensor<1x40xf32>, tensor<6x40xf32>)
// GEN: q_payload: "0x04000000

// STOCK-LABEL: func.func @q(
// STOCK: linalg.generic
// STOCK: linalg.matmul
// STOCK: q_payload: "0x04000000

// -----

// 7-bit channels 0, 2, 3, 5, 6 take packed positions 0..4 (row stream bits
// 0, 7, 14, 21, 28), 2-bit channel 4 takes position 5 (bits 35-36), channel
// 1 is dropped. A row is 37 bits: one full word per row (payload words 0-1,
// interleaved by row) and 5 tail bits, row i's at bit 5 i of word 2; channel
// 6 straddles from its row's full word into its tail. Groups of 2 packed
// positions. The row is d1 for a [N, M] weight (channel_dim = 0).

// CHECK: #[[CH:map[0-9]*]] = affine_map<(d0, d1) -> (d0)>
// CHECK: #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @tables(
// CHECK-DAG: %[[P:.*]] = arith.constant dense<[1207992197, -734035840, 670]> : tensor<3xi32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<{{\[}}[6.350000e+01, 1.270000e+01, 1.500000e+00], [1.270000e+02, 3.000000e+00, 7.500000e-01]]> : tensor<2x3xf32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<{{\[}}[-3.200000e+01, -6.250000e+00, -5.000000e-01], [-6.400000e+01, -1.500000e+00, -2.500000e-01]]> : tensor<2x3xbf16>
// CHECK-DAG: %[[BITS:.*]] = arith.constant dense<[7, 0, 7, 7, 2, 7, 7]> : tensor<7xi32>
// CHECK-DAG: %[[TBIT:.*]] = arith.constant dense<[0, 0, 7, 14, 35, 21, 28]> : tensor<7xi32>
// CHECK-DAG: %[[GROUP:.*]] = arith.constant dense<[0, 0, 0, 1, 2, 1, 2]> : tensor<7xi32>
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[CH]], #[[CH]], #[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[BITS]], %[[TBIT]], %[[GROUP]] : {{.*}}) outs(%{{.*}} : tensor<7x2xbf16>)
// CHECK-NEXT: ^bb0(%[[B:.*]]: i32, %[[T:.*]]: i32, %[[G:.*]]: i32, %{{.*}}: bf16):
// CHECK: %[[ROWI:.*]] = linalg.index 1 : index
// CHECK: %[[ROW:.*]] = arith.index_cast %[[ROWI]] : index to i64
// CHECK: %[[B64:.*]] = arith.extui %[[B]] : i32 to i64
// CHECK: %[[T64:.*]] = arith.extui %[[T]] : i32 to i64
// Bits in the full words: clamp(32 F - t, 0, b), F = 1.
// CHECK: %[[ROOM:.*]] = arith.subi %{{.*}}, %[[T64]] : i64
// CHECK: %[[ROOM0:.*]] = arith.maxsi %[[ROOM]], %{{.*}} : i64
// CHECK: %[[INMAIN:.*]] = arith.minsi %[[ROOM0]], %[[B64]] : i64
// Full word t / 32 of the row: flat index (t / 32) * M + row, M = 2.
// CHECK: %[[WI:.*]] = arith.divui %[[T64]], %{{.*}} : i64
// CHECK: %[[WM:.*]] = arith.muli %[[WI]], %{{.*}} : i64
// CHECK: %[[FLAT:.*]] = arith.addi %[[WM]], %[[ROW]] : i64
// CHECK: tensor.extract %[[P]][%{{.*}}] : tensor<3xi32>
// CHECK: tensor.extract %[[P]][%{{.*}}] : tensor<3xi32>
// CHECK: %[[MAINCODE:.*]] = arith.andi %{{.*}}, %{{.*}} : i64
// Tail bit row * r + max(t - 32 F, 0), r = 5, in the words after F * M = 2.
// CHECK: %[[PAST:.*]] = arith.subi %[[T64]], %{{.*}} : i64
// CHECK: %[[PAST0:.*]] = arith.maxsi %[[PAST]], %{{.*}} : i64
// CHECK: %[[C5:.*]] = arith.constant 5 : i64
// CHECK: %[[RR:.*]] = arith.muli %[[ROW]], %[[C5]] : i64
// CHECK: %[[U:.*]] = arith.addi %[[RR]], %[[PAST0]] : i64
// CHECK: tensor.extract %[[P]][%{{.*}}] : tensor<3xi32>
// CHECK: tensor.extract %[[P]][%{{.*}}] : tensor<3xi32>
// CHECK: %[[TAILCODE:.*]] = arith.andi %{{.*}}, %{{.*}} : i64
// CHECK: %[[TAILUP:.*]] = arith.shli %[[TAILCODE]], %[[INMAIN]] : i64
// CHECK: %[[CODE:.*]] = arith.ori %[[MAINCODE]], %[[TAILUP]] : i64
// CHECK: %[[POW:.*]] = arith.shli %[[ONE:.*]], %[[B64]] : i64
// CHECK: %[[MASK:.*]] = arith.subi %[[POW]], %[[ONE]] : i64
// CHECK: %[[GI:.*]] = arith.index_cast %[[G]] : i32 to index
// CHECK: %[[SV:.*]] = tensor.extract %[[S]][%[[ROWI]], %[[GI]]] : tensor<2x3xf32>
// CHECK: %[[ZB:.*]] = tensor.extract %[[Z]][%[[ROWI]], %[[GI]]] : tensor<2x3xbf16>
// CHECK: %[[ZV:.*]] = arith.extf %[[ZB]] : bf16 to f32
// CHECK: %[[L:.*]] = arith.uitofp %[[MASK]] : i64 to f32
// CHECK: %[[Q:.*]] = arith.uitofp %[[CODE]] : i64 to f32
// CHECK: %[[STEP:.*]] = arith.divf %[[SV]], %[[L]] : f32
// CHECK: %[[NEGZ:.*]] = arith.negf %[[ZV]] : f32
// CHECK: %[[RATIO:.*]] = arith.divf %[[NEGZ]], %[[STEP]] : f32
// CHECK: %[[ZPR:.*]] = math.roundeven %[[RATIO]] : f32
// CHECK: %[[ZPLO:.*]] = arith.maximumf %[[ZPR]], %[[ZERO:.*]] : f32
// CHECK: %[[ZPC:.*]] = arith.minimumf %[[ZPLO]], %[[L]] : f32
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[STEP]], %[[ZERO]] : f32
// CHECK: %[[ZP:.*]] = arith.select %[[POS]], %[[ZPC]], %[[ZERO]] : f32
// CHECK: %[[QZ:.*]] = arith.subf %[[Q]], %[[ZP]] : f32
// CHECK: %[[V:.*]] = arith.mulf %[[QZ]], %[[STEP]] : f32
// CHECK: %[[DROP:.*]] = arith.cmpi eq, %[[B]], %{{.*}} : i32
// CHECK: %[[SEL:.*]] = arith.select %[[DROP]], %{{.*}}, %[[V]] : f32
// CHECK: %[[TR:.*]] = arith.truncf %[[SEL]] : f32 to bf16
// CHECK: linalg.yield %[[TR]] : bf16
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<7x7xbf16>, tensor<7x2xbf16>)
func.func @tables(%x: tensor<7x7xbf16>) -> tensor<7x2xbf16> {
  %p, %s, %z = baq.packed_constant #baq.layout<outputs = 2, inputs = 7, channel_dim = 0, bits = [7, 0, 7, 7, 2, 7, 7], perm = [0, 2, 3, 5, 6, 4, 1], segments = [7, 0, 5, 0, 2, 5, 1, 35], group_size = 2, scale_type = f32, zero_type = bf16, payload_bytes = 12, scale_bytes = 24, zero_bytes = 12>
      payload(dense<[1207992197, -734035840, 670]> : tensor<3xi32>)
      scales(dense<[[63.5, 12.7, 1.5], [127.0, 3.0, 0.75]]> : tensor<2x3xf32>)
      zeros(dense<[[-32.0, -6.25, -0.5], [-64.0, -1.5, -0.25]]> : tensor<2x3xbf16>)
  %w = baq.dequantize %p, %s, %z layout(#baq.layout<outputs = 2, inputs = 7, channel_dim = 0, bits = [7, 0, 7, 7, 2, 7, 7], perm = [0, 2, 3, 5, 6, 4, 1], segments = [7, 0, 5, 0, 2, 5, 1, 35], group_size = 2, scale_type = f32, zero_type = bf16, payload_bytes = 12, scale_bytes = 24, zero_bytes = 12>)
      : tensor<3xi32>, tensor<2x3xf32>, tensor<2x3xbf16> -> tensor<7x2xbf16>
  %zero = arith.constant 0.0 : bf16
  %empty = tensor.empty() : tensor<7x2xbf16>
  %acc = linalg.fill ins(%zero : bf16) outs(%empty : tensor<7x2xbf16>) -> tensor<7x2xbf16>
  %y = linalg.matmul {baq.bits = #baq.bits<[7, 0, 7, 7, 2, 7, 7]>} ins(%x, %w : tensor<7x7xbf16>, tensor<7x2xbf16>) outs(%acc : tensor<7x2xbf16>) -> tensor<7x2xbf16>
  return %y : tensor<7x2xbf16>
}

// -----

// Every channel dropped: no payload word to read, the weight is all zeros.

// CHECK-LABEL: func.func @dropped(
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[W:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NOT: linalg.generic
// CHECK: linalg.matmul indexing_maps = [{{.*}}] ins(%{{.*}}, %[[W]] : tensor<1x3xf32>, tensor<2x3xf32>)
func.func @dropped(%x: tensor<1x3xf32>) -> tensor<1x2xf32> {
  %p, %s, %z = baq.packed_constant #baq.layout<outputs = 2, inputs = 3, channel_dim = 1, bits = [0, 0, 0], perm = [0, 1, 2], segments = [], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 0, scale_bytes = 4, zero_bytes = 4>
      payload(dense<> : tensor<0xi32>)
      scales(dense<0.0> : tensor<2x1xf16>)
      zeros(dense<0.0> : tensor<2x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#baq.layout<outputs = 2, inputs = 3, channel_dim = 1, bits = [0, 0, 0], perm = [0, 1, 2], segments = [], group_size = 0, scale_type = f16, zero_type = f16, payload_bytes = 0, scale_bytes = 4, zero_bytes = 4>)
      : tensor<0xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<1x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%x, %w : tensor<1x3xf32>, tensor<2x3xf32>) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Packed parts that are not constants (here arguments) are read the same
// way; a dequantize without a matmul is expanded too.

// CHECK-LABEL: func.func @arguments(
// CHECK-SAME: %[[P:[^:]*]]: tensor<1xi32>, %[[S:[^:]*]]: tensor<3x1xf32>, %[[Z:[^:]*]]: tensor<3x1xf32>
// CHECK: %[[W:.*]] = linalg.generic
// CHECK: tensor.extract %[[P]]
// CHECK: tensor.extract %[[P]]
// CHECK: tensor.extract %[[S]]
// CHECK: tensor.extract %[[Z]]
// CHECK-NOT: arith.extf
// CHECK: } -> tensor<2x3xf16>
// CHECK: return %[[W]]
func.func @arguments(%p: tensor<1xi32>, %s: tensor<3x1xf32>, %z: tensor<3x1xf32>) -> tensor<2x3xf16> {
  %w = baq.dequantize %p, %s, %z layout(#baq.layout<outputs = 3, inputs = 2, channel_dim = 0, bits = [4, 4], perm = [0, 1], segments = [4, 0, 2, 0], group_size = 0, scale_type = f32, zero_type = f32, payload_bytes = 4, scale_bytes = 12, zero_bytes = 12>)
      : tensor<1xi32>, tensor<3x1xf32>, tensor<3x1xf32> -> tensor<2x3xf16>
  return %w : tensor<2x3xf16>
}

// -----

// A matmul that was never quantized loses its Hessian: the annotation needs
// the baq dialect and means nothing after expansion.

// CHECK-LABEL: func.func @hessian(
// CHECK: %[[W:.*]] = arith.constant dense<1.000000e+00> : tensor<2x2xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<1x2xf32>, tensor<2x2xf32>)
func.func @hessian(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x2xf32>
  %y = linalg.matmul {baq.hessian = dense<[[2.0, 0.5], [0.5, 1.0]]> : tensor<2x2xf32>} ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A baq.packed_matmul becomes the f32 dequantize generic feeding a
// linalg.matmul, with plain maps for channel_dim = 0 and transposed-B maps
// for channel_dim = 1.
#l0 = #baq.layout<outputs = 1, inputs = 2, channel_dim = 0, bits = [2, 3],
  perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0,
  scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2,
  zero_bytes = 2>
#l1 = #baq.layout<outputs = 1, inputs = 2, channel_dim = 1, bits = [2, 3],
  perm = [1, 0], segments = [3, 0, 1, 0, 2, 1, 1, 3], group_size = 0,
  scale_type = f16, zero_type = f16, payload_bytes = 4, scale_bytes = 2,
  zero_bytes = 2>

// CHECK: #[[TB:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @packed_matmul(
// CHECK-SAME:    %[[A:.*]]: tensor<3x2xf16>, %[[P:.*]]: tensor<1xi32>, %{{.*}}: tensor<1x1xf16>, %{{.*}}: tensor<1x1xf16>, %[[C:.*]]: tensor<3x1xf16>)
// CHECK:         %[[W0:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x1xf32>)
// CHECK:         %[[Y0:.*]] = linalg.matmul ins(%[[A]], %[[W0]] : tensor<3x2xf16>, tensor<2x1xf32>) outs(%[[C]] : tensor<3x1xf16>) -> tensor<3x1xf16>
// CHECK:         %[[W1:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2xf32>)
// CHECK:         %[[Y1:.*]] = linalg.matmul indexing_maps = [#{{.*}}, #[[TB]], #{{.*}}] ins(%[[A]], %[[W1]] : tensor<3x2xf16>, tensor<1x2xf32>) outs(%[[Y0]] : tensor<3x1xf16>) -> tensor<3x1xf16>
// CHECK:         return %[[Y1]]
func.func @packed_matmul(%a: tensor<3x2xf16>, %p: tensor<1xi32>,
    %s: tensor<1x1xf16>, %z: tensor<1x1xf16>, %c: tensor<3x1xf16>) -> tensor<3x1xf16> {
  %y0 = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf16>, tensor<1xi32>,
      tensor<1x1xf16>, tensor<1x1xf16>) outs(%c : tensor<3x1xf16>)
      layout(#l0) -> tensor<3x1xf16>
  %y1 = baq.packed_matmul ins(%a, %p, %s, %z : tensor<3x2xf16>, tensor<1xi32>,
      tensor<1x1xf16>, tensor<1x1xf16>) outs(%y0 : tensor<3x1xf16>)
      layout(#l1) -> tensor<3x1xf16>
  return %y1 : tensor<3x1xf16>
}

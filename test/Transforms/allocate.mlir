// Rewrites of generated matmuls with Hessians in dense_resource blobs, in both
// weight orientations and in f32 and f16.
//
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:16x40 --layer k:8x40 --share-hessian q,k \
// RUN:   --orientation nk --dtype f32 -o %t.nk.mlir
// RUN: baq-opt %t.nk.mlir --baq-allocate="target-bits=3 progress=false" | FileCheck %s --check-prefix=NK
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:16x40 --orientation kn --dtype f16 -o %t.kn.mlir
// RUN: baq-opt %t.kn.mlir --baq-allocate="target-bits=2.5 progress=false" | FileCheck %s --check-prefix=KN

// Transposed weight [M, N] = [16, 40]: channel_dim = 1; 40 channels at 3 bits
// on average is a budget of 120 bits per row.
// NK-LABEL: func.func @q
// NK-NOT: arith.constant dense_resource<q>
// NK: %[[P:.*]], %[[S:.*]], %[[Z:.*]] = baq.packed_constant #baq.layout<outputs = 16, inputs = 40, channel_dim = 1, bits = [{{[0-8, ]+}}], perm = [{{[0-9, ]+}}], segments = [{{[0-9, ]+}}], group_size = 0, scale_type = i8, zero_type = i8, payload_bytes = {{[0-9]+}}, scale_bytes = 16, zero_bytes = 16> payload(dense_resource<q_payload> : tensor<{{[0-9]+}}xi32>) scales(dense_resource<q_scales> : tensor<16x1xi8>) zeros(dense_resource<q_zeros> : tensor<16x1xi8>)
// NK: %[[W:.*]] = baq.dequantize %[[P]], %[[S]], %[[Z]] layout(#baq.layout<{{.*}}>) : tensor<{{[0-9]+}}xi32>, tensor<16x1xi8>, tensor<16x1xi8> -> tensor<16x40xf32>
// NK: linalg.matmul indexing_maps = [#map, #map1, #map2] {baq.bits = #baq.bits<[{{[0-8, ]+}}]>} ins(%{{.*}}, %[[W]] : tensor<1x40xf32>, tensor<16x40xf32>)
// NK-NOT: baq.hessian
// NK-LABEL: func.func @k
// NK: baq.packed_constant #baq.layout<outputs = 8, inputs = 40, channel_dim = 1
// NK: baq.dequantize {{.*}} -> tensor<8x40xf32>
// The Hessians are consumed; only the packed blobs remain.
// NK-NOT: q_hessian:
// NK: q_payload: "0x04000000
// NK-NOT: q_hessian:

// Plain weight [N, M] = [40, 16]: channel_dim = 0, f16 weights stay f16.
// KN-LABEL: func.func @w
// KN: baq.packed_constant #baq.layout<outputs = 16, inputs = 40, channel_dim = 0,
// KN: baq.dequantize {{.*}} -> tensor<40x16xf16>
// KN: linalg.matmul {baq.bits = #baq.bits<[{{[0-8, ]+}}]>} ins(%{{.*}}, %{{.*}} : tensor<1x40xf16>, tensor<40x16xf16>) outs(%{{.*}} : tensor<1x16xf16>)

// Which weights --baq-allocate reaches: constants through views, immutable
// globals (ml_program and memref), weights shared by several contractions;
// and which it leaves alone (arguments, mutable globals, a weight with a
// batch dimension of its own): by default counted in one summary line per
// run, with verbose=true a remark each. The lowered forms run in
// test/Integration/.
//
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="target-bits=2 progress=false verbose=true" | FileCheck %s
// RUN: baq-opt %s -split-input-file --baq-allocate="target-bits=2" 2>&1 >/dev/null | FileCheck %s --check-prefix=SUMMARY --implicit-check-not=remark:
// RUN: baq-opt %s -split-input-file --baq-allocate="target-bits=2 progress=false" 2>/dev/null | FileCheck %s --check-prefix=GLOBALS

// A shared weight is quantized once; both matmuls get the bits, the
// elementwise user reads the same dequantized value.
// CHECK-LABEL: func.func @shared
// CHECK: baq.packed_constant #baq.layout<outputs = 2, inputs = 4, channel_dim = 0,
// CHECK-NEXT: %[[W:.*]] = baq.dequantize
// CHECK-NOT: baq.packed_constant
// CHECK: linalg.matmul {baq.bits = #baq.bits<[{{.*}}]>} ins(%{{.*}}, %[[W]] :
// CHECK: linalg.matmul {baq.bits = #baq.bits<[{{.*}}]>} ins(%{{.*}}, %[[W]] :
// CHECK: linalg.add ins(%[[W]], %[[W]] :
// CHECK-NOT: baq.hessian
// SUMMARY: baq-allocate: quantized 1 weight (8 parameters, payload 2.000 total {{.*}}; columns per bitwidth {{.*}}); other contractions: 1 shared (quantized once) (verbose=true names each)
func.func @shared(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>, %d: tensor<4x2xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<4x2xf32>) {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-remark@+1 {{weight 'shared' is shared; it is quantized once, with the Hessian of the contraction at}}
  %s = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  %t = linalg.add ins(%w, %w : tensor<4x2xf32>, tensor<4x2xf32>) outs(%d : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %r, %s, %t : tensor<1x2xf32>, tensor<1x2xf32>, tensor<4x2xf32>
}

// -----

// The weight of a matvec is operand 0; its input channels are dim 1.
// CHECK-LABEL: func.func @matvec
// CHECK: baq.packed_constant #baq.layout<outputs = 2, inputs = 4, channel_dim = 1,
// CHECK: linalg.matvec {baq.bits = #baq.bits<[{{.*}}]>}
// SUMMARY: baq-allocate: quantized 1 weight (8 parameters, {{.*}})
func.func @matvec(%x: tensor<4xf32>, %c: tensor<2xf32>) -> tensor<2xf32> {
  %w = arith.constant dense<[[1.0, -2.0, 3.0, 0.5], [-1.5, 2.5, 0.25, -0.75]]> : tensor<2x4xf32>
  %r = linalg.matvec {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%w, %x : tensor<2x4xf32>, tensor<4xf32>) outs(%c : tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// A private immutable global read by global_load_const is replaced at every
// load and then erased.
// GLOBALS-NOT: ml_program.global private @fc(
// CHECK-LABEL: func.func @ml_program_global
// CHECK-NOT: ml_program.global_load_const
// CHECK: baq.packed_constant #baq.layout<outputs = 2, inputs = 4, channel_dim = 0,
// CHECK: linalg.matmul {baq.bits
ml_program.global private @fc(dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>) : tensor<4x2xf32>
func.func @ml_program_global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @fc : tensor<4x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// A public global may have readers outside the module: it stays.
// GLOBALS: ml_program.global public @fc_public
// CHECK-LABEL: func.func @public_global
// CHECK: baq.packed_constant #baq.layout<outputs = 2, inputs = 4, channel_dim = 0,
ml_program.global public @fc_public(dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>) : tensor<4x2xf32>
func.func @public_global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load @fc_public : tensor<4x2xf32>
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// GLOBALS: ml_program.global private mutable @state
// CHECK-LABEL: func.func @mutable_global
// CHECK: ml_program.global_load @state
// CHECK: linalg.matmul {baq.hessian
ml_program.global private mutable @state(dense<1.0> : tensor<4x2xf32>) : tensor<4x2xf32>
// SUMMARY: baq-allocate: quantized 0 weights; other contractions: 1 left unquantized (ml_program.global @state is mutable) (verbose=true names each)
func.func @mutable_global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load @state : tensor<4x2xf32>
  // expected-remark@+1 {{ml_program.global @state is mutable; left unquantized}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// GLOBALS: memref.global "private" @buffer
// CHECK-LABEL: func.func @mutable_memref_global
// CHECK: bufferization.to_tensor
memref.global "private" @buffer : memref<4x2xf32> = dense<1.0>
// SUMMARY: baq-allocate: quantized 0 weights; other contractions: 1 left unquantized (memref.global @buffer is mutable) (verbose=true names each)
func.func @mutable_memref_global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %m = memref.get_global @buffer : memref<4x2xf32>
  %w = bufferization.to_tensor %m restrict : memref<4x2xf32> to tensor<4x2xf32>
  // expected-remark@+1 {{memref.global @buffer is mutable; left unquantized}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// A batch_matmul whose weight has its own batch dimension is not a linear
// layer.
// CHECK-LABEL: func.func @own_batch
// CHECK-NOT: baq.packed_constant
// SUMMARY: baq-allocate: quantized 0 weights; other contractions: 1 left unquantized (stored weight of type 'tensor<2x4x2xf32>' is not a static 2-D tensor) (verbose=true names each)
func.func @own_batch(%a: tensor<2x1x4xf32>, %c: tensor<2x1x2xf32>) -> tensor<2x1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x4x2xf32>
  // expected-remark@+1 {{stored weight of type 'tensor<2x4x2xf32>' is not a static 2-D tensor; left unquantized}}
  %r = linalg.batch_matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<2x1x4xf32>, tensor<2x4x2xf32>) outs(%c : tensor<2x1x2xf32>) -> tensor<2x1x2xf32>
  return %r : tensor<2x1x2xf32>
}

// -----

// A weight computed at run time is not a constant.
// CHECK-LABEL: func.func @computed
// SUMMARY: baq-allocate: quantized 0 weights; other contractions: 1 left unquantized (weight operand is computed by 'linalg.add', not read from a constant) (verbose=true names each)
func.func @computed(%a: tensor<1x4xf32>, %b: tensor<4x2xf32>, %c: tensor<1x2xf32>, %d: tensor<4x2xf32>) -> tensor<1x2xf32> {
  %w = linalg.add ins(%b, %b : tensor<4x2xf32>, tensor<4x2xf32>) outs(%d : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-remark@+1 {{weight operand is computed by 'linalg.add', not read from a constant; left unquantized}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

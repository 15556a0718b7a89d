// Where the lowering pipelines can and cannot put kernels. They bufferize
// func.func bodies of the module they run on and launch kernels from host
// code: a baq op in gpu.func, llvm.func or a nested module gets a located
// error (--baq-allocate and --baq-expand handle all of these, see
// test/Transforms/allocate-nested.mlir). A nested module is lowered by
// nesting the pipeline (placement-nested.mlir).
//
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-build-kernels
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-lower-cpu
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-lower-nvvm="chip=sm_90"
// RUN: baq-opt %s -split-input-file --baq-expand | FileCheck %s --check-prefix=EXPAND

#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>

// EXPAND-LABEL: gpu.func @device
// EXPAND:       linalg.generic
// EXPAND:       linalg.matmul
gpu.module @dev {
  gpu.func @device(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) {
    // expected-error @below {{cannot lower a baq op inside 'gpu.func': the BAQ kernels are launched from host code (func.func); use --baq-expand for device code}}
    %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
        scales(dense<1.0> : tensor<2x1xf16>) zeros(dense<-0.5> : tensor<2x1xf16>)
    // expected-error @below {{cannot lower a baq op inside 'gpu.func'}}
    %w = baq.dequantize %p, %s, %z layout(#layout)
        : tensor<1xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x2xf32>
    %y = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>)
        outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
    gpu.return
  }
}

// -----

#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>

// EXPAND-LABEL: llvm.func @host
// EXPAND:       linalg.generic
llvm.func @host() {
  %a = arith.constant dense<1.0> : tensor<1x2xf32>
  %c = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @below {{cannot lower a baq op inside 'llvm.func': the lowering pipelines bufferize func.func only; use --baq-expand there}}
  %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
      scales(dense<1.0> : tensor<2x1xf16>) zeros(dense<-0.5> : tensor<2x1xf16>)
  // expected-error @below {{cannot lower a baq op inside 'llvm.func'}}
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<1xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x2xf32>
  %y = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>)
      outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  llvm.return
}

// -----

#layout = #baq.layout<outputs = 2, inputs = 2, channel_dim = 0,
  bits = [2, 2], perm = [0, 1], segments = [2, 0, 2, 0],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 4, scale_bytes = 4, zero_bytes = 4>

module {
  module @inner {
    func.func @nested(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
      // expected-error @below {{cannot lower a baq op in a nested module: run the lowering on that module, e.g. --pass-pipeline='builtin.module(builtin.module(baq-lower-cpu))'}}
      %p, %s, %z = baq.packed_constant #layout payload(dense<119> : tensor<1xi32>)
          scales(dense<1.0> : tensor<2x1xf16>) zeros(dense<-0.5> : tensor<2x1xf16>)
      // expected-error @below {{cannot lower a baq op in a nested module}}
      %w = baq.dequantize %p, %s, %z layout(#layout)
          : tensor<1xi32>, tensor<2x1xf16>, tensor<2x1xf16> -> tensor<2x2xf32>
      %y = linalg.matmul ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>)
          outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
      return %y : tensor<1x2xf32>
    }
  }
}

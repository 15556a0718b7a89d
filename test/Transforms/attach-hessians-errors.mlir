// --baq-attach-hessians errors: each is located (a named location: the file,
// with the key's byte offset when a tensor is at fault; or the contraction)
// and fails the pass.
//
// A tensor that names no weight.
// RUN: %python %S/Inputs/make_safetensors.py %t.key.safetensors --tensor fc1:4 --tensor nope:3
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.key.safetensors" 2>&1 | FileCheck %s --check-prefix=KEY
// KEY: error: loc("{{.*}}key.safetensors:{{[0-9]+}} (tensor 'nope')"): baq-attach-hessians: tensor 'nope' matches no contraction weight
//
// A Hessian of the wrong size, and one that is not square.
// RUN: %python %S/Inputs/make_safetensors.py %t.size.safetensors --tensor fc1:3
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.size.safetensors" 2>&1 | FileCheck %s --check-prefix=SIZE
// SIZE: attach-hessians-errors.mlir:[[@LINE+35]]:8: error: baq-attach-hessians: tensor 'fc1' has shape [3x3], but this contraction's weight has 4 input features (expected [4x4])
// SIZE: note: loc("{{.*}}size.safetensors:{{[0-9]+}} (tensor 'fc1')"): tensor 'fc1' is here
// RUN: %python %S/Inputs/make_safetensors.py %t.square.safetensors --tensor fc1:4 --shape fc1:2x8
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.square.safetensors" 2>&1 | FileCheck %s --check-prefix=SQUARE
// SQUARE: error: baq-attach-hessians: tensor 'fc1' has shape [2x8], but this contraction's weight has 4 input features
//
// A dtype that is not f32, f16 or bf16.
// RUN: %python %S/Inputs/make_safetensors.py %t.dtype.safetensors --tensor fc1:4:F64
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.dtype.safetensors" 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: loc("{{.*}}dtype.safetensors:{{[0-9]+}} (tensor 'fc1')"): baq-attach-hessians: tensor 'fc1' has dtype F64; expected F32, F16 or BF16
//
// A truncated file, a header size past the end, data_offsets that disagree
// with the shape, a file shorter than the header size field.
// RUN: %python %S/Inputs/make_safetensors.py %t.trunc.safetensors --tensor fc1:4 --truncate 8
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.trunc.safetensors" 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: error: loc("{{.*}}trunc.safetensors"): baq-attach-hessians: tensor 'fc1' has data_offsets outside the 56 data bytes of the file (truncated file?)
// RUN: %python %S/Inputs/make_safetensors.py %t.header.safetensors --tensor fc1:4 --header-size 1000000
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.header.safetensors" 2>&1 | FileCheck %s --check-prefix=HEADER
// HEADER: error: loc("{{.*}}header.safetensors"): baq-attach-hessians: header size 1000000 exceeds the {{[0-9]+}} bytes after it (truncated file?)
// RUN: %python %S/Inputs/make_safetensors.py %t.offsets.safetensors --tensor fc1:4 --offsets fc1:0:8
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.offsets.safetensors" 2>&1 | FileCheck %s --check-prefix=OFFSETS
// OFFSETS: error: loc("{{.*}}offsets.safetensors"): baq-attach-hessians: tensor 'fc1' holds 8 bytes, but its shape and dtype F32 need 64
// RUN: %python -c "open('%t.short.safetensors', 'wb').write(b'\x10\x00')"
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.short.safetensors" 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: error: loc("{{.*}}short.safetensors"): baq-attach-hessians: file is 2 bytes, shorter than the 8-byte header size
//
// A missing file and a missing option.
// RUN: not baq-opt %s --baq-attach-hessians="file=%t.absent.safetensors" 2>&1 | FileCheck %s --check-prefix=ABSENT
// ABSENT: error: loc("{{.*}}absent.safetensors"): baq-attach-hessians: cannot read '{{.*}}absent.safetensors': No such file or directory
// RUN: not baq-opt %s --baq-attach-hessians 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: baq-attach-hessians: option 'file' is required

ml_program.global private @fc1(dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>) : tensor<4x2xf32>
func.func @global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @fc1 : tensor<4x2xf32>
  %r = linalg.matmul ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

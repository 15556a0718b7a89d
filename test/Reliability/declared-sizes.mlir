// A declared shape is a claim the blob must back: absurd shapes over tiny or
// empty dense_resource blobs get a located error before anything is
// allocated (no 64-bit overflow, no out-of-memory abort).
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="progress=false"

func.func @huge_weight(%a: tensor<1x2147483648xf32>, %c: tensor<1x2147483648xf32>) -> tensor<1x2147483648xf32> {
  %w = arith.constant dense_resource<w> : tensor<2147483648x2147483648xf32>
  // expected-error @below {{weight of type 'tensor<2147483648x2147483648xf32>' is too large to read: at most 2147483648 elements are supported}}
  %y = linalg.matmul {baq.hessian = dense_resource<h> : tensor<2147483648x2147483648xf32>}
      ins(%a, %w : tensor<1x2147483648xf32>, tensor<2147483648x2147483648xf32>) outs(%c : tensor<1x2147483648xf32>) -> tensor<1x2147483648xf32>
  return %y : tensor<1x2147483648xf32>
}
{-#
  dialect_resources: { builtin: { w: "0x040000000000803F", h: "0x040000000000803F" } }
#-}

// -----

// 2^62 x 4 elements overflow a 64-bit byte count.
func.func @overflowing_weight(%a: tensor<1x4611686018427387904xf16>, %c: tensor<1x4xf16>) -> tensor<1x4xf16> {
  %w = arith.constant dense_resource<w> : tensor<4611686018427387904x4xf16>
  // expected-error @below {{weight of type 'tensor<4611686018427387904x4xf16>' is too large to read}}
  %y = linalg.matmul {baq.hessian = dense<1.0> : tensor<4611686018427387904x4611686018427387904xf32>}
      ins(%a, %w : tensor<1x4611686018427387904xf16>, tensor<4611686018427387904x4xf16>) outs(%c : tensor<1x4xf16>) -> tensor<1x4xf16>
  return %y : tensor<1x4xf16>
}
{-#
  dialect_resources: { builtin: { w: "0x02000000003C" } }
#-}

// -----

// The weight is small, the Hessian's declared 65536 x 65536 (2^32 elements)
// is not: a splat must not be expanded into 16 GiB.
func.func @huge_splat_hessian(%a: tensor<1x65536xf32>, %c: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<1.0> : tensor<65536x1xf32>
  // expected-error @below {{Hessian of type 'tensor<65536x65536xf32>' is too large to read}}
  %y = linalg.matmul {baq.hessian = dense<1.0> : tensor<65536x65536xf32>}
      ins(%a, %w : tensor<1x65536xf32>, tensor<65536x1xf32>) outs(%c : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @empty_hessian_blob(%a: tensor<1x4xf32>, %c: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  // expected-error @below {{Hessian resource 'h' holds 0 bytes, but 'tensor<4x4xf32>' needs 64}}
  %y = linalg.matmul {baq.hessian = dense_resource<h> : tensor<4x4xf32>}
      ins(%a, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%c : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
{-#
  dialect_resources: { builtin: { h: "0x04000000" } }
#-}

// -----

// 2^30 x 2 bf16 elements fit the limit; the one-element blob does not back them.
func.func @short_weight_blob(%a: tensor<1x2xbf16>, %c: tensor<1x1073741824xbf16>) -> tensor<1x1073741824xbf16> {
  %w = arith.constant dense_resource<w> : tensor<2x1073741824xbf16>
  // expected-error @below {{weight resource 'w' holds 2 bytes, but 'tensor<2x1073741824xbf16>' needs 4294967296}}
  %y = linalg.matmul {baq.hessian = dense<[[2.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>}
      ins(%a, %w : tensor<1x2xbf16>, tensor<2x1073741824xbf16>) outs(%c : tensor<1x1073741824xbf16>) -> tensor<1x1073741824xbf16>
  return %y : tensor<1x1073741824xbf16>
}
{-#
  dialect_resources: { builtin: { w: "0x02000000803F" } }
#-}

// Truncated, missing and malformed dense_resource blobs: parse errors point
// at the blob, pass errors at the matmul that reads it.
// RUN: baq-opt %s -split-input-file -verify-diagnostics --baq-allocate="progress=false"
// RUN: not baq-opt %s -split-input-file --baq-allocate="progress=false" 2>&1 | FileCheck %s --check-prefix=EXIT
// EXIT: error:

// f16 weight blob two bytes short.
func.func @weight_f16_short(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xf16>
  // expected-error@+1 {{weight resource 'w' holds 6 bytes, but 'tensor<2x2xf16>' needs 8}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C003C003C"
    }
  }
#-}

// -----

// f16 weight blob with an extra element.
func.func @weight_f16_long(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xf16>
  // expected-error@+1 {{weight resource 'w' holds 10 bytes, but 'tensor<2x2xf16>' needs 8}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C003C003C003C003C"
    }
  }
#-}

// -----

// A bf16 weight blob holding only the alignment word.
func.func @weight_bf16_empty(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xbf16>
  // expected-error@+1 {{weight resource 'w' holds 0 bytes, but 'tensor<2x2xbf16>' needs 8}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xbf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000"
    }
  }
#-}

// -----

// A Hessian that names a resource nobody defined.
func.func @hessian_missing(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{Hessian resource 'nowhere' has no data}}
  %r = linalg.matmul {baq.hessian = dense_resource<nowhere> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

// -----

// NaN (0x7E00) in an f16 weight blob, at row 1, column 0 of W = [out, in].
func.func @weight_f16_nan(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xf16>
  // expected-error@+1 {{baq-allocate: weight contains NaN or Inf at (1, 0)}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C007E003C003C"
    }
  }
#-}

// -----

// +Inf (0x7C00) in an f16 weight blob with transposed-B maps ([out, in]).
func.func @weight_f16_inf(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xf16>
  // expected-error@+1 {{baq-allocate: weight contains NaN or Inf at (1, 1)}}
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000003C003C003C007C"
    }
  }
#-}

// -----

// NaN in a bf16 weight blob.
func.func @weight_bf16_nan(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xbf16>
  // expected-error@+1 {{baq-allocate: weight contains NaN or Inf at (0, 0)}}
  %r = linalg.matmul {baq.hessian = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xbf16>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x02000000C07F803F803F803F"
    }
  }
#-}

// -----

// NaN in an f32 Hessian blob.
func.func @hessian_blob_nan(%a: tensor<1x2xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error@+1 {{cannot use 'baq.hessian': Hessian contains NaN or Inf at (1, 1)}}
  %r = linalg.matmul {baq.hessian = dense_resource<h> : tensor<2x2xf32>} ins(%a, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      h: "0x040000000000803F00000000000000000000C07F"
    }
  }
#-}

// -----

func.func @blob_not_hex() {
  return
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error@+1 {{expected hex string blob for key 'w'}}
      w: "0x02000000ZZ3C"
    }
  }
#-}

// -----

func.func @blob_odd_digits() {
  return
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error@+1 {{expected hex string blob for key 'w'}}
      w: "0x02000000003C0"
    }
  }
#-}

// -----

func.func @blob_not_string() {
  return
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error@+1 {{expected hex string blob for key 'w'}}
      w: 5
    }
  }
#-}

// -----

func.func @blob_no_alignment() {
  return
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error@+1 {{expected hex string blob for key 'w' to encode alignment in first 4 bytes}}
      w: "0x0100"
    }
  }
#-}

// -----

func.func @blob_bad_alignment() {
  return
}
{-#
  dialect_resources: {
    builtin: {
      // expected-error@+1 {{expected hex string blob for key 'w' to encode alignment in first 4 bytes, but got non-power-of-2 value: 3}}
      w: "0x03000000003C003C"
    }
  }
#-}

// -----

func.func @resources_unknown_dialect() {
  return
}
{-#
  dialect_resources: {
    // expected-error@+1 {{dialect 'nodialect' is unknown}}
    nodialect: {
      w: "0x02000000003C003C"
    }
  }
#-}

// -----

func.func @metadata_unknown_key() {
  return
}
{-#
  // expected-error@+1 {{unknown key 'bogus_section' in file metadata dictionary}}
  bogus_section: {
  }
#-}

// --baq-attach-hessians on crafted safetensors headers (issue 22, class 1):
// the header is untrusted (its first 8 bytes choose its size), so its size
// and nesting are bounded before llvm::json::parse sees it, duplicate keys
// are named, and a byte count that overflows says "too large". Every case is
// a located error at the file and a failed pass, never a crash; the exact
// edges of each check are pinned in unittests/Transforms/SafetensorsTest.cpp.
//
// DEFINE: %{craft} = %python %S/Inputs/craft_safetensors.py
// DEFINE: %{attach} = baq-opt %s --baq-attach-hessians=file=%t.st
//
// RUN: %{craft} %t.st valid
// RUN: %{attach} 2>&1 | FileCheck %s --check-prefix=VALID
// VALID: remark: loc("{{.*}}.st"): baq-attach-hessians: attached 1 Hessians
// VALID: linalg.matmul {baq.hessian = dense_resource<fc1_hessian> : tensor<4x4xf32>}
// RUN: %{craft} %t.st brackets-in-strings
// RUN: %{attach} 2>&1 | FileCheck %s --check-prefix=VALID
//
// ~100 KB of nesting overflowed the stack inside llvm::json::parse.
// RUN: %{craft} %t.st deep
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: loc("{{.*}}.st"): baq-attach-hessians: not a valid safetensors header: JSON nested deeper than 3 levels at byte 17
// RUN: %{craft} %t.st deep-object
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DEEP-OBJECT
// DEEP-OBJECT: not a valid safetensors header: JSON nested deeper than 3 levels at byte 23
// RUN: %{craft} %t.st depth-4
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DEPTH4
// DEPTH4: not a valid safetensors header: JSON nested deeper than 3 levels at byte 39
//
// Duplicate keys: llvm::json::parse kept the last silently.
// RUN: %{craft} %t.st duplicate
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DUP
// DUP: error: loc("{{.*}}.st"): baq-attach-hessians: not a valid safetensors header: duplicate tensor 'fc1' (keys at bytes 10 and 68)
// RUN: %{craft} %t.st duplicate-escaped
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DUP
// RUN: %{craft} %t.st duplicate-field
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DUP-FIELD
// DUP-FIELD: not a valid safetensors header: duplicate key 'dtype' in 'fc1' (keys at bytes 17 and 31)
//
// Byte counts that overflow: "need -23714107228" before.
// RUN: %{craft} %t.st too-large
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=LARGE
// LARGE: baq-attach-hessians: tensor 'fc1' has shape [4, 4611686018427387904]: too large (its byte count does not fit in 64 bits)
// RUN: %{craft} %t.st too-large-elements
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=LARGE-ELEMENTS
// LARGE-ELEMENTS: tensor 'fc1' has shape [4294967296, 4294967296]: too large
//
// Siblings: dimensions and offsets that are not non-negative integers
// (2^63 written as a double was converted to int64_t out of range: undefined
// behaviour), offsets
// in the wrong order or past the data, a dtype that does not match the byte
// count, a header that is not an object, empty, or has non-string metadata.
// RUN: %{craft} %t.st float-dim
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DIM
// RUN: %{craft} %t.st negative-dim
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DIM
// DIM: tensor 'fc1' has an invalid shape: dimension 0 is not a non-negative integer
// RUN: %{craft} %t.st negative-offset
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=OFFSET
// RUN: %{craft} %t.st huge-offset
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=OFFSET
// OFFSET: tensor 'fc1' has data_offsets that are not two non-negative integers
// RUN: %{craft} %t.st reversed-offsets
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=REVERSED
// REVERSED: tensor 'fc1' has data_offsets [64, 0] that begin after they end
// RUN: %{craft} %t.st end-plus-1
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=END
// RUN: %{craft} %t.st max-offset
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=END
// END: tensor 'fc1' has data_offsets outside the 64 data bytes of the file (truncated file?)
// RUN: %{craft} %t.st dtype-mismatch
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: tensor 'fc1' holds 64 bytes, but its shape and dtype F16 need 32
// RUN: %{craft} %t.st not-object
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=NOT-OBJECT
// NOT-OBJECT: not a valid safetensors header: not a JSON object
// RUN: %{craft} %t.st empty-header
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: not a valid safetensors header: not valid JSON
// RUN: %{craft} %t.st metadata-not-strings
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=METADATA
// METADATA: not a valid safetensors header: '__metadata__' must map strings to strings
//
// The size field one byte past the file; exact, with the data missing.
// RUN: %{craft} %t.st header-plus-1
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=PLUS1
// PLUS1: baq-attach-hessians: header size 65 exceeds the 64 bytes after it (truncated file?)
// RUN: %{craft} %t.st header-exact-no-data
// RUN: not %{attach} 2>&1 | FileCheck %s --check-prefix=NODATA
// NODATA: tensor 'fc1' has data_offsets outside the 0 data bytes of the file

ml_program.global private @fc1(dense<[[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5], [0.25, -0.75]]> : tensor<4x2xf32>) : tensor<4x2xf32>
func.func @global(%a: tensor<1x4xf32>, %c: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @fc1 : tensor<4x2xf32>
  %r = linalg.matmul ins(%a, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%c : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %r : tensor<1x2xf32>
}

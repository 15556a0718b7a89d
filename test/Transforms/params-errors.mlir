// Errors of baq.packed_parameter, --baq-inline-params and
// --baq-externalize-params: each names the key (or the file) and fails the
// run, never a crash. The broken files are written by Inputs/make_params.py.
//
// RUN: baq-opt %s -split-input-file -verify-diagnostics
// RUN: %python %S/Inputs/make_params.py %t.good good
// RUN: %python %S/Inputs/make_params.py %t.dtype dtype
// RUN: %python %S/Inputs/make_params.py %t.shape shape
// RUN: %python %S/Inputs/make_params.py %t.missing missing
// RUN: %python %S/Inputs/make_params.py %t.bits bits
// RUN: %python %S/Inputs/make_params.py %t.parts parts
// RUN: %python %S/Inputs/make_params.py %t.no-format no-format
// RUN: %python %S/Inputs/make_params.py %t.no-layout no-layout
// RUN: printf 'not a safetensors file' > %t.bad
// The good file inlines.
// RUN: baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.good | FileCheck %s
// CHECK: baq.packed_constant {{.*}} payload(dense_resource<w_payload> : tensor<2xi32>)
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.nonexistent 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: baq-inline-params: cannot read parameter file '{{.*}}.nonexistent': cannot read '{{.*}}.nonexistent': No such file or directory
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.bad 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: baq-inline-params: cannot read parameter file '{{.*}}.bad': not a valid safetensors header: header size {{[0-9]+}} exceeds the limit
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.no-format 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: error: baq-inline-params: '{{.*}}.no-format': not a BAQ parameter file (metadata 'baq.format' is not "1")
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.no-layout 2>&1 | FileCheck %s --check-prefix=LAYOUT
// LAYOUT: params-w.mlir:{{.*}} error: parameter 'w' in '{{.*}}.no-layout': the file has no layout for it (metadata 'baq.layout.w')
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: parameter 'w' in '{{.*}}.missing': the file has no tensor 'w.zeros'
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.dtype 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: parameter 'w' in '{{.*}}.dtype': tensor 'w.scales' is BF16 [4, 1], but the layout needs F16 [4, 1]
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.shape 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: parameter 'w' in '{{.*}}.shape': tensor 'w.zeros' is F16 [1, 4], but the layout needs F16 [4, 1]
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.bits 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: parameter 'w' in '{{.*}}.bits': the layout's bits must be integers in [0, 8]
// RUN: not baq-opt %S/Inputs/params-w.mlir --baq-inline-params=file=%t.parts 2>&1 | FileCheck %s --check-prefix=PARTS
// PARTS: error: parameter 'w' in '{{.*}}.parts': the layout's parts.payload is not the dtype and shape its bits imply
// A key the file has, read with another layout (here: other bits).
// RUN: not baq-opt %S/Inputs/params-w-mismatch.mlir --baq-inline-params=file=%t.good --split-input-file 2>&1 | FileCheck %s --check-prefix=DIFF
// DIFF: error: parameter 'w' in '{{.*}}.good': the file's layout differs from the module's
// DIFF: error: parameter 'w' is read with two different layouts
// A key no file has.
// RUN: not baq-opt %S/Inputs/params-w-mismatch.mlir --split-input-file --baq-inline-params=file=%t.good 2>&1 | FileCheck %s --check-prefix=NOKEY
// NOKEY: error: parameter 'other' in '{{.*}}.good': the file has no layout for it (metadata 'baq.layout.other')
// Externalizing needs a file it can write, and a module that reads no file yet.
// RUN: not baq-opt %S/../Conversion/BaqToKernels/params.mlir --baq-externalize-params=file=%t.nonexistent/dir/p.safetensors 2>&1 | FileCheck %s --check-prefix=READS
// READS: error: the module already reads parameter 'blk0.wq' from a file: inline it first (--baq-inline-params)
// RUN: not baq-opt %S/params.mlir --baq-externalize-params=file=%t.nonexistent/dir/p.safetensors 2>&1 | FileCheck %s --check-prefix=WRITE
// WRITE: error: baq-externalize-params: cannot write '{{.*}}.nonexistent/dir/p.safetensors': {{.*}}No such file or directory
// RUN: not baq-opt %S/params.mlir --baq-externalize-params 2>&1 | FileCheck %s --check-prefix=NONAME
// NONAME: error: baq-externalize-params: file= names the parameter file to write

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

func.func @empty_key() {
  // expected-error@+1 {{'baq.packed_parameter' op key must not be empty}}
  %p, %s, %z = baq.packed_parameter #layout key("")
  return
}

// -----

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

func.func @wrong_type() {
  // expected-error@+1 {{'baq.packed_parameter' op scales has type 'tensor<4x1xf32>', but the layout requires 'tensor<4x1xf16>'}}
  %p, %s, %z = "baq.packed_parameter"() <{layout = #layout, key = "w"}>
      : () -> (tensor<2xi32>, tensor<4x1xf32>, tensor<4x1xf16>)
  return
}

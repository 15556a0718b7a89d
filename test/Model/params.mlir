// Weights as parameters: the synthetic model quantized, its packed weights
// moved into a parameter file, and run by baq-run with --params (the file
// mapped, its symbols bound in the JIT) gives the embedded form's logits and
// text exactly. The lowered parameter form holds none of the packed blobs.
//
// RUN: %pybaq -m baq.export_model --emit synthetic --prefill 0 --synthetic-tokenizer %t.tok -q -o %t.h.mlir
// RUN: baq-opt %t.h.mlir --baq-allocate="target-bits=3 progress=false" -o %t.mlir
// RUN: baq-opt %t.mlir --baq-externalize-params=file=%t.safetensors -o %t.p.mlir
// RUN: FileCheck %s --check-prefix=MODULE --input-file=%t.p.mlir
// RUN: baq-run %t.mlir --tokenizer %t.tok --prompt "the cat" --steps 12 --dump-logits %t.emb.logits > %t.emb.txt
// RUN: baq-run %t.p.mlir --params %t.safetensors --tokenizer %t.tok --prompt "the cat" --steps 12 --dump-logits %t.par.logits > %t.par.txt
// RUN: diff %t.emb.txt %t.par.txt
// RUN: cmp %t.emb.logits %t.par.logits
// RUN: baq-opt %t.p.mlir --baq-lower-cpu | FileCheck %s --check-prefix=LOWERED
//
// MODULE: baq.packed_parameter {{.*}} key("blk0_wq")
// MODULE-NOT: baq.packed_constant
// MODULE-NOT: _payload:
// LOWERED: llvm.mlir.global external @__baq_param_blk0__wq.payload()
// LOWERED-NOT: _payload:
// LOWERED-NOT: _scales:
// LOWERED-NOT: _zeros:

// Error paths, each before any compilation.
// RUN: not baq-run %t.p.mlir --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=NOPARAMS
// NOPARAMS: baq-run: error: the module reads {{[0-9]+}} packed weights from a parameter file (e.g. '{{.*}}'): pass it with --params
// RUN: not baq-run %t.p.mlir --params %t.missing --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: baq-run: error: parameter file '{{.*}}.missing': No such file or directory
// RUN: %python %S/../Transforms/Inputs/make_params.py %t.good good
// RUN: not baq-run %t.p.mlir --params %t.good --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=KEY
// KEY: baq-run: error: parameter file '{{.*}}.good': parameter '{{.*}}': the file has no layout for it (metadata 'baq.layout.{{.*}}')
// RUN: %python %S/../Transforms/Inputs/make_params.py %t.dtype dtype
// RUN: not baq-run %S/Inputs/params-forward.mlir --params %t.dtype --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: baq-run: error: parameter file '{{.*}}.dtype': parameter 'w': tensor 'w.scales' is BF16 [4, 1], but the layout needs F16 [4, 1]
// RUN: %python %S/../Transforms/Inputs/make_params.py %t.missing-part missing
// RUN: not baq-run %S/Inputs/params-forward.mlir --params %t.missing-part --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=PART
// PART: baq-run: error: parameter file '{{.*}}.missing-part': parameter 'w': the file has no tensor 'w.zeros'
// RUN: %python %S/../Transforms/Inputs/make_params.py %t.unaligned unaligned
// RUN: not baq-run %S/Inputs/params-forward.mlir --params %t.unaligned --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=ALIGN
// ALIGN: baq-run: error: parameter file '{{.*}}.unaligned': parameter 'w': tensor 'w.scales' starts at byte {{[0-9]+}} of the file, not 64-byte aligned
// RUN: printf 'short' > %t.short
// RUN: not baq-run %S/Inputs/params-forward.mlir --params %t.short --tokenizer %t.tok 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: baq-run: error: parameter file '{{.*}}.short': 5 bytes, shorter than the 8-byte header size
// The good file binds and runs; --params on a module without parameters is a note.
// RUN: baq-run %S/Inputs/params-forward.mlir --params %t.good --tokenizer %t.tok --steps 2 > /dev/null
// RUN: baq-run %S/Inputs/tiny-forward.mlir --params %t.good --tokenizer %t.tok --steps 2 2>&1 > /dev/null | FileCheck %s --check-prefix=UNUSED
// UNUSED: baq-run: note: the module reads no parameters; --params is not used

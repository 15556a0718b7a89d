//===- Passes.td - BAQ transformation passes ---------------*- tablegen -*-===//

#ifndef BAQ_DIALECT_BAQ_TRANSFORMS_PASSES_TD
#define BAQ_DIALECT_BAQ_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def BaqAllocate : Pass<"baq-allocate"> {
  let summary = "Allocate per-column bitwidths with BAQ and pack the weights";
  let description = [{
    For every linalg contraction (any `linalg` op whose body is a mul-add
    with exactly one reduction dimension: `linalg.matmul` with plain or
    transposed-B maps, `linalg.generic` with matmul semantics,
    `linalg.batch_matmul` with a broadcast 2-D weight, `linalg.matvec`,
    `linalg.vecmat`) that carries a `baq.hessian` attribute and whose weight
    input is a compile-time constant, this pass

    1. damps and factors the Hessian (GPTQ damping, dead inputs zeroed),
    2. computes the BAQ sensitivities `C_j` (paper eq. 10),
    3. allocates integer bitwidths per input channel for the bit budget
       (`exact`: the integer optimum, never over budget; `paper`: Alg. 1-2),
    4. quantizes with GPTQ (or RTN) using each column's own bitwidth, and
    5. replaces every read of the weight by `baq.packed_constant` +
       `baq.dequantize`, attaching `baq.bits` to the contraction.

    The weight is a static 2-D f32/f16/bf16 tensor (dense or
    `dense_resource`) stored in an `arith.constant`, an immutable
    `ml_program.global` (read by `global_load_const` / `global_load`) or a
    constant `memref.global` (read by `get_global` + `bufferization.to_tensor`),
    possibly seen through `linalg.transpose`, `linalg.broadcast` (batch
    dims; or the yield-only `linalg.generic` they generalize to), unit-dim `tensor.collapse_shape` / `tensor.expand_shape` and
    `tensor.cast`; the weight must have no batch dimension of its own. A
    weight read by several contractions is quantized once (with the first
    one's Hessian) and every other user reads the same dequantized value.
    Contractions without a Hessian, and weights that are arguments, mutable
    globals or computed values, are left untouched with a remark. Already
    quantized contractions are skipped, so the pass is idempotent. Hessians
    shared by several contractions (q/k/v) are prepared once.

    The pass has no anchor (like `canonicalize`): it runs on a
    `builtin.module` or nested on `func.func`, e.g.
    `builtin.module(func.func(canonicalize, baq-allocate{...}))`. It only
    rewrites ops inside the op it runs on: nested in a function, it replaces
    that function's global loads but leaves a module-level global in place
    (functions run concurrently; erasing a sibling symbol would race), so run
    `symbol-dce` afterwards. On a module it erases a private global it left
    without uses. Nested below the module, the blobs it creates are named
    after the function too (`<function>.<weight>_payload`, or
    `<function>_payload` for a weight named after its function), so that
    instances running concurrently never race for a name: the output is the
    same bytes on every run.

    Scales are stored in `scale-type` only where it holds every (row, group)
    range: a range beyond its largest value, or nonzero but below its
    smallest normal value (where the stored scale would keep few significant
    bits, or round to 0 and decode the group to zeros), is an error naming
    the weight, row and group; `auto` takes f32 for such a layer instead.
    By default (`auto`) scales are 8-bit codes (docs/FORMAT.md §4: an
    unsigned float with 4 exponent and 4 mantissa bits, 2.6e-4 to 15.5) for
    every layer whose ranges they hold, f16 for the others: with the 8-bit
    zero codes a (row, group) costs 16 bits instead of 24, bits that
    `budget=total` spends on the payload.

    With `budget=payload` the average payload bits per weight is at most
    `target-bits`; with `budget=total` every metadata bit (scales, zeros,
    bitwidth table, padding) counts against it too. With `budget-scope=layer`
    every matmul meets the budget alone; with `budget-scope=module` (the
    default) the sum over all matmuls does, each matmul getting the same
    payload bits per weight — the largest rate whose layouts and metadata
    fit (a uniform layout's split; narrow layers' scales are paid from the
    whole budget, not from their own payload); `budget-scope=module-greedy`
    (exact allocator only) trades bits across layers by relative predicted
    loss before any weight is quantized.

    Within a matmul the exact allocator minimises, by default
    (`loss-model=measured`), each column's loss measured by rounding it at
    every bitwidth on the grid it will be stored with, weighted by
    `1/[H_F^-1]_jj` (the paper's `C_j 2^-2b` with `loss-model=paper`);
    grids are searched for the Hessian-weighted squared error
    (`grid-weight=hessian`); columns are quantized in act-order where it
    applies; and the guard (`guard=true`) also quantizes a reallocation on
    the first result's grid and the widest uniform layout within the budget,
    keeping the lowest measured `tr((W-Q) H (W-Q)^T)`, so a layer is never
    worse than uniform GPTQ at its budget. The kept result is then refined
    (`refine=2`): rounds of exact coordinate descent over its codes and a
    least-squares refit of its scales, which lower GPTQ's objective at the
    same layout and stored bits (GPTQ never revisits a code). docs/RESULTS.md
    measures each.

    Each (row, group) minimum is stored as an 8-bit code by default
    (`zero-type=u8`, docs/FORMAT.md §4: `i8` zeros, 8 instead of 16 bits per
    group, for every scale type, group size, allocator and quantizer; it
    measured better at every equal total, docs/RESULTS.md);
    `zero-type=auto` stores it in the scales' float type.
  }];
  let dependentDialects = [
    "::mlir::baq::BaqDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect"
  ];
  let options = [
    Option<"targetBits", "target-bits", "double", /*default=*/"2.0",
           "Average bits per weight to meet (see `budget`)">,
    Option<"budget", "budget", "::mlir::baq::BudgetKind",
           /*default=*/"::mlir::baq::BudgetKind::Payload",
           "What `target-bits` constrains",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::BudgetKind::Payload, "payload",
                        "payload bits only"),
             clEnumValN(::mlir::baq::BudgetKind::Total, "total",
                        "payload plus every metadata bit"))}]>,
    Option<"budgetScope", "budget-scope", "::mlir::baq::BudgetScope",
           /*default=*/"::mlir::baq::BudgetScope::Module",
           "Where `target-bits` is met",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::BudgetScope::Layer, "layer",
                        "by every matmul on its own"),
             clEnumValN(::mlir::baq::BudgetScope::Module, "module",
                        "over all matmuls together, metadata pooled: every "
                        "matmul gets the same payload bits per weight (as a "
                        "uniform layout spends them) and allocates them over "
                        "its columns; with budget=payload the same as layer"),
             clEnumValN(::mlir::baq::BudgetScope::ModuleGreedy,
                        "module-greedy",
                        "over all matmuls together (allocator=exact): bits "
                        "go where they lower the relative predicted loss "
                        "most per stored bit, across layers"))}]>,
    Option<"allocator", "allocator", "::mlir::baq::AllocatorKind",
           /*default=*/"::mlir::baq::AllocatorKind::Exact",
           "Integer bit allocation rule",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::AllocatorKind::Exact, "exact",
                        "exact integer optimum for the budget (greedy)"),
             clEnumValN(::mlir::baq::AllocatorKind::Paper, "paper",
                        "the paper's Alg. 1-2 (rounding, approximate budget)"))}]>,
    Option<"quantizer", "quantizer", "::mlir::baq::QuantizerKind",
           /*default=*/"::mlir::baq::QuantizerKind::Gptq",
           "Rounding of the weights",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::QuantizerKind::Gptq, "gptq",
                        "GPTQ with error feedback"),
             clEnumValN(::mlir::baq::QuantizerKind::Rtn, "rtn",
                        "round to nearest"))}]>,
    Option<"sensitivity", "sensitivity", "::mlir::baq::SensitivityKind",
           /*default=*/"::mlir::baq::SensitivityKind::Cholesky",
           "Which [H_F^-1]_jj the sensitivities use",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::SensitivityKind::Cholesky, "cholesky",
                        "U_jj^2 of the Cholesky factor of H^-1 (GPTQ order)"),
             clEnumValN(::mlir::baq::SensitivityKind::Diagonal, "diagonal",
                        "plain diagonal of H^-1"))}]>,
    Option<"uniform", "uniform", "bool", /*default=*/"false",
           "Baseline: the same bitwidth for every column (no allocation)">,
    Option<"minBits", "min-bits", "int", /*default=*/"0",
           "Smallest bitwidth a column may get (0..8)">,
    Option<"maxBits", "max-bits", "int", /*default=*/"8",
           "Largest bitwidth a column may get (0..8)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Input channels per scale group in packed order (0: per row)">,
    Option<"scaleType", "scale-type", "::mlir::baq::ScaleTypeKind",
           /*default=*/"::mlir::baq::ScaleTypeKind::Auto",
           "Element type of the stored scales and zeros",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::ScaleTypeKind::Auto, "auto",
                        "8-bit codes (u8) where they hold the layer's "
                        "ranges, else f16, or f32 for a layer with a range "
                        "beyond f16 or a nonzero range below its normal "
                        "range"),
             clEnumValN(::mlir::baq::ScaleTypeKind::F16, "f16",
                        "f16 (an error if a nonzero range lies outside its "
                        "normal range)"),
             clEnumValN(::mlir::baq::ScaleTypeKind::BF16, "bf16", "bf16"),
             clEnumValN(::mlir::baq::ScaleTypeKind::F32, "f32", "f32"),
             clEnumValN(::mlir::baq::ScaleTypeKind::U8, "u8",
                        "an 8-bit code c, s = (16 + c mod 16) * "
                        "2^(floor(c / 16) - 16), 0 for c = 0 (i8 in the IR; "
                        "8 instead of 16 bits per group; ranges up to 15.5)"))}]>,
    Option<"zeroType", "zero-type", "::mlir::baq::ZeroTypeKind",
           /*default=*/"::mlir::baq::ZeroTypeKind::U8",
           "Storage of each (row, group) minimum",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::ZeroTypeKind::U8, "u8",
                        "an 8-bit code zq, z = -(s * zq) / 255 (i8 in the IR; "
                        "8 instead of 16 bits per group)"),
             clEnumValN(::mlir::baq::ZeroTypeKind::Auto, "auto",
                        "the scales' float type (f16 unless a range needs f32)"))}]>,
    Option<"actOrder", "act-order", "::mlir::baq::ActOrderKind",
           /*default=*/"::mlir::baq::ActOrderKind::Auto",
           "GPTQ's act-order: quantize columns by decreasing H_jj",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::ActOrderKind::Auto, "auto",
                        "on where it applies (group-size=0, "
                        "budget-scope=layer, quantizer=gptq), else off"),
             clEnumValN(::mlir::baq::ActOrderKind::On, "true",
                        "on (needs group-size=0 and budget-scope=layer)"),
             clEnumValN(::mlir::baq::ActOrderKind::Off, "false",
                        "natural column order"))}]>,
    Option<"prunedFirst", "pruned-first", "bool", /*default=*/"true",
           "With act-order, GPTQ handles a layout's 0-bit channels first (as "
           "SparseGPT prunes), so the channels after them compensate their "
           "error; one more Hessian preparation per such layout">,
    Option<"mseGrid", "mse-grid", "bool", /*default=*/"true",
           "Shrink each (row, group) range to the MSE-optimal clipping "
           "(see `grid-weight`) instead of min-max (false)">,
    Option<"gridWeight", "grid-weight", "::mlir::baq::GridWeightKind",
           /*default=*/"::mlir::baq::GridWeightKind::Hessian",
           "Error the MSE grid search minimises",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::GridWeightKind::Hessian, "hessian",
                        "sum_j (Q(w)-w)^2 / [H_F^-1]_jj: the diagonal of the "
                        "layer loss, so the clip serves the columns whose "
                        "error costs most"),
             clEnumValN(::mlir::baq::GridWeightKind::None, "none",
                        "GPTQ's unweighted sum |Q(w)-w|^2.4"))}]>,
    Option<"lossModel", "loss-model", "::mlir::baq::LossModelKind",
           /*default=*/"::mlir::baq::LossModelKind::Measured",
           "Column losses the exact allocator minimises",
           [{::llvm::cl::values(
             clEnumValN(::mlir::baq::LossModelKind::Measured, "measured",
                        "each column rounded at every bitwidth on its stored "
                        "grid, weighted by 1/[H_F^-1]_jj"),
             clEnumValN(::mlir::baq::LossModelKind::Paper, "paper",
                        "the paper's C_j 2^(-2b)"))}]>,
    Option<"guard", "guard", "bool", /*default=*/"true",
           "Also quantize the widest uniform layout within the budget and a "
           "second allocation on the first result's grid; keep the lowest "
           "measured tr((W-Q) H (W-Q)^T) (allocator=exact/paper, "
           "budget-scope=layer)">,
    Option<"refine", "refine", "unsigned", /*default=*/"2",
           "Rounds of refinement of the kept GPTQ result (0: none): exact "
           "coordinate descent over the codes, then a least-squares refit of "
           "the scales (zero-type=u8); lowers tr((W-Q) H_d (W-Q)^T) at the "
           "same layout and bits">,
    Option<"damp", "damp", "double", /*default=*/"0.01",
           "Relative Hessian damping (fraction of mean diagonal)">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "GPTQ lazy-batch block size">,
    Option<"reportFile", "report", "std::string", /*default=*/"\"\"",
           "Write a JSON report to this file (it never changes the output; "
           "nested below the module, each instance writes "
           "<stem>.<function><ext>)">,
    Option<"progress", "progress", "bool", /*default=*/"true",
           "Print one progress line per matmul and one summary line per run "
           "(what was quantized, what was left alone and why, counted by "
           "reason, bits) on stderr">,
    Option<"verbose", "verbose", "bool", /*default=*/"false",
           "Also remark on every contraction left unquantized and every "
           "shared weight (with the op, as MLIR diagnostics print it)">
  ];
}

def BaqAttachHessians : Pass<"baq-attach-hessians", "ModuleOp"> {
  let summary = "Attach calibration Hessians from a safetensors file";
  let description = [{
    Reads `file` (safetensors: 8-byte little-endian header size, JSON
    header, raw little-endian data; what `baq.calibrate` writes) and sets
    `baq.hessian` on every contraction whose weight has a tensor's name: the
    symbol of the global holding the weight, else its `dense_resource` key,
    else a `NameLoc` on the contraction (`loc("fc1")`). Tensors are N x N
    f32, f16 or bf16 with N the weight's input features; they are stored as
    f32 `dense_resource` blobs named `<name>_hessian`, so that
    `--baq-allocate` can run next. Hessians are `2/n sum x x^T` over
    calibration inputs (the normalisation `--baq-allocate` assumes; damping
    makes the scale irrelevant to the allocation).

    A tensor that matches no weight, a shape that is not the weight's
    [N, N], an unsupported dtype, and a file whose header lies about sizes
    or offsets (or that is truncated) are errors located in the file (a
    named location `<file>:<byte offset of the key> (tensor '<key>')`) or on
    the contraction; the number of
    attached Hessians is reported as a remark. It runs on a module because it
    reads the file once for all functions.
  }];
  let dependentDialects = ["::mlir::baq::BaqDialect"];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"",
           "Safetensors file with the Hessians, keyed by weight name">
  ];
}

def BaqExternalizeParams : Pass<"baq-externalize-params", "ModuleOp"> {
  let summary = "Move packed weights into a parameter file";
  let description = [{
    Writes the payload words, scales and zeros of every `baq.packed_constant`
    into one safetensors parameter file (docs/FORMAT.md "Parameter file":
    tensors `<key>.payload`, `<key>.scales`, `<key>.zeros`, every tensor's
    data 64-byte aligned, each weight's layout as JSON in `__metadata__`
    under `baq.layout.<key>`) and replaces the op by
    `baq.packed_parameter #baq.layout<...> key("<key>")`, so the module no
    longer holds the weight bytes. The key is the `<key>` of the op's blobs
    `<key>_payload`, `<key>_scales`, `<key>_zeros` (what `--baq-allocate`
    names them), else its `NameLoc`, else `weight`; a key already taken gets
    a `.1`, `.2` ... suffix. Ops that share their blobs (one weight read in
    several places) share one key. Weights smaller than `min-bytes` (all three
    parts together) stay embedded.

    The file is streamed to a temporary file renamed once complete. A module
    that already reads parameters is an error (it would need two files).
  }];
  let dependentDialects = ["::mlir::baq::BaqDialect"];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"",
           "Parameter file (safetensors) to write">,
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"0",
           "Keep weights with fewer bytes (payload + scales + zeros) "
           "embedded">
  ];
}

def BaqInlineParams : Pass<"baq-inline-params", "ModuleOp"> {
  let summary = "Read packed weights back from a parameter file";
  let description = [{
    The inverse of `--baq-externalize-params`: replaces every
    `baq.packed_parameter` by a `baq.packed_constant` whose parts are
    `dense_resource` blobs `<key>_payload`, `<key>_scales`, `<key>_zeros`
    read from `file` (mapped, not read whole). The file must be a BAQ
    parameter file (`baq.format` metadata); each key's stored layout must be
    the op's, and its three tensors must exist with the dtype and shape the
    layout implies. Every mismatch is an error on the op naming the key. Ops
    with one key share one set of blobs. Without parameter ops the pass does
    nothing (and reads no file).
  }];
  let dependentDialects = ["::mlir::baq::BaqDialect"];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"",
           "Parameter file (safetensors) to read">
  ];
}

def BaqExpand : Pass<"baq-expand"> {
  let summary = "Lower baq ops to upstream tensor-level dialects";
  let description = [{
    Replaces every `baq.packed_constant` by three `arith.constant`s holding
    the same values (`dense_resource` blobs stay blobs) and every
    `baq.dequantize` by a `linalg.generic` that unpacks the codes and applies
    `(q - zp) * s / (2^b - 1)` in f32 (docs/FORMAT.md §4). Per-channel
    constants (bitwidth, word index, next word, shift, group) are 1-D `i32`
    tensors read elementwise; payload words, scales and zeros are gathered
    with `tensor.extract`. The generic feeds the matmul directly, the
    dequantize + matmul shape IREE fuses. A `baq.packed_matmul` becomes such
    a generic (f32) feeding a `linalg.matmul` with the maps of the layout's
    `channel_dim` (plain for 0, transposed B for 1), which multiplies and
    accumulates in the init's element type, as a `linalg.matmul` does.

    Discardable `baq.*` attributes (`baq.bits`, `baq.hessian`) are dropped,
    so the result parses without the baq dialect; any other baq attribute
    left in the IR is an error. Without baq ops the pass is a no-op.

    The pass has no anchor: it runs on a module or nested on `func.func`
    (it only touches ops inside the op it runs on).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // BAQ_DIALECT_BAQ_TRANSFORMS_PASSES_TD

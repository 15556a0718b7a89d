//===- BaqDialect.td - BAQ dialect definition --------------*- tablegen -*-===//

#ifndef BAQ_DIALECT_BAQ_IR_BAQDIALECT_TD
#define BAQ_DIALECT_BAQ_IR_BAQDIALECT_TD

include "mlir/IR/OpBase.td"

def Baq_Dialect : Dialect {
  let name = "baq";
  let cppNamespace = "::mlir::baq";
  let summary = "Mixed per-column bitwidth weight quantization (BAQ)";
  let description = [{
    The `baq` dialect carries the result of Bit Allocation Quantization on
    `linalg.matmul` weights: per-input-channel bitwidths, a self-describing
    packed layout (docs/FORMAT.md), a packed weight constant and its
    dequantization into a float tensor.

    Discardable attributes understood on `linalg.matmul`:

    * `baq.hessian`: the calibration Hessian `H = 2 X X^T` of the matmul's
      input features, an `N x N` f32 tensor constant (`dense_resource` or
      dense), `N` = the reduction size of the matmul.
    * `baq.bits`: a `#baq.bits` attribute with one bitwidth per input
      channel, attached by `--baq-allocate`.
    * `baq.target_bits`: a float in (0, 8], this matmul's own
      `--baq-allocate` target (in the pass's `budget` kind), which it meets
      on its own instead of sharing the module's (per-tensor overrides, and
      the per-layer mix baseline of `baq.quantize --layer-mix`).

    Discardable attribute understood on any operation:

    * `baq.block`: a non-negative integer, the index of the model block
      (decoder layer) the operation computes, set by the whole-model
      exporter. `--baq-share-blocks` outlines each block's op range and calls
      one function per group of structurally identical blocks.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral getHessianAttrName() {
      return ::llvm::StringLiteral("baq.hessian");
    }
    static constexpr ::llvm::StringLiteral getBitsAttrName() {
      return ::llvm::StringLiteral("baq.bits");
    }
    /// Per-matmul target of --baq-allocate (a float in (0, 8]).
    static constexpr ::llvm::StringLiteral getTargetBitsAttrName() {
      return ::llvm::StringLiteral("baq.target_bits");
    }
    /// The model block an operation belongs to (a non-negative integer).
    static constexpr ::llvm::StringLiteral getBlockAttrName() {
      return ::llvm::StringLiteral("baq.block");
    }
  }];
}

class Baq_Op<string mnemonic, list<Trait> traits = []>
    : Op<Baq_Dialect, mnemonic, traits>;

#endif // BAQ_DIALECT_BAQ_IR_BAQDIALECT_TD

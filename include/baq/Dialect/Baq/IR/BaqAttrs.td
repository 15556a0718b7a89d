//===- BaqAttrs.td - BAQ attributes ------------------------*- tablegen -*-===//

#ifndef BAQ_DIALECT_BAQ_IR_BAQATTRS_TD
#define BAQ_DIALECT_BAQ_IR_BAQATTRS_TD

include "baq/Dialect/Baq/IR/BaqDialect.td"
include "mlir/IR/AttrTypeBase.td"

// An integer array printed and parsed as `[1, 2, 3]`.
class Baq_IntArrayParameter<string type> : ArrayRefParameter<type> {
  let parser = "::mlir::baq::parseIntArray<" # type # ">($_parser)";
  let printer = "::mlir::baq::printIntArray($_printer, $_self)";
}

class Baq_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Baq_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Baq_BitsAttr : Baq_Attr<"Bits", "bits"> {
  let summary = "Per-input-channel bitwidths (0..8)";
  let description = [{
    One bitwidth per input channel of a weight, in original channel order.
    0 means the channel is dropped (dequantizes to zero).

    ```mlir
    linalg.matmul {baq.bits = #baq.bits<[2, 3, 0, 8]>} ...
    ```
  }];
  let parameters = (ins Baq_IntArrayParameter<"int8_t">:$bits);
  let assemblyFormat = "`<` $bits `>`";
  let genVerifyDecl = 1;
}

def Baq_PackedLayoutAttr : Baq_Attr<"PackedLayout", "layout"> {
  let summary = "Self-describing packed layout of a mixed-bitwidth weight";
  let description = [{
    Describes a packed weight completely (see docs/FORMAT.md):

    * `outputs` (M) and `inputs` (N): the logical weight is M x N, N input
      channels;
    * `channel_dim`: which dimension of the matmul's weight operand is the
      input channel (0 for a `[N, M]` operand of a plain `linalg.matmul`,
      1 for a transposed `[M, N]` operand as emitted for `nn.Linear`);
    * `bits`: bitwidth of every input channel (0..8), original order;
    * `perm`: packed position -> channel, the canonical stable sort by
      descending bitwidth;
    * `segments`: flat `[bits, start, count, bit_offset]` quadruples, one
      per run of equal non-zero bitwidth in packed order; `bit_offset` is
      where the segment starts in each row's bit stream;
    * `group_size`: channels per scale group in packed order (0: one group
      per row);
    * `scale_type`: f16, bf16 or f32; `zero_type`: the same, or i8 for 8-bit
      zero codes (unsigned, z = -((s * zq) / 255));
    * `payload_bytes`, `scale_bytes`, `zero_bytes`: byte sizes of the parts.

    The verifier recomputes every derived field from `bits` and rejects any
    mismatch, so a layout can be trusted by kernels and readers.
  }];
  let parameters = (ins
    "int64_t":$outputs,
    "int64_t":$inputs,
    "int64_t":$channel_dim,
    Baq_IntArrayParameter<"int8_t">:$bits,
    Baq_IntArrayParameter<"int32_t">:$perm,
    Baq_IntArrayParameter<"int64_t">:$segments,
    "int64_t":$group_size,
    "::mlir::Type":$scale_type,
    "::mlir::Type":$zero_type,
    "int64_t":$payload_bytes,
    "int64_t":$scale_bytes,
    "int64_t":$zero_bytes
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$outputs, "int64_t":$channelDim,
                     "::llvm::ArrayRef<int8_t>":$bits, "int64_t":$groupSize,
                     "::mlir::Type":$scaleType, "::mlir::Type":$zeroType)>
  ];
  let extraClassDeclaration = [{
    int64_t getNumGroups() const;
    /// The `segments` quadruples as records: what the verifier,
    /// --baq-expand and the kernels read instead of indexing the flat array.
    ::llvm::SmallVector<SegmentInfo> getSegmentInfos() const;
    /// L: bits of one output row's stream (sum of the bitwidths).
    int64_t getRowBits() const;
    /// F * M row-interleaved words plus ceil(M * r / 32) tail words, with
    /// F = L / 32 and r = L mod 32.
    int64_t getPayloadWords() const;
    /// tensor<payload_words x i32>
    ::mlir::RankedTensorType getPayloadType() const;
    /// tensor<M x G x scale_type> / tensor<M x G x zero_type>
    ::mlir::RankedTensorType getScalesType() const;
    ::mlir::RankedTensorType getZerosType() const;
    /// Shape of the weight operand: [N, M] or [M, N] per channel_dim.
    ::llvm::SmallVector<int64_t, 2> getWeightShape() const;
  }];
}

#endif // BAQ_DIALECT_BAQ_IR_BAQATTRS_TD

//===- BaqOps.td - BAQ operations --------------------------*- tablegen -*-===//

#ifndef BAQ_DIALECT_BAQ_IR_BAQOPS_TD
#define BAQ_DIALECT_BAQ_IR_BAQOPS_TD

include "baq/Dialect/Baq/IR/BaqAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Baq_PackedConstantOp : Baq_Op<"packed_constant",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "Packed mixed-bitwidth weight constant";
  let description = [{
    Holds the three parts of a packed weight as constants (normally
    `dense_resource` blobs) together with the layout that describes them:
    the payload words `tensor<W x M x i32>`, and the per-(row, group) grid
    range (`scales`) and minimum (`zeros`). The verifier checks every type
    against the layout and, for resource blobs, the blob's byte size.

    ```mlir
    %p, %s, %z = baq.packed_constant #baq.layout<...>
        payload(dense_resource<w_payload> : tensor<3x64xi32>)
        scales(dense_resource<w_scales> : tensor<64x1xf16>)
        zeros(dense_resource<w_zeros> : tensor<64x1xf16>)
    ```
  }];
  let arguments = (ins Baq_PackedLayoutAttr:$layout, ElementsAttr:$payload,
                       ElementsAttr:$scales, ElementsAttr:$zeros);
  let results = (outs AnyRankedTensor:$payload_result,
                      AnyRankedTensor:$scales_result,
                      AnyRankedTensor:$zeros_result);
  let assemblyFormat = [{
    qualified($layout) `payload` `(` $payload `)` `scales` `(` $scales `)`
    `zeros` `(` $zeros `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Baq_PackedParameterOp : Baq_Op<"packed_parameter",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
     DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "Packed mixed-bitwidth weight held in a parameter file";
  let description = [{
    The parameter form of `baq.packed_constant`: the same three results,
    typed by the layout (payload words, scales, zeros), whose values are not
    in the module but in a parameter file under the tensors
    `<key>.payload`, `<key>.scales` and `<key>.zeros` (safetensors,
    docs/FORMAT.md "Parameter file"). `--baq-externalize-params` writes the
    file and makes these ops, `--baq-inline-params` turns them back into
    `baq.packed_constant`; the CPU lowering reads them from external
    `memref.global`s that `baq-run --params` binds to the mapped file, so
    compiling the module never touches the weight bytes.

    ```mlir
    %p, %s, %z = baq.packed_parameter #baq.layout<...> key("layers.0.wq")
    ```
  }];
  let arguments = (ins Baq_PackedLayoutAttr:$layout, StrAttr:$key);
  let results = (outs AnyRankedTensor:$payload_result,
                      AnyRankedTensor:$scales_result,
                      AnyRankedTensor:$zeros_result);
  let assemblyFormat = [{
    qualified($layout) `key` `(` $key `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Baq_DequantizeOp : Baq_Op<"dequantize", [Pure]> {
  let summary = "Dequantize a packed weight into a float tensor";
  let description = [{
    Reconstructs the weight operand of a `linalg.matmul` from its packed
    parts: channel `j` with bitwidth `b > 0` of row `i` becomes
    `(code - zp) * step` with `step = scale / (2^b - 1)` and the integer zero
    point `zp = round(-zero / step)` (GPTQ's grid, docs/FORMAT.md §4), 0-bit
    channels become 0, laid out as
    `[N, M]` or `[M, N]` according to the layout's `channel_dim`.

    ```mlir
    %w = baq.dequantize %p, %s, %z layout(#baq.layout<...>)
        : tensor<3x64xi32>, tensor<64x1xf16>, tensor<64x1xf16>
        -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins TensorOf<[I32]>:$payload, AnyRankedTensor:$scales,
                       AnyRankedTensor:$zeros, Baq_PackedLayoutAttr:$layout);
  let results = (outs RankedTensorOf<[F16, BF16, F32]>:$result);
  let assemblyFormat = [{
    $payload `,` $scales `,` $zeros `layout` `(` qualified($layout) `)` attr-dict `:`
    type($payload) `,` type($scales) `,` type($zeros) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Baq_PackedMatmulOp : Baq_Op<"packed_matmul",
    [Pure, DestinationStyleOpInterface]> {
  let summary = "Matmul with a packed mixed-bitwidth weight";
  let description = [{
    `c + a · Wᵀ`: multiplies the activations `a` (`[R, K]`: R rows of the K
    input channels) by the transpose of the weight `W` the layout describes
    and adds the product to the init `c` (`[R, M]`, M outputs):

    ```
    result[r, m] = c[r, m] + sum_k a[r, k] * W[m, k]
    ```

    `W` is the logical `M x K` weight (`outputs x inputs` of the layout),
    i.e. what `baq.dequantize` returns transposed for `channel_dim = 0` and
    as is for `channel_dim = 1`: the op's orientation is fixed, and the
    layout's `channel_dim` only records how the original weight operand was
    stored. The packed kernels multiply and accumulate in f32 and round once
    into `c`'s element type; `--baq-expand` turns the op back into the
    dequantize (f32) + `linalg.matmul` it stands for.

    It is the fused form of a `linalg.matmul` whose weight operand is a
    `baq.dequantize` (`--baq-fuse-packed-matmul`), and what the packed
    kernels of `--baq-build-kernels` lower. The op is destination-passing:
    `c` is its init and the result has `c`'s type.

    ```mlir
    %r = baq.packed_matmul ins(%a, %p, %s, %z : tensor<1x64xf32>,
        tensor<3x64xi32>, tensor<64x1xf16>, tensor<64x1xf16>)
        outs(%c : tensor<1x64xf32>) layout(#baq.layout<...>)
        -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F16, BF16, F32]>:$input,
                       TensorOf<[I32]>:$payload, AnyRankedTensor:$scales,
                       AnyRankedTensor:$zeros,
                       RankedTensorOf<[F16, BF16, F32]>:$init,
                       Baq_PackedLayoutAttr:$layout);
  let results = (outs RankedTensorOf<[F16, BF16, F32]>:$result);
  let assemblyFormat = [{
    `ins` `(` $input `,` $payload `,` $scales `,` $zeros `:` type($input) `,`
    type($payload) `,` type($scales) `,` type($zeros) `)`
    `outs` `(` $init `:` type($init) `)`
    `layout` `(` qualified($layout) `)` attr-dict `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
  }];
  let hasVerifier = 1;
}

#endif // BAQ_DIALECT_BAQ_IR_BAQOPS_TD

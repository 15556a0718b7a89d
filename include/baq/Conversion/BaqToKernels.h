//===- BaqToKernels.h - Packed-weight kernels as scf.forall -----*- C++ -*-===//
//
// Fuses a quantized matmul (baq.dequantize feeding linalg.matmul) into
// baq.packed_matmul, and lowers baq.packed_matmul and baq.dequantize once, as
// tensor-level scf.forall nests: an outer nest mapped to #gpu.block and an
// inner one mapped to #gpu.thread<x>, with barrier-free bodies. The same IR is
// lowered to CPU loops or to gpu.launch, so what the CPU executes is what the
// GPU would. The lowerings are rewrite patterns (populateBaqToKernelsPatterns)
// over core functions that can be called directly.
//
// The arithmetic follows docs/FORMAT.md; the design is in docs/KERNELS.md.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_CONVERSION_BAQTOKERNELS_H
#define BAQ_CONVERSION_BAQTOKERNELS_H

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace baq {

/// Discardable attribute naming a kernel nest's kind (baq_decode, ...) on its
/// outer scf.forall; GPU outlining names the kernel after it.
constexpr llvm::StringLiteral kKernelKindAttr = "baq_kernel";

/// Discardable i64 attribute on a kernel nest whose loop trip counts are
/// run-time data (shared kernels): the work baq-kernels-to-parallel compares
/// with min-work instead of its static estimate.
constexpr llvm::StringLiteral kKernelWorkAttr = "baq_work";

/// Upper bounds of the kernel options. threads-per-block is CUDA's block
/// limit; the others bound the unrolled code per kernel body: the decode body
/// holds rows x unroll x 32 code steps per segment, and bufferization time
/// grows quadratically with it (32 decode rows already take a minute).
constexpr int64_t kMaxThreadsPerBlock = 1024;
constexpr int64_t kMaxRowsPerThread = 16;
constexpr int64_t kMaxAccumulators = 8;
constexpr int64_t kMaxKSplit = 256;
constexpr int64_t kMaxUnroll = 8;
constexpr int64_t kMaxDecodeRows = 16;
constexpr int64_t kMaxTileRows = 16;
/// Activation rows x unroll of one decode loop body.
constexpr int64_t kMaxDecodeUnrolledRows = 16;

/// A fully resolved kernel configuration (no "default" left).
struct KernelConfig {
  /// Output rows per thread (V). V > 1 reads vector<V x i32> words, one
  /// contiguous load thanks to the word-interleaved payload.
  int64_t rowsPerThread = 1;
  /// Independent accumulators per (activation row, output row).
  int64_t accumulators = 1;
  /// Decode slices over K (S); each writes a partial sum. 0: as many as
  /// `targetThreads` asks for.
  int64_t kSplit = 1;
  /// 32-code chunks per decode loop iteration (their loads issued first).
  int64_t unroll = 1;
  /// Threads of an inner nest (GPU block size).
  int64_t threadsPerBlock = 128;
  /// Activation rows up to which the fused decode kernel is used.
  int64_t decodeMaxRows = 16;
  /// Activation rows per thread in the tiled kernel.
  int64_t tileRows = 4;
  /// Dequantized weights of the tiled kernel are f16 (else f32).
  bool dequantToF16 = false;
  /// The tiled kernel dequantizes a [positions x V] f32 panel per thread
  /// item into a buffer of its own (CPU) instead of reading the whole
  /// dequantized weight (GPU: no allocation inside a kernel).
  bool panelTiled = false;
  /// Use the 2^23 mantissa trick instead of integer-to-float conversion.
  bool magicUnpack = false;
  /// Decode loops use the f16x2 variant (DecodeHalf2.h).
  bool half2Decode = false;
  /// Threads the GPU wants in flight; an auto k-split (0) aims for this.
  int64_t targetThreads = 0;
  /// Decode matmuls call one kernel function per shape class that reads the
  /// layout at run time (buildSharedDecodeMatmul), where the configuration
  /// allows it (k-split 1, unroll 1, no half2).
  bool sharedKernels = false;
};

/// Resolves pass-level options (0 / Default = target default) for a matmul
/// with `rows` activation rows.
KernelConfig
resolveKernelConfig(KernelTarget target, int64_t rows, int64_t rowsPerThread,
                    int64_t accumulators, int64_t kSplit,
                    int64_t threadsPerBlock, int64_t decodeMaxRows,
                    int64_t tileRows, DequantType dequantType,
                    UnpackKind unpack, int64_t unroll,
                    KernelsKind kernels = KernelsKind::Specialized);

/// Resolves the pass options for a matmul with `rows` activation rows (the
/// GPU defaults depend on it).
KernelConfig resolveKernelConfig(const BaqBuildKernelsOptions &options,
                                 int64_t rows);

/// Replaces `matmul`, whose weight operand is a baq.dequantize of a
/// baq.packed_constant (maps matching the layout's channel_dim, static
/// shapes, f16/bf16/f32 operands), by a baq.packed_matmul, and erases the
/// dequantize once unused. Fails with the reason (through
/// `rewriter.notifyMatchFailure`) and the IR unchanged otherwise.
FailureOr<PackedMatmulOp> fusePackedMatmul(RewriterBase &rewriter,
                                           linalg::MatmulOp matmul);

/// Replaces `op`, whose packed operands are one baq.packed_constant's, by
/// the decode kernel nests (gather, activation sums, fused unpack + dot
/// product, slice sum). Fails with the reason (through
/// `rewriter.notifyMatchFailure`) and the IR unchanged when the operands
/// are not constants or its shapes are dynamic.
LogicalResult buildDecodeMatmul(RewriterBase &rewriter, PackedMatmulOp op,
                                const KernelConfig &config);

/// Replaces `op` by a call of the shared decode kernel of its shape class
/// (M, N, activation rows, group size, element types, configuration): a
/// private func.func created next to the op's function on first use, named
/// after the class, whose loops read the layout from three small tables
/// that the call passes as constants (pieces, activation source, in-place
/// factors; docs/KERNELS.md §7), and the payload, scales and zeros as its
/// operands whatever defines them. Fails with the reason when the
/// configuration has no shared form (k-split > 1, unroll > 1, half2), the
/// shapes are dynamic or a symbol of the kernel's name has another type.
LogicalResult buildSharedDecodeMatmul(RewriterBase &rewriter, PackedMatmulOp op,
                                      const KernelConfig &config);

/// Whether buildSharedDecodeMatmul handles `config`.
bool hasSharedDecodeKernel(const KernelConfig &config);

/// As buildSharedDecodeMatmul, with the CPU tiled kernel (panel dequantize +
/// register-tiled microkernel, buildTiledMatmul's panel form) of the shape
/// class reading the same tables (without the in-place factors).
LogicalResult buildSharedTiledMatmul(RewriterBase &rewriter, PackedMatmulOp op,
                                     const KernelConfig &config);

/// Whether buildSharedTiledMatmul handles `config` (the CPU panel form).
bool hasSharedTiledKernel(const KernelConfig &config);

/// As buildDecodeMatmul, with the tiled kernel nests (gather, dequantize into
/// a [positions x M] buffer, register-tiled matmul).
LogicalResult buildTiledMatmul(RewriterBase &rewriter, PackedMatmulOp op,
                               const KernelConfig &config);

/// Replaces a baq.dequantize of a baq.packed_constant by dequantize nests.
LogicalResult buildDequantize(RewriterBase &rewriter, DequantizeOp dequant,
                              const KernelConfig &config);

/// Adds the pattern fusing a linalg.matmul whose weight is a baq.dequantize
/// into baq.packed_matmul (fusePackedMatmul).
void populateBaqFusePackedMatmulPatterns(RewritePatternSet &patterns);

/// Adds the patterns lowering baq.packed_matmul (decode kind up to
/// decode-max-rows activation rows, tiled kind above) and the remaining
/// baq.dequantize ops to kernel nests; each matmul's configuration is
/// resolved from `options` and its row count.
void populateBaqToKernelsPatterns(RewritePatternSet &patterns,
                                  const BaqBuildKernelsOptions &options);

} // namespace baq
} // namespace mlir

#endif // BAQ_CONVERSION_BAQTOKERNELS_H

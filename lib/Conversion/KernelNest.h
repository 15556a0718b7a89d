//===- KernelNest.h - Shape of a bufferized kernel nest ---------*- C++ -*-===//
//
// After bufferization a kernel of baq-build-kernels is
//
//   scf.forall (%o..., %bx) in (...) {          // #gpu.block<y|z>, <x>
//     <index arithmetic, subviews>
//     scf.forall (%t) in (%n) { body }          // #gpu.thread<x>, %n <= T
//   }
//
// with barrier-free bodies, a constant grid and a constant maximum thread
// bound. baq-kernels-to-gpu turns it into gpu.launch, baq-kernels-to-parallel
// into one flat parallel loop for the CPU; both match it here.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_CONVERSION_KERNELNEST_H
#define BAQ_LIB_CONVERSION_KERNELNEST_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace baq {

/// Whether every mapping attribute of `op` is a #gpu.block (`blocks`) or a
/// #gpu.thread mapping.
bool isKernelMapped(scf::ForallOp op, bool blocks);

/// Largest value `bound` can take, if it is a constant or an affine.min with
/// a constant among its results.
std::optional<int64_t> constantMax(OpFoldResult bound);

/// A kernel nest as described above.
struct KernelNest {
  scf::ForallOp outer, inner;
  /// Constant extent of each outer induction variable, in order.
  SmallVector<int64_t> grid;
  /// Constant maximum of the thread bound (`inner`'s upper bound).
  int64_t threads = 0;
};

/// Emits, at the rewriter's insertion point, the body of one (block, thread)
/// of `nest`: its block-level code with the outer induction variables
/// replaced by `blockIds`, then the thread body for thread `tid` under
/// `tid < bound` (the last block may have fewer threads).
void emitFlatNestBody(RewriterBase &rewriter, const KernelNest &nest,
                      ValueRange blockIds, Value tid);

/// Matches the nest rooted at the block-mapped `outer`, or emits an error on
/// `outer`/its thread nest naming what does not fit (prefixed by `pass`).
FailureOr<KernelNest> matchKernelNest(scf::ForallOp outer, StringRef pass);

} // namespace baq
} // namespace mlir

#endif // BAQ_LIB_CONVERSION_KERNELNEST_H

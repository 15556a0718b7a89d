//===- GpuBuffers.h - Device-reachable buffers around gpu.launch ---------===//
//
// Helpers shared by baq-kernels-to-gpu and baq-host-to-gpu: what a function
// needs so that its launches only see device-reachable memory.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_CONVERSION_BAQTONVVM_GPUBUFFERS_H
#define BAQ_LIB_CONVERSION_BAQTONVVM_GPUBUFFERS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir {
namespace baq {

/// CUDA's limit on blocks in grid x.
constexpr int64_t kMaxGridX = (int64_t(1) << 31) - 1;

/// Re-creates the constants, memref.get_global ops and views of globals that
/// `launch` uses from outside inside it (canonicalizers hoist them to the
/// function entry):
/// outlining then copies the globals into the gpu.module instead of passing
/// host addresses, and constants do not become kernel arguments.
void sinkConstantsAndGlobals(RewriterBase &rewriter, gpu::LaunchOp launch);

/// If `func` launches kernels: its memref.alloc become gpu.alloc host_shared
/// (managed memory, reachable from host and device), their deallocs
/// gpu.dealloc, and each launch using such a buffer asserts its 16-byte
/// alignment (so that vector reads become 128-bit loads).
void allocateOnDevice(RewriterBase &rewriter, FunctionOpInterface func);

} // namespace baq
} // namespace mlir

#endif // BAQ_LIB_CONVERSION_BAQTONVVM_GPUBUFFERS_H

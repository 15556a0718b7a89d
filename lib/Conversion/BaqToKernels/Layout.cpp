//===- Layout.cpp - Kernel configuration and layout analysis --------------===//

#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

//===----------------------------------------------------------------------===//
// Configuration
//===----------------------------------------------------------------------===//

KernelConfig mlir::baq::resolveKernelConfig(
    KernelTarget target, int64_t rows, int64_t rowsPerThread,
    int64_t accumulators, int64_t kSplit, int64_t threadsPerBlock,
    int64_t decodeMaxRows, int64_t tileRows, DequantType dequantType,
    UnpackKind unpack, int64_t unroll, KernelsKind kernels) {
  KernelConfig c;
  bool gpu = target == KernelTarget::GPU;
  c.decodeMaxRows = decodeMaxRows;
  bool decode = rows <= decodeMaxRows;
  if (rowsPerThread > 0)
    c.rowsPerThread = rowsPerThread;
  else if (!gpu)
    c.rowsPerThread = 16; // one AVX-512 register, two AVX2 ones
  else if (!decode)
    c.rowsPerThread = 4;
  else
    // 128-bit loads for a single row; with more rows the fully unrolled
    // chunk body (32 codes x R activations in flight) needs the registers.
    c.rowsPerThread = rows <= 1 ? 4 : rows == 2 ? 2 : 1;
  c.accumulators = accumulators > 0 ? accumulators : (gpu ? 1 : 4);
  c.threadsPerBlock = threadsPerBlock > 0 ? threadsPerBlock : (gpu ? 128 : 64);
  // CPU: 16 accumulators of one AVX-512 register each, with the panel vector
  // and a broadcast 18 of 32 (32 rows x 1024 x 1024: 16 rows 1.3x faster
  // than 4, measured in bench/kernels/run_cpu_prefill_bench.sh).
  c.tileRows = tileRows > 0 ? tileRows : (gpu ? 4 : 16);
  c.panelTiled = !gpu;
  c.dequantToF16 = dequantType == DequantType::F16 ||
                   (dequantType == DequantType::Default && gpu);
  c.magicUnpack =
      unpack == UnpackKind::Magic || (unpack != UnpackKind::Convert && gpu);
  c.half2Decode = unpack == UnpackKind::Half2;
  // A GPU needs ~64K threads in flight to cover memory latency; a CPU runs
  // one slice (the nest is sequential there).
  c.targetThreads = gpu ? 65536 : 0;
  c.kSplit = kSplit > 0 ? kSplit : (gpu ? 0 : 1);
  // Few rows: memory-bound, so keep two chunks of loads in flight. More
  // rows do enough arithmetic per byte, and the body grows with the rows.
  c.unroll = unroll > 0 ? unroll : (gpu && rows <= 2 ? 2 : 1);
  // Shared kernels keep compile time independent of the number of matrices.
  // Opt-in: the shared decode kernel is still 12-23 % slower than the
  // specialised one, 3.8x at stories260K's tiny shapes (docs/KERNELS.md §7);
  // the GPU keeps its specialised (K-split, unrolled) kernels.
  c.sharedKernels = kernels == KernelsKind::Shared;
  return c;
}

KernelConfig
mlir::baq::resolveKernelConfig(const BaqBuildKernelsOptions &options,
                               int64_t rows) {
  return resolveKernelConfig(options.target, rows, options.rowsPerThread,
                             options.accumulators, options.kSplit,
                             options.threadsPerBlock, options.decodeMaxRows,
                             options.tileRows, options.dequantType,
                             options.unpack, options.unroll, options.kernels);
}

//===----------------------------------------------------------------------===//
// Layout analysis
//===----------------------------------------------------------------------===//

Layout mlir::baq::kernels::analyze(PackedLayoutAttr attr) {
  Layout l;
  l.attr = attr;
  l.m = attr.getOutputs();
  l.n = attr.getInputs();
  l.groupSize = attr.getGroupSize();
  l.groups = attr.getNumGroups();
  int64_t pad = 0;
  for (const SegmentInfo &info : attr.getSegmentInfos()) {
    Seg s{info.bits, info.start, info.count, info.bitOffset, pad};
    pad += ceilDiv(s.count, 32) * 32;
    l.live = s.start + s.count;
    l.segs.push_back(s);
  }
  l.padded = pad;
  int64_t rowBits = attr.getRowBits();
  l.fullWords = rowBits / 32;
  l.tailBits = rowBits % 32;
  l.payloadWords = attr.getPayloadWords();
  for (auto [index, s] : llvm::enumerate(l.segs)) {
    if (l.groupSize <= 0) {
      l.pieces.push_back({static_cast<int>(index), 0, s.count, 0});
      continue;
    }
    for (int64_t p = s.start, end = s.start + s.count; p < end;) {
      int64_t g = p / l.groupSize;
      int64_t next = std::min(end, (g + 1) * l.groupSize);
      l.pieces.push_back(
          {static_cast<int>(index), p - s.start, next - s.start, g});
      p = next;
    }
  }
  return l;
}

int mlir::baq::kernels::inPlaceShift(int bits, int shift, bool magic) {
  if (shift + bits > 32)
    return 0;
  if (magic)
    return shift + bits <= 23 ? shift : 0;
  return shift + bits == 32 ? 0 : shift;
}

int mlir::baq::kernels::activationShift(const Layout &l, const Seg &s,
                                        int64_t k, bool magic) {
  int64_t t = s.bitOffset + k * s.bits;
  if (l.inTail(t, s.bits))
    return 0;
  return inPlaceShift(s.bits, static_cast<int>(t % 32), magic);
}

//===- DenseMatmul.cpp - Unquantized f32 matmuls as vector kernel nests ---===//
//
// A transposed-B f32 linalg.matmul on a constant global weight W [M, K] (the
// classifier the allocator leaves in f32, or every projection of an FP32
// module) becomes a kernel nest (KernelBuilder.h) instead of
// convert-linalg-to-loops' scalar loops: the weight is copied at compile
// time into blocks of 16 output rows interleaved along K (Wi[b, k, l] =
// W[16 b + l, k]), so one item computes 16 outputs with one contiguous
// vector load per k and the activation broadcast. Every output keeps the
// scalar loop's order and roundings (c = c + a[k] * w[k], k ascending, no
// contraction into an FMA), so logits are bit-identical to the loops'; the
// nest is threaded by baq-kernels-to-parallel like the packed kernels.
// Rows past the last full block run one per item on the original weight.
//
//===----------------------------------------------------------------------===//

#include "../BaqToKernels/KernelBuilder.h"
#include "../KernelNest.h"
#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/Transforms/MatmulMaps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/Debug.h"

#include <cstring>

#define DEBUG_TYPE "baq-dense-matmul"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQDENSEMATMUL
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

/// Output rows per item: one 512-bit vector of f32.
static constexpr int64_t kLanes = 16;

namespace {
/// A matmul this pass lowers, with its weight's global.
struct DenseMatmul {
  linalg::MatmulOp op;
  memref::GlobalOp global;
  /// The weight's data: a dense_resource blob or a dense attribute.
  ArrayRef<char> bytes;
  DenseElementsAttr dense;
  int64_t t, m, k;
};
} // namespace

/// The constant f32 global a transposed-B matmul's weight reads, or failure
/// with the reason.
static FailureOr<DenseMatmul>
matchDenseMatmul(linalg::MatmulOp op, SymbolTable &symbols, std::string &why) {
  DenseMatmul d{op, {}, {}, {}, 0, 0, 0};
  if (op->getNumResults() != 1 || getWeightChannelDim(op) != 1) {
    why = "not a transposed-B matmul on tensors";
    return failure();
  }
  auto types = llvm::map_to_vector(op->getOperandTypes(), [](Type t) {
    return dyn_cast<RankedTensorType>(t);
  });
  for (RankedTensorType t : types)
    if (!t || !t.hasStaticShape() || !t.getElementType().isF32()) {
      why = "needs static f32 tensors";
      return failure();
    }
  auto toTensor = op.getDpsInputOperand(1)
                      ->get()
                      .getDefiningOp<bufferization::ToTensorOp>();
  auto getGlobal =
      toTensor ? toTensor.getBuffer().getDefiningOp<memref::GetGlobalOp>()
               : nullptr;
  if (getGlobal)
    d.global = symbols.lookup<memref::GlobalOp>(getGlobal.getName());
  if (!d.global || !d.global.getConstant() ||
      !d.global.getType().getLayout().isIdentity()) {
    why = "weight is not a constant memref.global";
    return failure();
  }
  d.t = types[0].getDimSize(0);
  d.k = types[0].getDimSize(1);
  d.m = types[1].getDimSize(0);
  Attribute init = d.global.getConstantInitValue();
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (blob && static_cast<int64_t>(blob->getData().size()) == d.m * d.k * 4)
      d.bytes = blob->getData();
  } else if (auto dense = dyn_cast_or_null<DenseElementsAttr>(init)) {
    if (dense.getElementType().isF32())
      d.dense = dense;
  }
  if (d.bytes.empty() && !d.dense) {
    why = "weight is not an f32 dense or dense_resource constant with data";
    return failure();
  }
  return d;
}

/// The weight's full 16-row blocks interleaved along K, as a new global next
/// to the original.
static memref::GlobalOp createInterleaved(OpBuilder &b, const DenseMatmul &d,
                                          SymbolTable &symbols) {
  int64_t blocks = d.m / kLanes;
  std::vector<float> w(d.m * d.k), wi(blocks * d.k * kLanes);
  if (d.dense)
    llvm::copy(d.dense.getValues<float>(), w.begin());
  else
    std::memcpy(w.data(), d.bytes.data(), d.bytes.size());
  for (int64_t blk = 0; blk < blocks; ++blk)
    for (int64_t k = 0; k < d.k; ++k)
      for (int64_t l = 0; l < kLanes; ++l)
        wi[(blk * d.k + k) * kLanes + l] = w[(blk * kLanes + l) * d.k + k];
  auto type = MemRefType::get({blocks, d.k, kLanes}, b.getF32Type());
  memref::GlobalOp source = d.global;
  std::string name = (source.getSymName() + "_rows16").str();
  auto value = DenseResourceElementsAttr::get(
      RankedTensorType::get(type.getShape(), type.getElementType()), name,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(wi)));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(source);
  auto global = memref::GlobalOp::create(
      b, source.getLoc(), name, b.getStringAttr("private"), type, value,
      /*constant=*/true, /*alignment=*/b.getI64IntegerAttr(64));
  symbols.insert(global);
  return global;
}

/// Replaces the matmul by the kernel nests over its output.
static void lowerDenseMatmul(RewriterBase &rewriter, const DenseMatmul &d,
                             memref::GlobalOp interleaved, int64_t threads) {
  linalg::MatmulOp op = d.op;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value a = op.getDpsInputOperand(0)->get();
  Value w = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  Value wi;
  if (interleaved) {
    auto get = memref::GetGlobalOp::create(rewriter, loc, interleaved.getType(),
                                           interleaved.getSymName());
    wi = bufferization::ToTensorOp::create(
        rewriter, loc,
        RankedTensorType::get(interleaved.getType().getShape(),
                              rewriter.getF32Type()),
        get, /*restrict=*/true);
  }
  // Activation rows per item: up to 4 share each weight load.
  int64_t tr = d.t % 4 == 0 ? 4 : d.t % 2 == 0 ? 2 : 1;
  Value result = buildRowNests(
      rewriter, loc, "baq_dense_matmul", c, {d.t / tr}, d.m, kLanes, threads,
      [&](int64_t lanes, int64_t base) {
        return SmallVector<DimSpec>{DimSpec::outer(0, tr),
                                    DimSpec::item(lanes, base)};
      },
      [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
          ValueRange outer, Value item, Value slice) {
        Lanes e(nb, nl, lanes);
        Value r0 = arith::MulIOp::create(nb, nl, outer[0], e.index(tr));
        Value i0 = e.firstRow(item, base);
        Value z = e.index(0);
        SmallVector<Value> init;
        for (int64_t t = 0; t < tr; ++t)
          init.push_back(e.readContig(slice, {e.index(t), z}));
        auto loop = scf::ForOp::create(
            nb, nl, z, e.index(d.k), e.index(1), init,
            [&](OpBuilder &lb, Location ll, Value kk, ValueRange acc) {
              Lanes le(lb, ll, lanes);
              // Full blocks start at row 0, so block = item.
              Value wv = lanes == kLanes ? le.readContig(wi, {item, kk, z})
                                         : le.scalar(w, {i0, kk});
              SmallVector<Value> next;
              for (int64_t t = 0; t < tr; ++t) {
                Value x = le.broadcast(le.scalar(a, {le.add(r0, t), kk}));
                Value p = arith::MulFOp::create(lb, ll, x, wv);
                next.push_back(arith::AddFOp::create(lb, ll, acc[t], p));
              }
              scf::YieldOp::create(lb, ll, next);
            });
        for (int64_t t = 0; t < tr; ++t)
          slice = e.writeContig(loop.getResult(t), slice, {e.index(t), z});
        return slice;
      });
  rewriter.replaceOp(op, result);
  // A weight read only by this matmul is no longer read (its rows all live in
  // the interleaved copy): drop the read so that the global can go.
  if (auto toTensor = w.getDefiningOp<bufferization::ToTensorOp>();
      toTensor && toTensor->use_empty()) {
    Operation *get = toTensor.getBuffer().getDefiningOp();
    rewriter.eraseOp(toTensor);
    if (get && get->use_empty())
      rewriter.eraseOp(get);
  }
}

namespace {
struct BaqDenseMatmulPass
    : public mlir::baq::impl::BaqDenseMatmulBase<BaqDenseMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<linalg::MatmulOp> matmuls;
    module.walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    IRRewriter rewriter(&getContext());
    // One interleaved copy per weight, shared by @forward and @prefill.
    llvm::DenseMap<Operation *, memref::GlobalOp> copies;
    for (linalg::MatmulOp op : matmuls) {
      std::string why;
      FailureOr<DenseMatmul> d = matchDenseMatmul(op, symbols, why);
      if (failed(d)) {
        LLVM_DEBUG(llvm::dbgs() << "baq-dense-matmul: skipping " << op.getLoc()
                                << ": " << why << "\n");
        continue;
      }
      memref::GlobalOp &copy = copies[d->global];
      if (!copy && d->m >= kLanes)
        copy = createInterleaved(rewriter, *d, symbols);
      lowerDenseMatmul(rewriter, *d, copy, threadsPerBlock);
    }
    // Originals that nothing reads any more (every projection of an FP32
    // module; not the embedding the classifier shares) would double the
    // weights the JIT materialises.
    for (auto [global, copy] : copies)
      if (SymbolTable::symbolKnownUseEmpty(global, module))
        symbols.erase(global);
  }
};
} // namespace

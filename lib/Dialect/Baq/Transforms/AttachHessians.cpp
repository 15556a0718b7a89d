//===- AttachHessians.cpp - baq-attach-hessians pass ----------------------===//
//
// Attaches calibration Hessians from a safetensors file to the contractions
// whose weight has the tensor's name, so that a model from any front end
// gets `baq.hessian` without its exporter knowing about BAQ.
//
//===----------------------------------------------------------------------===//

#include "WeightAccess.h"

#include "baq/Dialect/Baq/Transforms/Passes.h"
#include "baq/Dialect/Baq/Transforms/Safetensors.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQATTACHHESSIANS
#include "baq/Dialect/Baq/Transforms/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {
struct BaqAttachHessiansPass
    : public mlir::baq::impl::BaqAttachHessiansBase<BaqAttachHessiansPass> {
  using BaqAttachHessiansBase::BaqAttachHessiansBase;
  void runOnOperation() override;
};
} // namespace

void BaqAttachHessiansPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  if (file.empty()) {
    emitError(module.getLoc())
        << "baq-attach-hessians: option 'file' is required";
    return signalPassFailure();
  }
  // Named locations: a FileLineColLoc would make the diagnostic handler load
  // the binary file and print its "line".
  Location fileLoc = NameLoc::get(StringAttr::get(ctx, file));
  llvm::Expected<SafetensorsFile> archive = readSafetensors(file);
  if (!archive) {
    emitError(fileLoc) << "baq-attach-hessians: "
                       << llvm::toString(archive.takeError());
    return signalPassFailure();
  }

  // Contractions by the name of their weight (global symbol, resource key or
  // NameLoc); a shared weight lists several.
  llvm::StringMap<SmallVector<QuantizableMatmul>> byName;
  module.walk([&](linalg::LinalgOp op) {
    if (!linalg::isaContractionOpInterface(op))
      return;
    WeightMismatch why;
    if (std::optional<QuantizableMatmul> match =
            matchContractionWeight(op, module, why))
      byName[match->name].push_back(std::move(*match));
  });

  bool failedAny = false;
  int64_t matched = 0, ops = 0;
  for (const SafetensorsEntry &entry : archive->entries) {
    // The key and its byte offset in the file: a located error.
    Location keyLoc = NameLoc::get(
        StringAttr::get(ctx, llvm::formatv("{0}:{1} (tensor '{2}')", file,
                                           entry.keyOffset, entry.name)
                                 .str()));
    auto it = byName.find(entry.name);
    if (it == byName.end()) {
      emitError(keyLoc) << "baq-attach-hessians: tensor '" << entry.name
                        << "' matches no contraction weight (a weight is "
                           "named by its global's symbol, else its "
                           "dense_resource key, else a NameLoc on the op)";
      failedAny = true;
      continue;
    }
    bool square = entry.shape.size() == 2 && entry.shape[0] == entry.shape[1];
    bool shapeOk = true;
    for (const QuantizableMatmul &c : it->second) {
      if (square && entry.shape[0] == c.inputs)
        continue;
      std::string shape;
      llvm::raw_string_ostream os(shape);
      llvm::interleave(entry.shape, os, "x");
      InFlightDiagnostic diag = c.matmul->emitError()
                                << "baq-attach-hessians: tensor '" << entry.name
                                << "' has shape [" << shape
                                << "], but this contraction's weight has "
                                << c.inputs << " input features (expected ["
                                << c.inputs << "x" << c.inputs << "])";
      diag.attachNote(keyLoc) << "tensor '" << entry.name << "' is here";
      shapeOk = false;
    }
    if (!shapeOk) {
      failedAny = true;
      continue;
    }
    llvm::Expected<std::vector<float>> values =
        readSafetensorsFloats(*archive, entry);
    if (!values) {
      emitError(keyLoc) << "baq-attach-hessians: "
                        << llvm::toString(values.takeError());
      failedAny = true;
      continue;
    }
    int64_t n = entry.shape[0];
    auto type = RankedTensorType::get({n, n}, Float32Type::get(ctx));
    ArrayRef<char> bytes(reinterpret_cast<const char *>(values->data()),
                         values->size() * sizeof(float));
    auto hessian = DenseResourceElementsAttr::get(
        type, entry.name + "_hessian",
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(float)));
    for (const QuantizableMatmul &c : it->second) {
      c.matmul->setAttr(BaqDialect::getHessianAttrName(), hessian);
      ++ops;
    }
    ++matched;
  }
  if (failedAny)
    return signalPassFailure();
  // At the file, not the module: a diagnostic on an op prints the op.
  emitRemark(fileLoc) << "baq-attach-hessians: attached " << matched
                      << " Hessians from '" << file << "' to " << ops
                      << " contractions";
}

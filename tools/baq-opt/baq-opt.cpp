//===- baq-opt.cpp - BAQ optimizer driver ---------------------------------===//
//
// mlir-opt plus the baq dialect and passes. Upstream dialects, passes and
// the LLVM IR translations (needed by gpu-module-to-binary) are registered so
// that whole flows, from tensors to PTX, run in one tool.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "TestPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

/// The --help overview: what the tool is and what the baq dialect holds,
/// read from the registered dialect so that it cannot go stale.
static std::string getOverview() {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  context.loadDialect<mlir::baq::BaqDialect>();
  std::string text =
      "BAQ optimizer driver: mlir-opt with the baq dialect, its passes and "
      "pipelines\n\nOperations of the baq dialect:";
  for (mlir::RegisteredOperationName op : context.getRegisteredOperations())
    if (op.getDialectNamespace() ==
        mlir::baq::BaqDialect::getDialectNamespace())
      text += " " + op.getStringRef().str();
  text += "\nAttributes of the baq dialect: #baq." +
          mlir::baq::BitsAttr::getMnemonic().str() + ", #baq." +
          mlir::baq::PackedLayoutAttr::getMnemonic().str() +
          "\nDiscardable attributes on linalg.matmul: " +
          mlir::baq::BaqDialect::getHessianAttrName().str() + ", " +
          mlir::baq::BaqDialect::getBitsAttrName().str() + "\n";
  return text;
}

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::baq::registerBaqPasses();
  mlir::baq::registerBaqLoweringPasses();
  mlir::baq::test::registerBaqTestPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::baq::BaqDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, getOverview(), registry));
}

//===- baq-opt.cpp - BAQ optimizer driver ---------------------------------===//
//
// mlir-opt plus the baq dialect and passes. Upstream dialects, passes and
// the LLVM IR translations (needed by gpu-module-to-binary) are registered so
// that whole flows, from tensors to PTX, run in one tool.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::baq::registerBaqPasses();
  mlir::baq::registerBaqLoweringPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::baq::BaqDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "BAQ optimizer driver\n", registry));
}

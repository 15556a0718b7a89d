//===- baq-plugin.cpp - BAQ as a plugin for stock mlir-opt ----------------===//
//
// Lets an unmodified mlir-opt 22 (or any MlirOptMain tool) use the baq
// dialect and passes:
//
//   mlir-opt --load-dialect-plugin=libBaqPlugin.so \
//            --load-pass-plugin=libBaqPlugin.so --baq-allocate model.mlir
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Baq", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            registry->insert<mlir::baq::BaqDialect>();
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "BaqPasses", LLVM_VERSION_STRING, []() {
            mlir::baq::registerBaqPasses();
            mlir::baq::registerBaqLoweringPasses();
          }};
}

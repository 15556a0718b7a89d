//===- baq-fuzz.cpp - libFuzzer target for the BAQ front end and passes ---===//
//
// Feeds each input, as MLIR text or bytecode, through what `baq-opt
// --baq-allocate ... --baq-lower-cpu` does: parse into a context with the
// dialects baq-opt registers, verify, run --baq-allocate (options chosen from
// the input size, so the corpus covers several), check that the result
// prints and parses back, and lower it with --baq-lower-cpu or
// --baq-lower-nvvm under options drawn from the input (bounds included).
//
// Diagnostics are the expected outcome for bad input and are swallowed; a
// finding is a crash, a sanitizer report, a timeout or an out-of-memory, or
// quantized IR that does not parse back (a __builtin_trap). Inputs whose
// tensors exceed kMaxElements are only parsed and verified: the fuzzer is for
// logic on small shapes, and a 10^10-element splat is an allocation failure
// by design, not a finding (docs/RELIABILITY.md).
//
// Built by scripts/fuzz.sh (fuzz/CMakeLists.txt, BAQ_ENABLE_FUZZER=ON).
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace mlir;

/// Largest tensor (elements) a module may have for the passes to run on it.
static constexpr int64_t kMaxElements = 1 << 16;

static DialectRegistry *registry;
/// BAQ_FUZZ_VERBOSE=1 prints the swallowed diagnostics and the quantized
/// module, to see how far a reproducer gets.
static const bool verbose = std::getenv("BAQ_FUZZ_VERBOSE") != nullptr;

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  // Exactly baq-opt's registrations (tools/baq-opt/baq-opt.cpp): the
  // lowering pipelines name upstream passes textually.
  registerAllPasses();
  baq::registerBaqPasses();
  baq::registerBaqLoweringPasses();
  registry = new DialectRegistry();
  registerAllDialects(*registry);
  registerAllExtensions(*registry);
  registerAllToLLVMIRTranslations(*registry);
  registry->insert<baq::BaqDialect>();
  return 0;
}

/// True if every shaped type and elements attribute in `module` is small.
static bool hasOnlySmallShapes(ModuleOp module) {
  auto small = [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return !shaped || !shaped.hasStaticShape() ||
           shaped.getNumElements() <= kMaxElements;
  };
  WalkResult result = module->walk([&](Operation *op) {
    for (Type type : op->getResultTypes())
      if (!small(type))
        return WalkResult::interrupt();
    for (Value operand : op->getOperands())
      if (!small(operand.getType()))
        return WalkResult::interrupt();
    for (NamedAttribute attr : op->getAttrs()) {
      if (auto typed = dyn_cast<TypedAttr>(attr.getValue()))
        if (!small(typed.getType()))
          return WalkResult::interrupt();
    }
    if (auto layout = op->getAttrOfType<baq::PackedLayoutAttr>("layout"))
      if (layout.getOutputs() > kMaxElements ||
          layout.getInputs() > kMaxElements)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// Runs `pipeline` (the pass list of a builtin.module manager: wrapped in
/// "builtin.module(...)" it would nest and run on modules *inside* the input,
/// that is on none). A pipeline whose options the builders reject is an
/// expected outcome only where `mayReject`; the fixed ones must parse.
static LogicalResult runPipeline(MLIRContext &context, ModuleOp module,
                                 StringRef pipeline, bool mayReject = false) {
  PassManager pm = PassManager::on<ModuleOp>(&context);
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (failed(parsePassPipeline(pipeline, pm, os))) {
    if (mayReject)
      return failure();
    llvm::errs() << errors << "\n";
    __builtin_trap();
  }
  return pm.run(module);
}

/// A lowering pipeline with option values drawn from the input's bytes:
/// defaults, typical and boundary values, and values past every bound
/// (docs/RELIABILITY.md, round 2), so that option validation and the kernel
/// builders' extremes are fuzzed with the IR.
static std::string pickLowering(const uint8_t *data, size_t size) {
  uint64_t hash = 1469598103934665603ull; // FNV-1a
  for (size_t i = 0; i < std::min<size_t>(size, 64); ++i)
    hash = (hash ^ data[i]) * 1099511628211ull;
  auto pick = [&](std::initializer_list<const char *> values) {
    const char *value = values.begin()[hash % values.size()];
    hash = hash / values.size() + (hash << 7);
    return std::string(value);
  };
  std::string kernel =
      "rows-per-thread=" + pick({"0", "1", "3", "16", "17", "-1"}) +
      " accumulators=" + pick({"0", "1", "8", "9"}) +
      " k-split=" + pick({"0", "1", "7", "256", "257", "100000"}) +
      " unroll=" + pick({"0", "1", "2", "8", "9", "1000"}) +
      " threads-per-block=" + pick({"0", "1", "33", "1024", "4096"}) +
      " decode-max-rows=" + pick({"0", "1", "16", "17", "100"}) +
      " tile-rows=" + pick({"0", "1", "5", "16", "17"}) +
      " dequant-type=" + pick({"default", "f16", "f32"}) +
      " unpack=" + pick({"default", "convert", "magic"});
  if (hash % 3 == 0)
    return "baq-lower-nvvm{" + kernel +
           " chip=" + pick({"sm_80", "sm_90a", "", "sm_9", "gfx90a"}) +
           " opt-level=" + pick({"0", "3", "4"}) + "}";
  return "baq-lower-cpu{" + kernel +
         " kernel-target=" + pick({"cpu", "gpu", "tpu"}) + "}";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: resource blobs and uniqued attributes of one
  // input must not leak into the next, or the corpus grows into an OOM.
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.allowUnregisteredDialects(false);
  ScopedDiagnosticHandler swallow(&context, [](Diagnostic &diag) {
    if (verbose)
      llvm::errs() << diag.getLocation() << ": " << diag << "\n";
    return success();
  });

  // NUL-terminated, as every buffer baq-opt parses (llvm::MemoryBuffer):
  // on libFuzzer's exact-size buffer the MLIR text parser reads past the end
  // (docs/RELIABILITY.md, upstream issues), which is not what we fuzz.
  std::string input(reinterpret_cast<const char *>(data), size);
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(input, config, "fuzz-input");
  if (!module || failed(verify(*module)) || !hasOnlySmallShapes(*module))
    return 0;

  // A few option sets, picked by the input size so that mutations visit
  // all of them.
  static const char *const kAllocate[] = {
      "baq-allocate{progress=false}",
      "baq-allocate{progress=false target-bits=3.5 group-size=4 "
      "quantizer=rtn}",
      "baq-allocate{progress=false target-bits=0.5 budget=total "
      "allocator=paper sensitivity=diagonal}",
      "baq-allocate{progress=false target-bits=5 min-bits=2 max-bits=6 "
      "block-size=3 uniform=true}"};
  if (failed(runPipeline(context, *module, kAllocate[size % 4])))
    return 0;
  if (verbose)
    llvm::errs() << "baq-fuzz: after " << kAllocate[size % 4] << ":\n"
                 << *module << "\n";

  // Quantized IR must print and parse back (the layout attribute's printer
  // and parser, resource blobs) in a fresh context.
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  {
    MLIRContext fresh(*registry, MLIRContext::Threading::DISABLED);
    ScopedDiagnosticHandler report(&fresh, [](Diagnostic &diag) {
      llvm::errs() << "reparse: " << diag << "\n";
      return success();
    });
    ParserConfig freshConfig(&fresh);
    if (!parseSourceString<ModuleOp>(text, freshConfig, "reprint")) {
      llvm::errs() << "baq-fuzz: quantized module does not parse back:\n"
                   << text << "\n";
      __builtin_trap();
    }
  }

  std::string lowering = pickLowering(data, size);
  if (verbose)
    llvm::errs() << "baq-fuzz: lowering with " << lowering << "\n";
  (void)runPipeline(context, *module, lowering, /*mayReject=*/true);
  return 0;
}

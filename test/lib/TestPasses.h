//===- TestPasses.h - Test-only BAQ passes ----------------------*- C++ -*-===//
//
// Registered in baq-opt only, never in the libraries or the plugin.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_TEST_LIB_TESTPASSES_H
#define BAQ_TEST_LIB_TESTPASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace baq {
namespace test {

#define GEN_PASS_DECL
#include "TestPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "TestPasses.h.inc"

/// Registers baq-test-serialize-launches and the baq-test-lower-gpu-on-cpu
/// pipeline (baq-lower-nvvm's kernels executed on the CPU).
void registerBaqTestPassesAndPipelines();

} // namespace test
} // namespace baq
} // namespace mlir

#endif // BAQ_TEST_LIB_TESTPASSES_H

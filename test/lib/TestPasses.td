//===- TestPasses.td - Test-only BAQ passes ----------------*- tablegen -*-===//
//
// Passes that exist to test the product, registered in baq-opt only.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_TEST_PASSES_TD
#define BAQ_TEST_PASSES_TD

include "mlir/Pass/PassBase.td"

def BaqTestSerializeLaunches
    : Pass<"baq-test-serialize-launches", "ModuleOp"> {
  let summary = "Run outlined GPU kernels as loops over block and thread ids "
                "on the host";
  let description = [{
    Turns every `gpu.launch_func` of an outlined `gpu.func` (as
    `baq-lower-nvvm` has it after `gpu-kernel-outlining`) into a call of a
    host function that runs the kernel body once per (block, thread) in
    nested `scf.for` loops: `gpu.block_id`/`gpu.thread_id` become the loop
    indices and `gpu.grid_dim`/`gpu.block_dim` the launch sizes, so every
    index computation, guard and mapping of the kernel is executed as the
    GPU would, one thread after the other. This is only valid for
    barrier-free kernels (a barrier or any other GPU op in a kernel is an
    error). The launch sizes are asserted at run time against the kernel's
    `known_block_size`/`known_grid_size` (what the NVVM lowering turns into
    launch bounds). `gpu.alloc`/`gpu.dealloc` become `memref` ones and the
    `gpu.module`s are erased (their globals move to the host module).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
  let options = [
    Option<"reverse", "reverse", "bool", /*default=*/"false",
           "Visit blocks and threads from the last to the first, so that a "
           "thread writing another's element is not hidden by the owner "
           "writing after it">
  ];
}

#endif // BAQ_TEST_PASSES_TD

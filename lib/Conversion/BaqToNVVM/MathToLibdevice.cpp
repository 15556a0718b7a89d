//===- MathToLibdevice.cpp - Kernel math that NVPTX lacks to libdevice ----===//
//
// baq-lower-nvvm lowers math to LLVM intrinsics before convert-gpu-to-nvvm,
// which the kernels need for vector FMA (f16x2 HFMA2 in unpack=half2), but
// convert-gpu-to-nvvm rejects the intrinsics NVPTX has no instruction for
// (llvm.intr.sqrt, exp, log, sin, ...). This pass first turns those scalar
// f32/f64 math ops in a gpu.module into libdevice calls (__nv_sqrtf,
// __nv_expf, ...), which gpu-module-to-binary links from the CUDA toolkit.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQMATHTOLIBDEVICE
#include "baq/Conversion/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;

namespace {

struct BaqMathToLibdevicePass
    : public mlir::baq::impl::BaqMathToLibdeviceBase<BaqMathToLibdevicePass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    LLVMTypeConverter converter(&getContext());
    RewritePatternSet patterns(&getContext());
    populateLibDeviceConversionPatterns(converter, patterns);
    ConversionTarget target(getContext());
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    // The ops math-to-llvm would make LLVM intrinsics that NVPTX cannot
    // select, on the scalar types libdevice has functions for.
    target.addDynamicallyLegalOp<
        math::SqrtOp, math::RsqrtOp, math::ExpOp, math::Exp2Op, math::ExpM1Op,
        math::LogOp, math::Log2Op, math::Log10Op, math::Log1pOp, math::PowFOp,
        math::SinOp, math::CosOp, math::TanOp, math::TanhOp, math::CeilOp,
        math::FloorOp>([](Operation *op) {
      Type type = op->getResult(0).getType();
      return !(type.isF32() || type.isF64());
    });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

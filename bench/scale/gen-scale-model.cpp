//===- gen-scale-model.cpp - A billion-parameter synthetic BAQ input ------===//
//
// Builds, in memory, the linear layers of a decoder with the shapes of a
// 1.3B-class model (default: 24 blocks, hidden 2048, SwiGLU FFN 8192) and
// writes them as MLIR bytecode, for the scale benchmark (bench/scale/run.sh).
//
// The module has exactly the form scripts/gen_synthetic.py emits: one
// func.func per linear layer, its weight an `arith.constant dense_resource`
// in [out, in] order feeding a transposed-B `linalg.matmul`, with the
// calibration Hessian H = 2/P X X^T attached as `baq.hessian`. q/k/v share
// one Hessian blob per block and w1/w3 share another, as they share inputs.
//
// Activations X (n x P) are correlated like real LLM activations: a random
// low-rank mixing plus noise, per-channel scales spread over an order of
// magnitude and a few outlier channels. H is accumulated with cblas_ssyrk
// over chunks of samples, so X never exists in full.
//
//===----------------------------------------------------------------------===//

#include "baq/Dialect/Baq/IR/BaqDialect.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/Float16bits.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"));
static cl::opt<int> numBlocks("blocks", cl::desc("Decoder blocks"),
                              cl::init(24));
static cl::opt<int> hidden("hidden", cl::desc("Hidden size"), cl::init(2048));
static cl::opt<int> ffn("ffn", cl::desc("FFN inner size"), cl::init(8192));
static cl::opt<double>
    sampleFactor("sample-factor",
                 cl::desc("Calibration vectors per Hessian, as a multiple of "
                          "its size N (P = factor * N)"),
                 cl::init(2.0));
static cl::opt<int> maxRank("max-rank",
                            cl::desc("Largest rank of the activation mixing "
                                     "(rank = min(N / 4, max-rank))"),
                            cl::init(256));
static cl::opt<int> outliers("outliers",
                             cl::desc("Outlier channels per activation"),
                             cl::init(4));
static cl::opt<unsigned> seed("seed", cl::desc("Random seed"), cl::init(0));
static cl::opt<std::string>
    weightType("weight-type", cl::desc("Weight element type: f16, bf16, f32"),
               cl::init("f16"));
static cl::opt<bool> emitText("emit-text",
                              cl::desc("Write MLIR text instead of bytecode"),
                              cl::init(false));
static cl::opt<std::string>
    spillDir("spill-dir",
             cl::desc("Back the blobs by unlinked files in this directory "
                      "instead of the heap, so that the kernel can page out "
                      "what is already generated (for full-size models)"),
             cl::init(""));

//===----------------------------------------------------------------------===//
// Random numbers: xoshiro256+ and Box-Muller. std::normal_distribution is too
// slow for 1.6e9 samples; statistical quality needs are modest.
//===----------------------------------------------------------------------===//

namespace {
class Rng {
public:
  explicit Rng(uint64_t seed) {
    for (uint64_t &s : state) {
      seed += 0x9e3779b97f4a7c15ull; // splitmix64
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      s = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    uint64_t result = state[0] + state[3];
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = (state[3] << 45) | (state[3] >> 19);
    return result;
  }
  /// Uniform in (0, 1].
  float uniform() { return ((next() >> 40) + 1) * (1.0f / 16777216.0f); }
  /// Standard normal.
  float normal() {
    if (haveSpare) {
      haveSpare = false;
      return spare;
    }
    float r = std::sqrt(-2.0f * std::log(uniform()));
    float theta = 6.28318530718f * uniform();
    spare = r * std::sin(theta);
    haveSpare = true;
    return r * std::cos(theta);
  }
  void fillNormal(float *out, size_t count, float scale = 1.0f) {
    for (size_t i = 0; i < count; ++i)
      out[i] = scale * normal();
  }

private:
  uint64_t state[4];
  float spare = 0;
  bool haveSpare = false;
};
} // namespace

//===----------------------------------------------------------------------===//
// Blob storage
//===----------------------------------------------------------------------===//

/// A zero-filled blob of `bytes`, on the heap or, with --spill-dir, in an
/// unlinked file mapping: dirty file pages are written back and dropped under
/// memory pressure, anonymous ones (no swap here) are not.
static FailureOr<AsmResourceBlob> allocateBlob(size_t bytes, size_t align) {
  if (spillDir.empty())
    return HeapAsmResourceBlob::allocate(bytes, align, /*dataIsMutable=*/true);
  llvm::SmallString<256> path(spillDir);
  llvm::sys::path::append(path, "gen-scale-model-%%%%%%%%.blob");
  int fd;
  llvm::SmallString<256> realPath;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path, fd, realPath)) {
    llvm::errs() << "error: cannot create a spill file in '" << spillDir
                 << "': " << ec.message() << "\n";
    return failure();
  }
  ::unlink(realPath.c_str());
  size_t mapped = std::max<size_t>(bytes, 1);
  void *data = MAP_FAILED;
  if (::ftruncate(fd, mapped) == 0)
    data = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) {
    llvm::errs() << "error: cannot map " << bytes << " bytes in '" << spillDir
                 << "': " << std::strerror(errno) << "\n";
    return failure();
  }
  // mmap is page aligned, which covers every alignment used here.
  return UnmanagedAsmResourceBlob::allocateWithAlign(
      ArrayRef<char>(static_cast<char *>(data), bytes), align,
      [mapped](void *ptr, size_t, size_t) { ::munmap(ptr, mapped); },
      /*dataIsMutable=*/true);
}

//===----------------------------------------------------------------------===//
// Weights and Hessians
//===----------------------------------------------------------------------===//

/// Writes `values` (count floats) into `out` as `type`.
static void encode(const float *values, size_t count, Type type, char *out) {
  if (type.isF32()) {
    std::memcpy(out, values, count * 4);
    return;
  }
  bool isHalf = type.isF16();
  for (size_t i = 0; i < count; ++i) {
    // MLIR's runtime conversions (round to nearest even); APFloat costs
    // ~100 ns per value, too slow for 1.6e9 weights.
    uint16_t bits = isHalf ? f16(values[i]).bits : bf16(values[i]).bits;
    std::memcpy(out + 2 * i, &bits, 2);
  }
}

/// An M x N weight (row = output) like gen_synthetic.py's: column scales
/// spread over two orders of magnitude give an uneven sensitivity.
static FailureOr<AsmResourceBlob> makeWeight(int64_t m, int64_t n, Type type,
                                             Rng &rng) {
  size_t width = type.getIntOrFloatBitWidth() / 8;
  FailureOr<AsmResourceBlob> blob = allocateBlob(m * n * width, 64);
  if (failed(blob))
    return failure();
  std::vector<float> columnScale(n), row(n);
  for (float &s : columnScale)
    s = 0.05f * std::exp(0.7f * rng.normal());
  char *out = blob->getMutableData().data();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j)
      row[j] = rng.normal() * columnScale[j];
    encode(row.data(), n, type, out + i * n * width);
  }
  return blob;
}

/// H = 2/P X X^T (n x n f32) for P = sample-factor * n correlated activation
/// vectors X = diag(s) (A Z + 0.3 E): A n x r mixing, Z and E standard
/// normal, s log-normal with a few channels scaled by 20 (outliers).
static FailureOr<AsmResourceBlob> makeHessian(int64_t n, Rng &rng) {
  FailureOr<AsmResourceBlob> blob = allocateBlob(n * n * 4, 64);
  if (failed(blob))
    return failure();
  float *h = reinterpret_cast<float *>(blob->getMutableData().data());

  int64_t rank = std::max<int64_t>(1, std::min<int64_t>(n / 4, maxRank));
  int64_t samples = std::max<int64_t>(
      1, static_cast<int64_t>(std::llround(sampleFactor * n)));
  std::vector<float> mix(n * rank), scale(n);
  rng.fillNormal(mix.data(), mix.size(), 1.0f / std::sqrt(float(rank)));
  for (float &s : scale)
    s = std::exp(0.5f * rng.normal());
  for (int i = 0; i < std::min<int64_t>(outliers, n); ++i)
    scale[(rng.next() >> 11) % n] *= 20.0f;

  // Chunks of samples, stored sample-major (chunk x n, row-major), so that
  // the n x n upper triangle accumulates with one ssyrk per chunk.
  const int64_t chunk = std::min<int64_t>(samples, 1024);
  std::vector<float> z(chunk * rank), x(chunk * n);
  for (int64_t done = 0; done < samples; done += chunk) {
    int64_t c = std::min(chunk, samples - done);
    rng.fillNormal(z.data(), c * rank);
    // Noise first, then X += Z A^T, then per-channel scales.
    rng.fillNormal(x.data(), c * n, 0.3f);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, n, rank, 1.0f,
                z.data(), rank, mix.data(), rank, 1.0f, x.data(), n);
    for (int64_t s = 0; s < c; ++s)
      for (int64_t j = 0; j < n; ++j)
        x[s * n + j] *= scale[j];
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, c,
                2.0f / static_cast<float>(samples), x.data(), n,
                done == 0 ? 0.0f : 1.0f, h, n);
  }
  // Mirror the upper triangle: readers take the full matrix.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j)
      h[i * n + j] = h[j * n + i];
  return blob;
}

//===----------------------------------------------------------------------===//
// IR
//===----------------------------------------------------------------------===//

/// `func.func @name(%x: tensor<1xNxT>) -> tensor<1xMxT>` computing x W^T with
/// a transposed-B linalg.matmul, exactly as gen_synthetic.py emits it.
static void buildLinear(OpBuilder &builder, ModuleOp module, StringRef name,
                        int64_t m, int64_t n, Type type,
                        DenseResourceElementsAttr weight,
                        DenseResourceElementsAttr hessian) {
  MLIRContext *ctx = builder.getContext();
  Location loc = NameLoc::get(builder.getStringAttr(name));
  auto xType = RankedTensorType::get({1, n}, type);
  auto yType = RankedTensorType::get({1, m}, type);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, loc, name,
                                   builder.getFunctionType({xType}, {yType}));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);

  Value w = arith::ConstantOp::create(builder, loc, weight);
  Value zero =
      arith::ConstantOp::create(builder, loc, builder.getZeroAttr(type));
  Value empty = tensor::EmptyOp::create(builder, loc, yType.getShape(), type);
  Value acc =
      linalg::FillOp::create(builder, loc, ValueRange{zero}, ValueRange{empty})
          .getResult(0);
  auto matmul = linalg::MatmulOp::create(builder, loc, TypeRange{yType},
                                         ValueRange{body->getArgument(0), w},
                                         ValueRange{acc});
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  matmul.setIndexingMapsAttr(builder.getAffineMapArrayAttr(
      {AffineMap::get(3, 0, {d0, d2}, ctx), AffineMap::get(3, 0, {d1, d2}, ctx),
       AffineMap::get(3, 0, {d0, d1}, ctx)}));
  matmul->setAttr(baq::BaqDialect::getHessianAttrName(), hessian);
  func::ReturnOp::create(builder, loc, matmul.getResult(0));
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Writes a synthetic decoder (weights + baq.hessian) as MLIR bytecode\n");
  if (numBlocks < 1 || hidden < 1 || ffn < 1 || outliers < 0 || maxRank < 1 ||
      !(sampleFactor > 0 && sampleFactor <= 1024)) {
    llvm::errs() << "error: need blocks, hidden, ffn, max-rank >= 1, "
                    "outliers >= 0 and 0 < sample-factor <= 1024\n";
    return 1;
  }

  MLIRContext context;
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, tensor::TensorDialect,
                      baq::BaqDialect>();
  Type type = llvm::StringSwitch<Type>(weightType)
                  .Case("f16", Float16Type::get(&context))
                  .Case("bf16", BFloat16Type::get(&context))
                  .Case("f32", Float32Type::get(&context))
                  .Default(Type());
  if (!type) {
    llvm::errs() << "error: --weight-type must be f16, bf16 or f32, got '"
                 << weightType << "'\n";
    return 1;
  }

  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  Rng rng(seed);
  auto start = std::chrono::steady_clock::now();
  int64_t params = 0, weightBytes = 0, hessianBytes = 0;
  int64_t h = hidden, f = ffn;
  size_t width = type.getIntOrFloatBitWidth() / 8;

  for (int b = 0; b < numBlocks; ++b) {
    std::string prefix = llvm::formatv("blk{0}_", b).str();
    auto hessianAttr = [&](StringRef key,
                           int64_t n) -> FailureOr<DenseResourceElementsAttr> {
      FailureOr<AsmResourceBlob> blob = makeHessian(n, rng);
      if (failed(blob))
        return failure();
      hessianBytes += n * n * 4;
      return DenseResourceElementsAttr::get(
          RankedTensorType::get({n, n}, builder.getF32Type()),
          prefix + key.str(), std::move(*blob));
    };
    // One Hessian per distinct layer input: q/k/v and w1/w3 share theirs.
    FailureOr<DenseResourceElementsAttr> hAttn = hessianAttr("wq_hessian", h);
    FailureOr<DenseResourceElementsAttr> hO = hessianAttr("wo_hessian", h);
    FailureOr<DenseResourceElementsAttr> hFfn = hessianAttr("w1_hessian", h);
    FailureOr<DenseResourceElementsAttr> hDown = hessianAttr("w2_hessian", f);
    if (failed(hAttn) || failed(hO) || failed(hFfn) || failed(hDown))
      return 1;

    struct Layer {
      const char *name;
      int64_t m, n;
      DenseResourceElementsAttr hessian;
    } layers[] = {{"wq", h, h, *hAttn}, {"wk", h, h, *hAttn},
                  {"wv", h, h, *hAttn}, {"wo", h, h, *hO},
                  {"w1", f, h, *hFfn},  {"w3", f, h, *hFfn},
                  {"w2", h, f, *hDown}};
    for (const Layer &layer : layers) {
      FailureOr<AsmResourceBlob> blob = makeWeight(layer.m, layer.n, type, rng);
      if (failed(blob))
        return 1;
      std::string name = prefix + layer.name;
      auto weight = DenseResourceElementsAttr::get(
          RankedTensorType::get({layer.m, layer.n}, type), name,
          std::move(*blob));
      buildLinear(builder, *module, name, layer.m, layer.n, type, weight,
                  layer.hessian);
      params += layer.m * layer.n;
      weightBytes += layer.m * layer.n * width;
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << llvm::formatv(
        "gen-scale-model: block {0}/{1} done, {2} weights so far, {3:f1}s\n",
        b + 1, numBlocks.getValue(), params, elapsed);
  }

  if (failed(verify(*module)))
    return 1;

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  if (emitText) {
    module->print(output->os());
  } else if (failed(writeBytecodeToFile(*module, output->os()))) {
    llvm::errs() << "error: cannot write bytecode\n";
    return 1;
  }
  output->os().flush();
  if (output->os().has_error()) {
    llvm::errs() << "error: writing '" << outputFile
                 << "': " << output->os().error().message() << "\n";
    output->os().clear_error();
    return 1;
  }
  output->keep();
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  llvm::errs() << llvm::formatv(
      "gen-scale-model: {0} matmuls, {1} weights ({2} MB {3}), Hessians "
      "{4} MB f32, {5:f1}s\n",
      7 * numBlocks, params, weightBytes >> 20, weightType.getValue(),
      hessianBytes >> 20, elapsed);
  return 0;
}
